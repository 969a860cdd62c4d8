"""Explicit output schemas: responses are built from these, never from table objects."""

from datetime import date, datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from api.strict import StrictJSON
from models.base import MAX_LONG_TEXT, MAX_PURPOSE
from models.demand import FinancingDemandBase
from models.enterprise import ContactPersonBase, EnterpriseBase
from models.institution import InstitutionBase, InvestmentMandateBase, LoanProductBase
from models.reference import ConsentScope, DealStatus, DealType, PipelineStage

T = TypeVar("T")
MAX_ID = 2_147_483_647
# Free text the tables store as TEXT: MAX_PURPOSE, MAX_LONG_TEXT (models.base; imports the same).
# Lists of codes (regions, sectors, collateral, qualifications, stages): items and their length.
MAX_CODES = 200
MAX_CODE_LENGTH = 100
Codes = Annotated[
    list[Annotated[str, Field(max_length=MAX_CODE_LENGTH)]], Field(max_length=MAX_CODES)
]


class EnterpriseIn(StrictJSON, EnterpriseBase):  # type: ignore[misc]  # both configs are dicts
    """A new enterprise."""

    business_scope: str | None = Field(
        default=None, max_length=MAX_LONG_TEXT, description="经营范围"
    )
    qualifications: Codes = Field(default_factory=list)


class DemandIn(StrictJSON, FinancingDemandBase):  # type: ignore[misc]  # both configs are dicts
    """A new financing demand."""

    purpose: str | None = Field(default=None, max_length=MAX_PURPOSE, description="资金用途")
    collateral_offered: Codes = Field(default_factory=list)


class InstitutionIn(StrictJSON, InstitutionBase):  # type: ignore[misc]  # both configs are dicts
    """A new institution."""

    regions_served: Codes = Field(default_factory=list, description="服务区域（行政区划代码前缀）")
    focus: str | None = Field(
        default=None, max_length=MAX_LONG_TEXT, description="投资/业务方向说明"
    )


class LoanProductIn(StrictJSON, LoanProductBase):  # type: ignore[misc]  # both configs are dicts
    """A new loan product."""

    collateral_accepted: Codes = Field(
        default_factory=list, description="接受的担保方式 (Collateral)"
    )
    required_qualifications: Codes = Field(default_factory=list)
    sectors: Codes = Field(default_factory=list, description="行业（门类/大类代码），空为不限")
    regions: Codes = Field(default_factory=list)


class MandateIn(StrictJSON, InvestmentMandateBase):  # type: ignore[misc]  # both configs are dicts
    """A new investment mandate."""

    stages: Codes = Field(default_factory=list)
    sectors: Codes = Field(default_factory=list)
    sei_categories: Codes = Field(default_factory=list)
    regions: Codes = Field(default_factory=list)


class ListOf(BaseModel, Generic[T]):
    """A page of items and the total count."""

    data: list[T]
    count: int


class EnterprisePublic(EnterpriseBase):
    """An enterprise without personal information."""

    id: int


class ContactPublic(ContactPersonBase):
    """A contact person (personal information)."""

    id: int


class EnterpriseDetail(EnterprisePublic):
    """An enterprise with its contact persons (staff, or an institution with consent)."""

    contacts: list[ContactPublic] = Field(default_factory=list)


class DemandPublic(FinancingDemandBase):
    """A demand as staff and evaluators see it."""

    id: int
    created_at: datetime


class DemandTeaser(BaseModel):
    """What an institution sees without consent."""

    demand_id: int
    financing_type: str
    sector: str
    stage: str
    amount_band: str
    region: str


class DemandForInstitution(BaseModel):
    """A demand for an institution: the teaser, plus details only where consent covers them."""

    teaser: DemandTeaser
    demand: DemandPublic | None = None
    enterprise: EnterpriseDetail | EnterprisePublic | None = None


class InstitutionPublic(InstitutionBase):
    """A resident institution."""

    id: int


class LoanProductPublic(LoanProductBase):
    """A loan product."""

    id: int
    institution_id: int


