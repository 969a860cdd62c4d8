"""The pipeline over HTTP: introductions, stage moves (optimistic concurrency) and deals."""

from typing import Any

from fastapi import APIRouter, HTTPException
from sqlalchemy import select as core_select
from sqlmodel import col, select

from api.deps import CurrentPrincipal, PageDep, PathId, SessionDep, Staff, StaffOrInstitution
from api.reads import columns_of, validated
from api.routing import OffloadedRoute, read_only
from api.schemas import DealIn, DealPublic, IntroductionIn, ListOf, MatchPublic, TransitionIn
from models import Deal, Match
from models.reference import UserRole
from models.repositories.listing_queries import page_rows, paginate
from models.services import pipeline

router = APIRouter(route_class=OffloadedRoute, tags=["matches"])
_MATCH: Any = Match.__table__  # type: ignore[attr-defined]
MATCHES = core_select(*columns_of(Match, MatchPublic)).order_by(_MATCH.c.id.desc())


def _scope(principal_role: UserRole, institution_id: int | None) -> int | None:
    return institution_id if principal_role == UserRole.institution else None


@router.get("/matches", response_model=ListOf[MatchPublic])
@read_only
def list_matches(
    session: SessionDep, principal: CurrentPrincipal, page: PageDep
) -> ListOf[MatchPublic]:
    """Matches (an institution sees only its own)."""
    query = MATCHES
    if principal.role == UserRole.institution:
        query = query.where(_MATCH.c.institution_id == principal.institution_id)
    rows, count = page_rows(session, query, page.offset, page.limit)
    return ListOf(data=validated(MatchPublic, rows), count=count)


@router.get("/matches/{match_id}", response_model=MatchPublic)
@read_only
def get_match(match_id: PathId, session: SessionDep, principal: CurrentPrincipal) -> MatchPublic:
    """One match."""
    scope = _scope(principal.role, principal.institution_id)
    return MatchPublic.model_validate(pipeline.match_for_institution(session, match_id, scope))


@router.post("/matches", response_model=MatchPublic, status_code=201)
def introduce(body: IntroductionIn, session: SessionDep, principal: Staff) -> MatchPublic:
    """Introduce a demand's enterprise to an institution (creates or advances the match)."""
    match = pipeline.introduce(session, actor=principal.username, **body.model_dump())
    return MatchPublic.model_validate(match)


@router.post("/matches/{match_id}/transitions", response_model=MatchPublic)
def move(
    match_id: PathId, body: TransitionIn, session: SessionDep, principal: StaffOrInstitution
) -> MatchPublic:
    """Move a match; 409 when `expected_version` is stale."""
    pipeline.match_for_institution(
        session, match_id, _scope(principal.role, principal.institution_id)
    )
    match = pipeline.move_match(session, match_id, body.to_stage, body.expected_version,
                                actor=principal.username, note=body.note)  # fmt: skip
    return MatchPublic.model_validate(match)


@router.get("/deals", response_model=ListOf[DealPublic])
@read_only
def list_deals(
    session: SessionDep, principal: CurrentPrincipal, page: PageDep
) -> ListOf[DealPublic]:
    """Deals (an institution sees only its own)."""
    query = select(Deal).order_by(col(Deal.id).desc())
    if principal.role == UserRole.institution:
        query = query.where(Deal.institution_id == principal.institution_id)
    rows, count = paginate(session, query, page.offset, page.limit)
    return ListOf(
        data=[DealPublic.model_validate(r, from_attributes=True) for r in rows], count=count
    )


@router.post("/deals", response_model=DealPublic, status_code=201)
def record_deal(body: DealIn, session: SessionDep, principal: StaffOrInstitution) -> DealPublic:
    """Record the loan or investment a match produced."""
    scope = _scope(principal.role, principal.institution_id)
    pipeline.match_for_institution(session, body.match_id, scope)
    deal = pipeline.record_deal(session, actor=principal.username, **body.model_dump())
    return DealPublic.model_validate(deal, from_attributes=True)


@router.get("/deals/{deal_id}", response_model=DealPublic)
@read_only
def get_deal(deal_id: PathId, session: SessionDep, principal: CurrentPrincipal) -> DealPublic:
    """One deal."""
    deal = session.get(Deal, deal_id)
    if deal is None or (
        principal.role == UserRole.institution and deal.institution_id != principal.institution_id
    ):
        raise HTTPException(status_code=404, detail=f"成交记录 {deal_id} 不存在")
    return DealPublic.model_validate(deal, from_attributes=True)
