"""The pipeline over HTTP: introductions, stage moves (optimistic concurrency) and deals."""

from fastapi import APIRouter

from api.deps import (
    CurrentPrincipal,
    PageDep,
    PathId,
    SessionDep,
    Staff,
    StaffOrInstitution,
    confined_to,
)
from api.schemas import (
    DealConfirmIn,
    DealIn,
    DealPublic,
    DealRejectIn,
    IntroductionIn,
    ListOf,
    MatchPublic,
    TransitionIn,
)
from models import Deal, Match
from models.errors import NotFoundError
from models.paging import page_of
from models.reference import UserRole
from services.accounts.service import Principal
from services.pipeline import service as pipeline

router = APIRouter(tags=["matches"])


@router.get("/matches", response_model=ListOf[MatchPublic])
def list_matches(
    session: SessionDep, principal: CurrentPrincipal, page: PageDep
) -> ListOf[MatchPublic]:
    """Matches (an institution sees only its own)."""
    own = confined_to(principal)
    rows, count = page_of(session, Match, page.offset, page.limit, institution_id=own)
    return ListOf(data=[MatchPublic.model_validate(r) for r in rows], count=count)


@router.get("/matches/{match_id}", response_model=MatchPublic)
def get_match(match_id: PathId, session: SessionDep, principal: CurrentPrincipal) -> MatchPublic:
    """One match."""
    return MatchPublic.model_validate(pipeline.own_match(session, principal, match_id))


@router.post("/matches", response_model=MatchPublic, status_code=201)
def introduce(body: IntroductionIn, session: SessionDep, principal: Staff) -> MatchPublic:
    """Introduce a demand's enterprise to an institution (creates or advances the match)."""
    match = pipeline.introduce(session, actor=principal.username, **body.model_dump())
    return MatchPublic.model_validate(match)


@router.post("/matches/{match_id}/transitions", response_model=MatchPublic)
def move(
    match_id: PathId, body: TransitionIn, session: SessionDep, principal: StaffOrInstitution
) -> MatchPublic:
    """Move a match (staff; an institution may only decline its own); 409 when
    `expected_version` is stale."""
    match = pipeline.move_as(session, principal, match_id, body.to_stage, body.expected_version,
                             body.note)  # fmt: skip
    return MatchPublic.model_validate(match)


def deal_public(deal: Deal, principal: Principal) -> DealPublic:
    """A deal as the caller may see it: never the enterprise's id for an institution (it would
    join the deal to the enterprise without the enterprise's consent)."""
    public = DealPublic.model_validate(deal, from_attributes=True)
    if principal.role == UserRole.institution:
        return public.model_copy(update={"enterprise_id": None})
    return public


@router.get("/deals", response_model=ListOf[DealPublic])
def list_deals(
    session: SessionDep, principal: CurrentPrincipal, page: PageDep
) -> ListOf[DealPublic]:
    """Deals, claims included (an institution sees only its own)."""
    own = confined_to(principal)
    rows, count = page_of(session, Deal, page.offset, page.limit, institution_id=own)
    return ListOf(data=[deal_public(r, principal) for r in rows], count=count)


@router.post("/deals", response_model=DealPublic, status_code=201)
def record_deal(body: DealIn, session: SessionDep, principal: StaffOrInstitution) -> DealPublic:
    """Record the loan or investment a match produced: staff record a confirmed deal, an
    institution files a claim a matchmaker must confirm before it counts."""
    deal = pipeline.deal_as(session, principal, **body.model_dump())
    return deal_public(deal, principal)


@router.get("/deals/{deal_id}", response_model=DealPublic)
def get_deal(deal_id: PathId, session: SessionDep, principal: CurrentPrincipal) -> DealPublic:
    """One deal."""
    deal = session.get(Deal, deal_id)
    if deal is None or (
        principal.role == UserRole.institution and deal.institution_id != principal.institution_id
    ):
        raise NotFoundError(f"成交记录 {deal_id} 不存在")
    return deal_public(deal, principal)


@router.post("/deals/{deal_id}/confirm", response_model=DealPublic)
def confirm_deal(
    deal_id: PathId, body: DealConfirmIn, session: SessionDep, principal: Staff
) -> DealPublic:
    """Confirm an institution's claimed deal: it counts from now on (the match is won)."""
    deal = pipeline.confirm_deal(session, deal_id, actor=principal.username,
                                 confirm_out_of_range=body.confirm_out_of_range)  # fmt: skip
    return deal_public(deal, principal)


@router.post("/deals/{deal_id}/reject", response_model=DealPublic)
def reject_deal(
    deal_id: PathId, body: DealRejectIn, session: SessionDep, principal: Staff
) -> DealPublic:
    """Reject an institution's claimed deal: it never counts."""
    deal = pipeline.reject_deal(session, deal_id, actor=principal.username, reason=body.reason)
    return deal_public(deal, principal)
