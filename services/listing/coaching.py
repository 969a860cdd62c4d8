"""Coaching by stage (分阶段): a session is a training `Event` tied to a plan item.

Its attendance thus also feeds the Appendix A training counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session

from models import Attendance, CoachingSession, Event
from models.clock import center_date
from models.errors import ConflictError, DomainError, NotFoundError
from models.reference import Board, EventKind, ListingTier
from services.listing import repository as repo
from services.listing.plan import TIER_ORDER, CultivationPlan, PlanItem, load_plan


def schedule_session(
    session: Session,
    *,
    tier: ListingTier,
    plan_item: str,
    starts_at: datetime,
    ends_at: datetime,
    board: Board | None = None,
    venue: str | None = None,
    plan: CultivationPlan | None = None,
) -> CoachingSession:
    """Create the training event of one plan item (per-board items need ``board``)."""
    item = (plan or load_plan()).plan_item(tier, plan_item)
    if item is None:
        raise DomainError(f"{tier.label}辅导计划中没有“{plan_item}”", field="plan_item")
    if item.per_board != (board is not None):
        raise DomainError(
            f"“{item.title}”{'须' if item.per_board else '不'}指定板块", field="board"
        )
    title = f"{item.title}（{board.label}）" if board else item.title
    event = Event(
        kind=EventKind.training,
        title=f"上市培育·{title}",
        topic=item.topic,
        starts_at=starts_at,
        ends_at=ends_at,
        venue=venue,
    )
    session.add(event)
    session.flush()
    assert event.id is not None
    row = CoachingSession(event_id=event.id, tier=tier, plan_item=item.key, board=board)
    session.add(row)
    session.flush()
    return row


def record_attendance(
    session: Session,
    *,
    event_id: int,
    enterprise_id: int,
    person_name: str,
    person_key: str | None = None,
    checked_in_at: datetime | None = None,
) -> Attendance:
    """Sign one person of an enterprise in to a coaching session (one row per person and event)."""
    if repo.coaching_session_of_event(session, event_id) is None:
        raise NotFoundError(f"活动 {event_id} 不是上市培育辅导课程")
    repo.enterprise(session, enterprise_id)
    key = person_key or f"{person_name}@{enterprise_id}"
    if repo.attendance(session, event_id, key) is not None:
        raise ConflictError(f"{person_name} 已签到", field="person_key")
    row = Attendance(
        event_id=event_id,
        person_key=key,
        person_name=person_name,
        enterprise_id=enterprise_id,
        checked_in_at=checked_in_at,
    )
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True)
class PlanStep:
    """One item of the plan for a record, and when the enterprise first attended it."""

    tier: ListingTier
    key: str
    title: str
    board: Board | None
    attended_on: date | None


def _steps(plan: CultivationPlan, tier: ListingTier) -> list[tuple[ListingTier, PlanItem]]:
    tiers = TIER_ORDER[: TIER_ORDER.index(tier) + 1]
    return [(t, item) for t in tiers for item in plan.coaching_plan.get(t, ())]


def plan_progress(
    session: Session, record_id: int, *, plan: CultivationPlan | None = None
) -> list[PlanStep]:
    """The plan items of the record's tiers so far, each with its first attendance day."""
    spec = plan or load_plan()
    record = repo.record(session, record_id)
    attended: dict[tuple[str, Board | None], date] = {}
    for cs, event, _ in repo.coaching_attendance(session, record.enterprise_id):
        attended.setdefault((cs.plan_item, cs.board), center_date(event.starts_at))
    out = []
    for tier, item in _steps(spec, record.tier):
        board = record.target_board if item.per_board else None
        title = f"{item.title}（{board.label}）" if board else item.title
        out.append(PlanStep(tier, item.key, title, board, attended.get((item.key, board))))
    return out
