"""Enterprise portal: the enterprise role, invitations, notice mails, surveys per match

Revision ID: 0019_enterprise_portal
Revises: 0015_practice_rules
Create Date: 2026-12-08 03:50:00

`app_user` gains `enterprise_id` and `email` and the role `enterprise`; `enterprise_invitation`
keeps the SHA-256 of single-use links; `portal_notice` holds one row per notice mail (its key
unique); `complaint.match_id` ties a survey answer to the closed match it is about.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0019_enterprise_portal"
down_revision: str | None = "0021_events_policy"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ROLE_CHECK = "ck_app_user_userrole_role"
_OLD_ROLES = ("admin", "matchmaker", "institution", "evaluator")
_NEW_ROLES = (*_OLD_ROLES, "enterprise")


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def upgrade() -> None:
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_constraint(op.f(_ROLE_CHECK), type_="check")
        batch_op.add_column(sa.Column("enterprise_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True)
        )
        batch_op.create_check_constraint(op.f(_ROLE_CHECK), _in("role", _NEW_ROLES))
        batch_op.create_index(batch_op.f("ix_app_user_enterprise_id"), ["enterprise_id"])
        batch_op.create_foreign_key(batch_op.f("fk_app_user_enterprise_id_enterprise"),
                                    "enterprise", ["enterprise_id"], ["id"])  # fmt: skip
    with op.batch_alter_table("complaint", schema=None) as batch_op:
        batch_op.add_column(sa.Column("match_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_complaint_match_id"), ["match_id"])
        batch_op.create_foreign_key(batch_op.f("fk_complaint_match_id_match"), "match",
                                    ["match_id"], ["id"])  # fmt: skip
    op.create_table(
        "enterprise_invitation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["enterprise_id"], ["enterprise.id"],
                                name=op.f("fk_enterprise_invitation_enterprise_id_enterprise")),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"],
                                name=op.f("fk_enterprise_invitation_user_id_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enterprise_invitation")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_enterprise_invitation_token_hash")),
    )  # fmt: skip
    op.create_index(op.f("ix_enterprise_invitation_enterprise_id"), "enterprise_invitation",
                    ["enterprise_id"])  # fmt: skip
    op.create_table(
        "portal_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("kind", _enum("noticekind", "introduction", "consent_request", "survey"),
                  nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("match_id", sa.Integer(), nullable=False),
        sa.Column("status", _enum("noticestatus", "pending", "sending", "sent", "failed"),
                  nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["match_id"], ["match.id"],
                                name=op.f("fk_portal_notice_match_id_match")),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"],
                                name=op.f("fk_portal_notice_user_id_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_notice")),
        sa.UniqueConstraint("key", name=op.f("uq_portal_notice_key")),
    )  # fmt: skip
    op.create_index(op.f("ix_portal_notice_user_id"), "portal_notice", ["user_id"])
    op.create_index(op.f("ix_portal_notice_match_id"), "portal_notice", ["match_id"])
    op.create_index(op.f("ix_portal_notice_status"), "portal_notice", ["status"])


def downgrade() -> None:
    op.drop_table("portal_notice")
    op.drop_table("enterprise_invitation")
    with op.batch_alter_table("complaint", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_complaint_match_id_match"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_complaint_match_id"))
        batch_op.drop_column("match_id")
    op.execute("DELETE FROM app_user WHERE role = 'enterprise'")
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_constraint(op.f(_ROLE_CHECK), type_="check")
        batch_op.drop_constraint(batch_op.f("fk_app_user_enterprise_id_enterprise"),
                                 type_="foreignkey")  # fmt: skip
        batch_op.drop_index(batch_op.f("ix_app_user_enterprise_id"))
        batch_op.drop_column("email")
        batch_op.drop_column("enterprise_id")
        batch_op.create_check_constraint(op.f(_ROLE_CHECK), _in("role", _OLD_ROLES))
