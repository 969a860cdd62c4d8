"""digests that target, slates on the workers, the served model

Revision ID: 0014_digests_models
Revises: 0010_api_key_owner
Create Date: 2026-12-08 02:39:15

- `subscription.paused_reason`: a subscription of an institution without a resident agreement in
  force is paused with the reason, and resumes when a new agreement is in force.
- `digest_delivery.model_version`: which ranking model ordered the digest.
- `slate_run`: a queued roadshow scheduling run, its status and its result.
- `ranker_model`: published re-rankers with their holdout metrics; the served one is the model
  every process ranks with (none served: the rules).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0014_digests_models"
down_revision: str | None = "0013_change_sets"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ranker_model",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("path", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("n_outcomes", sa.Integer(), nullable=False),
        sa.Column("n_won", sa.Integer(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("served", sa.Boolean(), nullable=False),
        sa.Column("served_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ranker_model")),
        sa.UniqueConstraint("version", name=op.f("uq_ranker_model_version")),
    )
    with op.batch_alter_table("ranker_model", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ranker_model_served"), ["served"], unique=False)

    op.create_table(
        "slate_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "queued",
                "running",
                "done",
                "failed",
                name="slaterunstatus",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("time_limit_s", sa.Float(), nullable=False),
        sa.Column("requested_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("message", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"], ["event.id"], name=op.f("fk_slate_run_event_id_event"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slate_run")),
    )
    with op.batch_alter_table("slate_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_slate_run_event_id"), ["event_id"], unique=False)

    with op.batch_alter_table("digest_delivery", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("model_version", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True)
        )

    with op.batch_alter_table("subscription", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("paused_reason", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("subscription", schema=None) as batch_op:
        batch_op.drop_column("paused_reason")

    with op.batch_alter_table("digest_delivery", schema=None) as batch_op:
        batch_op.drop_column("model_version")

    with op.batch_alter_table("slate_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_slate_run_event_id"))

    op.drop_table("slate_run")
    with op.batch_alter_table("ranker_model", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ranker_model_served"))

    op.drop_table("ranker_model")
