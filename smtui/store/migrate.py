"""Bring a database to the newest schema, run by the store on every open.

Alembic is driven programmatically with the migrations directory inside the package, so an
installed (non-editable) smtui migrates its users' databases without an alembic.ini.

The revision is looked at first in a read transaction: a database already at head (every open
but the first after an upgrade) needs no write lock, so reading commands open it while a sync
is writing. A revision this smtui has no script for means a newer smtui wrote the database;
it is refused before Alembic could fail on it with a traceback.

That first look costs one query and no Alembic: the head is read from the revision scripts'
own ``revision``/``down_revision`` lines (:func:`scripts`), and Alembic (a fifth of a
second of CPU to import) is loaded only when the schema is not current. Cron opens the store
every hour; it migrates once per upgrade.

On PostgreSQL the write transaction does not queue other writers (SQLite's does), so it first
takes an advisory lock: of several processes opening a fresh database at once, one migrates and
the others wait for it, then find the schema at head.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, text

from smtui.store import postgres
from smtui.store.errors import DatabaseTooNew, DatabaseUnavailable, one_line
from smtui.store.revisions import MIGRATIONS_DIR, VERSION_TABLE, scripts

if TYPE_CHECKING:
    from alembic.config import Config


def current_revisions(conn: Connection) -> frozenset[str]:
    """The revision(s) the database is at; empty for a database never migrated."""
    if not conn.dialect.has_table(conn, VERSION_TABLE):
        return frozenset()
    return frozenset(conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars())


def alembic_config() -> Config:
    """Alembic's settings for the package's own scripts: no alembic.ini needed."""
    from alembic.config import Config

    cfg = Config()
    # Config values go through configparser interpolation: a literal % must be doubled.
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    return cfg


def upgrade_to_head(
    engine: Engine, *, reader: Engine | None = None, where: str = "the database"
) -> None:
    """Apply pending revisions in one write transaction (a no-op when already at head).

    The write transaction (and on PostgreSQL an advisory lock taken first) serialises
    processes opening a fresh database at the same time.
    ``reader``, when given, checks the revision first without the write lock; ``where`` names
    the database in errors.
    """
    if reader is not None:
        with reader.connect() as conn:
            if _is_at_head(conn, where):
                return
    with engine.begin() as conn:
        postgres.lock_migrations(conn)
        if _is_at_head(conn, where):
            return  # another process migrated it meanwhile
        _upgrade(conn, where)


def _is_at_head(conn: Connection, where: str) -> bool:
    """Whether the schema is current; raises DatabaseTooNew for a revision we do not know."""
    current = current_revisions(conn)
    unknown = sorted(current - scripts().known)
    if unknown:
        raise DatabaseTooNew(where, ", ".join(unknown))
    return bool(current) and current == scripts().heads


def _upgrade(conn: Connection, where: str) -> None:
    """Alembic's upgrade to head, inside the caller's write transaction."""
    from alembic import command
    from alembic.util import CommandError

    cfg = alembic_config()
    cfg.attributes["connection"] = conn
    try:
        command.upgrade(cfg, "head")
    except CommandError as exc:
        raise DatabaseUnavailable(f"cannot migrate {where}: {one_line(exc)}") from None
