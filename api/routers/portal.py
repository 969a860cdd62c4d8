"""The enterprise portal's API: an enterprise user's own demands, introductions, consents,
surveys and complaints (`services.portal`); staff issue invitation links; anyone holding an
unused invitation creates the enterprise user it allows."""

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, Strict

from api.deps import EnterpriseUser, PathId, SessionDep, SettingsDep, Staff
from api.routers.lifecycle import DemandEditIn
from api.schemas import MAX_ID, ConsentPublic, DemandPublic, ListOf, StrictIn
from models.base import MAX_PURPOSE
from models.reference import (
    Collateral,
    ComplaintKind,
    ComplaintStatus,
    Confidentiality,
    ConsentScope,
    FinancingType,
    PipelineStage,
    Stage,
)
from services.accounts import service as accounts
from services.portal import service as portal

router = APIRouter(tags=["enterprise portal"])
Scopes = list[Annotated[ConsentScope, Strict(False)]]


class PortalDemandIn(StrictIn):
    """A new demand of the caller's enterprise: the portal sets the enterprise, and a new
    demand starts 待对接 (the bounds are those of the staff's `DemandIn`)."""

    financing_type: FinancingType
    amount_min_wan: float = Field(ge=0, le=10_000_000, description="拟融资金额下限（万元）")
    amount_max_wan: float = Field(gt=0, le=10_000_000, description="拟融资金额上限（万元）")
    round_stage: Stage | None = None
    purpose: str | None = Field(default=None, max_length=MAX_PURPOSE, description="资金用途")
    equity_amount_wan: float | None = Field(default=None, ge=0, le=10_000_000)
    collateral_offered: list[Annotated[Collateral, Strict(False)]] = Field(
        default_factory=list, max_length=7
    )
    term_months: int | None = Field(default=None, ge=1, le=360)
    deadline: date | None = None
    confidentiality: Confidentiality = Confidentiality.teaser


class IntroductionOut(BaseModel):
    """An introduction as the enterprise sees it (the institution only under consent)."""

    model_config = ConfigDict(from_attributes=True)

    match_id: int
    demand_id: int
    stage: PipelineStage
    institution: str
    institution_kind: str
    consented: bool
    requested: bool
    introduced_at: datetime | None
    closed_at: datetime | None
    survey_due: bool


class PortalConsentIn(StrictIn):
    """Consent to one institution for some scopes."""

    institution_id: int = Field(ge=1, le=MAX_ID)
    scopes: Scopes = Field(min_length=1, max_length=3)
    expires_at: datetime | None = None


class MatchConsentIn(StrictIn):
    """Consent to the institution of one introduction or request."""

    scopes: Scopes = Field(min_length=1, max_length=3)


class SurveyIn(StrictIn):
    """The satisfaction survey of a closed introduction."""

    satisfaction: int = Field(ge=1, le=5)
    comment: str = Field(default="", max_length=2000)


class PortalComplaintIn(StrictIn):
    """A complaint or suggestion of the enterprise."""

    kind: ComplaintKind
    content: str = Field(min_length=1, max_length=5000)


class PortalComplaintOut(BaseModel):
    """A complaint and how it is handled."""

    id: int
    kind: ComplaintKind
    content: str
    status: ComplaintStatus
    satisfaction: int | None
    measures: list[str]


class InvitationIn(StrictIn):
    """An invitation link for an enterprise user."""

    hours: int = Field(default=72, ge=1, le=720)
    email: str | None = Field(default=None, max_length=120)


class InvitationOut(BaseModel):
    """The link, shown once."""

    id: int
    enterprise_id: int
    expires_at: datetime
    token: str
    url: str


class AcceptIn(StrictIn):
    """Create the enterprise user an invitation allows."""

    token: str = Field(min_length=10, max_length=100)
    username: str = Field(min_length=1, max_length=60)
    password: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=120)


class AcceptedOut(BaseModel):
    """The account created."""

    username: str
    enterprise_id: int


def _demand(row: object) -> DemandPublic:
    return DemandPublic.model_validate(row, from_attributes=True)


@router.get("/portal/demands", response_model=ListOf[DemandPublic])
def my_demands(session: SessionDep, principal: EnterpriseUser) -> ListOf[DemandPublic]:
    """The enterprise's demands, newest first."""
    rows = [_demand(d) for d in portal.demands(session, principal)]
    return ListOf(data=rows, count=len(rows))


@router.post("/portal/demands", response_model=DemandPublic, status_code=201)
def submit_demand(
    body: PortalDemandIn, session: SessionDep, principal: EnterpriseUser
) -> DemandPublic:
    """Submit a demand of the enterprise (it starts 待对接)."""
    return _demand(portal.submit_demand(session, principal, body.model_dump()))


@router.get("/portal/demands/{demand_id}", response_model=DemandPublic)
def my_demand(demand_id: PathId, session: SessionDep, principal: EnterpriseUser) -> DemandPublic:
    """One of the enterprise's demands."""
    return _demand(portal.own_demand(session, principal, demand_id))


