"""Roadshows and trainings with their attendance (路演、培训 场次 and 人次)."""

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from api.deps import PageDep, PathId, SessionDep, Staff, StaffOrEvaluator
from api.schemas import ListOf, StrictIn
from models import Attendance, Event
from models.crud import get_or_404
from models.event import EventBase
from models.paging import page_of
from models.reference import EventKind
from services.audit.repository import create_audited

router = APIRouter(prefix="/events", tags=["events"])


class EventIn(StrictIn, EventBase):  # type: ignore[misc]  # both configs are dicts
    """A new roadshow or training."""


class EventOut(BaseModel):
    """An event."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: EventKind
    title: str
    starts_at: datetime
    ends_at: datetime
    venue: str | None
    topic: str | None


class AttendanceIn(StrictIn):
    """One person checked in at an event."""

    person_key: str = Field(min_length=1, max_length=120)
    person_name: str | None = Field(default=None, max_length=50)
    enterprise_id: int | None = Field(default=None, ge=1, le=2_147_483_647)
    institution_id: int | None = Field(default=None, ge=1, le=2_147_483_647)


@router.get("", response_model=ListOf[EventOut])
def list_events(
    session: SessionDep, _: StaffOrEvaluator, page: PageDep, kind: EventKind | None = None
) -> ListOf[EventOut]:
    """Events, newest first."""
    rows, count = page_of(session, Event, page.offset, page.limit, "-starts_at", kind=kind)
    return ListOf(data=[EventOut.model_validate(r) for r in rows], count=count)


@router.post("", response_model=EventOut, status_code=201)
def create_event(body: EventIn, session: SessionDep, principal: Staff) -> EventOut:
    """Create a roadshow or training."""
    event = create_audited(session, Event, body.model_dump(), actor=principal.username,
                           entity="event")  # fmt: skip
    return EventOut.model_validate(event)


@router.post("/{event_id}/attendance", response_model=dict[str, int], status_code=201)
def check_in(
    event_id: PathId, body: AttendanceIn, session: SessionDep, principal: Staff
) -> dict[str, int]:
    """Record one attendance (人次 counts these)."""
    get_or_404(session, Event, event_id)
    row = create_audited(session, Attendance, body.model_dump() | {"event_id": event_id},
                         actor=principal.username, entity="attendance")  # fmt: skip
    return {"id": row.id or 0}
