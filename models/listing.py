"""Listing cultivation (挂牌上市培育库, standard 6.1.1 d): records, tier history and milestones."""

from datetime import date, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import created_at_field, enum_column
from models.reference import Board, ListingMilestoneKind, ListingTier


class ListingRecordBase(SQLModel):
    """Fields a client may set on a cultivation record."""

    enterprise_id: int = Field(foreign_key="enterprise.id", index=True)
    target_board: Board = Field(sa_column=enum_column(Board))
    tier: ListingTier = Field(sa_column=enum_column(ListingTier, index=True))
    coaching_started_on: date = Field(description="纳入培育/辅导日期")
    sponsor_institution_id: int | None = Field(default=None, foreign_key="institution.id")
    listed_board: Board | None = Field(
        default=None, sa_column=enum_column(Board, nullable=True), description="实际上市/挂牌板块"
    )
    listed_on: date | None = None
    estimated_market_value_wan: float | None = Field(default=None, ge=0)


class ListingRecord(ListingRecordBase, table=True):
    """An enterprise under the center's listing cultivation (one open record per enterprise)."""

    __tablename__ = "listing_record"
    __table_args__ = (UniqueConstraint("enterprise_id"),)

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = created_at_field()


class ListingTierChange(SQLModel, table=True):
    """Tier history (分层次): when an enterprise entered each tier."""

    __tablename__ = "listing_tier_change"

    id: int | None = Field(default=None, primary_key=True)
    listing_record_id: int = Field(foreign_key="listing_record.id", index=True, ondelete="CASCADE")
    tier: ListingTier = Field(sa_column=enum_column(ListingTier))
    entered_on: date
    note: str | None = Field(default=None, max_length=300)


class ListingMilestone(SQLModel, table=True):
    """A dated milestone on the road to listing (股改, 辅导备案, 申报受理 …)."""

    __tablename__ = "listing_milestone"
    __table_args__ = (UniqueConstraint("listing_record_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    listing_record_id: int = Field(foreign_key="listing_record.id", index=True, ondelete="CASCADE")
    kind: ListingMilestoneKind = Field(sa_column=enum_column(ListingMilestoneKind))
    occurred_on: date
    board: Board | None = Field(default=None, sa_column=enum_column(Board, nullable=True))
    note: str | None = Field(default=None, max_length=300)
    evidence: str | None = Field(
        default=None, max_length=300, description="佐证材料（如 工商变更登记通知书、受理函 文号）"
    )
