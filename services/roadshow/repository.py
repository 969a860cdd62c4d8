"""The roadshow service's SQL: an event's sessions, participants and slate rows, and the names
and mandates its slate needs."""

from collections import defaultdict
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func, update
from sqlmodel import Session, col, delete, select

from models import (
    Event,
    EventParticipant,
    EventSession,
    FinancingDemand,
    Institution,
    InvestmentMandate,
    SlateItem,
)
from models.demand import open_for_matching
from models.enterprise import Enterprise
from models.event import SlateItem as SlateRow
from models.event import SlateRun
from models.reference import (
    EventKind,
    FinancingType,
    InstitutionKind,
    SlateRunStatus,
)

SCHEDULED_STATUSES = ("applied", "accepted")  # presenters/investors the slate considers


def sessions_of(session: Session, event_id: int) -> list[EventSession]:
    """The event's sessions, earliest first."""
    query = select(EventSession).where(EventSession.event_id == event_id)
    return list(session.exec(query.order_by(col(EventSession.starts_at))).all())


def participants(session: Session, event_id: int, role: str) -> list[EventParticipant]:
    """Applied or accepted participants of one role, in id order."""
    query = (
        select(EventParticipant)
        .where(EventParticipant.event_id == event_id, EventParticipant.role == role)
        .where(col(EventParticipant.status).in_(SCHEDULED_STATUSES))
        .order_by(col(EventParticipant.id))
    )
    return list(session.exec(query).all())


def participant(
    session: Session, event_id: int, enterprise_id: int | None, institution_id: int | None
) -> EventParticipant | None:
    """The event's participant row of an enterprise (else of an institution), if any."""
    query = select(EventParticipant).where(EventParticipant.event_id == event_id)
    if enterprise_id is not None:
        query = query.where(EventParticipant.enterprise_id == enterprise_id)
    else:
        query = query.where(EventParticipant.institution_id == institution_id)
    return session.exec(query).first()


def slate_rows(session: Session, event_id: int) -> list[SlateRow]:
    """The event's slate items, in id order."""
    query = select(SlateRow).where(SlateRow.event_id == event_id).order_by(col(SlateRow.id))
    return list(session.exec(query).all())


def delete_unconfirmed(session: Session, event_id: int) -> None:
    """Delete the event's unconfirmed slate items (confirmed ones stay)."""
    session.exec(delete(SlateRow).where(
        col(SlateRow.event_id) == event_id, col(SlateRow.confirmed).is_(False)
    ))  # fmt: skip


def delete_items_of(
    session: Session, event_id: int, enterprise_id: int | None, institution_id: int | None
) -> None:
    """Delete the event's slate items of an enterprise (else of an institution)."""
    party = (
        col(SlateRow.enterprise_id) == enterprise_id
        if enterprise_id is not None
        else col(SlateRow.institution_id) == institution_id
    )
    session.exec(delete(SlateRow).where(col(SlateRow.event_id) == event_id, party))


def enterprises(session: Session, ids: Collection[int]) -> dict[int, Enterprise]:
    """Enterprises by id."""
    query = select(Enterprise).where(col(Enterprise.id).in_(ids))
    return {e.id or 0: e for e in session.exec(query)}


def institution_names(session: Session, ids: Collection[int]) -> dict[int, str]:
    """Institutions' names by id."""
    query = select(Institution.id, Institution.name).where(col(Institution.id).in_(ids))
    return {i or 0: name for i, name in session.exec(query)}


def mandate_stages(session: Session, institution_ids: Collection[int]) -> dict[int, set[str]]:
    """The stages the institutions' mandates cover, by institution."""
    query = select(InvestmentMandate).where(
        col(InvestmentMandate.institution_id).in_(institution_ids)
    )
    stages: dict[int, set[str]] = {}
    for m in session.exec(query):
        stages.setdefault(m.institution_id, set()).update(m.stages)
    return stages


# --- console and API reads

EQUITY_KINDS = (InstitutionKind.vc, InstitutionKind.pe, InstitutionKind.angel)


