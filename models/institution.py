"""Resident institutions (入驻机构), their agreements' service commitments, loan products and mandates."""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import created_at_field, enum_column, json_column
from models.reference import InstitutionKind


class InstitutionBase(SQLModel):
    """Fields a client may set on an institution."""

    name: str = Field(min_length=2, max_length=200, description="机构全称")
    short_name: str | None = Field(default=None, max_length=60)
    kind: InstitutionKind = Field(sa_column=enum_column(InstitutionKind, index=True))
    uscc: str | None = Field(default=None, max_length=18)
    regions_served: list[str] = Field(
        default_factory=list, sa_column=json_column(), description="服务区域（行政区划代码前缀）"
    )
    focus: str | None = Field(default=None, sa_type=Text, description="投资/业务方向说明")
    agreement_start: date | None = Field(default=None, description="入驻协议起始日")
    agreement_end: date | None = Field(default=None, description="入驻协议到期日")
    email: str | None = Field(default=None, max_length=120)


class Institution(InstitutionBase, table=True):
    """A financial or service institution; resident while its agreement covers the date."""

    __tablename__ = "institution"
    __table_args__ = (
        UniqueConstraint("name"),
        CheckConstraint(
            "agreement_end IS NULL OR agreement_start IS NULL OR agreement_end >= agreement_start",
            name="agreement_order",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = created_at_field()

    def is_resident_on(self, day: date) -> bool:
        """True when the resident agreement covers `day`."""
        if self.agreement_start is None or self.agreement_start > day:
            return False
        return self.agreement_end is None or self.agreement_end >= day


class ServiceCommitment(SQLModel, table=True):
    """A commitment signed under the resident agreement (standard 6.2.1.2)."""

    __tablename__ = "service_commitment"

    id: int | None = Field(default=None, primary_key=True)
    institution_id: int = Field(foreign_key="institution.id", index=True, ondelete="CASCADE")
    description: str = Field(max_length=500, description="服务内容与承诺")
    target_value: float | None = Field(default=None, ge=0)
    unit: str | None = Field(default=None, max_length=20)
    year: int | None = None


class LoanProductBase(SQLModel):
    """A bank loan product (科技信贷产品)."""

    name: str = Field(min_length=1, max_length=120)
    min_amount_wan: float = Field(default=0, ge=0)
    max_amount_wan: float = Field(ge=0)
    min_term_months: int = Field(default=1, ge=1)
    max_term_months: int = Field(default=12, ge=1)
    rate_min_pct: float | None = Field(default=None, ge=0, le=36)
    rate_max_pct: float | None = Field(default=None, ge=0, le=36)
    collateral_accepted: list[str] = Field(
        default_factory=list, sa_column=json_column(), description="接受的担保方式 (Collateral)"
    )
    required_qualifications: list[str] = Field(default_factory=list, sa_column=json_column())
    min_years_operating: float | None = Field(default=None, ge=0)
    min_revenue_wan: float | None = Field(default=None, ge=0)
    sectors: list[str] = Field(
        default_factory=list, sa_column=json_column(), description="行业（门类/大类代码），空为不限"
    )
    regions: list[str] = Field(default_factory=list, sa_column=json_column())
    active: bool = True


class LoanProduct(LoanProductBase, table=True):
    """A loan product offered by a resident bank."""

    __tablename__ = "loan_product"
    __table_args__ = (
        UniqueConstraint("institution_id", "name"),
        CheckConstraint("min_amount_wan >= 0 AND max_amount_wan >= min_amount_wan", name="amounts"),
        CheckConstraint("max_term_months >= min_term_months", name="terms"),
    )

    id: int | None = Field(default=None, primary_key=True)
    institution_id: int = Field(foreign_key="institution.id", index=True, ondelete="CASCADE")


class InvestmentMandateBase(SQLModel):
    """What an equity investor says it invests in (投资方向)."""

    name: str = Field(min_length=1, max_length=120, description="基金/投资策略名称")
    stages: list[str] = Field(default_factory=list, sa_column=json_column())
    sectors: list[str] = Field(default_factory=list, sa_column=json_column())
    sei_categories: list[str] = Field(default_factory=list, sa_column=json_column())
    min_ticket_wan: float = Field(default=0, ge=0)
    max_ticket_wan: float = Field(ge=0)
    regions: list[str] = Field(default_factory=list, sa_column=json_column())
    fund_size_wan: float | None = Field(default=None, ge=0)
    remaining_capacity_wan: float | None = Field(default=None, ge=0, description="剩余可投额度")
    active: bool = True


class InvestmentMandate(InvestmentMandateBase, table=True):
    """An investment mandate of a VC/PE/angel institution."""

    __tablename__ = "investment_mandate"
    __table_args__ = (
        UniqueConstraint("institution_id", "name"),
        CheckConstraint("min_ticket_wan >= 0 AND max_ticket_wan >= min_ticket_wan", name="tickets"),
        CheckConstraint(
            "remaining_capacity_wan IS NULL OR remaining_capacity_wan >= 0", name="capacity"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    institution_id: int = Field(foreign_key="institution.id", index=True, ondelete="CASCADE")


class AgreementPeriod(SQLModel, table=True):
    """A resident agreement period an institution had before a renewal replaced it (history);
    the period in force is the institution's own `agreement_start`/`agreement_end`."""

    __tablename__ = "agreement_period"
    __table_args__ = (CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="order"),)

    id: int | None = Field(default=None, primary_key=True)
    institution_id: int = Field(foreign_key="institution.id", index=True, ondelete="CASCADE")
    starts_on: date
    ends_on: date | None = None
    replaced_by: str = Field(max_length=80, description="办理续签的用户")
    replaced_at: datetime = created_at_field()


class InstitutionEvaluation(SQLModel, table=True):
    """The center's yearly evaluation of a resident institution (standard 6.2.1.2): commitment
    scores against actuals and a keep / warn / exit decision."""

    __tablename__ = "institution_evaluation"
    __table_args__ = (
        UniqueConstraint("institution_id", "year"),
        CheckConstraint("decision IN ('keep', 'warn', 'exit')", name="decision"),
    )

    id: int | None = Field(default=None, primary_key=True)
    institution_id: int = Field(foreign_key="institution.id", index=True, ondelete="CASCADE")
    year: int = Field(ge=2000, le=2100)
    scores: list[dict[str, object]] = Field(default_factory=list, sa_column=json_column())
    overall: float | None = Field(default=None, ge=0, le=100, description="承诺履约综合得分")
    decision: str = Field(max_length=10, description="keep | warn | exit")
    note: str = Field(min_length=1, max_length=500)
    evaluated_by: str = Field(max_length=80)
    created_at: datetime = created_at_field()
