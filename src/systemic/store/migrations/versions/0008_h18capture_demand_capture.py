"""demand captured at the point of contact, and the names the team masks in it

Revision ID: 0008_h18capture
Revises: 0007_h15evidence
Create Date: 2026-12-03 13:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_h18capture"
down_revision = "0007_h15evidence"
branch_labels = None
depends_on = None


def _stored_columns(table: str) -> list[sa.SchemaItem]:
    return [
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f(f"fk_{table}_workspace_id_workspace"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def upgrade() -> None:
    op.create_table(
        "demand",
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("service", sa.Text(), nullable=False),
        sa.Column("locality_id", sa.String(length=32), nullable=True),
        sa.Column("verbatim", sa.Text(), nullable=False),
        sa.Column("what_matters", sa.Text(), nullable=False),
        sa.Column("demand_class", sa.String(length=32), nullable=True),
        sa.Column("demand_type", sa.Text(), nullable=False),
        sa.Column("what_failed", sa.String(length=32), nullable=True),
        sa.Column("resolved_first_contact", sa.Boolean(), nullable=True),
        sa.Column("retain_until", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["locality_id"],
            ["locality.id"],
            name=op.f("fk_demand_locality_id_locality"),
            ondelete="SET NULL",
        ),
        *_stored_columns("demand"),
    )
    with op.batch_alter_table("demand", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_demand_locality_id"), ["locality_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_demand_received_at"), ["received_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_demand_workspace_id"), ["workspace_id"], unique=False)
    op.create_table(
        "masked_name",
        sa.Column("name", sa.Text(), nullable=False),
        *_stored_columns("masked_name"),
    )
    with op.batch_alter_table("masked_name", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_masked_name_workspace_id"), ["workspace_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("masked_name")
    op.drop_table("demand")
