"""demand lifecycle (待对接/对接中/已融资/已撤回/已过期/暂停, amount raised, change history) and
deals tied to introductions (deal.link_status)

Revision ID: 0011_demand_lifecycle
Revises: 0010_api_key_owner
Create Date: 2026-12-08 02:50:00

Existing demand statuses map as: open → open (对接中); matched and closed (已撮合, 已完成: a deal
was won) → funded (已融资); withdrawn stays. Every demand's amount raised is the sum of the
confirmed deals of its matches. A deal recorded with a match is linked (it was recorded on that
introduction); one without waits in the 待关联成交 queue (unlinked).

SQLite rebuilds financing_demand (its status CHECK changes) while matches refer to it: the
migration runs with SQLite's foreign keys off (`models.db.foreign_keys_off_on_sqlite`).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0011_demand_lifecycle"
down_revision: str | None = "0010_api_key_owner"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NEW = ("pending", "open", "funded", "withdrawn", "expired", "paused")
_OLD = ("open", "matched", "closed", "withdrawn")
_CHECK = "ck_financing_demand_demandstatus_status"
_LINK = sa.Enum(
    "linked",
    "unlinked",
    "rejected",
    name="deallink",
    native_enum=False,
    create_constraint=True,
    length=32,
)
_RAISED = """
UPDATE financing_demand SET amount_raised_wan = COALESCE((
    SELECT SUM(deal.amount_wan) FROM deal JOIN match ON match.id = deal.match_id
    WHERE match.demand_id = financing_demand.id AND deal.status = 'confirmed'), 0)
"""


def _status_check(values: Sequence[str]) -> str:
    return "status IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade() -> None:
    with op.batch_alter_table("financing_demand", schema=None) as batch_op:
        batch_op.drop_constraint(op.f(_CHECK), type_="check")
        batch_op.add_column(
            sa.Column("amount_raised_wan", sa.Float(), nullable=False, server_default="0")
        )
    op.execute(
        "UPDATE financing_demand SET status = 'funded' WHERE status IN ('matched', 'closed')"
    )
    op.execute(_RAISED)
    with op.batch_alter_table("financing_demand", schema=None) as batch_op:
        batch_op.create_check_constraint(op.f(_CHECK), _status_check(_NEW))
        batch_op.create_check_constraint(
            op.f("ck_financing_demand_raised_nonneg"), "amount_raised_wan >= 0"
        )
    op.create_table(
        "demand_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("demand_id", sa.Integer(), nullable=False),
        sa.Column("field", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("old_value", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("new_value", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["demand_id"],
            ["financing_demand.id"],
            name=op.f("fk_demand_change_demand_id_financing_demand"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_demand_change")),
    )
    with op.batch_alter_table("demand_change", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_demand_change_demand_id"), ["demand_id"], unique=False)
    with op.batch_alter_table("deal", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("link_status", _LINK, nullable=False, server_default="unlinked")
        )
        batch_op.create_index(batch_op.f("ix_deal_link_status"), ["link_status"], unique=False)
    op.execute("UPDATE deal SET link_status = 'linked' WHERE match_id IS NOT NULL")
    with op.batch_alter_table("deal", schema=None) as batch_op:
        batch_op.alter_column("link_status", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("deal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deal_link_status"))
        batch_op.drop_constraint(op.f("ck_deal_deallink_link_status"), type_="check")
        batch_op.drop_column("link_status")
    with op.batch_alter_table("demand_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_demand_change_demand_id"))
    op.drop_table("demand_change")
    with op.batch_alter_table("financing_demand", schema=None) as batch_op:
        batch_op.drop_constraint(op.f(_CHECK), type_="check")
        batch_op.drop_constraint(op.f("ck_financing_demand_raised_nonneg"), type_="check")
        batch_op.drop_column("amount_raised_wan")
    op.execute("UPDATE financing_demand SET status = 'open' WHERE status IN ('pending', 'paused')")
    op.execute("UPDATE financing_demand SET status = 'closed' WHERE status = 'funded'")
    op.execute("UPDATE financing_demand SET status = 'withdrawn' WHERE status = 'expired'")
    with op.batch_alter_table("financing_demand", schema=None) as batch_op:
        batch_op.create_check_constraint(op.f(_CHECK), _status_check(_OLD))
