"""路演排程 service: build the solver's inputs from an event, persist its slate, export it.

Re-solving keeps confirmed items; exports are one `.xlsx` and one `.ics` per participant.
It never commits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from icalendar import Calendar
from icalendar import Event as IcsEvent
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from sqlmodel import Session

from ingestion.safe_cells import append_row
from matching.slate import (
    Meeting,
    Pitch,
    Seat,
    SlateEnterprise,
    SlateInvestor,
    SlateItem,
    SlateProblem,
    SlateResult,
    SlateSession,
    SolverParams,
    interest_fit,
    solve_slate,
)
from models.clock import center_zone
from models.enterprise import Enterprise
from models.errors import DomainError, NotFoundError
from models.event import Event, EventParticipant, EventSession
from models.event import SlateItem as SlateRow
from models.reference import EventKind
from services.audit.repository import append_audit
from services.recommendations.published import served_ranker
from services.recommendations.service import rank_demands_for_institutions
from services.roadshow import repository as repo

FitFn = Callable[[Session, Sequence[int], Sequence[int]], np.ndarray]
"""(session, enterprise_ids, institution_ids) → fit in [0, 1], shape (enterprises, institutions)."""


@dataclass
class LoadedEvent:
    """An event's rows and the solver input built from them."""

    event: Event
    sessions: list[EventSession]
    presenters: list[EventParticipant]
    investors: list[EventParticipant]
    problem: SlateProblem


def _utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


# ─── loading ───────────────────────────────────────────────────────────────────────────────────
def event_of(session: Session, event_id: int) -> Event:
    """The roadshow event; NotFoundError for any other id."""
    event = session.get(Event, event_id)
    if event is None or event.kind != EventKind.roadshow:
        raise NotFoundError(f"路演活动 {event_id} 不存在")
    return event


def load_event(
    session: Session, event_id: int, fit: FitFn | None = None, keep_previous: bool = False
) -> LoadedEvent:
    """Build the solver input for a roadshow: accepted or applying presenters and investors,
    their availability and wishes, the pair fit, confirmed items (and, on a re-solve, the
    unconfirmed slate to stay close to)."""
    event = event_of(session, event_id)
    sessions = repo.sessions_of(session, event_id)
    presenters = [p for p in repo.participants(session, event_id, "presenter") if p.enterprise_id]
    investors = [p for p in repo.participants(session, event_id, "investor") if p.institution_id]
    ent_ids = [p.enterprise_id for p in presenters if p.enterprise_id is not None]
    inv_ids = [p.institution_id for p in investors if p.institution_id is not None]
    matrix = (fit or _default_fit(investors))(session, ent_ids, inv_ids)
    rows = repo.slate_rows(session, event_id)
    problem = SlateProblem(
        sessions=tuple(SlateSession(s.id or 0, _utc(s.starts_at), _utc(s.ends_at)) for s in sessions),
        rooms=tuple(event.rooms),
        slots_per_room=event.slots_per_room,
        meeting_tables=event.meeting_tables,
        enterprises=tuple(SlateEnterprise(e, frozenset(p.available_session_ids))
                          for e, p in zip(ent_ids, presenters, strict=True)),
        investors=tuple(SlateInvestor(i, frozenset(p.available_session_ids))
                        for i, p in zip(inv_ids, investors, strict=True)),
        fit=np.asarray(matrix, dtype=float).T,
        must_meet=_wishes(presenters, investors, "must_meet"),
        no_thanks=_wishes(presenters, investors, "no_thanks"),
        min_contacts=event.min_contacts_per_enterprise,
        confirmed=tuple(_item(r, sessions) for r in rows if r.confirmed),
        previous=tuple(_item(r, sessions) for r in rows if not r.confirmed) if keep_previous else (),
    )  # fmt: skip
    return LoadedEvent(event, sessions, presenters, investors, problem)


