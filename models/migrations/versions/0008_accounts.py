"""Accounts: normalised usernames, token versions, lock-out, the shared login throttle

Revision ID: 0008_accounts
Revises: 0007_deal_claims
Create Date: 2026-12-07 21:30:00

`app_user.username` now holds the normalised name (NFKC, trimmed, case-folded): existing names
are rewritten, and the upgrade stops if two of them collide (an operator merges them first).
`token_version` revokes tokens and console sessions; `failed_logins` and `locked_at` lock an
account after repeated failures; `login_throttle` counts failed logins per account and per
source address for every worker process.
"""

import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0008_accounts"
down_revision: str | None = "0007_deal_claims"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _normalized(name: str) -> str:
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())
    return folded.strip()


def _normalize_usernames() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, username FROM app_user ORDER BY id")).all()
    seen: dict[str, str] = {}
    for row in rows:
        name = _normalized(row.username)
        if name in seen:
            raise RuntimeError(
                f"用户名“{row.username}”与“{seen[name]}”规范化后相同（{name}），请先合并或改名"
            )
        seen[name] = row.username
    for row in rows:
        if _normalized(row.username) != row.username:
            conn.execute(sa.text("UPDATE app_user SET username = :n WHERE id = :i"),
                         {"n": _normalized(row.username), "i": row.id})  # fmt: skip


def upgrade() -> None:
    with op.batch_alter_table("app_user") as batch:
        batch.add_column(sa.Column("token_version", sa.Integer(), server_default="0",
                                   nullable=False))  # fmt: skip
        batch.add_column(sa.Column("failed_logins", sa.Integer(), server_default="0",
                                   nullable=False))  # fmt: skip
        batch.add_column(sa.Column("locked_at", sa.DateTime(timezone=True), nullable=True))
    _normalize_usernames()
    op.create_table(
        "login_throttle",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttle")),
    )


def downgrade() -> None:
    op.drop_table("login_throttle")
    with op.batch_alter_table("app_user") as batch:
        batch.drop_column("locked_at")
        batch.drop_column("failed_logins")
        batch.drop_column("token_version")
