"""Queries of roadshows: events, their sessions, participants and slate items."""

from collections import defaultdict

from sqlalchemy import func
from sqlmodel import Session, col, select

from models import (
    Event,
    EventParticipant,
    EventSession,
    FinancingDemand,
    Institution,
    InvestmentMandate,
    SlateItem,
)
from models.reference import DemandStatus, EventKind, FinancingType, InstitutionKind

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


def equity_seekers(session: Session) -> list[int]:
    """Enterprises with open equity or mixed demands, the latest demand's first."""
    query = (
        select(FinancingDemand.enterprise_id)
        .where(
            FinancingDemand.status == DemandStatus.open,
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
