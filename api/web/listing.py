"""Listing cultivation in the console: the board (tier × board), one enterprise's record with its
readiness criteria, tier moves, milestones with evidence, and coaching sessions (standard 6.1.1 d)."""

from datetime import date, datetime, time
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response

from api.deps import PathId, SessionDep
from api.web.auth import Posted, StaffUser
from api.web.render import ConsoleRoute, redirect, render
from models.clock import center_zone
from models.errors import DomainError
from models.reference import Board, ListingMilestoneKind, ListingTier
from services.listing import (
    check_entry,
    cultivation_overview,
    evaluate_readiness,
    move_tier,
    plan_progress,
    record_milestone,
    schedule_session,
    tier_history,
)
from services.listing import repository as listing_repo
from services.listing.plan import TIER_ORDER, china_today, load_plan

router = APIRouter(route_class=ConsoleRoute)
Text = Annotated[str | None, Form(max_length=300)]


@router.get("/listing")
def board(request: Request, session: SessionDep, _: StaffUser) -> Response:
    """The cultivation database: counts by tier × board, and every record."""
    overview = cultivation_overview(session)
    boards = [b for b in Board if any(k[1] is b for k in overview.by_tier_board)]
    return render(request, "listing.html", title="上市培育库", overview=overview, tiers=TIER_ORDER,
                  boards=boards, plan=load_plan())  # fmt: skip


@router.get("/listing/{record_id}")
def record(request: Request, record_id: PathId, session: SessionDep, _: StaffUser) -> Response:
    """One record: where it stands, its readiness with the criteria, its history and plan."""
    row = listing_repo.record(session, record_id)
    here = TIER_ORDER.index(row.tier)
    following = TIER_ORDER[here + 1] if here + 1 < len(TIER_ORDER) else None
    reached = listing_repo.milestones(session, [record_id]).get(record_id, [])
    return render(
        request, "listing_record.html", title=f"培育档案 · {listing_repo.display_names(session, [row])[row.enterprise_id]}",
        record=row, readiness=evaluate_readiness(session, row.enterprise_id),
        history=tier_history(session, record_id), milestones=reached,
        entry=check_entry(session, record_id, following) if following else None,
        progress=plan_progress(session, record_id), tiers=TIER_ORDER, boards=list(Board),
        kinds=list(ListingMilestoneKind), today=china_today(),
    )  # fmt: skip


@router.post("/listing/{record_id}/tier")
def move(record_id: PathId, session: SessionDep, user: StaffUser, _: Posted,
         tier: Annotated[ListingTier, Form()], on: Annotated[date | None, Form()] = None,
         note: Text = None, force: Annotated[bool, Form()] = False) -> Response:  # fmt: skip
    """Move the record to another tier (entry rules checked; a note for a move down or a force)."""
    change = move_tier(session, record_id, tier, on=on, note=note or None, force=force)
    return redirect(f"/console/listing/{record_id}",
                    f"已调整至{change.tier.label}（{change.entered_on.isoformat()}，{user.principal.username}）")  # fmt: skip


@router.post("/listing/{record_id}/milestones")
def milestone(record_id: PathId, session: SessionDep, _user: StaffUser, _: Posted,
              kind: Annotated[ListingMilestoneKind, Form()], on: Annotated[date, Form()],
              board: Annotated[Board | None, Form()] = None, evidence: Text = None,
              note: Text = None) -> Response:  # fmt: skip
    """Record a dated milestone with its evidence."""
    row = record_milestone(session, record_id, kind, on, board=board, note=note or None,
                           evidence=evidence or None)  # fmt: skip
    return redirect(f"/console/listing/{record_id}",
                    f"已记录里程碑“{row.kind.label}”（{row.occurred_on.isoformat()}）")  # fmt: skip


def _at(day: date, clock: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(clock), tzinfo=center_zone())


@router.post("/listing/coaching")
def coaching(session: SessionDep, _user: StaffUser, _: Posted,
             item: Annotated[str, Form(max_length=60)], day: Annotated[date, Form()],
             starts: Annotated[str, Form(pattern=r"^\d{2}:\d{2}$")] = "09:30",
             ends: Annotated[str, Form(pattern=r"^\d{2}:\d{2}$")] = "11:30",
             board: Annotated[Board | None, Form()] = None,
             venue: Annotated[str | None, Form(max_length=200)] = None) -> Response:  # fmt: skip
    """Schedule the coaching session of one plan item (`tier:key`) as a training event."""
    tier, _sep, key = item.partition(":")
    if tier not in {t.value for t in ListingTier}:
        raise DomainError("请选择辅导计划条目", field="item")
    row = schedule_session(session, tier=ListingTier(tier), plan_item=key, starts_at=_at(day, starts),
                           ends_at=_at(day, ends), board=board, venue=venue or None)  # fmt: skip
    return redirect(f"/console/events/{row.event_id}", "已安排辅导课程，可在此登记学员并扫码签到")
