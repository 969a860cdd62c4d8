"""institutions' agreement history and yearly evaluations; staff posts, qualifications, training

Revision ID: 0020_institutions_staff
Revises: 0015_practice_rules
Create Date: 2026-12-08 03:47:53.639424
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0020_institutions_staff"
down_revision: str | None = "0015_practice_rules"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agreement_period",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("replaced_by", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("replaced_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "ends_on IS NULL OR ends_on >= starts_on", name=op.f("ck_agreement_period_order")
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institution.id"],
            name=op.f("fk_agreement_period_institution_id_institution"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement_period")),
    )
    with op.batch_alter_table("agreement_period", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_agreement_period_institution_id"), ["institution_id"], unique=False
        )

    op.create_table(
        "institution_evaluation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("overall", sa.Float(), nullable=True),
        sa.Column("decision", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("evaluated_by", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "decision IN ('keep', 'warn', 'exit')", name=op.f("ck_institution_evaluation_decision")
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institution.id"],
            name=op.f("fk_institution_evaluation_institution_id_institution"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_institution_evaluation")),
        sa.UniqueConstraint(
            "institution_id", "year", name=op.f("uq_institution_evaluation_institution_id")
        ),
    )
    with op.batch_alter_table("institution_evaluation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_institution_evaluation_institution_id"), ["institution_id"], unique=False
        )

    op.create_table(
        "staff_profile",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("post", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("duties", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_staff_profile_user_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_staff_profile")),
    )
    op.create_table(
        "staff_qualification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("certificate_no", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True),
        sa.Column("obtained_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "expires_on IS NULL OR expires_on >= obtained_on",
            name=op.f("ck_staff_qualification_validity"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_staff_qualification_user_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_qualification")),
    )
    with op.batch_alter_table("staff_qualification", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_staff_qualification_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "training_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("topic", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("hours", sa.Float(), nullable=False),
        sa.Column("provider", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("hours > 0", name=op.f("ck_training_record_hours_positive")),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_training_record_user_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_record")),
    )
    with op.batch_alter_table("training_record", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_training_record_day"), ["day"], unique=False)
        batch_op.create_index(batch_op.f("ix_training_record_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("training_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_record_user_id"))
        batch_op.drop_index(batch_op.f("ix_training_record_day"))

    op.drop_table("training_record")
    with op.batch_alter_table("staff_qualification", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_qualification_user_id"))

    op.drop_table("staff_qualification")
    op.drop_table("staff_profile")
    with op.batch_alter_table("institution_evaluation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_institution_evaluation_institution_id"))

    op.drop_table("institution_evaluation")
    with op.batch_alter_table("agreement_period", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agreement_period_institution_id"))

    op.drop_table("agreement_period")
