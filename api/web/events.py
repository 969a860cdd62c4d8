"""Roadshows and trainings people sign in to: create, register, the QR code of the sign-in link,
and the staff check-in list (attendance is what 路演/培训 人次 count once the event took place)."""

from datetime import UTC, date, datetime, time
from typing import Annotated

import segno
from fastapi import APIRouter, Form, Request, Response

from api.deps import PathId, SessionDep
from api.web.auth import Posted, StaffUser
from api.web.render import ConsoleRoute, redirect, render
from models import Event
from models.clock import center_zone
from models.crud import get_or_404
from models.reference import EventKind
from services.events import repository as events_repo
from services.events.signin import (
    KINDS,
    EventForm,
    Person,
    check_in,
    create_event,
    masked,
    register,
    signin_token,
    window,
)

router = APIRouter(route_class=ConsoleRoute)
Clock = Annotated[str, Form(pattern=r"^\d{2}:\d{2}$")]


def signin_url(request: Request, event: Event, token: str) -> str:
    """The absolute sign-in link the QR code carries."""
    return str(request.base_url).rstrip("/") + f"/signin/{event.id}/{token}"


@router.get("/events")
def events(request: Request, session: SessionDep, _: StaffUser) -> Response:
    """Roadshows and trainings with their attendance, and the form to create one."""
    rows = events_repo.events(session)
    counts = events_repo.attendance_counts(session, [e.id for e in rows if e.id is not None])
    return render(request, "events.html", title="活动与签到", events=rows, counts=counts,
                  kinds=KINDS, now=datetime.now(UTC))  # fmt: skip


@router.post("/events")
def create(session: SessionDep, user: StaffUser, _: Posted,
           kind: Annotated[EventKind, Form()], title: Annotated[str, Form(min_length=2, max_length=200)],
           day: Annotated[date, Form()], starts: Clock = "09:30", ends: Clock = "11:30",
           venue: Annotated[str | None, Form(max_length=200)] = None,
           topic: Annotated[str | None, Form(max_length=100)] = None) -> Response:  # fmt: skip
    """Create a roadshow or training with its sign-in link."""
    zone = center_zone()
    form = EventForm(kind, title, datetime.combine(day, time.fromisoformat(starts), zone),
                     datetime.combine(day, time.fromisoformat(ends), zone), venue or None,
                     topic or None)  # fmt: skip
    event = create_event(session, form, user.principal.username)
    return redirect(f"/console/events/{event.id}", f"已创建{event.kind.label}活动“{event.title}”")


@router.get("/events/{event_id}")
def event(request: Request, event_id: PathId, session: SessionDep, _: StaffUser) -> Response:
    """The event, its QR code and sign-in link, the registration form and the check-in list."""
    found = get_or_404(session, Event, event_id)
    token = signin_token(session, found)
    rows = events_repo.registrations(session, event_id)
    opens, closes = window(found)
    return render(request, "event.html", title=found.title, event=found, rows=rows, masked=masked,
                  url=signin_url(request, found, token), opens=opens, closes=closes,
                  checked=sum(1 for r in rows if r.checked_in_at),
                  attendance=events_repo.attendance_counts(session, [event_id]).get(event_id, 0))  # fmt: skip


@router.get("/events/{event_id}/qr.svg")
def qr(request: Request, event_id: PathId, session: SessionDep, _: StaffUser) -> Response:
    """The QR code of the sign-in link, as SVG (made here, no outside service)."""
    found = get_or_404(session, Event, event_id)
    code = segno.make(signin_url(request, found, signin_token(session, found)), error="m")
    svg = code.svg_inline(scale=6, title=f"{found.title} 签到二维码")
    return Response(svg, media_type="image/svg+xml")


@router.post("/events/{event_id}/registrations")
def add_registration(event_id: PathId, session: SessionDep, user: StaffUser, _: Posted,
                     name: Annotated[str, Form(max_length=100)],
                     organisation: Annotated[str, Form(max_length=300)],
                     phone: Annotated[str, Form(max_length=40)],
                     consent: Annotated[bool, Form()] = False) -> Response:  # fmt: skip
    """Register a person (their consent to the personal-information notice obtained by staff)."""
    row = register(session, event_id, Person(name, organisation, phone, consent),
                   user.principal.username, datetime.now(UTC))  # fmt: skip
    return redirect(f"/console/events/{event_id}", f"已登记 {row.name}（{masked(row.phone)}）")


@router.post("/events/{event_id}/registrations/{registration_id}/check-in")
def desk_check_in(event_id: PathId, registration_id: PathId, session: SessionDep,
                  user: StaffUser, _: Posted) -> Response:  # fmt: skip
    """Check a registered person in at the desk."""
    row = check_in(session, event_id, registration_id, user.principal.username, datetime.now(UTC))
    return redirect(f"/console/events/{event_id}", f"{row.name} 已签到")
