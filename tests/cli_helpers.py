"""Run the real `smtui` command in a subprocess, as cron and support staff do."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from smtui.sandbox.server import RunningSandbox

CHECKOUT = Path(__file__).resolve().parent.parent  # the smtui under test, wherever cwd is

#: The store a CLI subprocess opens: a SQLite file, or any store URL (the ``store_url`` fixture:
#: a SQLite file, or a PostgreSQL database with ``SMTUI_TEST_DB`` set).
Db = Path | str

#: SQLite paths that stand for another store during a test: ``store_url`` on PostgreSQL
#: registers the file it would have used on SQLite, so a test that holds the ``store_url``
#: store but names its SQLite path to the CLI (the TUI tests) still reaches the same store.
_STAND_INS: dict[Path, str] = {}
_NO_CONFIG = Path(tempfile.gettempdir()) / "smtui-tests-absent" / "no-config.toml"  # not made


@contextmanager
def standing_in(path: Path, url: str) -> Iterator[None]:
    """For the block, the CLI pointed at ``path`` opens ``url`` instead."""
    _STAND_INS[path] = url
    try:
        yield
    finally:
        _STAND_INS.pop(path, None)


def store_target(db: Db) -> str:
    """What the store is opened on for ``db``: a path or URL, as ``SMTUI_DB`` takes it."""
    if isinstance(db, Path):
        return _STAND_INS.get(db, str(db))
    return db


def _no_config(db: Db) -> Path:
    """An absent config file: beside a SQLite file, else in a directory nobody makes."""
    target = store_target(db)
    if "://" in target:
        return _NO_CONFIG
    return Path(target).parent / "no-config.toml"


def cli_env(db: Db, **extra: str) -> dict[str, str]:
    """The environment a CLI subprocess runs in: this checkout's smtui, this store, the
    sandbox tokens, and none of the caller's own SMTUI_ settings or config file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMTUI_")}
    env.update(
        PYTHONPATH=os.pathsep.join(filter(None, (str(CHECKOUT), os.environ.get("PYTHONPATH")))),
        SMTUI_DB=store_target(db),
        SMTUI_CONFIG=str(_no_config(db)),  # absent: the defaults
        SMTUI_CCMS_TOKEN="ccms-sandbox-token",
        SMTUI_PORTFOLIO_TOKEN="portfolio-sandbox-token",
    )
    env.update(extra)
    return env


def run_cli(
    *args: str,
    db: Db,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "smtui", *args],
        capture_output=True,
        text=True,
        env=cli_env(db, **(env or {})),
        stdin=subprocess.DEVNULL,
        timeout=timeout,
        cwd=cwd,
    )


def add_service_args(sandbox: RunningSandbox, service_id: str, timezone: str) -> list[str]:
    return [
        "service",
        "add",
        service_id,
        "--ccms-url",
        sandbox.ccms_url(service_id),
        "--ccms-token-env",
        "SMTUI_CCMS_TOKEN",
        "--portfolio-url",
        sandbox.portfolio_url(service_id),
        "--portfolio-token-env",
        "SMTUI_PORTFOLIO_TOKEN",
        "--timezone",
        timezone,
    ]
