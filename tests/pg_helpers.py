"""A fresh PostgreSQL database per test, on the server named by ``SMTUI_TEST_DB``.

``SMTUI_TEST_DB=postgresql+psycopg://user@127.0.0.1:PORT/db`` runs the whole suite on a real
server (``.ci/run`` starts a throwaway one); the role needs CREATEDB (and pg_signal_backend, so
that a drop need not wait for autovacuum). Each test that uses a store (the ``store_url``
fixture, tests/conftest.py) gets its own database (``CREATE DATABASE … TEMPLATE template0``), so
tests never see each other's rows and a migration test starts from nothing; it is dropped
afterwards.

Also the marks that say what a test is about: ``sqlite_only`` for SQLite itself (file bytes,
WAL, pragmas, a damaged file), and store-neutral reads of what a store holds (``rows``,
``stored_text``).
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

ENV_VAR = "SMTUI_TEST_DB"


def server_url() -> str | None:
    """The PostgreSQL URL the tests run on, or None (then the store tests use SQLite)."""
    value = os.environ.get(ENV_VAR, "").strip()
    return value or None


def on_postgres() -> bool:
    """Whether this run's stores are PostgreSQL databases."""
    return server_url() is not None


def skip_reason() -> str:
    return f"needs PostgreSQL: set {ENV_VAR}=postgresql+psycopg://user@127.0.0.1:PORT/db"


def sqlite_only(reason: str) -> pytest.MarkDecorator:
    """A test of SQLite itself (its files, WAL, pragmas, locks): skipped on PostgreSQL."""
    return pytest.mark.skipif(on_postgres(), reason=f"about SQLite itself: {reason}")


def _admin_engine(base: sa.URL) -> sa.Engine:
    # CREATE / DROP DATABASE cannot run inside a transaction.
    return sa.create_engine(base, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)


def create_database(url: str, *, timezone: str | None = None, template: str | None = None) -> str:
    """Create a database beside the one ``url`` names; returns its URL.

    Empty, or a copy of ``template`` (the URL of another test database, which nobody may be
    connected to). ``timezone`` becomes the new database's default session time zone (``ALTER
    DATABASE … SET timezone``), so every connection the store opens on it gets that zone.
    """
    base = sa.make_url(url)
    name = f"smtui_test_{secrets.token_hex(6)}"
    source = "template0" if template is None else f'"{sa.make_url(template).database}"'
    engine = _admin_engine(base)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE \"{name}\" TEMPLATE {source} ENCODING 'UTF8'")
            if timezone is not None:
                quoted = timezone.replace("'", "''")
                conn.exec_driver_sql(f"ALTER DATABASE \"{name}\" SET timezone = '{quoted}'")
    finally:
        engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def drop_database(url: str, *, attempts: int = 40) -> None:
    """Drop a database made by create_database, disconnecting whoever is still on it.

    An autovacuum worker on the database has no role, so a role without pg_signal_backend may
    not terminate it (``must be a member of the role whose process is being terminated``):
    then the drop is tried again, for up to ten seconds, until the worker has finished.
    """
    target = sa.make_url(url)
    engine = _admin_engine(target.set(database=sa.make_url(server_url() or url).database))
    try:
        for attempt in range(attempts):
            try:
                with engine.connect() as conn:
                    conn.exec_driver_sql(
                        f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'
                    )
                return
            except sa.exc.DBAPIError as exc:
                busy = getattr(exc.orig, "sqlstate", None) in ("42501", "55006")
                if not busy or attempt == attempts - 1:
                    raise
                time.sleep(0.25)
    finally:
        engine.dispose()


@contextmanager
def fresh_database(*, timezone: str | None = None, template: str | None = None) -> Iterator[str]:
    """A new database on the test server for the duration of the block (a copy of
    ``template`` if given); its URL."""
    base = server_url()
    if base is None:
        raise RuntimeError(skip_reason())
    url = create_database(base, timezone=timezone, template=template)
    try:
        yield url
    finally:
        drop_database(url)


def _engine(db: str | Path) -> sa.Engine:
    target = str(db)
    url = target if "://" in target else f"sqlite:///{target}"
    return sa.create_engine(url, poolclass=sa.NullPool)


def rows(db: str | Path, sql: str, **params: object) -> list[tuple[object, ...]]:
    """The rows of one query on a store (a SQLite path or any URL), outside smtui's code, on a
    connection of its own that is closed afterwards."""
    engine = _engine(db)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql), params)]
    finally:
        engine.dispose()


def execute(db: str | Path, sql: str, **params: object) -> None:
    """One statement on a store, committed, outside smtui's code."""
    engine = _engine(db)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(sql), params)
    finally:
        engine.dispose()


def stored_text(url: str) -> bytes:
    """Every value a PostgreSQL database holds, as the server's text of it (UTF-8): each column
    of each table in every schema but the system's, the rows any reader of the database sees.

    What PostgreSQL keeps of deleted rows until VACUUM reclaims them is not read here: no SQL
    reader can see those (docs/postgres.md on purges and VACUUM FULL)."""
    engine = _engine(url)
    out: list[bytes] = []
    try:
        with engine.connect() as conn:
            columns = conn.execute(
                sa.text(
                    "SELECT table_schema, table_name, column_name FROM information_schema.columns"
                    " WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
                    " ORDER BY 1, 2, ordinal_position"
                )
            ).all()
            for schema, table, column in columns:
                quoted = ".".join(f'"{p}"' for p in (schema, table, column))
                source = f'"{schema}"."{table}"'
                for (value,) in conn.exec_driver_sql(
                    f"SELECT {quoted}::text FROM {source} WHERE {quoted} IS NOT NULL"
                ):
                    out.append(value.encode())
    finally:
        engine.dispose()
    return b"\n".join(out)
