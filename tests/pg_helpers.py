"""A fresh PostgreSQL database per test, on the server named by ``SMTUI_TEST_DB``.

``SMTUI_TEST_DB=postgresql+psycopg://user@127.0.0.1:PORT/db`` points the store tests at a real
server (``.ci/run`` starts a throwaway one); the role needs CREATEDB. Each test gets its own
database (``CREATE DATABASE … TEMPLATE template0``), so tests never see each other's rows and a
migration test starts from nothing; it is dropped afterwards.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

ENV_VAR = "SMTUI_TEST_DB"


def server_url() -> str | None:
    """The PostgreSQL URL the tests run on, or None (then the store tests use SQLite)."""
    value = os.environ.get(ENV_VAR, "").strip()
    return value or None


def skip_reason() -> str:
    return f"needs PostgreSQL: set {ENV_VAR}=postgresql+psycopg://user@127.0.0.1:PORT/db"


def _admin_engine(base: sa.URL) -> sa.Engine:
    # CREATE / DROP DATABASE cannot run inside a transaction.
    return sa.create_engine(base, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)


def create_database(url: str, *, timezone: str | None = None) -> str:
    """Create an empty database beside the one ``url`` names; returns its URL.

    ``timezone`` becomes the new database's default session time zone (``ALTER DATABASE …
    SET timezone``), so every connection the store opens on it gets that zone.
    """
    base = sa.make_url(url)
    name = f"smtui_test_{secrets.token_hex(6)}"
    engine = _admin_engine(base)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'")
            if timezone is not None:
                quoted = timezone.replace("'", "''")
                conn.exec_driver_sql(f"ALTER DATABASE \"{name}\" SET timezone = '{quoted}'")
    finally:
        engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    """Drop a database made by create_database, disconnecting whoever is still on it."""
    target = sa.make_url(url)
    engine = _admin_engine(target.set(database=sa.make_url(server_url() or url).database))
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
    finally:
        engine.dispose()


@contextmanager
def fresh_database(*, timezone: str | None = None) -> Iterator[str]:
    """A new database on the test server for the duration of the block; its URL."""
    base = server_url()
    if base is None:
        raise RuntimeError(skip_reason())
    url = create_database(base, timezone=timezone)
    try:
        yield url
    finally:
        drop_database(url)
