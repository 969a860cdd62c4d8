"""import_row without two indexes that only cost writes

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 14:40:00

`ix_import_row_batch_id` repeats the leading column of the unique (batch_id, sheet, row_number)
index, which serves every query by batch (and the cascade from `import_batch`).
`ix_import_row_outcome` indexed five values across all batches; the one query on outcome
(a batch's quarantined rows) narrows by batch first. Each cost ~0.5 µs a row on import.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index(op.f("ix_import_row_batch_id"), table_name="import_row")
    op.drop_index(op.f("ix_import_row_outcome"), table_name="import_row")


def downgrade() -> None:
    op.create_index(op.f("ix_import_row_outcome"), "import_row", ["outcome"], unique=False)
    op.create_index(op.f("ix_import_row_batch_id"), "import_row", ["batch_id"], unique=False)
