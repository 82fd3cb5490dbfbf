"""Tokens never show: not on stdout or stderr, not in `smtui log`, not in the store's files,
whatever is wrong with the token and whatever a server sends back."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from pathlib import Path

import pytest

from smtui.sandbox.admin import AdminClient
from tests.hostile.conftest import CANARY, NAME, SERVICE, Cli, line_with, mappings

# Token file contents a user may really end up with, and what the refusal calls them.
BAD_TOKENS = {
    "second line": (CANARY["ccms"] + "\nsecond-line-Jq4", "holds more than one line"),
    "CRLF inside": (CANARY["ccms"] + "\r\nsecond-line-Jq4", "holds more than one line"),
    "lone CR": (CANARY["ccms"] + "\rsecond-line-Jq4", "holds more than one line"),
    "non-ASCII": (CANARY["ccms"] + "-é-Jq4", "holds a non-ASCII character"),
    "control character": (CANARY["ccms"] + "\x1b[2J-Jq4", "holds a control character"),
}
SECRETS = (CANARY["ccms"], CANARY["portfolio"], "second-line-Jq4", "Jq4")


def token_file(tmp_path: Path, content: str, name: str = "ccms.token") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8"))
    path.chmod(0o600)
    return path


def assert_never_shown(cli: Cli, *results: subprocess.CompletedProcess[str]) -> None:
    """No secret in any output, in `smtui log` (every run listed, and each run's operations),
    or in the bytes of the store's files."""
    shown = [r.stdout + r.stderr for r in results]
    runs = cli("log", NAME)
    shown.append(runs.stdout + runs.stderr)
    for run_id in re.findall(r"^(\d+)\s", runs.stdout, flags=re.MULTILINE):
        ops = cli("log", NAME, "--run", run_id)
        shown.append(ops.stdout + ops.stderr)
    text = "\n".join(shown)
    stored = cli.stored_bytes()
    for secret in SECRETS:
        assert secret not in text, text
        assert secret.encode() not in stored
    assert "Traceback" not in text, text


@pytest.mark.parametrize("kind", ["second line", "CRLF inside", "non-ASCII"])  # all: test_tokens
def test_a_bad_token_file_is_refused_when_added_in_one_line(
    cli: Cli, tmp_path: Path, kind: str
) -> None:
    content, problem = BAD_TOKENS[kind]
    path = token_file(tmp_path, content)
    result = cli.add(
        "--ccms-token-file", str(path), "--portfolio-token-env", "SMTUI_PORTFOLIO_TOKEN"
    )
    line = line_with(result, f"CCMS token file {path}", problem)
    assert "it must hold the token alone, on one line" in line
    assert result.stderr.count("\n") == 1
    assert_never_shown(cli, result)
    listed = cli("service", "list")
    assert NAME not in listed.stdout  # nothing was added


@pytest.mark.parametrize("kind", ["second line", "non-ASCII"])
def test_a_token_file_that_goes_bad_after_setup_never_leaks(
    cli: Cli, tmp_path: Path, kind: str
) -> None:
    """The file is fine when the service is added and set up, then someone edits it: every
    run after that fails in one line, and the token is in no output, log or store file."""
    path = token_file(tmp_path, CANARY["ccms"] + "\n")
    added = cli.add(
        "--ccms-token-file", str(path), "--portfolio-token-env", "SMTUI_PORTFOLIO_TOKEN"
    )
    assert added.returncode == 0, added.stderr
    set_up = cli("setup", NAME, "--accept-proposals")
    assert set_up.returncode in (0, 3), set_up.stdout + set_up.stderr

    content, problem = BAD_TOKENS[kind]
    token_file(tmp_path, content)
    results = [
        cli("sync", NAME),
        cli("sync", NAME, "-v"),
        cli("sync", NAME, "--json"),
        cli("sync", NAME, "--dry-run"),
        cli("refresh", NAME),
    ]
    for result in (*results[:2], results[3]):
        line_with(result, f"{NAME}: error: {NAME}: CCMS token file {path} {problem}")
    line_with(results[-1], f"smtui: {NAME}: CCMS token file {path} {problem}")
    assert '"result": "error"' in results[2].stdout
    line_with(results[2], f'"error": "{NAME}: CCMS token file {path} {problem}')  # the JSON shape
    runs = cli("log", NAME)
    assert re.search(rf"failed .*CCMS token file {re.escape(str(path))} {problem}", runs.stdout)
    assert_never_shown(cli, *results)


def test_a_token_variable_with_a_line_break_is_refused(added: Cli) -> None:
    bad = {"SMTUI_PORTFOLIO_TOKEN": CANARY["portfolio"] + "\nsecond-line-Jq4"}
    result = added("refresh", NAME, **bad)
    line_with(result, "SMTUI_PORTFOLIO_TOKEN holds more than one line", "API token alone")
    warned = added("service", "show", NAME, **bad)
    assert_never_shown(added, result, warned)


def test_a_server_that_quotes_the_token_back_never_gets_it_shown(
    connected: Cli, tmp_path: Path, sandbox_admin: AdminClient, sandbox_today: dt.date
) -> None:
    """A server's error message is the server's to choose; this one echoes every header it
    got, Authorization included, on a list read and on every write."""
    connected.hostile.rig("echo", "ccms/bookings")
    read = connected("sync", NAME, "-v")
    line_with(read, "CCMS bookings", "could not be read: refused a request with these headers:")
    assert "[token hidden]" in read.stdout + read.stderr

    room = next(r[1] for r in mappings(connected, tmp_path) if r[0] == "room" and r[3] == "link")
    sandbox_admin.enrol(
        SERVICE,
        first_name="Echo",
        last_name="Canary",
        room_id=room,
        weekdays=(1, 2, 3),
        birth_date=dt.date(2023, 1, 9),
        start_date=sandbox_today,
    )
    connected.hostile.rig("echo", methods=frozenset({"POST", "PATCH", "PUT", "DELETE"}))
    wrote = connected("sync", NAME, "-v")
    line_with(wrote, "refused a request with these headers:", "[token hidden]")
    assert_never_shown(connected, read, wrote)
