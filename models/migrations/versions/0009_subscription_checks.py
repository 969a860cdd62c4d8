"""subscription e-mail confirmation

Revision ID: 0009_subscription_checks
Revises: 0008_accounts
Create Date: 2026-12-07 21:30:00

An address outside the institution's registered one waits for its owner's confirmation code
before any digest goes there. Existing subscriptions count as confirmed (they were set up
before the check; `matchmaker digests` still refuses a malformed address at delivery).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0009_subscription_checks"
down_revision: str | None = "0008_accounts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("subscription", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("email_confirmed", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "email_token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column("email_token_expires_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("subscription", schema=None) as batch_op:
        batch_op.drop_column("email_token_expires_at")
        batch_op.drop_column("email_token_hash")
        batch_op.drop_column("email_confirmed")
