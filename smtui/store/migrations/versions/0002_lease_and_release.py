"""Lock leases held by a run token; mappings remember the record a person moved away from.

The lock table is recreated: a row left by an older smtui names a pid, not a run, and has no
lease, so it could never be told apart from a live holder.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.drop_table("service_lock")
    op.create_table(
        "service_lock",
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(), nullable=False),
        sa.Column("user", sa.String(), nullable=False),
        sa.Column("host", sa.String(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("since", UTC_DATETIME, nullable=False),
        sa.Column("expires_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("service_id", name="pk_service_lock"),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["service.id"],
            name="fk_service_lock_service_id_service",
            ondelete="CASCADE",
        ),
    )
    with op.batch_alter_table("child_mapping") as batch:
        batch.add_column(sa.Column("release_profile_id", sa.String(), nullable=True))
    with op.batch_alter_table("room_mapping") as batch:
        batch.add_column(sa.Column("release_room_id", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("room_mapping") as batch:
        batch.drop_column("release_room_id")
    with op.batch_alter_table("child_mapping") as batch:
        batch.drop_column("release_profile_id")
    op.drop_table("service_lock")
    op.create_table(
        "service_lock",
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("user", sa.String(), nullable=False),
        sa.Column("host", sa.String(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("since", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("service_id", name="pk_service_lock"),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["service.id"],
            name="fk_service_lock_service_id_service",
            ondelete="CASCADE",
        ),
    )
