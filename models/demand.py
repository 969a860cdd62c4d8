"""Financing demands (融资需求库, standard 6.1.1 c)."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, Text
from sqlmodel import Field, SQLModel, col

from models.base import created_at_field, enum_column, json_column, ts_column, utcnow
from models.reference import Confidentiality, DemandStatus, FinancingType, Stage


class FinancingDemandBase(SQLModel):
    """Fields a client may set on a demand."""

    enterprise_id: int = Field(foreign_key="enterprise.id", index=True)
    financing_type: FinancingType = Field(sa_column=enum_column(FinancingType, index=True))
    amount_min_wan: float = Field(ge=0, description="拟融资金额下限（万元）")
    amount_max_wan: float = Field(ge=0, description="拟融资金额上限（万元）")
    round_stage: Stage | None = Field(
        default=None, sa_column=enum_column(Stage, nullable=True), description="融资时所处阶段"
    )
    purpose: str | None = Field(default=None, sa_type=Text, description="资金用途")
    equity_amount_wan: float | None = Field(
        default=None, ge=0, description="投贷联动需求中的股权融资金额（万元），其余为贷款"
    )
    collateral_offered: list[str] = Field(default_factory=list, sa_column=json_column())
    term_months: int | None = Field(default=None, ge=1, le=360)
    deadline: date | None = None
    status: DemandStatus = Field(
        default=DemandStatus.pending, sa_column=enum_column(DemandStatus, index=True)
    )
    confidentiality: Confidentiality = Field(
        default=Confidentiality.teaser, sa_column=enum_column(Confidentiality)
    )
    source_ref: str | None = Field(default=None, max_length=100, description="来源表内编号")


class FinancingDemand(FinancingDemandBase, table=True):
    """One enterprise's request for a loan, equity investment or both (投贷联动)."""

    __tablename__ = "financing_demand"
    __table_args__ = (
        CheckConstraint("amount_min_wan >= 0", name="amount_min_nonneg"),
        CheckConstraint("amount_max_wan >= amount_min_wan", name="amount_order"),
        CheckConstraint("amount_raised_wan >= 0", name="raised_nonneg"),
    )

    id: int | None = Field(default=None, primary_key=True)
    amount_raised_wan: float = Field(
        default=0.0,
        ge=0,
        sa_column_kwargs={"server_default": "0"},
        description="已融资金额（万元）：关联并确认的成交之和，或结案时填写的金额",
    )
    created_at: datetime = created_at_field()
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())

    @property
    def remaining_wan(self) -> float:
        """What is still to raise to reach the demand's lower bound (万元, never negative)."""
        return max(0.0, round(self.amount_min_wan - self.amount_raised_wan, 4))


def open_for_matching() -> Any:
    """SQL: the demand is 待对接 or 对接中 (`DemandStatus.open_for_matching`), the one filter for
    recommendations, teasers, digests and roadshow invitations."""
    return col(FinancingDemand.status).in_(sorted(DemandStatus.open_for_matching()))


class DemandChange(SQLModel, table=True):
    """One change a matchmaker (or a deal, or the nightly expiry) made to a demand: an edited
    field or a status move, with the old and new values, who and why."""

    __tablename__ = "demand_change"

    id: int | None = Field(default=None, primary_key=True)
    demand_id: int = Field(foreign_key="financing_demand.id", index=True, ondelete="CASCADE")
    field: str = Field(max_length=40)
    old_value: str | None = Field(default=None, max_length=300)
    new_value: str | None = Field(default=None, max_length=300)
    actor: str = Field(max_length=80)
    at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    note: str | None = Field(default=None, max_length=300)
