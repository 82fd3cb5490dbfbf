"""`smtui worker` from the command line: PostgreSQL only, refused in one line on SQLite."""

from __future__ import annotations

from pathlib import Path

from tests.cli_helpers import run_cli


def test_worker_on_sqlite_says_to_use_cron_instead(tmp_path: Path) -> None:
    result = run_cli("worker", "--once", db=tmp_path / "smtui.db")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "smtui: smtui worker needs a PostgreSQL store (--db or SMTUI_DB "
        "postgresql+psycopg://…); with SQLite, run `smtui sync --all` from cron"
    ]
    assert "Traceback" not in result.stdout + result.stderr


def test_worker_once_on_postgres_with_nothing_due_exits_0(pg_url: str, tmp_path: Path) -> None:
    result = run_cli("--db", pg_url, "worker", "--once", db=tmp_path / "unused.db")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "queued 0 due service(s)" in result.stdout
