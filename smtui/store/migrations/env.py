"""Alembic environment for the store.

The store runs migrations itself on open and hands over its connection (already inside a write
transaction) in ``config.attributes["connection"]``. Run from the command line (``alembic -c
smtui/store/migrations/alembic.ini ...``, e.g. to autogenerate a revision) it connects to
``SMTUI_DB`` or the ini's URL instead.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection, create_engine

from smtui.store.connect import resolve_url
from smtui.store.tables import metadata

config = context.config


def _configure_and_run(connection: Connection) -> None:
    # Batch mode lets later revisions ALTER tables on SQLite (it rebuilds the table).
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _configure_and_run(connection)
else:
    url = resolve_url(os.environ.get("SMTUI_DB") or config.get_main_option("sqlalchemy.url"))
    engine = create_engine(url)
    with engine.begin() as conn:
        _configure_and_run(conn)
