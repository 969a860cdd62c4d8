"""Request and response schemas: responses are built from these, never from table objects.

Request bodies (`StrictIn`) use pydantic's strict mode: JSON types as declared (no "5" for 5, no
true for 1), no unknown fields (no mass assignment; the schema says `additionalProperties: false`).
JSON has no date or enum type, so those fields take their ISO text or value (lax). Text holds no
C0 control character but tab, line feed and carriage return (a NUL byte is stored by SQLite and
refused by PostgreSQL with a 500): 422 naming the field, and the OpenAPI schema carries the rule
as a `pattern` on every free-text string. Well-typed but implausible values (an integer past the
database's 32 bits, a date outside 1900–2199) break a business rule: 400 naming the field.
"""

import re
from datetime import date, datetime
from enum import Enum
from typing import Annotated, Any, Generic, Literal, TypeVar, get_args, get_origin

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    ValidationInfo,
    field_validator,
)
from pydantic.config import JsonDict

from models.base import MAX_LONG_TEXT, MAX_PURPOSE
from models.demand import FinancingDemandBase
from models.enterprise import ContactPersonBase, EnterpriseBase
from models.errors import DomainError
from models.institution import InstitutionBase, InvestmentMandateBase, LoanProductBase
from models.reference import ConsentScope, DealLink, DealStatus, DealType, PipelineStage

T = TypeVar("T")
MAX_ID = 2_147_483_647  # the database's INTEGER columns
YEARS = range(1900, 2200)  # dates outside this are typos, and overflow with time zones
#: The C0 control characters text may not hold (all but tab, line feed and carriage return).
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
#: The same rule as a JSON Schema `pattern` (ECMA-262), for the OpenAPI document.
NO_CONTROL_PATTERN = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F]*$"
CONTROL_MESSAGE = "不能包含控制字符（如 NUL 字节 \\x00），制表符、换行和回车除外"


def has_control_characters(value: Any) -> bool:
    """Whether `value` (text, or a list or mapping holding text) holds a forbidden control."""
    if isinstance(value, str):
        return CONTROL_CHARACTERS.search(value) is not None
    if isinstance(value, dict):
        return has_control_characters(list(value)) or has_control_characters(list(value.values()))
    return isinstance(value, list | tuple | set | frozenset) and any(
        map(has_control_characters, value)
    )


def _holds(annotation: Any, kind: Any) -> bool:
    """Whether `annotation` is `kind` or an optional `kind` (bool is not an int here)."""
    if isinstance(annotation, type):
        return issubclass(annotation, kind) and not (annotation is bool and kind is int)
    return get_origin(annotation) is not list and any(_holds(a, kind) for a in get_args(annotation))


def _whole_number(value: Any) -> Any:
    """JSON Schema counts 3.0 as an integer: taken as 3 (not 3.5, nor "3")."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _text_only(value: Any) -> Any:
    """A number is no date (lax mode would read it as a timestamp) nor an enum's value."""
    if isinstance(value, int | float):
        raise ValueError("应为文本（日期为 ISO 8601 格式）")
    return value


def _document_text_rule(schema: Any) -> None:
    """Add `NO_CONTROL_PATTERN` to the free-text strings of a JSON schema (and its parts)."""
    if schema.get("type") == "string" and not {"format", "pattern", "enum", "const"} & set(schema):
        schema["pattern"] = NO_CONTROL_PATTERN
    for part in (*schema.get("anyOf", []), schema.get("items"), schema.get("additionalProperties")):
        if isinstance(part, dict):
            _document_text_rule(part)


def _document_properties(schema: JsonDict) -> None:
    properties: Any = schema.get("properties", {})
    for prop in properties.values():
        _document_text_rule(prop)


class StrictIn(BaseModel):
    """A request body (see the module's docstring)."""

    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        json_schema_extra=_document_properties,
    )

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        """Dates, datetimes and enums take their text (lax, but text only); integers a whole
        float; the rest strict."""
        for field in cls.model_fields.values():
            if _holds(field.annotation, date | Enum):
                field.metadata += [Strict(False), BeforeValidator(_text_only)]
            elif _holds(field.annotation, int):
                field.metadata.append(BeforeValidator(_whole_number))
        cls.model_rebuild(force=True)

    @field_validator("*")
    @classmethod
    def _plausible(cls, value: Any, info: ValidationInfo) -> Any:
        name = info.field_name or ""
        if has_control_characters(value):
            raise ValueError(CONTROL_MESSAGE)
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_ID:
            raise DomainError(f"字段“{name}”的值 {value} 超出范围（±{MAX_ID}）", field=name)
        if isinstance(value, date) and value.year not in YEARS:
            message = f"字段“{name}”的日期 {value.isoformat()} 超出 1900–2199 年范围"
            raise DomainError(message, field=name)
        return value


