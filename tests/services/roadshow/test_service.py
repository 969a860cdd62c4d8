"""路演排程 service on a real database: persistence, confirmed items, cancellation and export."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from icalendar import Calendar
from openpyxl import load_workbook
from sqlmodel import Session, select

from matching.slate import SolverParams, check_slate
from models.errors import NotFoundError
from models.event import Event, EventParticipant, EventSession, SlateItem
from models.reference import EventKind
from services.roadshow.service import (
    cancel_participant,
    draw_roadshow_slate,
    export_slate,
    load_event,
    slate_payload,
)
from tests import factories

FAST = SolverParams(time_limit_s=1.0, num_workers=1)
DAY = datetime(2026, 7, 21, 1, 30, tzinfo=UTC)


def make_roadshow(session: Session) -> Event:
    """2 sessions × 2 rooms × 2 slots, 2 tables; 6 enterprises, 4 investors with wishes."""
    event = Event(kind=EventKind.roadshow, title="测试路演专场", starts_at=DAY,
                  ends_at=DAY + timedelta(hours=5), rooms=["A厅", "B厅"], slots_per_room=2,
                  meeting_tables=2, min_contacts_per_enterprise=1, venue="科技金融服务中心")  # fmt: skip
    session.add(event)
    session.flush()
    assert event.id is not None
    blocks = [EventSession(event_id=event.id, name=f"场次{k + 1}",
                           starts_at=DAY + timedelta(hours=3 * k),
                           ends_at=DAY + timedelta(hours=3 * k, minutes=90)) for k in range(2)]  # fmt: skip
    session.add_all(blocks)
    codes = ["C27", "C27", "I65", "I65", "C39", "M73"]
    ents = [factories.enterprise(session, industry_code=c) for c in codes]
    insts = [factories.institution(session) for _ in range(4)]
    factories.mandate(session, insts[0], stages=["growth"])
    session.flush()
    ids = [s.id or 0 for s in blocks]
    session.add_all(
        [EventParticipant(event_id=event.id, enterprise_id=e.id, role="presenter",
                          status="accepted", available_session_ids=ids) for e in ents]
        + [EventParticipant(event_id=event.id, institution_id=i.id, role="investor",
                            status="accepted", interests=[["C27"], ["I65"], ["C"], ["M73", "I"]][k],
                            must_meet=[ents[0].id or 0] if k == 0 else [],
                            no_thanks=[ents[5].id or 0] if k == 0 else [], available_session_ids=ids)
           for k, i in enumerate(insts)]
    )  # fmt: skip
    session.flush()
    return event


def items(session: Session, event_id: int) -> list[SlateItem]:
    return list(session.exec(select(SlateItem).where(SlateItem.event_id == event_id)).all())


def test_draw_persists_a_valid_slate(session: Session) -> None:
    event = make_roadshow(session)
    assert event.id is not None
    result = draw_roadshow_slate(session, event.id, FAST)
    assert check_slate(load_event(session, event.id).problem, result) == []
    rows = items(session, event.id)
    kinds = [r.item_type for r in rows]
    assert kinds.count("pitch") == len(result.pitches) == 6
    assert kinds.count("meeting") == len(result.meetings) > 0
    assert kinds.count("attendance") == len(result.attendance)
    payload = slate_payload(result)
    assert list(payload) == ["status", "objective", "bound", "pitches", "attendance", "meetings",
                             "unplaced"]  # fmt: skip
    assert datetime.fromisoformat(payload["pitches"][0]["start"]).tzinfo is not None


def test_redraw_keeps_confirmed_items_and_replaces_the_rest(session: Session) -> None:
    event = make_roadshow(session)
    assert event.id is not None
    draw_roadshow_slate(session, event.id, FAST)
    first = items(session, event.id)
    pinned = [r for r in first if r.item_type == "pitch"][:2]
    for row in pinned:
        row.confirmed = True
    session.flush()
    draw_roadshow_slate(session, event.id, FAST)
    again = items(session, event.id)
    assert all(r in again for r in pinned)
    assert sum(r.confirmed for r in again) == 2
    assert len([r for r in again if r.item_type == "pitch"]) == 6


def test_cancellation_drops_the_party_and_moves_few_others(session: Session) -> None:
    event = make_roadshow(session)
    assert event.id is not None
    draw_roadshow_slate(session, event.id, FAST)
    gone = next(r.enterprise_id for r in items(session, event.id) if r.item_type == "pitch")
    result = cancel_participant(session, event.id, enterprise_id=gone, params=FAST)
    assert gone not in {r.enterprise_id for r in items(session, event.id)}
    assert result.moved <= 2 and len(result.pitches) == 5
    with pytest.raises(NotFoundError):
        cancel_participant(session, event.id, enterprise_id=999_999, params=FAST)


def test_export_writes_a_workbook_and_calendars(session: Session, tmp_path: Path) -> None:
    event = make_roadshow(session)
    assert event.id is not None
    result = draw_roadshow_slate(session, event.id, FAST)
    paths = export_slate(session, event.id, tmp_path, now=DAY)
    book = load_workbook(paths[0])
    assert book.sheetnames == ["路演排程", "投资机构座位", "一对一会谈"]
    grid = book["路演排程"]
    assert [c.value for c in grid[2]] == ["时间", "A厅", "B厅"]
    assert sum(1 for row in grid.iter_rows(min_row=3) for c in row[1:] if c.value) == 6
    calendars = [p for p in paths if p.suffix == ".ics"]
    assert len(calendars) == 6 + len({s.investor_id for s in result.attendance}
                                     | {m.investor_id for m in result.meetings})  # fmt: skip
    for path in calendars:
        cal = Calendar.from_ical(path.read_bytes())
        events = cal.walk("VEVENT")
        assert events and all(e.get("dtstart").dt.tzinfo is not None for e in events)
        assert all(str(e.get("summary")) for e in events)