def roadshows(session: Session, limit: int = 30) -> list[tuple[Event, int, int]]:
    """Roadshows, latest first, with their presenter and investor counts."""
    events = list(session.exec(select(Event).where(Event.kind == EventKind.roadshow)
                               .order_by(col(Event.starts_at).desc()).limit(limit)))  # fmt: skip
    counts: dict[tuple[int, str], int] = defaultdict(int)
    query = (
        select(EventParticipant.event_id, EventParticipant.role, func.count())
        .where(col(EventParticipant.event_id).in_([e.id for e in events]))
        .group_by(col(EventParticipant.event_id), col(EventParticipant.role))
    )
    for event_id, role, n in session.exec(query).all():
        counts[(event_id, role)] = int(n)
    return [(e, counts[(e.id or 0, "presenter")], counts[(e.id or 0, "investor")]) for e in events]


def slate_items(session: Session, event_id: int) -> list[SlateItem]:
    """The event's slate items by start time."""
    query = select(SlateItem).where(SlateItem.event_id == event_id)
    return list(session.exec(query.order_by(col(SlateItem.starts_at), col(SlateItem.id))))


def event_sessions(session: Session, event_id: int) -> list[EventSession]:
    """The event's sessions by start time."""
    query = select(EventSession).where(EventSession.event_id == event_id)
    return list(session.exec(query.order_by(col(EventSession.starts_at))))


def participant_counts(session: Session, event_id: int) -> dict[str, int]:
    """Presenters and investors registered for an event (cancelled ones left out)."""
    query = (
        select(EventParticipant.role, func.count())
        .where(EventParticipant.event_id == event_id, EventParticipant.status != "cancelled")
        .group_by(col(EventParticipant.role))
    )
    return {role: int(n) for role, n in session.exec(query).all()}


def open_demands_of(session: Session, enterprise_ids: Collection[int]) -> dict[int, int]:
    """The open demands of the enterprises: demand id → enterprise id."""
    if not enterprise_ids:
        return {}
    query = select(FinancingDemand.id, FinancingDemand.enterprise_id).where(
        open_for_matching(),
        col(FinancingDemand.enterprise_id).in_(list(enterprise_ids)),
    )
    return {d: e for d, e in session.exec(query).all() if d is not None}


def equity_seekers(session: Session) -> list[int]:
    """Enterprises with open equity or mixed demands, the latest demand's first."""
    query = (
        select(FinancingDemand.enterprise_id)
        .where(
            open_for_matching(),
            col(FinancingDemand.financing_type).in_([FinancingType.equity, FinancingType.mixed]),
        )
        .order_by(col(FinancingDemand.id).desc())
    )
    return list(dict.fromkeys(session.exec(query).all()))


def equity_investors(session: Session) -> list[Institution]:
    """Venture, private equity and angel investors, in id order."""
    query = select(Institution).where(col(Institution.kind).in_(EQUITY_KINDS))
    return list(session.exec(query.order_by(col(Institution.id))))


def mandates_of(session: Session, institution_ids: list[int]) -> list[InvestmentMandate]:
    """The investment mandates of the institutions."""
    query = select(InvestmentMandate).where(
        col(InvestmentMandate.institution_id).in_(institution_ids)
    )
    return list(session.exec(query))


def start_run(session: Session, run_id: int, now: datetime) -> bool:
    """Queued → running for one run (a conditional UPDATE: one worker wins)."""
    statement = (
        update(SlateRun)
        .where(col(SlateRun.id) == run_id)
        .where(col(SlateRun.status) == SlateRunStatus.queued)
        .values(status=SlateRunStatus.running, started_at=now)
        .returning(col(SlateRun.id))
        .execution_options(synchronize_session=False)
    )
    return session.execute(statement).first() is not None


def latest_run(session: Session, event_id: int) -> SlateRun | None:
    """The event's newest scheduling run."""
    query = select(SlateRun).where(SlateRun.event_id == event_id)
    return session.exec(query.order_by(col(SlateRun.id).desc())).first()
