"""Errors the store raises for things a user can cause and fix.

Each message is one line meant to be shown as is (the CLI prints it without a traceback).
"""

from __future__ import annotations


class StoreError(Exception):
    """Base for store problems a front end reports to the user."""


class ServiceExists(StoreError):
    def __init__(self, name: str) -> None:
        super().__init__(f"service {name!r} already exists")
        self.name = name


class ServiceNotFound(StoreError):
    def __init__(self, name: str) -> None:
        super().__init__(f"no service named {name!r}: see `smtui service list`")
        self.name = name


class RunNotFound(StoreError):
    def __init__(self, run_id: int) -> None:
        super().__init__(f"no sync run with id {run_id}")
        self.run_id = run_id


class OpNotFound(StoreError):
    def __init__(self, run_id: int, op_id: str) -> None:
        super().__init__(f"sync run {run_id} has no operation {op_id!r}")
        self.run_id = run_id
        self.op_id = op_id


class DatabaseUnavailable(StoreError):
    """The database cannot be used: it could not be opened or migrated (bad path, permissions,
    corrupt file), or a later read or write failed for a reason outside smtui (damage, a lock
    held too long, a full or read-only disk). The transaction that failed was rolled back."""


class DatabaseTooNew(DatabaseUnavailable):
    """The schema is at a revision this smtui has no migration for: a newer smtui wrote it.

    Opening it would mean guessing at tables this version does not know, so nothing is touched.
    """

    def __init__(self, where: str, revision: str) -> None:
        super().__init__(
            f"{where}: this database was written by a newer smtui (revision {revision}): "
            "upgrade smtui"
        )
        self.revision = revision


class DatabaseCorrupt(DatabaseUnavailable):
    """The file is damaged (or not a database at all); found on open or on a later read."""

    def __init__(self, where: str) -> None:
        super().__init__(
            f"{where} is not a usable smtui database (the file is corrupt or not a database): "
            "restore it from a backup or point --db (or SMTUI_DB) elsewhere"
        )


class DatabaseBusy(DatabaseUnavailable):
    """Another connection kept its write lock longer than the busy timeout; the transaction that
    gave up changed nothing, so trying again is safe."""

    def __init__(self, where: str, seconds: float) -> None:
        super().__init__(
            f"{where} is busy: another program has been writing to it for more than "
            f"{seconds:g} s; the change in progress was not saved: try again in a moment"
        )


class NotCompacted(StoreError):
    """Deleted rows are gone from the tables and zeroed, but a reader in another program kept
    SQLite from emptying the write-ahead log, which may still hold their old bytes."""

    def __init__(self, done: str, path: str) -> None:
        super().__init__(
            f"{done}, but another program is reading {path}: the deleted data stays in "
            f"{path}-wal until every program using the database has closed it"
        )


def one_line(exc: BaseException) -> str:
    """The first line of an exception's text (drivers append SQL and hints on later lines)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
