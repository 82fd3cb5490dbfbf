"""Everything SQLite-specific lives here, so another database needs only a sibling module.

SQLite is the default: a file per user, shared by the TUI, the CLI and cron. That sharing is why
the connection settings matter: WAL lets readers carry on while a sync writes, busy_timeout makes
a writer wait instead of failing at once, foreign keys are off unless asked for, and write
transactions start with BEGIN IMMEDIATE so two writers queue on busy_timeout instead of one
failing mid-transaction when it upgrades its read lock.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Engine, event

from smtui.store.errors import DatabaseUnavailable
from smtui.store.store import WRITE_OPTION

BUSY_TIMEOUT_MS = 5000


def is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def file_url(path: Path) -> URL:
    """The URL of a database file given as a plain path."""
    return URL.create("sqlite", database=str(path.expanduser().resolve()))


def prepare_file(url: URL, *, create_dir: bool) -> None:
    """Create the database file readable by its owner only: it holds children's personal data.

    SQLite gives its -wal and -shm files the same mode as the database file.
    """
    if not url.database or url.database == ":memory:":
        raise DatabaseUnavailable("an in-memory SQLite database cannot be shared: give a file path")
    path = Path(url.database)
    if create_dir:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    elif not path.parent.is_dir():
        raise DatabaseUnavailable(
            f"cannot open database {path}: directory {path.parent} is missing"
        )
    try:
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    except OSError as exc:
        raise DatabaseUnavailable(f"cannot open database {path}: {exc.strerror}") from None


def engine_options() -> dict[str, Any]:
    # Connections move between threads via the pool (the TUI syncs in a worker thread); each is
    # used by one thread at a time, which is all SQLite requires.
    return {"connect_args": {"check_same_thread": False}}


def configure(engine: Engine) -> None:
    """Install the per-connection settings and transaction handling described above."""
    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "begin", _begin)


def _on_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself instead of the driver's implicit one.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _begin(conn: Any) -> None:
    writes = conn.get_execution_options().get(WRITE_OPTION, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")
