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
- **Text is text.** PostgreSQL text cannot hold a NUL character (SQLite can), and psycopg
  refuses the whole statement. NUL carries no meaning in a name or a message, so it is dropped
  from every string parameter before it reaches the server (docs/postgres.md).

Timestamps need nothing here: ``tables.UtcDateTime`` binds aware UTC values on PostgreSQL, so
the server's time zone shifts nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import URL, Connection, Engine, event, text

#: First key of the two-int advisory locks smtui takes ("sm" in ASCII), so they never collide
#: with another application's locks on the same server; the second key is the service id.
SERVICE_LOCK_SPACE = 0x736D
#: The single-bigint advisory lock the migrations run under (a different lock space from the
#: two-int form, so no service id can collide with it).
MIGRATION_LOCK_KEY = 0x736D7475692D6D67  # "smtui-mg"


def is_postgres(url: URL | str) -> bool:
    name = url.get_backend_name() if isinstance(url, URL) else url
    return name == "postgresql"


def configure(engine: Engine) -> None:
    """Install what every PostgreSQL connection of the store needs (NUL-free parameters)."""
    event.listen(engine, "before_cursor_execute", _strip_nul, retval=True)


def lock_service(conn: Connection, service_id: int) -> None:
    """Queue behind any other transaction writing this service's rows (until commit)."""
    if is_postgres(conn.dialect.name):
        conn.execute(
            text("SELECT pg_advisory_xact_lock(:space, :sid)"),
            {"space": SERVICE_LOCK_SPACE, "sid": service_id},
        )


def lock_migrations(conn: Connection) -> None:
    """Queue behind another process migrating this database (until commit)."""
    if is_postgres(conn.dialect.name):
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