class MandatePublic(InvestmentMandateBase):
    """An investment mandate."""

    id: int
    institution_id: int


class MatchPublic(BaseModel):
    """A pipeline record."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    demand_id: int
    institution_id: int
    loan_product_id: int | None
    mandate_id: int | None
    stage: PipelineStage
    score: float | None
    version: int
    introduced_at: datetime | None
    closed_at: datetime | None


class IntroductionIn(StrictJSON):
    """A matchmaker introduces a demand to an institution (optionally a product/mandate)."""

    demand_id: int = Field(ge=1, le=MAX_ID)
    institution_id: int = Field(ge=1, le=MAX_ID)
    loan_product_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    mandate_id: int | None = Field(default=None, ge=1, le=MAX_ID)


class TransitionIn(StrictJSON):
    """Move a match; `expected_version` is the version the client last saw."""

    to_stage: PipelineStage
    expected_version: int = Field(ge=1, le=MAX_ID)
    note: str | None = Field(default=None, max_length=300)


class DealIn(StrictJSON):
    """Record the deal a match produced (an institution's is a claim until a matchmaker confirms
    it). Staff only: `split` records a further deal on the match, `confirm_out_of_range` an
    amount above the demand's upper bound."""

    match_id: int = Field(ge=1, le=MAX_ID)
    amount_wan: float = Field(gt=0, le=10_000_000)
    closed_on: date
    note: str | None = Field(default=None, max_length=300)
    split: bool = False
    confirm_out_of_range: bool = False


class DealConfirmIn(StrictJSON):
    """A matchmaker confirms a claimed deal; `confirm_out_of_range` for an amount above the
    demand's upper bound."""

    confirm_out_of_range: bool = False


class DealRejectIn(StrictJSON):
    """A matchmaker rejects a claimed deal, with the reason."""

    reason: str | None = Field(default=None, max_length=300)


class DealPublic(BaseModel):
    """A loan or investment; `enterprise_id` is withheld from institutions."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    deal_type: DealType
    amount_wan: float
    closed_on: date
    enterprise_id: int | None
    institution_id: int
    match_id: int | None
    note: str | None
    status: DealStatus
    decided_by: str | None
    decided_at: datetime | None


class ConsentIn(StrictJSON):
    """An enterprise's consent to disclose to one institution."""

    enterprise_id: int = Field(ge=1, le=MAX_ID)
    institution_id: int = Field(ge=1, le=MAX_ID)
    scopes: list[ConsentScope] = Field(min_length=1)
    expires_at: datetime | None = None
    evidence: str | None = Field(default=None, max_length=300)


class ConsentPublic(BaseModel):
    """A recorded consent."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    enterprise_id: int
    institution_id: int
    scopes: list[str]
    granted_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    recorded_by: str


class IntroductionRequestIn(StrictJSON):
    """An institution asks the center for an introduction to a demand's enterprise."""

    demand_id: int = Field(ge=1, le=MAX_ID)
    message: str | None = Field(default=None, max_length=300)


class AuditPublic(BaseModel):
    """An audit row."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str | None
    detail: dict[str, Any]
    row_hash: str


class AuditVerifyOut(BaseModel):
    """Result of re-verifying the audit chain."""

    rows_checked: int
    ok: bool
    first_broken_id: int | None
    reason: str | None


class TokenOut(BaseModel):
    """OAuth2 bearer token."""

    access_token: str
    token_type: str = "bearer"


class MeOut(BaseModel):
    """The caller."""

    username: str
    role: str
    institution_id: int | None


class ApiKeyOut(BaseModel):
    """A newly issued API key: `key` is shown this once."""

    id: int
    institution_id: int
    prefix: str
    key: str | None = None


class ApiKeyListItem(BaseModel):
    """One of an institution's keys: never the key nor its hash."""

    id: int
    prefix: str
    created_at: datetime
    created_by: str | None = Field(description="Username of the user who issued the key.")
    revoked_at: datetime | None
