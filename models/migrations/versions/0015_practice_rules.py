"""the equity part of a mixed (投贷联动) demand

Revision ID: 0015_practice_rules
Revises: 0010_api_key_owner
Create Date: 2026-12-08 03:10:00

A mixed demand is ranked as an equity leg and a loan leg. The equity amount is optional:
demands without it (all earlier ones) are split by the recommender's stated default.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_practice_rules"
down_revision: str | None = "0014_digests_models"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("financing_demand", schema=None) as batch_op:
        batch_op.add_column(sa.Column("equity_amount_wan", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("financing_demand", schema=None) as batch_op:
        batch_op.drop_column("equity_amount_wan")