def _wishes(
    presenters: list[EventParticipant], investors: list[EventParticipant], attr: str
) -> frozenset[tuple[int, int]]:
    """(institution, enterprise) pairs from investor rows (enterprise ids) and presenter rows
    (institution ids)."""
    pairs = {(p.institution_id, e) for p in investors for e in getattr(p, attr)}
    pairs |= {(i, p.enterprise_id) for p in presenters for i in getattr(p, attr)}
    return frozenset((i, e) for i, e in pairs if i is not None and e is not None)


def _item(row: SlateRow, sessions: list[EventSession]) -> SlateItem:
    start, end = _utc(row.starts_at), _utc(row.ends_at)
    sid = next((s.id for s in sessions if _utc(s.starts_at) <= start < _utc(s.ends_at)), None) or 0
    if row.item_type == "pitch":
        first = next((_utc(s.starts_at) for s in sessions if s.id == sid), start)
        slot = (start - first) // (end - start)  # pitches of a session are back to back
        return Pitch(row.enterprise_id or 0, sid, row.room or "", slot, start, end)
    if row.item_type == "attendance":
        return Seat(row.institution_id or 0, sid, row.room or "", start, end)
    return Meeting(row.institution_id or 0, row.enterprise_id or 0, row.table_no or 0, start, end)


def _interest_fit(investors: list[EventParticipant]) -> FitFn:
    """The default fit: the investors' sector interests for this event and their mandates'
    stages against each enterprise's industry code and stage (see `interest_fit`)."""
    interests = {p.institution_id: list(p.interests) for p in investors}

    def fit(session: Session, ent_ids: Sequence[int], inv_ids: Sequence[int]) -> np.ndarray:
        ents = repo.enterprises(session, ent_ids)
        stages = repo.mandate_stages(session, inv_ids)
        matrix = interest_fit(
            [ents[e].industry_code for e in ent_ids],
            [_stage(ents[e]) for e in ent_ids],
            [interests.get(i, []) for i in inv_ids],
            [sorted(stages.get(i, set())) for i in inv_ids],
        )
        return matrix.T

    return fit


def model_fit(session: Session, ent_ids: Sequence[int], inv_ids: Sequence[int]) -> np.ndarray:
    """How the served ranking model scores each investor for each enterprise's best open demand,
    in [0, 1], shape (enterprises, institutions); 0 where it has none the investor can serve."""
    owners = repo.open_demands_of(session, ent_ids)
    ranked = rank_demands_for_institutions(
        session, inv_ids, sorted(owners), model=served_ranker(session)
    )
    row = {e: k for k, e in enumerate(ent_ids)}
    out = np.zeros((len(ent_ids), len(inv_ids)))
    for j, inst in enumerate(inv_ids):
        for demand, score in zip(*ranked.get(inst, ((), ())), strict=True):
            k = row[owners[int(demand)]]
            out[k, j] = max(out[k, j], float(score))
    return np.clip(out, 0.0, 1.0)


def _default_fit(investors: list[EventParticipant]) -> FitFn:
    """Half the investors' stated interests (`interest_fit`), half the served model's score:
    the slate ranks pairs with the same model as every other list."""
    interests = _interest_fit(investors)

    def fit(session: Session, ent_ids: Sequence[int], inv_ids: Sequence[int]) -> np.ndarray:
        stated = interests(session, ent_ids, inv_ids)
        return 0.5 * stated + 0.5 * model_fit(session, ent_ids, inv_ids)

    return fit


def _stage(enterprise: Enterprise) -> str | None:
    return enterprise.stage.value if enterprise.stage is not None else None


# ─── solving and persisting ────────────────────────────────────────────────────────────────────
def draw_roadshow_slate(
    session: Session,
    event_id: int,
    params: SolverParams | None = None,
    fit: FitFn | None = None,
    keep_previous: bool = False,
) -> SlateResult:
    """Draw the event's slate and replace its unconfirmed slate items (confirmed ones stay)."""
    loaded = load_event(session, event_id, fit, keep_previous)
    if not loaded.sessions or not loaded.event.rooms:
        raise DomainError("该路演活动尚未设置场次或路演厅，无法排程")
    result = solve_slate(loaded.problem, params)
    if result.status in ("optimal", "feasible"):
        _persist(session, event_id, result)
    return result


