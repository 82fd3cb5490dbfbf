"""Guardian emails on both sides (matching evidence), the matcher's reason as data on each
child mapping (reviews grouped by reason), and what an incremental read needs per side.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from smtui.store.tables import UtcDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("ccms_child", "portfolio_profile"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("guardian_emails", sa.Text(), nullable=False, server_default="[]")
            )
    with op.batch_alter_table("child_mapping") as batch:
        batch.add_column(sa.Column("reason_kind", sa.String(), nullable=True))
    with op.batch_alter_table("snapshot_meta") as batch:
        batch.add_column(sa.Column("full_read_at", UtcDateTime(), nullable=True))
        batch.add_column(sa.Column("cursors", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("snapshot_meta") as batch:
        batch.drop_column("cursors")
        batch.drop_column("full_read_at")
    with op.batch_alter_table("child_mapping") as batch:
        batch.drop_column("reason_kind")
    for table in ("ccms_child", "portfolio_profile"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("guardian_emails")
