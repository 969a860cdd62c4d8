"""The roadshow page: create an event, queue the scheduler (a worker draws the slate; the page
polls the run's status), see the slate by room × time, export."""

import io
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import JSONResponse

from api.deps import PathId, SessionDep
from api.web.auth import Posted, StaffUser
from api.web.render import ConsoleRoute, redirect, render
from models import Event, EventSession, SlateItem
from models.crud import get_or_404
from models.errors import NotFoundError
from models.paging import enterprise_names, institution_names
from models.reference import EventKind
from services.roadshow import repository as roadshow_repo
from services.roadshow.runs import queue_slate, run_status, slate_run
from services.roadshow.service import RoadshowForm, create_roadshow, export_slate

router = APIRouter(route_class=ConsoleRoute)


@dataclass(frozen=True)
class SlateView:
    """A drawn slate laid out for the page: pitches by time × room, seats, 1:1 meetings."""

    rooms: list[str]
    times: list[Any]
    grid: dict[tuple[Any, str], str]
    meetings: list[tuple[SlateItem, str, str]]
    seats: int
    sessions: list[EventSession]
    participants: dict[str, int]


def slate_view(session: SessionDep, event: Event) -> SlateView:
    """The event's slate items as a room × time grid with names."""
    rows = roadshow_repo.slate_items(session, event.id or 0)
    ents = enterprise_names(session, {r.enterprise_id for r in rows if r.enterprise_id})
    insts = institution_names(session, {r.institution_id for r in rows if r.institution_id})
    pitches = [r for r in rows if r.item_type == "pitch"]
    grid = {(r.starts_at, r.room or ""): ents.get(r.enterprise_id or 0, "?") for r in pitches}
    meetings = [(r, insts.get(r.institution_id or 0, "?"), ents.get(r.enterprise_id or 0, "?"))
                for r in rows if r.item_type == "meeting"]  # fmt: skip
    return SlateView(list(event.rooms), sorted({r.starts_at for r in pitches}), grid, meetings,
                     sum(1 for r in rows if r.item_type == "attendance"),
                     roadshow_repo.event_sessions(session, event.id or 0),
                     roadshow_repo.participant_counts(session, event.id or 0))  # fmt: skip


def _roadshow(session: SessionDep, event_id: int) -> Event:
    event = get_or_404(session, Event, event_id)
    if event.kind != EventKind.roadshow:
        raise NotFoundError(f"路演活动 {event_id} 不存在")
    return event


@router.get("/roadshows")
def roadshows(request: Request, session: SessionDep, _: StaffUser) -> Response:
    """Roadshows and the form to create one."""
    return render(request, "roadshows.html", title="投融资路演",
                  events=roadshow_repo.roadshows(session))  # fmt: skip


@router.post("/roadshows")
def create(session: SessionDep, user: StaffUser, _: Posted,
           title: Annotated[str, Form(min_length=2, max_length=200)],
           day: Annotated[date, Form()], days: Annotated[int, Form(ge=1, le=5)] = 1,
           rooms: Annotated[str, Form(max_length=300)] = "路演A厅，路演B厅",
           slots_per_room: Annotated[int, Form(ge=1, le=20)] = 5,
           meeting_tables: Annotated[int, Form(ge=0, le=50)] = 6,
           min_contacts: Annotated[int, Form(ge=0, le=10)] = 1,
           presenters: Annotated[int, Form(ge=0, le=200)] = 12,
           investors: Annotated[int, Form(ge=0, le=100)] = 8,
           venue: Annotated[str | None, Form(max_length=200)] = None) -> Response:  # fmt: skip
    """Create a roadshow and invite presenters and investors."""
    names = [r.strip() for r in rooms.replace("，", ",").split(",") if r.strip()]
    form = RoadshowForm(title, day, days, names, slots_per_room, meeting_tables, min_contacts,
                        presenters, investors, venue or None)  # fmt: skip
    event = create_roadshow(session, form, user.principal.username)
    return redirect(f"/console/roadshows/{event.id}", f"已创建路演活动“{event.title}”")


@router.get("/roadshows/{event_id}")
def roadshow(request: Request, event_id: PathId, session: SessionDep, _: StaffUser) -> Response:
    """The event and its slate as a grid of rooms by time, with the 1:1 meetings."""
    event = _roadshow(session, event_id)
    run = roadshow_repo.latest_run(session, event_id)
    return render(request, "roadshow.html", title=event.title, event=event,
                  slate=slate_view(session, event),
                  run=run_status(run) if run else None)  # fmt: skip


@router.post("/roadshows/{event_id}/schedule")
def schedule(event_id: PathId, session: SessionDep, user: StaffUser, _: Posted,
             time_limit: Annotated[float, Form(ge=1, le=60)] = 10) -> Response:  # fmt: skip
    """Queue the scheduler (a worker draws the slate, keeping confirmed items); the page
    then follows the run."""
    _roadshow(session, event_id)
    run = queue_slate(session, event_id, time_limit, user.principal.username)
    return redirect(f"/console/roadshows/{event_id}",
                    f"已提交排程任务 #{run.id}，由后台 worker 求解，完成后本页自动显示结果")  # fmt: skip


@router.get("/roadshows/{event_id}/runs/{run_id}")
def run(event_id: PathId, run_id: PathId, session: SessionDep, _: StaffUser) -> Response:
    """A scheduling run's status (queued / running / done / failed), polled by the page."""
    found = slate_run(session, run_id)
    if found.event_id != event_id:
        raise NotFoundError(f"排程任务 {run_id} 不存在")
    return JSONResponse(run_status(found), headers={"Cache-Control": "no-store"})


@router.get("/roadshows/{event_id}/export.zip")
def export(event_id: PathId, session: SessionDep, _: StaffUser) -> Response:
    """The slate workbook and one calendar per participant, zipped."""
    _roadshow(session, event_id)
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory(prefix="mm-slate-") as folder:
        paths = export_slate(session, event_id, Path(folder))
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in paths:
                archive.write(path, path.name)
    name = f"roadshow-{event_id}.zip"
    return Response(buffer.getvalue(), media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})  # fmt: skip