# Free text the tables store as TEXT: MAX_PURPOSE, MAX_LONG_TEXT (models.base; imports the same).
# Lists of codes (regions, sectors, collateral, qualifications, stages): items and their length.
MAX_CODES = 200
MAX_CODE_LENGTH = 100
Codes = Annotated[
    list[Annotated[str, Field(max_length=MAX_CODE_LENGTH)]], Field(max_length=MAX_CODES)
]


class EnterpriseIn(StrictIn, EnterpriseBase):  # type: ignore[misc]  # both configs are dicts
    """A new enterprise."""

    business_scope: str | None = Field(
        default=None, max_length=MAX_LONG_TEXT, description="经营范围"
    )
    qualifications: Codes = Field(default_factory=list)


class DemandIn(StrictIn, FinancingDemandBase):  # type: ignore[misc]  # both configs are dicts
    """A new financing demand."""

    purpose: str | None = Field(default=None, max_length=MAX_PURPOSE, description="资金用途")
    collateral_offered: Codes = Field(default_factory=list)


class InstitutionIn(StrictIn, InstitutionBase):  # type: ignore[misc]  # both configs are dicts
    """A new institution."""

    regions_served: Codes = Field(default_factory=list, description="服务区域（行政区划代码前缀）")
    focus: str | None = Field(
        default=None, max_length=MAX_LONG_TEXT, description="投资/业务方向说明"
    )


class LoanProductIn(StrictIn, LoanProductBase):  # type: ignore[misc]  # both configs are dicts
    """A new loan product."""

    collateral_accepted: Codes = Field(
        default_factory=list, description="接受的担保方式 (Collateral)"
    )
    required_qualifications: Codes = Field(default_factory=list)
    sectors: Codes = Field(default_factory=list, description="行业（门类/大类代码），空为不限")
    regions: Codes = Field(default_factory=list)


class MandateIn(StrictIn, InvestmentMandateBase):  # type: ignore[misc]  # both configs are dicts
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
    amount_raised_wan: float = 0.0
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


class IntroductionIn(StrictIn):
    """A matchmaker introduces a demand to an institution (optionally a product/mandate)."""

    demand_id: int = Field(ge=1, le=MAX_ID)
    institution_id: int = Field(ge=1, le=MAX_ID)
    loan_product_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    mandate_id: int | None = Field(default=None, ge=1, le=MAX_ID)


class TransitionIn(StrictIn):
    """Move a match; `expected_version` is the version the client last saw."""

    to_stage: PipelineStage
    expected_version: int = Field(ge=1, le=MAX_ID)
    note: str | None = Field(default=None, max_length=300)


class DealIn(StrictIn):
    """Record the deal a match produced (an institution's is a claim until a matchmaker confirms
    it). Staff only: `split` records a further deal on the match, `confirm_out_of_range` an
    amount above the demand's upper bound."""

    match_id: int = Field(ge=1, le=MAX_ID)
    amount_wan: float = Field(gt=0, le=10_000_000)
    closed_on: date
    note: str | None = Field(default=None, max_length=300)
    split: bool = False
    confirm_out_of_range: bool = False


class DealConfirmIn(StrictIn):
    """A matchmaker confirms a claimed deal; `confirm_out_of_range` for an amount above the
    demand's upper bound."""

    confirm_out_of_range: bool = False


class DealRejectIn(StrictIn):
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
    link_status: DealLink
    decided_by: str | None
    decided_at: datetime | None


class ConsentIn(StrictIn):
    """An enterprise's consent to disclose to one institution."""

    enterprise_id: int = Field(ge=1, le=MAX_ID)
    institution_id: int = Field(ge=1, le=MAX_ID)
    scopes: list[Annotated[ConsentScope, Strict(False)]] = Field(min_length=1)
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


class IntroductionRequestIn(StrictIn):
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
    enterprise_id: int | None = None


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


class EvaluationIn(StrictIn):
    """The center's yearly evaluation of a resident institution."""

    year: int = Field(ge=2000, le=2100)
    decision: Literal["keep", "warn", "exit"]
    note: str = Field(min_length=1, max_length=500)


class InstitutionEvaluationPublic(BaseModel):
    """A recorded yearly evaluation."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    institution_id: int
    year: int
    scores: list[dict[str, Any]]
    overall: float | None
    decision: str
    note: str
    evaluated_by: str
    created_at: datetime


class RenewalIn(StrictIn):
    """A new agreement period; the replaced one is kept as history."""

    start: date
    end: date | None = None


class StaffProfileIn(StrictIn):
    """A staff member's post (岗位) and duties."""

    post: str = Field(min_length=1, max_length=60)
    duties: str | None = Field(default=None, max_length=500)


class QualificationIn(StrictIn):
    """A qualification certificate (资格证书)."""

    name: str = Field(min_length=1, max_length=100)
    certificate_no: str | None = Field(default=None, max_length=60)
    obtained_on: date
    expires_on: date | None = None


class TrainingIn(StrictIn):
    """A training record (培训记录)."""

    day: date
    topic: str = Field(min_length=1, max_length=120)
    hours: float = Field(gt=0, le=1000)
    provider: str | None = Field(default=None, max_length=120)