def _persist(session: Session, event_id: int, result: SlateResult) -> None:
    repo.delete_unconfirmed(session, event_id)
    kept = {_key(r) for r in repo.slate_rows(session, event_id)}
    for row in _rows(event_id, result):
        if _key(row) not in kept:
            session.add(row)
    session.flush()


def _key(row: SlateRow) -> tuple[Any, ...]:
    return (row.item_type, row.enterprise_id, row.institution_id, row.room, row.table_no,
            _utc(row.starts_at))  # fmt: skip


def _rows(event_id: int, result: SlateResult) -> list[SlateRow]:
    rows = [SlateRow(event_id=event_id, item_type="pitch", enterprise_id=p.enterprise_id,
                     room=p.room, starts_at=p.start, ends_at=p.end)
            for p in result.pitches]  # fmt: skip
    rows += [SlateRow(event_id=event_id, item_type="attendance", institution_id=s.investor_id,
                      room=s.room, starts_at=s.start, ends_at=s.end)
             for s in result.attendance]  # fmt: skip
    rows += [SlateRow(event_id=event_id, item_type="meeting", institution_id=m.investor_id,
                      enterprise_id=m.enterprise_id, table_no=m.table, starts_at=m.start,
                      ends_at=m.end)
             for m in result.meetings]  # fmt: skip
    return rows


def cancel_participant(
    session: Session,
    event_id: int,
    enterprise_id: int | None = None,
    institution_id: int | None = None,
    params: SolverParams | None = None,
    fit: FitFn | None = None,
) -> SlateResult:
    """Cancel a presenter or investor, drop its slate items, and re-solve keeping confirmed
    items and moving as few of the others as possible."""
    row = repo.participant(session, event_id, enterprise_id, institution_id)
    if row is None or (enterprise_id is None and institution_id is None):
        raise NotFoundError("该参与方未报名此路演活动")
    row.status = "cancelled"
    session.add(row)
    repo.delete_items_of(session, event_id, enterprise_id, institution_id)
    session.flush()
    return draw_roadshow_slate(session, event_id, params, fit, keep_previous=True)


def slate_payload(result: SlateResult) -> dict[str, Any]:
    """The `schedule --json` document: exactly the documented keys, ISO times."""
    return {
        "status": result.status,
        "objective": result.objective,
        "bound": result.bound,
        "pitches": [{"enterprise_id": p.enterprise_id, "room": p.room,
                     "start": p.start.isoformat(), "end": p.end.isoformat()}
                    for p in result.pitches],
        "attendance": [{"institution_id": s.investor_id, "room": s.room,
                        "start": s.start.isoformat(), "end": s.end.isoformat()}
                       for s in result.attendance],
        "meetings": [{"institution_id": m.investor_id, "enterprise_id": m.enterprise_id,
                      "table": m.table, "start": m.start.isoformat(), "end": m.end.isoformat()}
                     for m in result.meetings],
        "unplaced": [{"enterprise_id": u.enterprise_id, "reason": u.reason}
                     for u in result.unplaced],
    }  # fmt: skip


# ─── export ────────────────────────────────────────────────────────────────────────────────────
@dataclass
class _Names:
    enterprises: dict[int, str]
    institutions: dict[int, str]

    def ent(self, eid: int | None) -> str:
        return self.enterprises.get(eid or 0, f"企业{eid}")

    def inst(self, iid: int | None) -> str:
        return self.institutions.get(iid or 0, f"机构{iid}")


def _names(session: Session, rows: list[SlateRow]) -> _Names:
    ent_ids = {r.enterprise_id for r in rows if r.enterprise_id}
    inst_ids = {r.institution_id for r in rows if r.institution_id}
    ents = repo.enterprises(session, ent_ids).items()
    return _Names(
        {i: e.short_name or e.legal_name for i, e in ents},
        repo.institution_names(session, inst_ids),
    )