@router.patch("/portal/demands/{demand_id}", response_model=DemandPublic)
def edit_demand(
    demand_id: PathId, body: DemandEditIn, session: SessionDep, principal: EnterpriseUser
) -> DemandPublic:
    """Edit one of the enterprise's open demands (each change recorded with the reason)."""
    changes = body.model_dump(exclude_unset=True, exclude={"note"})
    return _demand(portal.edit_demand(session, principal, demand_id, changes, body.note))


@router.get("/portal/introductions", response_model=ListOf[IntroductionOut])
def my_introductions(session: SessionDep, principal: EnterpriseUser) -> ListOf[IntroductionOut]:
    """The enterprise's introductions and the institutions' requests for consent."""
    rows = [IntroductionOut.model_validate(i) for i in portal.introductions(session, principal)]
    return ListOf(data=rows, count=len(rows))


@router.post(
    "/portal/introductions/{match_id}/consent", response_model=ConsentPublic, status_code=201
)
def consent_for_introduction(
    match_id: PathId, body: MatchConsentIn, session: SessionDep, principal: EnterpriseUser
) -> ConsentPublic:
    """Consent to the institution of one introduction or request."""
    consent = portal.grant_for_match(session, principal, match_id, list(body.scopes))
    return ConsentPublic.model_validate(consent)


@router.post("/portal/introductions/{match_id}/survey", status_code=201)
def answer_survey(
    match_id: PathId, body: SurveyIn, session: SessionDep, principal: EnterpriseUser
) -> dict[str, int]:
    """Answer the satisfaction survey of a closed introduction (once)."""
    row = portal.answer_survey(session, principal, match_id, body.satisfaction, body.comment)
    return {"id": row.id or 0}


@router.get("/portal/consents", response_model=ListOf[ConsentPublic])
def my_consents(session: SessionDep, principal: EnterpriseUser) -> ListOf[ConsentPublic]:
    """The enterprise's consents, newest first."""
    rows = [ConsentPublic.model_validate(c) for c, _ in portal.consents(session, principal)]
    return ListOf(data=rows, count=len(rows))


@router.post("/portal/consents", response_model=ConsentPublic, status_code=201)
def grant_consent(
    body: PortalConsentIn, session: SessionDep, principal: EnterpriseUser
) -> ConsentPublic:
    """Consent to disclose some scopes to one institution (audited)."""
    consent = portal.grant(session, principal, body.institution_id, list(body.scopes),
                           body.expires_at)  # fmt: skip
    return ConsentPublic.model_validate(consent)


@router.delete("/portal/consents/{consent_id}", response_model=ConsentPublic)
def revoke_consent(
    consent_id: PathId, session: SessionDep, principal: EnterpriseUser
) -> ConsentPublic:
    """Revoke one of the enterprise's consents from now on."""
    return ConsentPublic.model_validate(portal.revoke(session, principal, consent_id))


@router.get("/portal/complaints", response_model=ListOf[PortalComplaintOut])
def my_complaints(session: SessionDep, principal: EnterpriseUser) -> ListOf[PortalComplaintOut]:
    """The enterprise's complaints, suggestions and survey answers, with their handling."""
    rows = [PortalComplaintOut(id=c.id or 0, kind=c.kind, content=c.content, status=c.status,
                               satisfaction=c.satisfaction,
                               measures=[m.description for m in measures])
            for c, measures in portal.complaints_of(session, principal)]  # fmt: skip
    return ListOf(data=rows, count=len(rows))


@router.post("/portal/complaints", response_model=PortalComplaintOut, status_code=201)
def file_complaint(
    body: PortalComplaintIn, session: SessionDep, principal: EnterpriseUser
) -> PortalComplaintOut:
    """File a complaint or suggestion as the enterprise."""
    c = portal.file_complaint(session, principal, body.kind, body.content)
    return PortalComplaintOut(id=c.id or 0, kind=c.kind, content=c.content, status=c.status,
                              satisfaction=c.satisfaction, measures=[])  # fmt: skip


@router.post(
    "/enterprises/{enterprise_id}/invitations", response_model=InvitationOut, status_code=201
)
def invite(
    enterprise_id: PathId, body: InvitationIn, session: SessionDep, settings: SettingsDep,
    principal: Staff,
) -> InvitationOut:  # fmt: skip
    """A single-use link that creates one enterprise user of this enterprise (shown once)."""
    invitation, token = accounts.invite_enterprise_user(
        session, enterprise_id, principal.username, hours=body.hours, email=body.email
    )
    return InvitationOut(id=invitation.id or 0, enterprise_id=enterprise_id,
                         expires_at=invitation.expires_at, token=token,
                         url=invitation_url(settings.console_url, token))  # fmt: skip


def invitation_url(base: str, token: str) -> str:
    """The console page that accepts an invitation."""
    return f"{base.rstrip('/')}/console/invitation?token={token}"


@router.post("/auth/invitation", response_model=AcceptedOut, status_code=201)
def accept_invitation(body: AcceptIn, session: SessionDep) -> AcceptedOut:
    """Create the enterprise user an unused, unexpired invitation allows (the link is used up)."""
    user = accounts.accept_invitation(session, body.token, body.username, body.password,
                                      body.email)  # fmt: skip
    return AcceptedOut(username=user.username, enterprise_id=user.enterprise_id or 0)
