"""Creating a roadshow from the console form: the event, its half-day sessions, and the
presenters and investors invited to it.

A thin write helper (no scheduling rules: `services.roadshow.service` draws the slate). Candidates are the
enterprises with open equity or mixed demands and the resident equity investors, as the demo's
generator invites them; the matchmaker adjusts the lists by id.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlmodel import Session, col, select

from models import (
    Event,
    EventParticipant,
    EventSession,
    FinancingDemand,
    Institution,
    InvestmentMandate,
)
from models.errors import DomainError
from models.reference import DemandStatus, EventKind, FinancingType, InstitutionKind
from services.audit.repository import append_audit
from services.evaluation.indicators import BEIJING

HALF_DAYS = ((time(9, 0), time(12, 0), "上午"), (time(14, 0), time(17, 30), "下午"))
EQUITY_KINDS = (InstitutionKind.vc, InstitutionKind.pe, InstitutionKind.angel)


@dataclass(frozen=True)
class RoadshowForm:
    """What the matchmaker fills in."""

    title: str
    day: date
    days: int
    rooms: list[str]
    slots_per_room: int
    meeting_tables: int
    min_contacts: int
    presenters: int
    investors: int
    venue: str | None = None


def create_roadshow(session: Session, form: RoadshowForm, actor: str) -> Event:
    """Create the roadshow with morning and afternoon sessions on each day and invite parties."""
    if not form.rooms:
        raise DomainError("请至少填写一个路演厅", field="rooms")
    first = datetime.combine(form.day, HALF_DAYS[0][0], BEIJING)
    last = datetime.combine(form.day + timedelta(days=form.days - 1), HALF_DAYS[1][1], BEIJING)
    event = Event(kind=EventKind.roadshow, title=form.title, starts_at=first, ends_at=last,
                  venue=form.venue, rooms=form.rooms, slots_per_room=form.slots_per_room,
                  meeting_tables=form.meeting_tables,
                  min_contacts_per_enterprise=form.min_contacts)  # fmt: skip
    session.add(event)
    session.flush()
    sessions = _sessions(event.id or 0, form)
    session.add_all(sessions)
    session.flush()
    _invite(session, event.id or 0, form, [s.id or 0 for s in sessions])
    append_audit(session, actor=actor, action="create", entity="event", entity_id=event.id)
    return event


def _sessions(event_id: int, form: RoadshowForm) -> list[EventSession]:
    out = []
    for offset in range(form.days):
        day = form.day + timedelta(days=offset)
        for start, end, name in HALF_DAYS:
            out.append(EventSession(event_id=event_id, name=f"{day.month}月{day.day}日{name}",
                                    starts_at=datetime.combine(day, start, BEIJING),
                                    ends_at=datetime.combine(day, end, BEIJING)))  # fmt: skip
    return out


def _invite(session: Session, event_id: int, form: RoadshowForm, session_ids: list[int]) -> None:
    demands = (
        select(FinancingDemand.enterprise_id)
        .where(
            FinancingDemand.status == DemandStatus.open,
            col(FinancingDemand.financing_type).in_([FinancingType.equity, FinancingType.mixed]),
        )
        .order_by(col(FinancingDemand.id).desc())
    )
    ents = list(dict.fromkeys(session.exec(demands).all()))[: form.presenters]
    query = select(Institution).where(col(Institution.kind).in_(EQUITY_KINDS))
    investors = [i for i in session.exec(query.order_by(col(Institution.id)))
                 if i.is_resident_on(form.day)][: form.investors]  # fmt: skip
    session.add_all([EventParticipant(event_id=event_id, enterprise_id=e, role="presenter",
                                      status="accepted", available_session_ids=session_ids)
                     for e in ents])  # fmt: skip
    interests = _mandate_sectors(session, [i.id or 0 for i in investors])
    session.add_all([EventParticipant(event_id=event_id, institution_id=i.id, role="investor",
                                      status="accepted", available_session_ids=session_ids,
                                      interests=interests.get(i.id or 0, []))
                     for i in investors])  # fmt: skip
    session.flush()


def _mandate_sectors(session: Session, institution_ids: list[int]) -> dict[int, list[str]]:
    """Each investor's sectors of interest: those of its investment mandates."""
    query = select(InvestmentMandate).where(
        col(InvestmentMandate.institution_id).in_(institution_ids)
    )
    sectors: dict[int, list[str]] = {}
    for mandate in session.exec(query):
        mine = sectors.setdefault(mandate.institution_id, [])
        mine.extend(s for s in mandate.sectors if s not in mine)
    return sectors
