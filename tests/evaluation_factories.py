"""Factories for the evaluation records: events and attendance, listing records, complaints."""

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlmodel import Session

from models import Attendance, Complaint, Enterprise, Event, ListingRecord
from models.crud import create
from models.reference import Board, ComplaintKind, EventKind, ListingTier

_seq = itertools.count(1)


def event(session: Session, kind: EventKind, starts_at: datetime, **over: Any) -> Event:
    data: dict[str, Any] = {
        "kind": kind,
        "title": f"{kind.label}活动第{next(_seq)}期",
        "starts_at": starts_at,
        "ends_at": starts_at + timedelta(hours=3),
        "venue": "科技金融服务中心路演厅",
    }
    return create(session, Event, data | over)


def attend(session: Session, ev: Event, *person_keys: str) -> list[Attendance]:
    """One attendance row (one 人次) per person key."""
    return [
        create(session, Attendance, {"event_id": ev.id, "person_key": key, "person_name": key})
        for key in person_keys
    ]


def listing(
    session: Session,
    ent: Enterprise,
    coaching_started_on: date,
    listed_board: Board | None = None,
    listed_on: date | None = None,
    **over: Any,
) -> ListingRecord:
    data: dict[str, Any] = {
        "enterprise_id": ent.id,
        "target_board": listed_board or Board.star,
        "tier": ListingTier.listed if listed_on else ListingTier.coaching,
        "coaching_started_on": coaching_started_on,
        "listed_board": listed_board,
        "listed_on": listed_on,
    }
    return create(session, ListingRecord, data | over)


def complaint(
    session: Session, kind: ComplaintKind = ComplaintKind.complaint, **over: Any
) -> Complaint:
    data: dict[str, Any] = {
        "kind": kind,
        "content": f"测试事项{next(_seq)}：对接反馈不及时",
        "submitter": "企业联系人",
        "received_at": datetime(2025, 6, 1, 2, tzinfo=UTC),
    }
    return create(session, Complaint, data | over)
