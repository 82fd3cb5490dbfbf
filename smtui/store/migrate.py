"""Bring a database to the newest schema, run by the store on every open.

Alembic is driven programmatically with the migrations directory inside the package, so an
installed (non-editable) smtui migrates its users' databases without an alembic.ini.

The revision is looked at first in a read transaction: a database already at head (every open
but the first after an upgrade) needs no write lock, so reading commands open it while a sync
is writing. A revision this smtui has no script for means a newer smtui wrote the database;
it is refused before Alembic could fail on it with a traceback.

On PostgreSQL the write transaction does not queue other writers (SQLite's does), so it first
takes an advisory lock: of several processes opening a fresh database at once, one migrates and
the others wait for it, then find the schema at head.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine

from smtui.store import postgres
from smtui.store.errors import DatabaseTooNew, DatabaseUnavailable, one_line

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config() -> Config:
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
    cfg = alembic_config()
    script = ScriptDirectory.from_config(cfg)
    if reader is not None:
        with reader.connect() as conn:
            if _is_at_head(conn, script, where):
                return
    with engine.begin() as conn:
        postgres.lock_migrations(conn)
        if _is_at_head(conn, script, where):
            return  # another process migrated it meanwhile
        cfg.attributes["connection"] = conn
        try:
            command.upgrade(cfg, "head")
        except CommandError as exc:
            raise DatabaseUnavailable(f"cannot migrate {where}: {one_line(exc)}") from None


def _is_at_head(conn: Connection, script: ScriptDirectory, where: str) -> bool:
    """Whether the schema is current; raises DatabaseTooNew for a revision we do not know."""
    current = MigrationContext.configure(conn).get_current_heads()
    known = {rev.revision for rev in script.walk_revisions()}
    unknown = sorted(set(current) - known)
    if unknown:
        raise DatabaseTooNew(where, ", ".join(unknown))
    return bool(current) and set(current) == set(script.get_heads())
