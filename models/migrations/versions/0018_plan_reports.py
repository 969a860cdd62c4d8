"""annual plan targets, 表B.1 evidence files, self-assessment sign-offs

Revision ID: 0018_plan_reports
Revises: 0015_practice_rules
Create Date: 2026-12-08 03:47:46.126070
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0018_plan_reports"
down_revision: str | None = "0019_enterprise_portal"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "plan_target",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("indicator_key", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("target", sa.Float(), nullable=False),
        sa.Column("set_by", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("target >= 0", name=op.f("ck_plan_target_target_nonneg")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_target")),
        sa.UniqueConstraint("year", "indicator_key", name=op.f("uq_plan_target_year")),
    )
    with op.batch_alter_table("plan_target", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_target_year"), ["year"], unique=False)

    op.create_table(
        "evidence_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("item_code", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("content_type", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["evaluation_period.id"],
            name=op.f("fk_evidence_file_period_id_evaluation_period"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_file")),
    )
    with op.batch_alter_table("evidence_file", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evidence_file_period_id"), ["period_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_evidence_file_sha256"), ["sha256"], unique=False)

    op.create_table(
        "report_signoff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("signed_by", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("report_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["evaluation_period.id"],
            name=op.f("fk_report_signoff_period_id_evaluation_period"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_signoff")),
    )
    with op.batch_alter_table("report_signoff", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_report_signoff_period_id"), ["period_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("report_signoff", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_signoff_period_id"))

    op.drop_table("report_signoff")
    with op.batch_alter_table("evidence_file", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_file_sha256"))
        batch_op.drop_index(batch_op.f("ix_evidence_file_period_id"))

    op.drop_table("evidence_file")
    with op.batch_alter_table("plan_target", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_target_year"))

    op.drop_table("plan_target")
