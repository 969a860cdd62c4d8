"""Every query of the events service (services never commit; the caller does)."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, col, select

from models import Attendance, Event, EventRegistration
from models.reference import EventKind


def events(session: Session, kind: EventKind | None = None, limit: int = 100) -> list[Event]:
    """Events (of one kind), newest first."""
    query = select(Event).order_by(col(Event.starts_at).desc(), col(Event.id).desc())
    if kind is not None:
        query = query.where(Event.kind == kind)
    return list(session.exec(query.limit(limit)))


def attendance_counts(session: Session, event_ids: list[int]) -> dict[int, int]:
    """Event id → attendance rows (人次)."""
    if not event_ids:
        return {}
    query = (
        select(Attendance.event_id, func.count())
        .where(col(Attendance.event_id).in_(event_ids))
        .group_by(col(Attendance.event_id))
    )
    return {event_id: int(n) for event_id, n in session.exec(query)}


def registrations(session: Session, event_id: int) -> list[EventRegistration]:
    """Everyone registered for or signed in at the event, checked-in first, then by name."""
    query = select(EventRegistration).where(EventRegistration.event_id == event_id)
    order = (col(EventRegistration.checked_in_at).is_(None), col(EventRegistration.id))
    return list(session.exec(query.order_by(*order)))


def registration_by_phone(session: Session, event_id: int, phone: str) -> EventRegistration | None:
    """The event's registration under this phone number."""
    query = select(EventRegistration).where(
        EventRegistration.event_id == event_id, EventRegistration.phone == phone
    )
    return session.exec(query).first()


def attendance_of(session: Session, event_id: int, person_key: str) -> Attendance | None:
    """One person's attendance at one event."""
    query = select(Attendance).where(
        Attendance.event_id == event_id, Attendance.person_key == person_key
    )
    return session.exec(query).first()
