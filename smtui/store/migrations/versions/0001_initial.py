"""Initial schema: services, snapshot cache, mappings, audit, runs, journal, lock.

Revision ID: 0001
Revises:
Create Date: 2025-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)


def _service_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["service_id"], ["service.id"], name=f"fk_{table}_service_id_service", ondelete="CASCADE"
    )


def _snapshot_keys(table: str) -> list[sa.schema.SchemaItem]:
    return [
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("service_id", "seq", name=f"pk_{table}"),
        _service_fk(table),
    ]


def upgrade() -> None:
    op.create_table(
        "service",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("display_name", sa.String(), nullable=True),
        sa.Column("ccms_url", sa.String(), nullable=False),
        sa.Column("portfolio_url", sa.String(), nullable=False),
        sa.Column("ccms_token_env", sa.String(), nullable=True),
        sa.Column("ccms_token_file", sa.String(), nullable=True),
        sa.Column("portfolio_token_env", sa.String(), nullable=True),
        sa.Column("portfolio_token_file", sa.String(), nullable=True),
        sa.Column("timezone", sa.String(), nullable=False),
        sa.Column("interval_hours", sa.Float(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("max_archive_children_pct", sa.Float(), nullable=False),
        sa.Column("max_archive_children_min", sa.Integer(), nullable=False),
        sa.Column("max_remove_rooms_pct", sa.Float(), nullable=False),
        sa.Column("max_remove_rooms_min", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("set_up_at", UTC_DATETIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_service"),
        sa.UniqueConstraint("name", name="uq_service_name"),
    )

    op.create_table(
        "ccms_child",
        *_snapshot_keys("ccms_child"),
        sa.Column("first_name", sa.String(), nullable=False),
        sa.Column("last_name", sa.String(), nullable=False),
        sa.Column("preferred_name", sa.String(), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("updated_at", sa.String(), nullable=False),
    )
    op.create_table(
        "ccms_room",
        *_snapshot_keys("ccms_room"),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("updated_at", sa.String(), nullable=False),
    )
    op.create_table(
        "ccms_booking",
        *_snapshot_keys("ccms_booking"),
        sa.Column("child_id", sa.String(), nullable=False),
        sa.Column("room_id", sa.String(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("weekdays", sa.String(), nullable=False),
        sa.Column("every", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("updated_at", sa.String(), nullable=True),
    )
    op.create_table(
        "portfolio_profile",
        *_snapshot_keys("portfolio_profile"),
        sa.Column("first_name", sa.String(), nullable=False),
        sa.Column("last_name", sa.String(), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("room_ids", sa.Text(), nullable=False),
        sa.Column("external_ref", sa.String(), nullable=True),
        sa.Column("invitation_status", sa.String(), nullable=False),
    )
    op.create_table(
        "portfolio_room",
        *_snapshot_keys("portfolio_room"),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("external_ref", sa.String(), nullable=True),
    )
    op.create_table(
        "snapshot_meta",
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("side", sa.String(), nullable=False),
        sa.Column("read_at", UTC_DATETIME, nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("problems", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("service_id", "side", name="pk_snapshot_meta"),
        _service_fk("snapshot_meta"),
    )

    op.create_table(
        "child_mapping",
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.String(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("profile_id", sa.String(), nullable=True),
        sa.Column("origin", sa.String(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("synced_first_name", sa.String(), nullable=True),
        sa.Column("synced_last_name", sa.String(), nullable=True),
        sa.Column("synced_birth_date", sa.Date(), nullable=True),
        sa.Column("who", sa.String(), nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("service_id", "child_id", name="pk_child_mapping"),
        _service_fk("child_mapping"),
    )
    op.create_table(
        "room_mapping",
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.String(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("portfolio_room_id", sa.String(), nullable=True),
        sa.Column("origin", sa.String(), nullable=False),
        sa.Column("who", sa.String(), nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("service_id", "room_id", name="pk_room_mapping"),
        _service_fk("room_mapping"),
    )
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("at", UTC_DATETIME, nullable=False),
        sa.Column("who", sa.String(), nullable=False),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("subject_id", sa.String(), nullable=False),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=True),
        sa.Column("reason", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit"),
        _service_fk("audit"),
    )
    op.create_index("ix_audit_service_id", "audit", ["service_id"])

    op.create_table(
        "sync_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("started_at", UTC_DATETIME, nullable=False),
        sa.Column("finished_at", UTC_DATETIME, nullable=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=True),
        sa.Column("plan_fingerprint", sa.String(), nullable=True),
        sa.Column("result", sa.String(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("who", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sync_run"),
        _service_fk("sync_run"),
    )
    op.create_index("ix_sync_run_service_id", "sync_run", ["service_id"])

    op.create_table(
        "journal_op",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("op_id", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("label", sa.String(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("error", sa.String(), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_journal_op"),
        sa.ForeignKeyConstraint(
            ["run_id"], ["sync_run.id"], name="fk_journal_op_run_id_sync_run", ondelete="CASCADE"
        ),
        _service_fk("journal_op"),
        sa.UniqueConstraint("run_id", "op_id", name="uq_journal_op_run_id_op_id"),
    )
    op.create_index("ix_journal_op_service_id", "journal_op", ["service_id"])

    op.create_table(
        "service_lock",
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("user", sa.String(), nullable=False),
        sa.Column("host", sa.String(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("since", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("service_id", name="pk_service_lock"),
        _service_fk("service_lock"),
    )


def downgrade() -> None:
    for table in (
        "service_lock",
        "journal_op",
        "sync_run",
        "audit",
        "room_mapping",
        "child_mapping",
        "snapshot_meta",
        "portfolio_room",
        "portfolio_profile",
        "ccms_booking",
        "ccms_room",
        "ccms_child",
        "service",
    ):
        op.drop_table(table)
