"""live measures: source, series, locality, chart, direction, baseline, rebases,
annotations; learn results brought into a workspace, by version

Revision ID: 0006_h15measure
Revises: 0005
Create Date: 2026-12-03 13:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_h15measure"
down_revision = "0005"
branch_labels = None
depends_on = None


#: The measure's new columns (added one by one: SQLite adds a column in place, whereas
#: a batch would copy and drop the table, and the drop would cascade to its links).
_MEASURE_COLUMNS = (
    ("learn_result", sa.Text(), ""),
    ("series_name", sa.String(64), None),
    ("period", sa.String(32), "week"),
    ("locality", sa.Text(), ""),
    ("chart", sa.String(32), "xmr"),
    ("improvement", sa.String(32), "neutral"),
    ("baseline_start", sa.Date(), None),
    ("baseline_end", sa.Date(), None),
    ("rebases", sa.JSON(), "[]"),
    ("annotations", sa.JSON(), "[]"),
)


def _drop_measure_column(name: str) -> None:
    if op.get_bind().dialect.name == "sqlite":  # SQLite 3.35+ drops a column in place
        op.execute(f"ALTER TABLE measure DROP COLUMN {name}")
    else:
        op.drop_column("measure", name)


def upgrade() -> None:
    # The free-text "learn result that feeds it" fed nothing: learn_result names a
    # learn result brought into the workspace, and series_name picks its series.
    _drop_measure_column("learn_output")
    for name, type_, default in _MEASURE_COLUMNS:
        op.add_column(
            "measure",
            sa.Column(name, type_, nullable=default is None, server_default=default),
        )
    op.create_table(
        "learn_result_version",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.Column("imported_by", sa.String(length=200), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=True),
        sa.Column("weekly", sa.JSON(), nullable=False),
        sa.Column("monthly", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_learn_result_version_workspace_id_workspace"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learn_result_version")),
        sa.UniqueConstraint(
            "workspace_id", "name", "version", name=op.f("uq_learn_result_version_workspace_id")
        ),
    )
    with op.batch_alter_table("learn_result_version", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_learn_result_version_workspace_id"), ["workspace_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("learn_result_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_learn_result_version_workspace_id"))
    op.drop_table("learn_result_version")
    for name, _, _ in reversed(_MEASURE_COLUMNS):
        _drop_measure_column(name)
    op.add_column(
        "measure", sa.Column("learn_output", sa.Text(), nullable=False, server_default="")
    )
