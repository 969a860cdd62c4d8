"""event sign-in (registrations, a per-event token), milestone evidence, policies to verify

Revision ID: 0021_events_policy
Revises: 0015_practice_rules
Create Date: 2026-12-08 04:00:00

Events get a sign-in token (the QR code's link) and a registration table (name, organisation,
phone, consent, check-in time); a listing milestone gets its evidence; a policy a 待核实 flag
(the starter catalogue's measures are to be checked by the center against the documents).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0021_events_policy"
down_revision: str | None = "0020_institutions_staff"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("signin_token", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
    with op.batch_alter_table("listing_milestone", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("evidence", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True)
        )
    with op.batch_alter_table("policy", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("to_verify", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "event_registration",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("organisation", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=11), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("consent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["event.id"],
            name=op.f("fk_event_registration_event_id_event"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_registration")),
        sa.UniqueConstraint("event_id", "phone", name=op.f("uq_event_registration_event_id")),
    )
    with op.batch_alter_table("event_registration", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_event_registration_event_id"), ["event_id"])


def downgrade() -> None:
    with op.batch_alter_table("event_registration", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_registration_event_id"))
    op.drop_table("event_registration")
    with op.batch_alter_table("policy", schema=None) as batch_op:
        batch_op.drop_column("to_verify")
    with op.batch_alter_table("listing_milestone", schema=None) as batch_op:
        batch_op.drop_column("evidence")
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_column("signin_token")
