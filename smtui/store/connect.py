"""Find the database and open the store on it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Engine, create_engine, event, make_url
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import (
    ArgumentError,
    DatabaseError,
    DBAPIError,
    OperationalError,
    SQLAlchemyError,
)

from smtui.store import postgres, sqlite
from smtui.store.errors import DatabaseUnavailable, StoreError, one_line
from smtui.store.location import default_path
from smtui.store.migrate import upgrade_to_head
from smtui.store.store import Store

ENV_VAR = "SMTUI_DB"


def resolve_url(value: str | None) -> URL:
    """A database URL from an explicit value (a path or any SQLAlchemy URL) or the default file."""
    if not value:
        return sqlite.file_url(default_path())
    if "://" not in value:
        return sqlite.file_url(Path(value))
    try:
        return make_url(value)
    except ArgumentError:
        raise DatabaseUnavailable(f"not a database URL: {value!r}") from None


def open_store(url: str | None = None) -> Store:
    """Open (creating and migrating as needed) the store.

    Precedence: the ``url`` argument (the CLI's --db), then $SMTUI_DB, then ``smtui.db`` in the
    user data directory.
    """
    explicit = url or os.environ.get(ENV_VAR) or None
    resolved = resolve_url(explicit)
    options: dict[str, Any] = {}
    if sqlite.is_sqlite(resolved):
        sqlite.prepare_file(resolved, create_dir=explicit is None)
        options = sqlite.engine_options()
    try:
        engine = create_engine(resolved, **options)
    except (ArgumentError, ImportError) as exc:
        raise DatabaseUnavailable(f"cannot use database {_safe(resolved)}: {exc}") from None
    if sqlite.is_sqlite(resolved):
        sqlite.configure(engine)
        where = sqlite.location(resolved)
    else:
        where = _safe(resolved)
        if postgres.is_postgres(resolved):
            postgres.configure(engine, where)
    _one_line_errors(engine, where)
    store = Store(engine)
    try:
        upgrade_to_head(store.write_engine, reader=store.engine, where=where)
    except StoreError:
        engine.dispose()
        raise
    except SQLAlchemyError as exc:
        engine.dispose()
        reason = str(exc.orig) if isinstance(exc, DBAPIError) and exc.orig else type(exc).__name__
        raise DatabaseUnavailable(f"cannot open database {_safe(resolved)}: {reason}") from None
    return store


def _one_line_errors(engine: Engine, where: str) -> None:
    """Any database's operational failures (connection lost, server gone, disk trouble) become a
    one-line store error, whatever store call meets them; the SQLite module has already named
    its own more precisely. Constraint violations and SQL errors are left alone: the store
    handles the first, and the second are bugs that should keep their traceback."""

    def translate(ctx: ExceptionContext) -> BaseException | None:
        if getattr(ctx, "chained_exception", None) is not None:
            return None  # already translated (the SQLite module names its errors better)
        exc = ctx.sqlalchemy_exception
        if isinstance(exc, OperationalError) or type(exc) is DatabaseError:
            return DatabaseUnavailable(f"database error on {where}: {one_line(exc.orig or exc)}")
        return None

    event.listen(engine, "handle_error", translate, retval=True)


def _safe(url: URL) -> str:
    """The URL for messages, never with its password."""
    return url.render_as_string(hide_password=True)
