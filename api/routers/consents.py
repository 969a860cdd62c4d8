"""Consent (recorded by staff for the enterprise) and institutions' introduction requests."""

from fastapi import APIRouter

from api.deps import CurrentPrincipal, PageDep, PathId, SessionDep, Staff, confined_to
from api.schemas import ConsentIn, ConsentPublic, IntroductionRequestIn, ListOf, MatchPublic
from models import Consent
from models.paging import page_of
from models.reference import UserRole
from services.disclosure import service as disclosure
from services.pipeline import service as pipeline

router = APIRouter(tags=["consents"])


@router.post("/consents", response_model=ConsentPublic, status_code=201)
def record_consent(body: ConsentIn, session: SessionDep, principal: Staff) -> ConsentPublic:
    """Record an enterprise's consent to disclose to one institution."""
    consent = disclosure.record_consent(session, actor=principal.username, **body.model_dump())
    return ConsentPublic.model_validate(consent)


@router.get("/consents", response_model=ListOf[ConsentPublic])
def list_consents(
    session: SessionDep, principal: CurrentPrincipal, page: PageDep
) -> ListOf[ConsentPublic]:
    """Consents (an institution sees those granted to it)."""
    if principal.role == UserRole.evaluator:
        return ListOf(data=[], count=0)
    own = confined_to(principal)
    rows, count = page_of(session, Consent, page.offset, page.limit, institution_id=own)
    return ListOf(data=[ConsentPublic.model_validate(r) for r in rows], count=count)


@router.delete("/consents/{consent_id}", response_model=ConsentPublic)
def revoke_consent(consent_id: PathId, session: SessionDep, principal: Staff) -> ConsentPublic:
    """Revoke a consent from now on."""
    return ConsentPublic.model_validate(
        disclosure.revoke_consent(session, consent_id, principal.username)
    )


@router.post("/introduction-requests", response_model=MatchPublic, status_code=201)
def request_introduction(
    body: IntroductionRequestIn, session: SessionDep, principal: CurrentPrincipal
) -> MatchPublic:
    """An institution asks for an introduction to a demand's enterprise (a recommended match)."""
    match = pipeline.request_introduction(session, demand_id=body.demand_id, principal=principal,
                                          message=body.message)  # fmt: skip
    return MatchPublic.model_validate(match)
