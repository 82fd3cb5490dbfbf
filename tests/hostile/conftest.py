"""Fixtures for the hostile-vendor tests: a hostile server in front of the sandbox, and the real
CLI pointed at it with canary tokens that must never show up anywhere."""

from __future__ import annotations

import csv
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from smtui.sandbox.server import RunningSandbox
from tests import pg_helpers
from tests.cli_helpers import run_cli
from tests.hostile.server import HostileServer, Recorder, serve

SERVICE = "gumnut-grove"  # ~30 children: one page of 500 per list
NAME = "gumnut"
TIMEZONE = "Australia/Brisbane"
CANARY = {"ccms": "canary-ccms-Qx81vT0c5e", "portfolio": "canary-portfolio-Wm27kR9d3f"}


@pytest.fixture
def hostile(sandbox_world: RunningSandbox) -> Iterator[HostileServer]:
    """A hostile server on 127.0.0.1 (free port) in front of the freshly reset sandbox."""
    upstream = {"ccms": sandbox_world.ccms_token, "portfolio": sandbox_world.portfolio_token}
    yield from serve(sandbox_world.url, CANARY, upstream)


@pytest.fixture
def other_host() -> Iterator[Recorder]:
    """Somewhere a redirect may point: it records every request's headers."""
    recorder = Recorder()
    yield recorder
    recorder.stop()


@dataclass
class Cli:
    """The real `smtui` in a subprocess, on this test's store, with the canary tokens."""

    db: str  # the store_url fixture: a SQLite file, or a PostgreSQL database
    hostile: HostileServer
    env: dict[str, str]

    def __call__(
        self, *args: str, timeout: float = 120, **env: str
    ) -> subprocess.CompletedProcess[str]:
        return run_cli(*args, db=self.db, env=self.env | env, timeout=timeout)

    def add(self, *token_args: str) -> subprocess.CompletedProcess[str]:
        """`smtui service add` for the hostile server's URLs; env-var tokens unless given."""
        tokens = token_args or (
            "--ccms-token-env",
            "SMTUI_CCMS_TOKEN",
            "--portfolio-token-env",
            "SMTUI_PORTFOLIO_TOKEN",
        )
        return self(
            "service",
            "add",
            NAME,
            "--ccms-url",
            self.hostile.ccms_url(SERVICE),
            "--portfolio-url",
            self.hostile.portfolio_url(SERVICE),
            *tokens,
            "--timezone",
            TIMEZONE,
        )

    def stored_bytes(self) -> bytes:
        """Everything the store keeps: on SQLite every byte of the database file and its
        write-ahead log; on PostgreSQL every value of every table, as the server gives it."""
        if pg_helpers.on_postgres():
            return pg_helpers.stored_text(self.db)
        path = Path(self.db)
        files = [path, *path.parent.glob(path.name + "-*")]
        return b"".join(file.read_bytes() for file in files if file.is_file())


@pytest.fixture
def cli(hostile: HostileServer, store_url: str) -> Cli:
    env = {"SMTUI_CCMS_TOKEN": CANARY["ccms"], "SMTUI_PORTFOLIO_TOKEN": CANARY["portfolio"]}
    return Cli(store_url, hostile, env)


@pytest.fixture
def added(cli: Cli) -> Cli:
    """The hostile server's service, added (not yet set up)."""
    result = cli.add()
    assert result.returncode == 0, result.stderr
    return cli


@pytest.fixture
def connected(added: Cli) -> Cli:
    """The service set up through an honest hostile server: every confident child linked."""
    result = added("setup", NAME, "--accept-proposals")
    assert result.returncode in (0, 3), result.stdout + result.stderr
    return added


def line_with(result: subprocess.CompletedProcess[str], *words: str) -> str:
    """The one output line holding every one of ``words``, after checking that the command
    failed the way a user should see it fail: non-zero exit, no traceback."""
    shown = result.stdout + result.stderr
    assert result.returncode != 0, shown
    assert "Traceback" not in shown, shown
    hits = [line for line in shown.splitlines() if all(w in line for w in words)]
    assert hits, f"no line holds {words}:\n{shown}"
    return hits[0]


def mappings(cli: Cli, tmp_path: Path) -> list[list[str]]:
    """`smtui mapping export` rows: kind, ccms_id, name, action, target_id, ..."""
    out = tmp_path / "mappings.csv"
    result = cli("mapping", "export", NAME, str(out))
    assert result.returncode == 0, result.stderr
    with out.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))[1:]


def linked_child(cli: Cli, tmp_path: Path) -> str:
    """A CCMS child the setup linked to a profile: an integrated child the sync looks after."""
    return next(
        row[1] for row in mappings(cli, tmp_path) if row[:1] == ["child"] and row[3] == "link"
    )


def planned_archives(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stdout.splitlines() if "archive_profile" in line]
