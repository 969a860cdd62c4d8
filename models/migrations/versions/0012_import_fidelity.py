"""import warnings per row and the contacts an import stored

Revision ID: 0012_import_fidelity
Revises: 0010_api_key_owner
Create Date: 2026-12-08 03:00:00

`import_warning` keeps what a batch's summary lists under `warnings` (sheet, row, column, value,
rule, message), so the console's batch page shows it later; `import_batch.contacts_stored`
counts the contact persons a batch added or updated.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0012_import_fidelity"
down_revision: str | None = "0011_demand_lifecycle"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "import_warning",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("sheet", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("column", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("value", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("rule", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("message", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["import_batch.id"],
            name=op.f("fk_import_warning_batch_id_import_batch"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_warning")),
    )
    with op.batch_alter_table("import_warning", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_import_warning_batch_id"), ["batch_id"], unique=False)
    with op.batch_alter_table("import_batch", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("contacts_stored", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("import_batch", schema=None) as batch_op:
        batch_op.drop_column("contacts_stored")
    with op.batch_alter_table("import_warning", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_import_warning_batch_id"))
    op.drop_table("import_warning")
