"""A database smtui cannot use is one line and exit 1, never a traceback, and never half-written:
newer than this smtui, damaged, locked by another writer, or out of space. Through the real CLI.

On either store (``SMTUI_TEST_DB``, tests/conftest.py): a newer schema, a writer holding the
table. The damaged file and the full disk are SQLite's own: PostgreSQL's files are the server's.
"""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from smtui.sandbox.server import RunningSandbox
from smtui.store import open_store
from tests import pg_helpers
from tests.cli_helpers import add_service_args, cli_env, run_cli

ADD = [
    "service",
    "add",
    "sunny",
    "--ccms-url",
    "http://127.0.0.1:9/ccms",
    "--ccms-token-env",
    "SMTUI_CCMS_TOKEN",
    "--portfolio-url",
    "http://127.0.0.1:9/portfolio",
    "--portfolio-token-env",
    "SMTUI_PORTFOLIO_TOKEN",
]


def _one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """The single stderr line of a failed command (asserting there is exactly one)."""
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("smtui: "), lines
    return lines[0]


def _digest(db: str) -> str:
    """What the store holds: the file's bytes, or every value of a PostgreSQL database."""
    if pg_helpers.on_postgres():
        return hashlib.sha256(pg_helpers.stored_text(db)).hexdigest()
    return hashlib.sha256(Path(db).read_bytes()).hexdigest()


@pytest.fixture
def db(store_url: str) -> str:
    """A database with one service, every connection to it closed."""
    added = run_cli(*ADD, db=store_url)
    assert added.returncode == 0, added.stderr
    return store_url


def test_a_database_from_a_newer_smtui_is_refused_and_left_alone(db: str) -> None:
    pg_helpers.execute(db, "UPDATE alembic_version SET version_num = '9001_from_the_future'")
    before = _digest(db)

    for command in (["service", "list"], ADD):
        line = _one_line_error(run_cli(*command, db=db))
        assert "newer smtui" in line and "9001_from_the_future" in line, line
        assert "upgrade smtui" in line, line
    assert _digest(db) == before


@pg_helpers.sqlite_only("a damaged page of the database file")
@pytest.mark.parametrize("table", ["service", "child_mapping"])
def test_a_damaged_page_is_one_line_wherever_it_is_met(db: str, table: str) -> None:
    """The open reads only the schema and the revision: the damage is met by a later read."""
    raw = sqlite3.connect(db)
    roots = [
        r for (r,) in raw.execute("SELECT rootpage FROM sqlite_master WHERE tbl_name = ?", (table,))
    ]
    page_size = raw.execute("PRAGMA page_size").fetchone()[0]
    raw.close()  # the last connection: the -wal is folded into the file and removed
    assert not Path(f"{db}-wal").exists()
    with Path(db).open("r+b") as f:  # the table's pages and its indexes' (a query may read either)
        for root in roots:
            f.seek((root - 1) * page_size)
            f.write(b"\xde\xad\xbe\xef" * (page_size // 4))

    line = _one_line_error(run_cli("service", "list", db=db))
    assert "corrupt" in line and str(db) in line, line
    assert "backup" in line, line


@pg_helpers.sqlite_only("BEGIN EXCLUSIVE and SQLite's busy timeout (PostgreSQL: the next test)")
def test_a_locked_database_is_one_line_and_changes_nothing(db: str) -> None:
    """Another program holds a write transaction for longer than the busy timeout (5 s)."""
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        # reading needs no write lock: a sync writing does not stop `service list`
        listed = run_cli("service", "list", db=db)
        assert listed.returncode == 0 and "sunny" in listed.stdout, listed.stderr
        line = _one_line_error(run_cli(*[*ADD[:2], "second", *ADD[3:]], db=db))
        assert "busy" in line and "try again" in line and str(db) in line, line
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with open_store(db) as store:
        assert [s.name for s in store.list_services()] == ["sunny"]


@pytest.mark.skipif(not pg_helpers.on_postgres(), reason=pg_helpers.skip_reason())
def test_a_table_locked_on_postgresql_is_one_line_and_changes_nothing(db: str) -> None:
    """Another program (an admin's psql left in a transaction) holds the service table in
    EXCLUSIVE mode, as SQLite's BEGIN EXCLUSIVE does: reads go on, a write gives up in one line
    within a bounded time rather than hanging the cron job that runs it."""
    holder = sa.create_engine(db, poolclass=sa.NullPool)
    with holder.connect() as conn:
        conn.exec_driver_sql("LOCK TABLE service IN EXCLUSIVE MODE")
        try:
            listed = run_cli("service", "list", db=db)
            assert listed.returncode == 0 and "sunny" in listed.stdout, listed.stderr
            try:
                added = run_cli(*[*ADD[:2], "second", *ADD[3:]], db=db, timeout=30)
            except subprocess.TimeoutExpired:
                pytest.fail("`smtui service add` still waiting for the lock after 30 s")
            line = _one_line_error(added)
            assert "busy" in line and "try again" in line, line
            where = sa.make_url(db)
            assert f"{where.host}:{where.port}" in line, line
        finally:
            conn.rollback()
    holder.dispose()
    with open_store(db) as store:
        assert [s.name for s in store.list_services()] == ["sunny"]


@pg_helpers.sqlite_only("RLIMIT_FSIZE limits this process's files, not a server's")
def test_a_full_disk_is_one_line_and_saves_nothing(
    sandbox_world: RunningSandbox, tmp_path: Path
) -> None:
    """No file may grow past 64 KiB, so the -wal cannot take the first read a refresh saves.

    RLIMIT_FSIZE stands in for a full disk (Python ignores SIGXFSZ, so the write fails instead).
    """
    db = tmp_path / "smtui.db"
    assert run_cli(*add_service_args(sandbox_world, "sunny-hill", "UTC"), db=db).returncode == 0
    limit = 64 * 1024
    # The limit is set by a small launcher that then becomes smtui (exec keeps it), not by a
    # preexec_fn: this process runs the sandbox's threads, and forking with them is unsafe.
    launcher = (
        "import os, resource, sys\n"
        f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))\n"
        "os.execv(sys.executable, [sys.executable, '-m', 'smtui', 'refresh', 'sunny-hill'])\n"
    )
    refresh = subprocess.run(
        [sys.executable, "-c", launcher],
        capture_output=True,
        text=True,
        env=cli_env(db),
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    # the progress lines of the read come first; the failure is the last line, alone
    assert refresh.returncode == 1, refresh.stdout + refresh.stderr
    assert "Traceback" not in refresh.stderr, refresh.stderr
    last = refresh.stderr.splitlines()[-1]
    assert last.startswith("smtui: ") and str(db) in last, refresh.stderr
    assert sum(line.startswith("smtui: ") for line in refresh.stderr.splitlines()) == 1

    with open_store(str(db)) as store:
        assert store.load_ccms_snapshot("sunny-hill") is None
        assert store.load_portfolio_snapshot("sunny-hill") is None
        assert store.snapshot_read_at("sunny-hill", "ccms") is None
