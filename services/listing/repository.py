"""Every query of the cultivation service (services never commit; the caller does)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from sqlmodel import Session, col, select

from models import (
    Attendance,
    CoachingSession,
    Enterprise,
    Event,
    FinancialYear,
    Institution,
    ListingAlert,
    ListingMilestone,
    ListingRecord,
    ListingTierChange,
)
from models.errors import NotFoundError
from models.reference import InstitutionKind


def enterprise(session: Session, enterprise_id: int) -> Enterprise:
    """The enterprise, or NotFoundError."""
    row = session.get(Enterprise, enterprise_id)
    if row is None:
        raise NotFoundError(f"企业 {enterprise_id} 不存在")
    return row


def record(session: Session, record_id: int) -> ListingRecord:
    """The cultivation record, or NotFoundError."""
    row = session.get(ListingRecord, record_id)
    if row is None:
        raise NotFoundError(f"培育记录 {record_id} 不存在")
    return row


def record_of(session: Session, enterprise_id: int) -> ListingRecord | None:
    """The enterprise's cultivation record, if it is in the database."""
    query = select(ListingRecord).where(ListingRecord.enterprise_id == enterprise_id)
    return session.exec(query).first()


def records(session: Session) -> list[ListingRecord]:
    """All cultivation records, by id."""
    return list(session.exec(select(ListingRecord).order_by(col(ListingRecord.id))))


def financial_years(session: Session, enterprise_id: int) -> list[FinancialYear]:
    """The enterprise's fiscal years, oldest first."""
    query = select(FinancialYear).where(FinancialYear.enterprise_id == enterprise_id)
    return list(session.exec(query.order_by(col(FinancialYear.fiscal_year))))


def financial_year(session: Session, enterprise_id: int, year: int) -> FinancialYear | None:
    """One fiscal year of an enterprise."""
    query = select(FinancialYear).where(
        FinancialYear.enterprise_id == enterprise_id, FinancialYear.fiscal_year == year
    )
    return session.exec(query).first()


def tier_changes(session: Session, record_ids: Iterable[int]) -> dict[int, list[ListingTierChange]]:
    """Tier history per record, oldest first."""
    ids = list(record_ids)
    out: dict[int, list[ListingTierChange]] = defaultdict(list)
    if not ids:
        return out
    query = select(ListingTierChange).where(col(ListingTierChange.listing_record_id).in_(ids))
    order = (col(ListingTierChange.entered_on), col(ListingTierChange.id))
    for row in session.exec(query.order_by(*order)):
        out[row.listing_record_id].append(row)
    return out


def milestones(session: Session, record_ids: Iterable[int]) -> dict[int, list[ListingMilestone]]:
    """Milestones per record, oldest first."""
    ids = list(record_ids)
    out: dict[int, list[ListingMilestone]] = defaultdict(list)
    if not ids:
        return out
    query = select(ListingMilestone).where(col(ListingMilestone.listing_record_id).in_(ids))
    order = (col(ListingMilestone.occurred_on), col(ListingMilestone.id))
    for row in session.exec(query.order_by(*order)):
        out[row.listing_record_id].append(row)
    return out


def enterprises_by_id(session: Session, ids: Iterable[int]) -> dict[int, Enterprise]:
    """Enterprises by id."""
    wanted = list(set(ids))
    if not wanted:
        return {}
    query = select(Enterprise).where(col(Enterprise.id).in_(wanted))
    return {e.id: e for e in session.exec(query) if e.id is not None}


def providers(session: Session, kinds: Sequence[InstitutionKind]) -> list[Institution]:
    """Institutions of the service-provider kinds, by id."""
    query = select(Institution).where(col(Institution.kind).in_(list(kinds)))
    return list(session.exec(query.order_by(col(Institution.id))))


def coaching_attendance(
    session: Session, enterprise_id: int
) -> list[tuple[CoachingSession, Event, Attendance]]:
    """Coaching sessions the enterprise attended, with the event and the attendance row."""
    query = (
        select(CoachingSession, Event, Attendance)
        .join(Event, col(Event.id) == col(CoachingSession.event_id))
        .join(Attendance, col(Attendance.event_id) == col(CoachingSession.event_id))
        .where(Attendance.enterprise_id == enterprise_id)
        .order_by(col(Event.starts_at), col(Attendance.id))
    )
    return [(c, e, a) for c, e, a in session.exec(query)]


def coaching_session_of_event(session: Session, event_id: int) -> CoachingSession | None:
    """The coaching session held as ``event_id``, if it is one."""
    query = select(CoachingSession).where(CoachingSession.event_id == event_id)
    return session.exec(query).first()


def alerts(session: Session) -> list[ListingAlert]:
    """Open stalled alerts."""
    query = select(ListingAlert).where(col(ListingAlert.resolved_on).is_(None))
    return list(session.exec(query.order_by(col(ListingAlert.id))))


def attendance(session: Session, event_id: int, person_key: str) -> Attendance | None:
    """One person's attendance at one event."""
    query = select(Attendance).where(
        Attendance.event_id == event_id, Attendance.person_key == person_key
    )
    return session.exec(query).first()


# --- display names


def display_names(session: Session, records: Sequence[ListingRecord]) -> dict[int, str]:
    """Enterprise id → short name (else legal name; the id when the enterprise is gone)."""
    found = enterprises_by_id(session, [r.enterprise_id for r in records])
    return {
        r.enterprise_id: (e.short_name or e.legal_name)
        if (e := found.get(r.enterprise_id))
        else str(r.enterprise_id)
        for r in records
    }
