"""When each service is next due, kept on its row and indexed: "what is due" is one query.

Filled in for existing services from their last successful real run (or their setup), the
same rule ``smtui sync --all`` used to apply service by service.

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from smtui.store.tables import UtcDateTime

revision: str = "0005"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SERVICE = sa.table(
    "service",
    sa.column("id", sa.Integer()),
    sa.column("enabled", sa.Boolean()),
    sa.column("set_up_at", UtcDateTime()),
    sa.column("interval_hours", sa.Float()),
    sa.column("next_due_at", UtcDateTime()),
)
RUN = sa.table(
    "sync_run",
    sa.column("service_id", sa.Integer()),
    sa.column("finished_at", UtcDateTime()),
    sa.column("result", sa.String()),
    sa.column("dry_run", sa.Boolean()),
)


def upgrade() -> None:
    with op.batch_alter_table("service") as batch:
        batch.add_column(sa.Column("next_due_at", UtcDateTime(), nullable=True))
        batch.create_index("ix_service_next_due_at", ["next_due_at"])
    conn = op.get_bind()
    last_ok = dict(
        conn.execute(
            sa.select(RUN.c.service_id, sa.func.max(RUN.c.finished_at))
            .where(RUN.c.result == "ok", RUN.c.dry_run.is_(False))
            .group_by(RUN.c.service_id)
        ).all()
    )
    for sid, enabled, set_up_at, hours in conn.execute(
        sa.select(SERVICE.c.id, SERVICE.c.enabled, SERVICE.c.set_up_at, SERVICE.c.interval_hours)
    ).all():
        if not enabled or set_up_at is None:
            continue
        last = last_ok.get(sid)
        if isinstance(last, str):  # SQLite hands max() back as text
            last = dt.datetime.fromisoformat(last).replace(tzinfo=dt.UTC)
        due = set_up_at if last is None else last + dt.timedelta(hours=hours)
        conn.execute(sa.update(SERVICE).where(SERVICE.c.id == sid).values(next_due_at=due))


def downgrade() -> None:
    with op.batch_alter_table("service") as batch:
        batch.drop_index("ix_service_next_due_at")
        batch.drop_column("next_due_at")
