"""Registration and check-in: staff register people; people sign in through the event's QR link.

The link carries a per-event secret token; it opens `OPENS_BEFORE` the start and closes
`CLOSES_AFTER` the end. A person is one mainland mobile number per event: signing in (or a staff
check-in) adds the `Attendance` row the 人次 of 表A.1 count, which counts only events that have
taken place (`services.evaluation.repository.events_between`). Every input is checked before
anything is written, so a refused sign-in leaves the database as it was.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from models import Attendance, Event, EventRegistration
from models.crud import get_or_404
from models.errors import ConflictError, DomainError, NotFoundError
from models.reference import EventKind
from services.accounts.repository import reserve_attempt
from services.audit.repository import append_audit, create_audited
from services.events import repository as repo

OPENS_BEFORE = timedelta(hours=2)
CLOSES_AFTER = timedelta(hours=2)
KINDS = (EventKind.roadshow, EventKind.training)
ATTEMPTS_PER_WINDOW = 30  # sign-in posts per source address and window (a hall shares one NAT)
ATTEMPT_WINDOW_S = 600.0
_PHONE = re.compile(r"1[3-9]\d{9}")
_NAME = re.compile(r"[\u4e00-\u9fffA-Za-z·• .'-]{2,30}")
_FORBIDDEN = re.compile(r"[<>{}\\`$|;]")


class TooManyAttempts(DomainError):
    """Too many sign-in attempts from one source."""

    status_code = 429


@dataclass(frozen=True)
class Person:
    """What a person gives to register or sign in (checked by `check_person`)."""

    name: str
    organisation: str
    phone: str
    consent: bool


def _clean(text: str) -> str:
    return text.strip()


def check_person(raw: Person) -> Person:
    """The person with normalised fields; `DomainError` naming the field in Chinese otherwise."""
    name, organisation = _clean(raw.name), _clean(raw.organisation)
    phone = re.sub(r"[\s-]", "", unicodedata.normalize("NFKC", raw.phone)).removeprefix("+86")
    if not _NAME.fullmatch(name):
        raise DomainError("姓名应为2–30个汉字或字母", field="name")
    bad = any(unicodedata.category(c).startswith("C") for c in organisation)
    if not 2 <= len(organisation) <= 100 or bad or _FORBIDDEN.search(organisation):
        raise DomainError("单位名称应为2–100个字符，且不含特殊符号", field="organisation")
    if not _PHONE.fullmatch(phone):
        raise DomainError("手机号应为11位中国大陆手机号码", field="phone")
    if not raw.consent:
        raise DomainError("须同意《个人信息处理说明》后方可登记或签到", field="consent")
    return Person(name, organisation, phone, True)


def masked(phone: str) -> str:
    """138****1234."""
    return phone[:3] + "****" + phone[-4:]


def person_key(phone: str) -> str:
    """The attendance key of a phone number (its digest: the key never shows the number)."""
    return "phone:" + hashlib.sha256(phone.encode()).hexdigest()[:24]


def count_attempt(session: Session, source: str, now: datetime) -> None:
    """Count one sign-in post from `source`; `TooManyAttempts` past the window's allowance.

    The count lives in the login throttle's table (key `signin:<source>`) and is meant to be
    committed even when the attempt is refused (the route renders the refusal, not raises it).
    """
    epoch = now.timestamp()
    if (
        reserve_attempt(session, f"signin:{source}", epoch, epoch - ATTEMPT_WINDOW_S)
        > ATTEMPTS_PER_WINDOW
    ):
        raise TooManyAttempts("提交过于频繁，请稍后再试或请工作人员协助签到")


# --- events ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventForm:
    """A roadshow or training as the console creates it."""

    kind: EventKind
    title: str
    starts_at: datetime
    ends_at: datetime
    venue: str | None = None
    topic: str | None = None


def create_event(session: Session, form: EventForm, actor: str) -> Event:
    """Create a roadshow or training (audited) with its sign-in token."""
    if form.kind not in KINDS:
        raise DomainError("活动类型应为路演或培训", field="kind")
    if form.ends_at <= form.starts_at:
        raise DomainError("结束时间应晚于开始时间", field="ends_at")
    data = {"kind": form.kind, "title": _clean(form.title), "starts_at": form.starts_at,
            "ends_at": form.ends_at, "venue": form.venue, "topic": form.topic,
            "signin_token": secrets.token_urlsafe(24)}  # fmt: skip
    return create_audited(session, Event, data, actor=actor, entity="event")


def signin_token(session: Session, event: Event) -> str:
    """The event's sign-in token (created for events made before sign-in existed)."""
    if event.signin_token is None:
        event.signin_token = secrets.token_urlsafe(24)
        session.add(event)
        session.flush()
    return event.signin_token


