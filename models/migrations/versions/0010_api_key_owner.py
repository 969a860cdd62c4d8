"""the user who issued each API key

Revision ID: 0010_api_key_owner
Revises: 0009_subscription_checks
Create Date: 2026-12-07 23:00:00

A key is revoked when the user who issued it is disabled, has their password set, or changes
role or institution. Keys issued before this revision have no recorded issuer (NULL) and are
left as they are; an administrator revokes them by hand if needed.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_api_key_owner"
down_revision: str | None = "0009_subscription_checks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.add_column(sa.Column("created_by", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_api_key_created_by"), ["created_by"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_api_key_created_by_app_user"), "app_user", ["created_by"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_api_key_created_by_app_user"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_api_key_created_by"))
        batch_op.drop_column("created_by")
