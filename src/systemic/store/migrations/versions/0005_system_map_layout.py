"""system map: factor kind, level, tags and saved place; loop names kept with the map

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 10:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("factor", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(32), nullable=True))
        batch_op.add_column(sa.Column("level", sa.String(32), nullable=True))
        batch_op.add_column(sa.Column("tags", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("x", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("y", sa.Float(), nullable=True))
    with op.batch_alter_table("system_map", schema=None) as batch_op:
        batch_op.add_column(sa.Column("loop_names", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("system_map", schema=None) as batch_op:
        batch_op.drop_column("loop_names")
    with op.batch_alter_table("factor", schema=None) as batch_op:
        for column in ("y", "x", "tags", "level", "kind"):
            batch_op.drop_column(column)
