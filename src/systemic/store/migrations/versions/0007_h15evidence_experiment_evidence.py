"""experiments hold their evidence: PDSA cycles and stored analyses; a redesign decision
links to the system conditions it changes and the purpose statements it serves

Revision ID: 0007_h15evidence
Revises: 0006_h15measure
Create Date: 2026-12-03 13:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_h15evidence"
down_revision = "0006_h15measure"
branch_labels = None
depends_on = None

#: New link tables of a redesign decision: relation -> target table.
LINKS = {"system_conditions": "system_condition", "purpose_statements": "purpose_statement"}


def upgrade() -> None:
    with op.batch_alter_table("experiment", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("pdsa_cycles", sa.JSON(), nullable=False, server_default="[]")
        )
        batch_op.add_column(sa.Column("analyses", sa.JSON(), nullable=False, server_default="[]"))
    for relation, target in LINKS.items():
        table = f"redesign_decision_{relation}"
        op.create_table(
            table,
            sa.Column("source_id", sa.String(length=32), nullable=False),
            sa.Column("target_id", sa.String(length=32), nullable=False),
            sa.ForeignKeyConstraint(
                ["source_id"],
                ["redesign_decision.id"],
                name=op.f(f"fk_{table}_source_id_redesign_decision"),
                ondelete="CASCADE",
            ),
            sa.ForeignKeyConstraint(
                ["target_id"],
                [f"{target}.id"],
                name=op.f(f"fk_{table}_target_id_{target}"),
                ondelete="CASCADE",
            ),
            sa.PrimaryKeyConstraint("source_id", "target_id", name=op.f(f"pk_{table}")),
        )
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f"ix_{table}_target_id"), ["target_id"], unique=False)


def downgrade() -> None:
    for relation in reversed(LINKS):
        table = f"redesign_decision_{relation}"
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_target_id"))
        op.drop_table(table)
    with op.batch_alter_table("experiment", schema=None) as batch_op:
        batch_op.drop_column("analyses")
        batch_op.drop_column("pdsa_cycles")