def export_slate(
    session: Session, event_id: int, out_dir: Path, now: datetime | None = None
) -> list[Path]:
    """Write `路演排程-<id>.xlsx` and one `.ics` per enterprise and institution into `out_dir`."""
    event = event_of(session, event_id)
    rows = repo.slate_rows(session, event_id)
    if not rows:
        raise DomainError("该路演活动尚未排程，请先运行排程")
    names = _names(session, rows)
    out_dir.mkdir(parents=True, exist_ok=True)
    book = out_dir / f"路演排程-{event_id}.xlsx"
    _workbook(event, rows, names).save(book)
    stamp = _utc(now or datetime.now(UTC))
    return [book, *_calendars(event, rows, names, out_dir, stamp)]


def _workbook(event: Event, rows: list[SlateRow], names: _Names) -> Workbook:
    book = Workbook()
    grid = book.active
    assert grid is not None
    grid.title = "路演排程"
    append_row(grid, [event.title])
    append_row(grid, ["时间", *event.rooms])
    pitches = [r for r in rows if r.item_type == "pitch"]
    for start in sorted({_utc(r.starts_at) for r in pitches}):
        here = {r.room: r for r in pitches if _utc(r.starts_at) == start}
        end = next(iter(here.values())).ends_at
        cells = [
            names.ent(here[room].enterprise_id) if room in here else "" for room in event.rooms
        ]
        append_row(grid, [f"{_local(start)}–{_local(end, '%H:%M')}", *cells])
    _seats_sheet(book, rows, names)
    _meetings_sheet(book, event, rows, names)
    for sheet in book.worksheets:
        sheet["A1"].font = Font(bold=True)
        sheet.column_dimensions["A"].width = 24
        for letter in "BCDEFGHIJKLMNOP":
            sheet.column_dimensions[letter].width = 22
        for row in sheet.iter_rows():
            for cell in row:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    return book


def _seats_sheet(book: Workbook, rows: list[SlateRow], names: _Names) -> None:
    sheet = book.create_sheet("投资机构座位")
    seats = [r for r in rows if r.item_type == "attendance"]
    blocks = sorted({_utc(r.starts_at) for r in seats})
    append_row(sheet, ["投资机构", *[_local(b) for b in blocks]])
    for inst in sorted({r.institution_id for r in seats}, key=lambda i: names.inst(i)):
        where = {_utc(r.starts_at): r.room for r in seats if r.institution_id == inst}
        append_row(sheet, [names.inst(inst), *[where.get(b, "") for b in blocks]])


def _meetings_sheet(book: Workbook, event: Event, rows: list[SlateRow], names: _Names) -> None:
    sheet = book.create_sheet("一对一会谈")
    meetings = [r for r in rows if r.item_type == "meeting"]
    tables = list(range(1, event.meeting_tables + 1))
    append_row(sheet, ["时间", *[f"第{t}桌" for t in tables]])
    for start in sorted({_utc(r.starts_at) for r in meetings}):
        here = {r.table_no: r for r in meetings if _utc(r.starts_at) == start}
        cells = [f"{names.inst(here[t].institution_id)} × {names.ent(here[t].enterprise_id)}"
                 if t in here else "" for t in tables]  # fmt: skip
        append_row(sheet, [_local(start), *cells])


def _local(dt: datetime, fmt: str = "%m月%d日 %H:%M") -> str:
    """The center's time for people reading the sheet."""
    return _utc(dt).astimezone(center_zone()).strftime(fmt)


def _calendars(
    event: Event, rows: list[SlateRow], names: _Names, out_dir: Path, stamp: datetime
) -> list[Path]:
    parties = sorted({("enterprise", r.enterprise_id) for r in rows if r.enterprise_id}
                     | {("institution", r.institution_id) for r in rows if r.institution_id},
                     key=lambda p: (p[0], p[1] or 0))  # fmt: skip
    paths = []
    for kind, pid in parties:
        mine = [r for r in rows
                if (r.enterprise_id if kind == "enterprise" else r.institution_id) == pid]  # fmt: skip
        path = out_dir / f"{kind}-{pid}.ics"
        path.write_bytes(_calendar(event, mine, names, kind, stamp).to_ical())
        paths.append(path)
    return paths