def window(event: Event) -> tuple[datetime, datetime]:
    """When the sign-in link works."""
    return event.starts_at - OPENS_BEFORE, event.ends_at + CLOSES_AFTER


def event_for_token(session: Session, event_id: int, token: str, now: datetime) -> Event:
    """The event the link names, if the token is its own and sign-in is open now."""
    event = session.get(Event, event_id)
    known = event.signin_token if event is not None else None
    if event is None or known is None or not hmac.compare_digest(known.encode(), token.encode()):
        raise NotFoundError("签到链接无效，请向工作人员索取现场二维码")
    opens, closes = window(event)
    if now < opens:
        raise DomainError(f"签到尚未开始（活动开始前{int(OPENS_BEFORE.seconds / 3600)}小时开放）")
    if now > closes:
        raise DomainError("活动已结束，签到链接已失效")
    return event


# --- registering and signing in --------------------------------------------------------------


def register(
    session: Session, event_id: int, raw: Person, actor: str, now: datetime
) -> EventRegistration:
    """Staff register a person for an event (consent obtained by staff, as the form states)."""
    event = get_or_404(session, Event, event_id)
    person = check_person(raw)
    if repo.registration_by_phone(session, event_id, person.phone) is not None:
        raise ConflictError(f"手机号 {masked(person.phone)} 已登记本活动", field="phone")
    row = _registration(event, person, "staff", now)
    session.add(row)
    session.flush()
    append_audit(session, actor=actor, action="create", entity="event_registration",
                 entity_id=row.id, detail={"event_id": event_id})  # fmt: skip
    return row


def _registration(event: Event, person: Person, source: str, now: datetime) -> EventRegistration:
    return EventRegistration(event_id=event.id or 0, name=person.name,
                             organisation=person.organisation, phone=person.phone, source=source,
                             consent_at=now, registered_at=now)  # fmt: skip


def _attend(session: Session, row: EventRegistration, now: datetime) -> Attendance:
    key = person_key(row.phone)
    if row.checked_in_at is not None or repo.attendance_of(session, row.event_id, key):
        raise ConflictError(f"{row.name}（{masked(row.phone)}）已签到", field="phone")
    row.checked_in_at = now
    attendance = Attendance(event_id=row.event_id, person_key=key, person_name=row.name,
                            checked_in_at=now)  # fmt: skip
    session.add_all([row, attendance])
    session.flush()
    return attendance


def sign_in(
    session: Session, event_id: int, token: str, raw: Person, now: datetime
) -> EventRegistration:
    """A person signs in through the QR link: registered or not, one attendance per phone."""
    event = event_for_token(session, event_id, token, now)
    person = check_person(raw)
    row = repo.registration_by_phone(session, event_id, person.phone)
    if row is not None and row.checked_in_at is not None:
        raise ConflictError("该手机号已签到，无需重复签到", field="phone")
    if row is None:
        row = _registration(event, person, "signin", now)
    else:
        row.consent_at = now
    _attend(session, row, now)
    append_audit(session, actor="signin", action="check_in", entity="event_registration",
                 entity_id=row.id, detail={"event_id": event_id})  # fmt: skip
    return row


def check_in(
    session: Session, event_id: int, registration_id: int, actor: str, now: datetime
) -> EventRegistration:
    """Staff check in a person registered for the event at the desk."""
    row = session.get(EventRegistration, registration_id)
    if row is None or row.event_id != event_id:
        raise NotFoundError(f"活动 {event_id} 没有登记记录 {registration_id}")
    _attend(session, row, now)
    append_audit(session, actor=actor, action="check_in", entity="event_registration",
                 entity_id=row.id, detail={"event_id": row.event_id})  # fmt: skip
    return row
