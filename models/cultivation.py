"""Listing cultivation beyond the record itself: multi-year financials, coaching sessions, alerts.

The exchanges' standards read two or three fiscal years; `Enterprise` holds only the latest one.
"""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import created_at_field, enum_column, ts_column, utcnow
from models.reference import Board, ListingTier


class FinancialYearBase(SQLModel):
    """One fiscal year of an enterprise's audited (or management) financials, amounts in 万元."""

    enterprise_id: int = Field(foreign_key="enterprise.id", index=True, ondelete="CASCADE")
    fiscal_year: int = Field(ge=1990, le=2100, description="会计年度")
    revenue_wan: float | None = Field(default=None, ge=0, description="营业收入（万元）")
    net_profit_wan: float | None = Field(default=None, description="净利润（万元）")
    net_profit_deducted_wan: float | None = Field(
        default=None, description="扣除非经常性损益后的净利润（万元）"
    )
    rd_expense_wan: float | None = Field(default=None, ge=0, description="研发投入（万元）")
    operating_cash_flow_wan: float | None = Field(
        default=None, description="经营活动产生的现金流量净额（万元）"
    )
    net_assets_wan: float | None = Field(default=None, description="期末净资产（万元）")
    share_capital_wan: float | None = Field(default=None, ge=0, description="期末股本总额（万股）")
    weighted_roe_pct: float | None = Field(
        default=None, description="加权平均净资产收益率（%，扣非前后孰低）"
    )
    equity_financing_wan: float | None = Field(
        default=None, ge=0, description="本年完成的股权融资金额（万元）"
    )
    audited: bool = Field(default=False, description="是否经审计")
    source: str | None = Field(default=None, max_length=100, description="数据来源")


class FinancialYear(FinancialYearBase, table=True):
    """An enterprise's financials for one fiscal year (企业多年财务数据)."""

    __tablename__ = "enterprise_financial_year"
    __table_args__ = (
        UniqueConstraint("enterprise_id", "fiscal_year"),
        CheckConstraint("revenue_wan IS NULL OR revenue_wan >= 0", name="revenue_nonneg"),
        CheckConstraint("rd_expense_wan IS NULL OR rd_expense_wan >= 0", name="rd_nonneg"),
    )

    id: int | None = Field(default=None, primary_key=True)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


class CoachingSession(SQLModel, table=True):
    """A training event held as one item of a tier's coaching plan (股改, 规范治理, 财务规范 …)."""

    __tablename__ = "coaching_session"
    __table_args__ = (UniqueConstraint("event_id"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True, ondelete="CASCADE")
    tier: ListingTier = Field(sa_column=enum_column(ListingTier, index=True))
    plan_item: str = Field(max_length=40, description="辅导计划条目代码，如 share_reform")
    board: Board | None = Field(
        default=None, sa_column=enum_column(Board, nullable=True), description="按板块的上市路径课"
    )
    created_at: datetime = created_at_field()


class ListingAlert(SQLModel, table=True):
    """An enterprise stalled in a tier or since a milestone longer than the configured time."""

    __tablename__ = "listing_alert"
    __table_args__ = (UniqueConstraint("listing_record_id", "kind", "subject", "since"),)

    id: int | None = Field(default=None, primary_key=True)
    listing_record_id: int = Field(foreign_key="listing_record.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=12, description="tier | milestone")
    subject: str = Field(max_length=32, description="所停滞的层级或里程碑（英文值）")
    since: date = Field(description="进入该层级/达到该里程碑的日期")
    raised_on: date
    threshold_days: int = Field(ge=1)
    resolved_on: date | None = None
    created_at: datetime = created_at_field()


__all__ = [
    "CoachingSession",
    "FinancialYear",
    "FinancialYearBase",
    "ListingAlert",
]
