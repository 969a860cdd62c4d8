"""The pipeline: matches (demand × institution/product), their timestamped transitions, and deals."""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import created_at_field, enum_column, json_column, ts_column
from models.reference import DealLink, DealStatus, DealType, PipelineStage


class Match(SQLModel, table=True):
    """A recommendation that may become an introduction and a deal.

    `introduced_at` is when the center introduced the enterprise to the institution; a deal counts
    as brokered (撮合) only if it is set and not later than the deal's close date.
    """

    __tablename__ = "match"
    __table_args__ = (
        UniqueConstraint("demand_id", "institution_id", "loan_product_id", "mandate_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    demand_id: int = Field(foreign_key="financing_demand.id", index=True)
    institution_id: int = Field(foreign_key="institution.id", index=True)
    loan_product_id: int | None = Field(default=None, foreign_key="loan_product.id")
    mandate_id: int | None = Field(default=None, foreign_key="investment_mandate.id")
    stage: PipelineStage = Field(
        default=PipelineStage.recommended, sa_column=enum_column(PipelineStage, index=True)
    )
    score: float | None = None
    reasons: list[dict[str, object]] = Field(default_factory=list, sa_column=json_column())
    model_version: str | None = Field(default=None, max_length=40)
    version: int = Field(default=1, ge=1, description="optimistic-concurrency counter")
    recommended_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    introduced_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    closed_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    created_at: datetime = created_at_field()


class MatchTransition(SQLModel, table=True):
    """One pipeline move, timestamped, with who made it."""

    __tablename__ = "match_transition"

    id: int | None = Field(default=None, primary_key=True)
    match_id: int = Field(foreign_key="match.id", index=True, ondelete="CASCADE")
    from_stage: PipelineStage | None = Field(
        default=None, sa_column=enum_column(PipelineStage, nullable=True)
    )
    to_stage: PipelineStage = Field(sa_column=enum_column(PipelineStage))
    at: datetime = Field(sa_column=ts_column())
    actor: str = Field(max_length=80)
    note: str | None = Field(default=None, max_length=300)


class DealBase(SQLModel):
    """Fields a client may set on a deal."""

    deal_type: DealType = Field(sa_column=enum_column(DealType, index=True))
    amount_wan: float = Field(gt=0, description="放款/投资金额（万元）")
    closed_on: date = Field(index=True)
    enterprise_id: int = Field(foreign_key="enterprise.id", index=True)
    institution_id: int = Field(foreign_key="institution.id", index=True)
    match_id: int | None = Field(default=None, foreign_key="match.id", index=True)
    note: str | None = Field(default=None, max_length=300)


class Deal(DealBase, table=True):
    """A loan or investment actually made (reported by the institution or the center).

    Only a `confirmed` deal counts (Appendix A, outcomes, history): one an institution reports
    is `claimed` until a matchmaker confirms (or rejects) it; staff and imports confirm at once.
    Only a `linked` one counts as 撮合: tied to the match that introduced its enterprise to its
    institution (`unlinked` ones wait in the 待关联成交 queue; `rejected` ones were not brokered).
    """

    __tablename__ = "deal"
    __table_args__ = (CheckConstraint("amount_wan > 0", name="amount_positive"),)

    id: int | None = Field(default=None, primary_key=True)
    status: DealStatus = Field(
        default=DealStatus.confirmed, sa_column=enum_column(DealStatus, index=True)
    )
    decided_by: str | None = Field(default=None, max_length=80)
    decided_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    link_status: DealLink = Field(
        default=DealLink.unlinked, sa_column=enum_column(DealLink, index=True)
    )
    created_at: datetime = created_at_field()


__all__ = ["Deal", "DealBase", "Match", "MatchTransition"]
