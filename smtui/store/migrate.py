"""Bring a database to the newest schema, run by the store on every open.

Alembic is driven programmatically with the migrations directory inside the package, so an
installed (non-editable) smtui migrates its users' databases without an alembic.ini.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config() -> Config:
    cfg = Config()
    # Config values go through configparser interpolation: a literal % must be doubled.
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    return cfg


def upgrade_to_head(engine: Engine) -> None:
    """Apply pending revisions in one write transaction (a no-op when already at head).

    The write transaction serialises two processes opening a fresh database at the same time.
    """
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
