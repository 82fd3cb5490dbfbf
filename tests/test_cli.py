"""The foundation as a new user meets it: the real CLI against the real sandbox."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from smtui.sandbox.admin import AdminClient
from smtui.sandbox.server import RunningSandbox
from tests.cli_helpers import add_service_args, cli_env, run_cli

COMMANDS = ("demo", "sandbox", "service", "refresh", "sync", "setup", "match", "mapping",
            "explain", "log", "invitations", "config")  # fmt: skip


def test_help_lists_every_command_with_a_line_of_help(tmp_path: Path) -> None:
    result = run_cli("--help", db=tmp_path / "s.db")
    assert result.returncode == 0
    listed = {line.split()[0]: line for line in result.stdout.splitlines() if line.startswith("  ")}
    for command in COMMANDS:
        assert command in listed, command
        assert len(listed[command].split()) > 1, f"{command} has no help line"


def test_add_then_refresh_stores_both_sides_and_prints_counts(
    sandbox_world: RunningSandbox, sandbox_admin: AdminClient, store_url: str
) -> None:
    db = store_url
    added = run_cli(*add_service_args(sandbox_world, "sunny-hill", "Australia/Sydney"), db=db)
    assert added.returncode == 0, added.stderr
    result = run_cli("refresh", "sunny-hill", db=db)
    assert result.returncode == 0, result.stderr
    counts = dict(
        (line.rsplit(None, 1)[0].strip(), int(line.rsplit(None, 1)[1]))
        for line in result.stdout.splitlines()
    )
    listing = {s["id"]: s for s in sandbox_admin.services()}["sunny-hill"]["counts"]
    assert counts["children"] == listing["children"]
    assert counts["rooms"] == listing["rooms"]
    assert counts["bookings"] == listing["bookings"]
    assert counts["profiles"] == listing["profiles"]
    listed = run_cli("service", "list", db=db)
    assert "sunny-hill" in listed.stdout and "not set up" in listed.stdout


def test_world_readable_token_file_is_refused_with_the_fix(
    sandbox: RunningSandbox, store_url: str, tmp_path: Path
) -> None:
    token = tmp_path / "ccms.token"
    token.write_text("ccms-sandbox-token")
    os.chmod(token, 0o644)
    args = add_service_args(sandbox, "sunny-hill", "Australia/Sydney")
    args[args.index("--ccms-token-env") : args.index("--ccms-token-env") + 2] = [
        "--ccms-token-file",
        str(token),
    ]
    result = run_cli(*args, db=store_url)
    assert result.returncode == 1
    assert f"chmod 600 {token}" in result.stderr
    assert "Traceback" not in result.stderr
    assert "ccms-sandbox-token" not in result.stderr + result.stdout
    assert "No services yet" in run_cli("service", "list", db=store_url).stdout


def test_a_relative_token_file_still_works_when_cron_starts_elsewhere(
    sandbox: RunningSandbox, store_url: str, tmp_path: Path
) -> None:
    (tmp_path / "ccms.token").write_text("ccms-sandbox-token")
    os.chmod(tmp_path / "ccms.token", 0o600)
    args = add_service_args(sandbox, "sunny-hill", "Australia/Sydney")
    at = args.index("--ccms-token-env")
    args[at : at + 2] = ["--ccms-token-file", "ccms.token"]
    db = store_url
    assert run_cli(*args, db=db, cwd=tmp_path).returncode == 0
    refreshed = run_cli("refresh", "sunny-hill", db=db, cwd=Path("/"))
    assert refreshed.returncode == 0, refreshed.stderr


def test_service_add_refuses_credentials_in_urls_and_odd_variable_names(
    sandbox: RunningSandbox, store_url: str
) -> None:
    db = store_url
    args = add_service_args(sandbox, "sunny-hill", "Australia/Sydney")
    url = args.index("--ccms-url") + 1
    with_password = list(args)
    with_password[url] = args[url].replace("http://", "http://alice:hunter2@")
    refused = run_cli(*with_password, db=db)
    assert refused.returncode == 1 and "leave the user name and password out" in refused.stderr
    assert "hunter2" not in refused.stderr
    odd = list(args)
    odd[args.index("--ccms-token-env") + 1] = "BAD VAR"
    refused = run_cli(*odd, db=db)
    assert refused.returncode == 1 and "not an environment variable name" in refused.stderr
    assert "No services yet" in run_cli("service", "list", db=db).stdout


def test_a_wrong_token_is_one_clear_line_that_never_shows_the_token(
    sandbox: RunningSandbox, store_url: str
) -> None:
    db = store_url
    secret = "wrong-but-secret-token-123"
    env = {"SMTUI_CCMS_TOKEN": secret}
    assert run_cli(*add_service_args(sandbox, "gumnut-grove", "Australia/Brisbane"), db=db,
                   env=env).returncode == 0  # fmt: skip
    result = run_cli("refresh", "gumnut-grove", db=db, env=env)
    assert result.returncode == 1
    assert "401" in result.stderr or "token" in result.stderr.lower()
    assert secret not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_user_errors_are_one_line_and_non_zero(store_url: str, tmp_path: Path) -> None:
    db = store_url
    unknown = run_cli("refresh", "nowhere", db=db)
    assert unknown.returncode == 1
    assert unknown.stderr.strip().count("\n") == 0 and "nowhere" in unknown.stderr
    bad_db = run_cli("service", "list", db=tmp_path / "missing-dir" / "x.db")
    assert bad_db.returncode == 1 and "Traceback" not in bad_db.stderr
    no_server = run_cli("service", "list", db="postgresql+psycopg://smtui@127.0.0.1:9/none")
    assert no_server.returncode == 1 and "Traceback" not in no_server.stderr
    assert no_server.stderr.count("\n") == 1 and "127.0.0.1" in no_server.stderr
    no_tty = run_cli(db=db)
    assert no_tty.returncode == 1 and "smtui sync" in no_tty.stderr


def test_service_settings_change_and_bad_values_are_refused(
    sandbox: RunningSandbox, store_url: str
) -> None:
    db = store_url
    assert run_cli(*add_service_args(sandbox, "gumnut-grove", "Australia/Brisbane"),
                   db=db).returncode == 0  # fmt: skip
    bad_tz = run_cli("service", "set", "gumnut-grove", "--timezone", "Mars/Base", db=db)
    assert bad_tz.returncode == 1 and "Traceback" not in bad_tz.stderr
    assert "unknown timezone" in bad_tz.stderr
    changed = run_cli("service", "set", "gumnut-grove", "--interval", "6",
                      "--max-archive-pct", "20", "--off", db=db)  # fmt: skip
    assert changed.returncode == 0, changed.stderr
    shown = run_cli("service", "show", "gumnut-grove", db=db).stdout
    assert "interval_hours               6.0" in shown
    assert "max_archive_children_pct     20.0" in shown
    assert "off" in run_cli("service", "list", db=db).stdout


def test_a_wrong_url_is_fixed_in_place_and_a_bad_change_changes_nothing(
    sandbox: RunningSandbox, store_url: str, tmp_path: Path
) -> None:
    db = store_url
    args = add_service_args(sandbox, "gumnut-grove", "Australia/Brisbane")
    right = sandbox.ccms_url("gumnut-grove")
    wrong = sandbox.ccms_url("gumnut-grov")  # a typo
    args[args.index(right)] = wrong
    assert run_cli(*args, db=db).returncode == 0
    failed = run_cli("refresh", "gumnut-grove", db=db)
    assert failed.returncode == 1
    assert "smtui service set gumnut-grove --ccms-url URL changes it" in failed.stderr

    token = tmp_path / "portfolio.token"
    token.write_text("portfolio-sandbox-token")
    token.chmod(0o600)
    refused = run_cli("service", "set", "gumnut-grove", "--ccms-url", right,
                      "--interval", "0", db=db)  # fmt: skip
    assert refused.returncode == 1 and "sync interval" in refused.stderr
    unchanged = run_cli("service", "show", "gumnut-grove", db=db).stdout
    assert f"ccms_url                     {wrong}\n" in unchanged
    assert "interval_hours               12.0\n" in unchanged
    both = run_cli("service", "set", "gumnut-grove", "--portfolio-token-env", "X",
                   "--portfolio-token-file", str(token), db=db)  # fmt: skip
    assert both.returncode == 1 and "not both" in both.stderr

    fixed = run_cli("service", "set", "gumnut-grove", "--ccms-url", right,
                    "--portfolio-token-file", "portfolio.token", db=db, cwd=tmp_path)  # fmt: skip
    assert fixed.returncode == 0, fixed.stderr
    shown = run_cli("service", "show", "gumnut-grove", db=db).stdout
    assert f"ccms_url                     {right}\n" in shown
    assert f"portfolio_token_file         {token}\n" in shown
    assert "portfolio_token_env" not in shown  # the file replaced the variable
    assert "portfolio-sandbox-token" not in shown
    refreshed = run_cli("refresh", "gumnut-grove", db=db, env={"SMTUI_PORTFOLIO_TOKEN": ""})
    assert refreshed.returncode == 0, refreshed.stderr


def test_a_reader_that_goes_away_does_not_change_the_exit_code(
    sandbox: RunningSandbox, store_url: str
) -> None:
    """`smtui sync NAME --dry-run | head -1`: the plan still runs to the end, exit 2 still
    says there are changes, and nothing complains about the closed pipe."""
    db = store_url
    assert run_cli(*add_service_args(sandbox, "gumnut-grove", "Australia/Brisbane"),
                   db=db).returncode == 0  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "smtui", "sync", "gumnut-grove", "--dry-run"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
        env=cli_env(db),
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the first line is written
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 2, stderr
    assert stderr == ""


def test_demo_and_sandbox_without_the_extra_say_how_to_install_it(tmp_path: Path) -> None:
    for command, hidden in (("demo", "fastapi"), ("sandbox", "faker")):
        code = (
            f"import sys; sys.modules[{hidden!r}] = None\n"
            f"from smtui.cli import main\nmain([{command!r}])"
        )
        result = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            env=cli_env(tmp_path / "s.db"),
            stdin=subprocess.DEVNULL,
        )
        assert result.returncode == 1, result.stderr
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
        assert f"({hidden} is missing): pip install 'smtui[sandbox]'" in result.stderr


def test_service_remove_goes_through_the_engine_and_json_has_no_human_line(
    sandbox: RunningSandbox, store_url: str
) -> None:
    db = store_url
    assert run_cli(*add_service_args(sandbox, "gumnut-grove", "Australia/Brisbane"),
                   db=db).returncode == 0  # fmt: skip
    listed = json.loads(run_cli("service", "list", "--json", db=db).stdout)
    assert [r["name"] for r in listed] == ["gumnut-grove"] and listed[0]["next_due"] is None
    dry = json.loads(run_cli("sync", "gumnut-grove", "--dry-run", "--json", db=db).stdout)
    assert dry[0]["set_up"] is False and dry[0]["problems"] == [] and "line" not in dry[0]
    assert json.loads(run_cli("sync", "--all", "--json", db=db).stdout) == []
    unknown = run_cli("service", "remove", "nowhere", "--yes", db=db)
    assert unknown.returncode == 1 and "nowhere" in unknown.stderr
    removed = run_cli("service", "remove", "gumnut-grove", "--yes", db=db)
    assert removed.returncode == 0 and "Removed gumnut-grove." in removed.stdout
    assert json.loads(run_cli("service", "list", "--json", db=db).stdout) == []


def test_setup_prints_the_reviews_grouped_by_reason_as_the_app_lists_them(
    sandbox_world: RunningSandbox, store_url: str, tmp_path: Path
) -> None:
    """Each group's label and count, then its rows; largest group first, as r lists them in
    the app. A person sent six links back to review (an edited export): those keep the
    matcher's reason kind, so they join the seeded data's own reviews in their groups."""
    from smtui import engine
    from smtui.engine.mapping import review_groups

    db = store_url
    added = run_cli(*add_service_args(sandbox_world, "little-wattle", "Australia/Melbourne"), db=db)
    assert added.returncode == 0, added.stderr
    assert run_cli("refresh", "little-wattle", db=db).returncode == 0
    export = tmp_path / "mappings.csv"
    assert run_cli("mapping", "export", "little-wattle", str(export), db=db).returncode == 0
    lines = export.read_text().splitlines()
    sent_back = 0
    for i, line in enumerate(lines):
        if sent_back < 6 and line.startswith("child,") and ",link," in line:
            lines[i] = line.replace(",link,", ",review,", 1)
            sent_back += 1
    export.write_text("\n".join(lines) + "\n")
    imported = run_cli("mapping", "import", "little-wattle", str(export), db=db)
    assert imported.returncode == 0, imported.stderr

    result = run_cli("setup", "little-wattle", db=db)
    assert result.returncode == 0, result.stderr
    printed: list[tuple[str, int, list[str]]] = []
    for line in result.stdout.splitlines():
        if line.startswith("    review "):
            printed[-1][2].append(line.split()[1])
        elif line.startswith("  ") and not line.startswith("   "):
            label, _, count = line.strip().rpartition(": ")
            printed.append((label, int(count), []))
    printed = [g for g in printed if g[2]]  # the plan's lines after the groups have no rows
    assert all(n == len(rows) for _, n, rows in printed), "each count is its rows"
    assert sum(n for _, n, _ in printed) >= 6
    assert [n for _, n, _ in printed] == sorted((n for _, n, _ in printed), reverse=True)
    store = engine.open_store(store_url)
    try:
        in_app = review_groups(engine.child_rows(store, "little-wattle"))
    finally:
        store.close()
    assert [(label, rows) for label, _, rows in printed] == [
        (g.label, list(g.child_ids)) for g in in_app
    ], "the app's groups, in the app's order"
