"""A demand's lifecycle (close, pause, reopen, edit; its state and history) and the 待关联成交
queue (deals to tie to their introduction): matchmakers only; evaluators may read the state."""

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field, Strict

from api.deps import PathId, SessionDep, Staff, StaffOrEvaluator
from api.routers.matches import deal_public
from api.schemas import MAX_ID, DealPublic, ListOf, StrictIn
from models.reference import Collateral, Confidentiality, DemandStatus, FinancingType
from services.pipeline import demands, links

router = APIRouter(tags=["demand lifecycle"])
Note = Annotated[
    str, Field(min_length=1, max_length=300, description="原因（记入需求历史与审计日志）")
]


class DemandChangeOut(BaseModel):
    """One change of a demand: a field edited or the status moved."""

    field: str
    old: str | None
    new: str | None
    actor: str
    at: datetime
    note: str | None


class DemandStateOut(BaseModel):
    """A demand's status, amount raised, remainder (to the lower bound) and history."""

    id: int
    enterprise_id: int
    status: DemandStatus
    status_label: str
    financing_type: FinancingType
    amount_min_wan: float
    amount_max_wan: float
    amount_raised_wan: float
    remaining_wan: float
    deadline: date | None
    collateral_offered: list[str]
    confidentiality: Confidentiality
    open_for_matching: bool
    history: list[DemandChangeOut]


class DemandCloseIn(StrictIn):
    """Close a demand as 已融资 (funded, with the amount raised; default: its linked deals'
    total), 已撤回 (withdrawn) or 已过期 (expired)."""

    status: Literal["funded", "withdrawn", "expired"]
    amount_wan: float | None = Field(default=None, gt=0, le=10_000_000)
    note: Note


class DemandNoteIn(StrictIn):
    """Pause or reopen a demand, with the reason."""

    note: Note


class DemandEditIn(StrictIn):
    """The fields to change (those left out stay; `deadline: null` clears it), and the reason."""

    amount_min_wan: float | None = Field(default=None, gt=0, le=10_000_000)
    amount_max_wan: float | None = Field(default=None, gt=0, le=10_000_000)
    financing_type: FinancingType | None = None
    collateral_offered: list[Annotated[Collateral, Strict(False)]] | None = Field(
        default=None, max_length=7
    )
    deadline: date | None = None
    confidentiality: Confidentiality | None = None
    note: Note


class DealLinkIn(StrictIn):
    """Tie a queued deal to one of its candidate matches."""

    match_id: int = Field(ge=1, le=MAX_ID)
    note: str | None = Field(default=None, max_length=300)


class DealLinkRejectIn(StrictIn):
    """A queued deal was not brokered by the center: the reason."""

    note: Note


class UnlinkedDealOut(BaseModel):
    """A deal of the 待关联成交 queue with the ids of its candidate matches."""

    deal: DealPublic
    candidate_match_ids: list[int]


def _state(session: SessionDep, demand_id: int) -> DemandStateOut:
    return DemandStateOut.model_validate(demands.demand_state(session, demand_id).as_json())


@router.get("/demands/{demand_id}/lifecycle", response_model=DemandStateOut)
def demand_lifecycle(demand_id: PathId, session: SessionDep, _: StaffOrEvaluator) -> DemandStateOut:
    """A demand's status, amount raised, remainder and change history (newest first)."""
    return _state(session, demand_id)


@router.post("/demands/{demand_id}/close", response_model=DemandStateOut)
def close_demand(
    demand_id: PathId, body: DemandCloseIn, session: SessionDep, principal: Staff
) -> DemandStateOut:
    """Close a demand: it leaves recommendations, teasers, digests and roadshow invitations."""
    demands.close(session, demand_id, as_status=DemandStatus(body.status), note=body.note,
                  actor=principal.username, amount_wan=body.amount_wan)  # fmt: skip
    return _state(session, demand_id)


@router.post("/demands/{demand_id}/pause", response_model=DemandStateOut)
def pause_demand(
    demand_id: PathId, body: DemandNoteIn, session: SessionDep, principal: Staff
) -> DemandStateOut:
    """Pause an open demand (暂停)."""
    demands.pause(session, demand_id, note=body.note, actor=principal.username)
    return _state(session, demand_id)


@router.post("/demands/{demand_id}/reopen", response_model=DemandStateOut)
def reopen_demand(
    demand_id: PathId, body: DemandNoteIn, session: SessionDep, principal: Staff
) -> DemandStateOut:
    """Reopen a paused or closed demand (对接中 if ever introduced, else 待对接)."""
    demands.reopen(session, demand_id, note=body.note, actor=principal.username)
    return _state(session, demand_id)


@router.patch("/demands/{demand_id}", response_model=DemandStateOut)
def edit_demand(
    demand_id: PathId, body: DemandEditIn, session: SessionDep, principal: Staff
) -> DemandStateOut:
    """Edit a demand's amount, type, collateral, deadline or confidentiality (with history)."""
    changes = body.model_dump(exclude_unset=True, exclude={"note"})
    demands.edit(session, demand_id, changes, note=body.note, actor=principal.username)
    return _state(session, demand_id)


@router.get("/unlinked-deals", response_model=ListOf[UnlinkedDealOut])
def unlinked_deals(
    session: SessionDep,
    principal: Staff,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> ListOf[UnlinkedDealOut]:
    """The 待关联成交 queue, oldest first: deals with several candidate matches or none."""
    rows = [
        UnlinkedDealOut(deal=deal_public(deal, principal),
                        candidate_match_ids=[m.id or 0 for m in found])
        for deal, found in links.queue(session, limit)
    ]  # fmt: skip
    return ListOf(data=rows, count=len(rows))


@router.post("/deals/{deal_id}/link", response_model=DealPublic)
def link_deal(
    deal_id: PathId, body: DealLinkIn, session: SessionDep, principal: Staff
) -> DealPublic:
    """Tie a queued deal to its match: it counts as 撮合, and raises its demand's amount raised."""
    deal = links.link(session, deal_id, body.match_id, actor=principal.username, note=body.note)
    return deal_public(deal, principal)


@router.post("/deals/{deal_id}/reject-link", response_model=DealPublic)
def reject_deal_link(
    deal_id: PathId, body: DealLinkRejectIn, session: SessionDep, principal: Staff
) -> DealPublic:
    """The deal was not brokered by the center: it leaves the queue and never counts as 撮合."""
    deal = links.reject(session, deal_id, actor=principal.username, note=body.note)
    return deal_public(deal, principal)
