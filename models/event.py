"""Roadshows (投融资路演) and trainings (科技金融培训): sessions, participants and attendance."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import created_at_field, enum_column, json_column, ts_column
from models.reference import EventKind, SlateRunStatus


class EventBase(SQLModel):
    """Fields a client may set on an event."""

    kind: EventKind = Field(sa_column=enum_column(EventKind, index=True))
    title: str = Field(min_length=2, max_length=200)
    starts_at: datetime = Field(sa_column=ts_column())
    ends_at: datetime = Field(sa_column=ts_column())
    venue: str | None = Field(default=None, max_length=200)
    topic: str | None = Field(
        default=None, max_length=100, description="培训主题，如 股改、财务规范"
    )
    rooms: list[str] = Field(default_factory=list, sa_column=json_column())
    slots_per_room: int = Field(default=0, ge=0)
    meeting_tables: int = Field(default=0, ge=0)
    min_contacts_per_enterprise: int = Field(default=0, ge=0)


class Event(EventBase, table=True):
    """A roadshow or training the center runs."""

    __tablename__ = "event"
    __table_args__ = (CheckConstraint("ends_at >= starts_at", name="time_order"),)

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = created_at_field()
    signin_token: str | None = Field(
        default=None, max_length=64, description="扫码签到链接中的密钥（活动结束后失效）"
    )


class EventSession(SQLModel, table=True):
    """A time block of an event."""

    __tablename__ = "event_session"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="time_order"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=100)
    starts_at: datetime = Field(sa_column=ts_column())
    ends_at: datetime = Field(sa_column=ts_column())


class EventParticipant(SQLModel, table=True):
    """An enterprise applying to pitch, or an institution registering as investor/attendee."""

    __tablename__ = "event_participant"
    __table_args__ = (
        UniqueConstraint("event_id", "enterprise_id", "institution_id"),
        CheckConstraint(
            "enterprise_id IS NOT NULL OR institution_id IS NOT NULL", name="has_party"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True, ondelete="CASCADE")
    enterprise_id: int | None = Field(default=None, foreign_key="enterprise.id", index=True)
    institution_id: int | None = Field(default=None, foreign_key="institution.id", index=True)
    role: str = Field(max_length=20, description="presenter | investor | attendee")
    status: str = Field(default="applied", max_length=20, description="applied|accepted|cancelled")
    interests: list[str] = Field(default_factory=list, sa_column=json_column())
    must_meet: list[int] = Field(default_factory=list, sa_column=json_column())
    no_thanks: list[int] = Field(default_factory=list, sa_column=json_column())
    available_session_ids: list[int] = Field(default_factory=list, sa_column=json_column())


class Attendance(SQLModel, table=True):
    """One person attending one event (人次 counts these rows)."""

    __tablename__ = "attendance"
    __table_args__ = (UniqueConstraint("event_id", "person_key"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True, ondelete="CASCADE")
    person_key: str = Field(max_length=120, description="签到人标识（姓名+单位 或 手机号摘要）")
    person_name: str | None = Field(default=None, max_length=50)
    enterprise_id: int | None = Field(default=None, foreign_key="enterprise.id", index=True)
    institution_id: int | None = Field(default=None, foreign_key="institution.id")
    checked_in_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))


class EventRegistration(SQLModel, table=True):
    """One person registered for, or signed in at, an event (name, organisation, phone).

    A person is one phone number per event; signing in sets `checked_in_at` and adds the
    `Attendance` row that 人次 counts. `consent_at` is when they agreed to the processing of
    their personal information (required).
    """

    __tablename__ = "event_registration"
    __table_args__ = (UniqueConstraint("event_id", "phone"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True, ondelete="CASCADE")
    name: str = Field(min_length=2, max_length=30, description="姓名")
    organisation: str = Field(min_length=2, max_length=100, description="单位")
    phone: str = Field(min_length=11, max_length=11, description="手机号")
    source: str = Field(max_length=12, description="staff（工作人员登记）| signin（扫码签到）")
    consent_at: datetime = Field(sa_column=ts_column())
    registered_at: datetime = Field(sa_column=ts_column())
    checked_in_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))


class SlateItem(SQLModel, table=True):
    """One placed item of a drawn roadshow slate: a pitch, a seat in a room, or a 1:1 meeting."""

    __tablename__ = "slate_item"

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True, ondelete="CASCADE")
    item_type: str = Field(max_length=12, description="pitch | attendance | meeting")
    enterprise_id: int | None = Field(default=None, foreign_key="enterprise.id")
    institution_id: int | None = Field(default=None, foreign_key="institution.id")
    room: str | None = Field(default=None, max_length=40)
    table_no: int | None = None
    starts_at: datetime = Field(sa_column=ts_column())
    ends_at: datetime = Field(sa_column=ts_column())
    confirmed: bool = False


class SlateRun(SQLModel, table=True):
    """One request to draw an event's slate, run by a worker (`roadshow.schedule`).

    The console and the CLI create it `queued` and wait on it; the worker marks it `running`,
    then `done` with the slate (`result`, the `schedule --json` document and a summary) or
    `failed` with the reason in `message`.
    """

    __tablename__ = "slate_run"

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True, ondelete="CASCADE")
    status: SlateRunStatus = Field(
        default=SlateRunStatus.queued, sa_column=enum_column(SlateRunStatus)
    )
    time_limit_s: float = Field(gt=0)
    requested_by: str = Field(max_length=100)
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    message: str | None = Field(default=None, max_length=500)
    created_at: datetime = created_at_field()
    started_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    finished_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
