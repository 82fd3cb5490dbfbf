"""Everything PostgreSQL-specific lives here, beside its SQLite sibling (``sqlite.py``).

PostgreSQL is the store for a deployment of several machines sharing one database. Three things
SQLite gave the store for free have to be made explicit here:

- **Writers queue.** SQLite's BEGIN IMMEDIATE makes every write transaction wait for the one
  before it, so a read-then-write (the snapshot replace, the mapping upsert with its audit) never
  interleaves with another. PostgreSQL runs them side by side, and two refreshes of one service
  would both delete the old rows and then both insert rows with the same keys. A transaction
  that writes a service's rows therefore first takes a *per-service* advisory lock (held to the
  end of the transaction): writes to one service queue, writes to different services don't.
- **One migration at a time.** Two processes opening a fresh database would both create
  ``alembic_version`` and one would fail on a duplicate type; a migration runs under an
  advisory lock of its own, and whoever waited finds the schema at head.
- **Waits end.** SQLite gives up on a lock after its busy timeout; PostgreSQL waits forever by
  default, so a cron job behind an admin's forgotten transaction would hang. Every session sets
  ``lock_timeout`` (:func:`lock_timeout`, ``SMTUI_PG_LOCK_TIMEOUT`` seconds) and the migration a
  longer one; a wait that runs out (SQLSTATE 55P03) is the same one line as SQLite's busy error.
- **Text is text.** PostgreSQL text cannot hold a NUL character (SQLite can), and psycopg
  refuses the whole statement. NUL carries no meaning in a name or a message, so it is dropped
  from every string parameter before it reaches the server (docs/postgres.md).

Timestamps need nothing here: ``tables.UtcDateTime`` binds aware UTC values on PostgreSQL, so
the server's time zone shifts nothing.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import URL, Connection, Engine, event, text
from sqlalchemy.engine import ExceptionContext

from smtui.store.errors import DatabaseBusy, DatabaseUnavailable

#: First key of the two-int advisory locks smtui takes ("sm" in ASCII), so they never collide
#: with another application's locks on the same server; the second key is the service id.
SERVICE_LOCK_SPACE = 0x736D
#: The single-bigint advisory lock the migrations run under (a different lock space from the
#: two-int form, so no service id can collide with it).
MIGRATION_LOCK_KEY = 0x736D7475692D6D67  # "smtui-mg"

#: How long a statement waits for a lock another session holds before giving up (seconds); as
#: SQLite's busy timeout, long enough for any one write transaction of smtui's own.
DEFAULT_LOCK_TIMEOUT = 10.0
LOCK_TIMEOUT_ENV = "SMTUI_PG_LOCK_TIMEOUT"
#: A migration waits longer: the process ahead of it may be running a long one.
MIGRATION_LOCK_TIMEOUT = 300.0
#: PostgreSQL's SQLSTATE for a lock wait that ran out (lock_not_available).
LOCK_NOT_AVAILABLE = "55P03"


def is_postgres(url: URL | str) -> bool:
    name = url.get_backend_name() if isinstance(url, URL) else url
    return name == "postgresql"


def lock_timeout() -> float:
    """Seconds a statement waits behind another session's lock (``SMTUI_PG_LOCK_TIMEOUT``)."""
    raw = os.environ.get(LOCK_TIMEOUT_ENV)
    if not raw:
        return DEFAULT_LOCK_TIMEOUT
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= 86400:
        raise DatabaseUnavailable(
            f"{LOCK_TIMEOUT_ENV}={raw!r}: give a number of seconds between 0 and 86400"
        )
    return seconds


def configure(engine: Engine, where: str) -> None:
    """Install what every PostgreSQL connection of the store needs: NUL-free parameters, a
    bounded lock wait, and that wait's end as one line naming ``where`` (never a password)."""
    seconds = lock_timeout()
    event.listen(engine, "before_cursor_execute", _strip_nul, retval=True)

    def _on_connect(dbapi_connection: Any, _record: object) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET lock_timeout = {_ms(seconds)}")
        dbapi_connection.commit()  # a rollback when the pool resets would undo the SET

    def _translate(ctx: ExceptionContext) -> BaseException | None:
        if getattr(ctx.original_exception, "sqlstate", None) == LOCK_NOT_AVAILABLE:
            return DatabaseBusy(where, seconds)
        return None

    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "handle_error", _translate, retval=True)


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


def lock_service(conn: Connection, service_id: int) -> None:
    """Queue behind any other transaction writing this service's rows (until commit)."""
    if is_postgres(conn.dialect.name):
        conn.execute(
            text("SELECT pg_advisory_xact_lock(:space, :sid)"),
            {"space": SERVICE_LOCK_SPACE, "sid": service_id},
        )


def lock_migrations(conn: Connection) -> None:
    """Queue behind another process migrating this database (until commit), for longer than
    an ordinary lock wait."""
    if is_postgres(conn.dialect.name):
        conn.execute(text(f"SET LOCAL lock_timeout = {_ms(MIGRATION_LOCK_TIMEOUT)}"))
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})


def strip_nul(value: str) -> str:
    """The string without NUL characters (PostgreSQL text cannot hold them)."""
    return value.replace("\x00", "") if "\x00" in value else value


def _strip_nul(
    _conn: Any,
    _cursor: Any,
    statement: str,
    parameters: Any,
    _context: Any,
    executemany: bool,
) -> tuple[str, Any]:
    if executemany and isinstance(parameters, Sequence):
        if any(_has_nul(p) for p in parameters):
            parameters = [_clean(p) for p in parameters]
    elif _has_nul(parameters):
        parameters = _clean(parameters)
    return statement, parameters


def _has_nul(params: Any) -> bool:
    if isinstance(params, Mapping):
        values: Any = params.values()
    elif isinstance(params, Sequence) and not isinstance(params, str):
        values = params
    else:
        return False
    return any(isinstance(v, str) and "\x00" in v for v in values)


def _clean(params: Any) -> Any:
    if isinstance(params, Mapping):
        return {k: strip_nul(v) if isinstance(v, str) else v for k, v in params.items()}
    if isinstance(params, Sequence) and not isinstance(params, str):
        cleaned = [strip_nul(v) if isinstance(v, str) else v for v in params]
        return tuple(cleaned) if isinstance(params, tuple) else cleaned
    return params