def _calendar(
    event: Event, rows: list[SlateRow], names: _Names, kind: str, stamp: datetime
) -> Calendar:
    cal = Calendar()
    cal.add("prodid", "-//techfin-matchmaker//路演排程//ZH")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", event.title)
    for row in sorted(rows, key=lambda r: _utc(r.starts_at)):
        item = IcsEvent()
        item.add("uid", f"slate-{event.id}-{row.item_type}-{row.enterprise_id}-"
                        f"{row.institution_id}-{_utc(row.starts_at):%Y%m%dT%H%M}@techfin-matchmaker")  # fmt: skip
        item.add("dtstamp", stamp)
        item.add("dtstart", _utc(row.starts_at))
        item.add("dtend", _utc(row.ends_at))
        item.add("summary", _summary(row, names, kind))
        item.add("location", f"{event.venue or ''} {row.room or ''}".strip())
        cal.add_component(item)
    return cal


def _summary(row: SlateRow, names: _Names, kind: str) -> str:
    if row.item_type == "pitch":
        return f"路演：{names.ent(row.enterprise_id)}（{row.room}）"
    if row.item_type == "attendance":
        return f"听取路演（{row.room}）"
    other = names.inst(row.institution_id) if kind == "enterprise" else names.ent(row.enterprise_id)
    return f"一对一会谈：{other}（第{row.table_no}桌）"


# ─── creating a roadshow from the console form ────────────────────────────────────────────────
HALF_DAYS = ((time(9, 0), time(12, 0), "上午"), (time(14, 0), time(17, 30), "下午"))


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
    """Create the roadshow with morning and afternoon sessions on each day and invite, as the
    demo's generator does, the enterprises with open equity or mixed demands (latest first) and
    the resident equity investors (their mandates' sectors as interests)."""
    if not form.rooms:
        raise DomainError("请至少填写一个路演厅", field="rooms")
    local = center_zone()
    last = form.day + timedelta(days=form.days - 1)
    event = Event(kind=EventKind.roadshow, title=form.title, venue=form.venue,
                  starts_at=datetime.combine(form.day, HALF_DAYS[0][0], local),
                  ends_at=datetime.combine(last, HALF_DAYS[1][1], local), rooms=form.rooms,
                  slots_per_room=form.slots_per_room, meeting_tables=form.meeting_tables,
                  min_contacts_per_enterprise=form.min_contacts)  # fmt: skip
    session.add(event)
    session.flush()
    event_id = event.id or 0
    days = [form.day + timedelta(days=n) for n in range(form.days)]
    sessions = [EventSession(event_id=event_id, name=f"{d.month}月{d.day}日{name}",
                             starts_at=datetime.combine(d, start, local),
                             ends_at=datetime.combine(d, end, local))
                for d in days for start, end, name in HALF_DAYS]  # fmt: skip
    session.add_all(sessions)
    session.flush()
    slots = [s.id or 0 for s in sessions]
    ents = repo.equity_seekers(session)[: form.presenters]
    investors = [i for i in repo.equity_investors(session)
                 if i.is_resident_on(form.day)][: form.investors]  # fmt: skip
    sectors: dict[int, list[str]] = {}
    for mandate in repo.mandates_of(session, [i.id or 0 for i in investors]):
        mine = sectors.setdefault(mandate.institution_id, [])
        mine.extend(s for s in mandate.sectors if s not in mine)
    session.add_all([EventParticipant(event_id=event_id, enterprise_id=e, role="presenter",
                                      status="accepted", available_session_ids=slots)
                     for e in ents])  # fmt: skip
    session.add_all([EventParticipant(event_id=event_id, institution_id=i.id, role="investor",
                                      status="accepted", available_session_ids=slots,
                                      interests=sectors.get(i.id or 0, []))
                     for i in investors])  # fmt: skip
    session.flush()
    append_audit(session, actor=actor, action="create", entity="event", entity_id=event.id)
    return event
