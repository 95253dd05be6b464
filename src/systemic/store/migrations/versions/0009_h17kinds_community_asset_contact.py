"""community asset: how to reach it (the "adding a field" example of docs/workspace.md)

Revision ID: 0009_h17kinds
Revises: 0008_h18capture
Create Date: 2026-12-03 14:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_h17kinds"
down_revision = "0008_h18capture"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("community_asset", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contact", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("community_asset", schema=None) as batch_op:
        batch_op.drop_column("contact")
