"""deal.status (claimed / confirmed / rejected), decided_by, decided_at

Revision ID: 0007_deal_claims
Revises: 0006
Create Date: 2026-12-07 21:30:00

A deal an institution reports is a claim until a matchmaker confirms it; only confirmed deals
count. Every deal recorded before this revision was entered by staff or imported: confirmed.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0007_deal_claims"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATUS = sa.Enum(
    "claimed",
    "confirmed",
    "rejected",
    name="dealstatus",
    native_enum=False,
    create_constraint=True,
    length=32,
)


def upgrade() -> None:
    with op.batch_alter_table("deal", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", _STATUS, nullable=False, server_default="confirmed")
        )
        batch_op.add_column(
            sa.Column("decided_by", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True)
        )
        batch_op.add_column(sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_deal_status"), ["status"], unique=False)
    with op.batch_alter_table("deal", schema=None) as batch_op:
        batch_op.alter_column("status", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("deal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deal_status"))
        batch_op.drop_column("decided_at")
        batch_op.drop_column("decided_by")
        batch_op.drop_column("status")
