"""enterprise change sets; import rows held for review

Revision ID: 0013_change_sets
Revises: 0010_api_key_owner
Create Date: 2026-12-08 03:00:00

`enterprise_change` keeps every field an import changed on a stored enterprise (old, new,
batch, row). `import_row.outcome` gains 'review': a row held for a person (a brand naming
several enterprises, a second open demand) that changed nothing.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0013_change_sets"
down_revision: str | None = "0012_import_fidelity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OUTCOMES = ("inserted", "updated", "unchanged", "merged", "quarantined")
_CHECK = "ck_import_row_importoutcome_outcome"


def _outcome_check(values: tuple[str, ...]) -> str:
    return "outcome IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def _set_outcomes(values: tuple[str, ...]) -> None:
    # SQLite cannot alter a CHECK: batch mode copies the table with the new one.
    with op.batch_alter_table("import_row", schema=None) as batch_op:
        batch_op.drop_constraint(op.f(_CHECK), type_="check")
        batch_op.create_check_constraint(op.f(_CHECK), sa.text(_outcome_check(values)))


def upgrade() -> None:
    op.create_table(
        "enterprise_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("sheet", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("field", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("old_value", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("new_value", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["import_batch.id"],
            name=op.f("fk_enterprise_change_batch_id_import_batch"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprise.id"],
            name=op.f("fk_enterprise_change_enterprise_id_enterprise"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enterprise_change")),
    )
    with op.batch_alter_table("enterprise_change", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_enterprise_change_batch_id"), ["batch_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_enterprise_change_enterprise_id"), ["enterprise_id"], unique=False
        )
    _set_outcomes((*_OUTCOMES, "review"))


def downgrade() -> None:
    op.execute("DELETE FROM import_row WHERE outcome = 'review'")
    _set_outcomes(_OUTCOMES)
    with op.batch_alter_table("enterprise_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enterprise_change_enterprise_id"))
        batch_op.drop_index(batch_op.f("ix_enterprise_change_batch_id"))
    op.drop_table("enterprise_change")
