"""Everything SQLite-specific lives here, so another database needs only a sibling module.

SQLite is the default: a file per user, shared by the TUI, the CLI and cron. That sharing is why
the connection settings matter: WAL lets readers carry on while a sync writes, busy_timeout makes
a writer wait instead of failing at once, foreign keys are off unless asked for, and write
transactions start with BEGIN IMMEDIATE so two writers queue on busy_timeout instead of one
failing mid-transaction when it upgrades its read lock. secure_delete is set by us rather than
left to how SQLite was built: the file holds children's personal data, and a deleted row must
not linger in free space.

SQLite's errors become one-line store errors here (by result code, not by message text), so a
damaged, locked or full database is reported the same way whether it is met on open or on the
hundredth read.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any, cast

from sqlalchemy import URL, Engine, event
from sqlalchemy.engine import ExceptionContext

from smtui.store.errors import (
    DatabaseBusy,
    DatabaseCorrupt,
    DatabaseUnavailable,
    StoreError,
    one_line,
)
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
        # Only a file that is not there yet is opened here: closing any descriptor of a file
        # drops every POSIX lock this process holds on it, including those of SQLite
        # connections already open on it (a second store in one process would then let
        # another process delete the -wal and -shm under them).
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600))
    except FileExistsError:
        pass
    except OSError as exc:
        raise DatabaseUnavailable(f"cannot open database {path}: {exc.strerror}") from None


def engine_options() -> dict[str, Any]:
    # Connections move between threads via the pool (the TUI syncs in a worker thread); each is
    # used by one thread at a time, which is all SQLite requires.
    return {"connect_args": {"check_same_thread": False}}


def location(url: URL) -> str:
    """How messages name the database: its file path."""
    return url.database or str(url)


def configure(engine: Engine) -> None:
    """Install the per-connection settings, transaction handling and error translation."""
    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "begin", _begin)
    where = location(engine.url)

    def _translate(ctx: ExceptionContext) -> BaseException | None:
        return translate(ctx.original_exception, where)

    event.listen(engine, "handle_error", _translate, retval=True)


def translate(exc: BaseException, where: str) -> StoreError | None:
    """The store error for a SQLite failure a user can act on, or None to leave it alone.

    Constraint violations and SQL mistakes are not translated: the store handles the first and
    the second are bugs that should show their traceback.
    """
    code = getattr(exc, "sqlite_errorcode", None)
    if not isinstance(exc, sqlite3.Error) or code is None:
        return None
    primary = code & 0xFF  # an extended code carries its primary code in the low byte
    if primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return DatabaseBusy(where, BUSY_TIMEOUT_MS / 1000)
    if primary in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return DatabaseCorrupt(where)
    if primary == sqlite3.SQLITE_FULL:
        return DatabaseUnavailable(
            f"{where}: the disk is full (or the file reached its size limit); the change in "
            "progress was not saved: free some space and try again"
        )
    if primary == sqlite3.SQLITE_READONLY:
        return DatabaseUnavailable(
            f"{where} is read-only (file or folder permissions, or a read-only disk); the "
            "change in progress was not saved"
        )
    if primary == sqlite3.SQLITE_IOERR:
        return DatabaseUnavailable(
            f"cannot read or write {where} ({one_line(exc)}): the disk may be full, failing or "
            "gone; the change in progress was not saved"
        )
    if primary in (sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM):
        return DatabaseUnavailable(
            f"cannot open {where} ({one_line(exc)}): check the permissions of the file and its "
            "folder; the change in progress was not saved"
        )
    return None


def compact(engine: Engine) -> bool:
    """Rewrite the file so deleted rows leave no bytes behind in it or in its -wal.

    secure_delete has zeroed the freed space, but in WAL mode the zeroed pages reach the main
    file only at a checkpoint, and earlier versions of those pages stay in the -wal until it is
    emptied. So: checkpoint, VACUUM (rebuilding the file with no free pages, its scratch copy in
    memory rather than a temporary file), and checkpoint again with TRUNCATE. Returns False when
    another connection's read kept the -wal from being emptied; raises a StoreError when the
    database is busy or broken.
    """
    where = location(engine.url)
    try:
        raw = engine.raw_connection()
    except sqlite3.Error as exc:  # the pool hands out driver errors of a new connection as is
        raise _compaction_error(exc, where) from None
    try:
        # the store opens SQLite through the standard library's driver, never another
        cursor = cast(sqlite3.Connection, raw.driver_connection).cursor()
        try:
            cursor.execute("PRAGMA secure_delete = ON")
            cursor.execute("PRAGMA temp_store = MEMORY")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
            cursor.execute("VACUUM")
            busy: int = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            cursor.execute("PRAGMA temp_store = DEFAULT")
        finally:
            cursor.close()
    except sqlite3.Error as exc:
        raw.invalidate()  # a connection that failed mid-VACUUM is not put back in the pool
        raise _compaction_error(exc, where) from None
    finally:
        raw.close()
    return busy == 0


def _compaction_error(exc: sqlite3.Error, where: str) -> StoreError:
    return translate(exc, where) or DatabaseUnavailable(f"cannot compact {where}: {one_line(exc)}")


def _on_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself instead of the driver's implicit one.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA secure_delete = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _begin(conn: Any) -> None:
    writes = conn.get_execution_options().get(WRITE_OPTION, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")
