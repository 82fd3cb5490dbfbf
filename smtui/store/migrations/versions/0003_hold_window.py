"""The holds' rolling window and the suspicious-read threshold, per service.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("service") as batch:
        batch.add_column(
            sa.Column("hold_window_days", sa.Float(), nullable=False, server_default="7")
        )
        batch.add_column(
            sa.Column("suspicious_drop_pct", sa.Float(), nullable=False, server_default="50")
        )


def downgrade() -> None:
    with op.batch_alter_table("service") as batch:
        batch.drop_column("suspicious_drop_pct")
        batch.drop_column("hold_window_days")
