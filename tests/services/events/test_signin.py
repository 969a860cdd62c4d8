"""Registration and QR sign-in: one attendance per phone, hostile input refused, 人次 once held."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from models import Attendance, AuditLog, EventRegistration
from models.errors import ConflictError, DomainError, NotFoundError
from models.reference import EventKind
from services.evaluation.repository import events_between
from services.events.signin import (
    ATTEMPTS_PER_WINDOW,
    EventForm,
    Person,
    TooManyAttempts,
    check_in,
    count_attempt,
    create_event,
    register,
    sign_in,
)
from tests import factories as f

START = datetime(2026, 5, 20, 1, 30, tzinfo=UTC)
DURING = START + timedelta(minutes=20)
GOOD = Person("王小明", "深圳市示例科技有限公司", "139 1234 5678", True)


def _training(session: Session) -> tuple[int, str]:
    form = EventForm(
        EventKind.training, "股改专题培训", START, START + timedelta(hours=3), "中心三楼"
    )
    event = create_event(session, form, "mm")
    assert event.id is not None and event.signin_token
    return event.id, event.signin_token


def _rows(session: Session) -> tuple[int, int, int]:
    return (len(session.exec(select(EventRegistration)).all()),
            len(session.exec(select(Attendance)).all()), len(session.exec(select(AuditLog)).all()))  # fmt: skip


def test_signing_in_once_adds_one_attendance(session: Session) -> None:
    event_id, token = _training(session)
    row = sign_in(session, event_id, token, GOOD, DURING)
    assert (row.phone, row.source, row.checked_in_at) == ("13912345678", "signin", DURING)
    attendance = session.exec(select(Attendance)).one()
    assert attendance.person_name == "王小明" and "13912345678" not in attendance.person_key
    before = _rows(session)
    with pytest.raises(ConflictError, match="已签到"):
        sign_in(session, event_id, token, GOOD, DURING)
    assert _rows(session) == before


@pytest.mark.parametrize(
    ("person", "message"),
    [
        (Person("<script>", "单位", "13912345678", True), "姓名"),
        (Person("王小明", "<img src=x onerror=alert(1)>", "13912345678", True), "单位名称"),
        (Person("王小明", "某公司\x00", "13912345678", True), "单位名称"),
        (Person("王小明", "某公司", "1391234567", True), "手机号"),
        (Person("王小明", "某公司", "23912345678", True), "手机号"),
        (Person("王小明", "某公司", "13912345678", False), "个人信息"),
        (Person("王" * 31, "某公司", "13912345678", True), "姓名"),
    ],
)
def test_hostile_or_incomplete_input_is_refused_in_chinese(
    session: Session, person: Person, message: str
) -> None:
    event_id, token = _training(session)
    before = _rows(session)
    with pytest.raises(DomainError, match=message):
        sign_in(session, event_id, token, person, DURING)
    assert _rows(session) == before


def test_the_link_needs_the_event_token_and_expires_after_the_event(session: Session) -> None:
    event_id, token = _training(session)
    other_id, _ = _training(session)
    with pytest.raises(NotFoundError, match="签到链接无效"):
        sign_in(session, event_id, token[:-1] + "x", GOOD, DURING)
    with pytest.raises(NotFoundError):
        sign_in(session, other_id, token, GOOD, DURING)
    with pytest.raises(DomainError, match="签到尚未开始"):
        sign_in(session, event_id, token, GOOD, START - timedelta(hours=3))
    with pytest.raises(DomainError, match="已失效"):
        sign_in(session, event_id, token, GOOD, START + timedelta(hours=6))
    assert _rows(session)[:2] == (0, 0)


def test_staff_register_then_the_person_signs_in_or_is_checked_in(session: Session) -> None:
    event_id, token = _training(session)
    first = register(session, event_id, GOOD, "mm", START - timedelta(days=2))
    second = register(session, event_id, Person("李四", "某银行深圳分行", "13800000001", True), "mm",
                      START - timedelta(days=1))  # fmt: skip
    with pytest.raises(ConflictError, match="已登记"):
        register(session, event_id, GOOD, "mm", START)
    signed = sign_in(session, event_id, token, GOOD, DURING)
    assert signed.id == first.id and signed.source == "staff" and signed.checked_in_at == DURING
    with pytest.raises(NotFoundError):
        check_in(session, event_id + 1, second.id or 0, "mm", DURING)
    check_in(session, event_id, second.id or 0, "mm", DURING)
    with pytest.raises(ConflictError):
        check_in(session, event_id, second.id or 0, "mm", DURING)
    assert len(session.exec(select(Attendance)).all()) == 2


def test_attendance_counts_only_once_the_event_took_place(session: Session) -> None:
    event_id, token = _training(session)
    sign_in(session, event_id, token, GOOD, DURING)
    year = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    assert events_between(session, EventKind.training, *year, now=DURING) == []
    held = events_between(session, EventKind.training, *year, now=START + timedelta(hours=4))
    assert [(e.id, n) for e, n in held] == [(event_id, 1)]


def test_a_source_posting_too_often_is_throttled(session: Session) -> None:
    for _ in range(ATTEMPTS_PER_WINDOW):
        count_attempt(session, "10.0.0.9", DURING)
    with pytest.raises(TooManyAttempts, match="过于频繁"):
        count_attempt(session, "10.0.0.9", DURING)
    count_attempt(session, "10.0.0.8", DURING)  # another source is not affected
    count_attempt(session, "10.0.0.9", DURING + timedelta(minutes=11))  # a new window


def test_factory_registration_is_valid(session: Session) -> None:
    row = f.registration(session)
    assert row.checked_in_at is None and len(row.phone) == 11
