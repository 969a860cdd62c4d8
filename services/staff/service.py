"""Staff (standard 5.3.2, 6.2.2): the roster of console users with their post, qualification
certificates and training records, and each matchmaker's workload and results for a period.
Accounts themselves (disable, enable, role) stay in `services.accounts`. None of these commits.

Workload counts the pipeline moves a user made (引荐 = moves to 已引荐, 约见 = moves to 已约见)
and the confirmed deals linked to a match the user introduced (成交, 金额).
"""

import math
import re
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from models import StaffProfile, StaffQualification, TrainingRecord, User
from models.base import utcnow
from models.clock import center_today
from models.crud import add, create, validated
from models.errors import DomainError, NotFoundError
from models.reference import PipelineStage, UserRole
from services.accounts import service as accounts
from services.audit.repository import append_audit
from services.evaluation import Period
from services.staff import repository as repo

STAFF_ROLES = (UserRole.admin, UserRole.matchmaker)
_PERIOD = re.compile(r"^(\d{4})(?:[Qq]([1-4]))?$")


def parse_period(text: str) -> Period:
    """ "2026" → the year; "2026Q2" → that quarter."""
    found = _PERIOD.match(text.strip())
    if found is None:
        raise DomainError(
            f"期间“{text}”无效，应为年份（如 2026）或季度（如 2026Q2）", field="period"
        )
    year, quarter = int(found[1]), found[2]
    if not 2000 <= year <= 2100:
        raise DomainError(f"期间年份 {year} 超出 2000–2100", field="period")
    return Period.quarter(year, int(quarter)) if quarter else Period.year(year)


@dataclass(frozen=True)
class RosterRow:
    """One staff member on the roster."""

    user: User
    profile: StaffProfile | None
    training_hours: float  # in the calendar year of `roster`'s day


def roster(session: Session, year: int) -> list[RosterRow]:
    """Staff users (admins, matchmakers) with their post and training hours in `year`."""
    posts = repo.profiles(session)
    cal = Period.year(year)
    hours = repo.training_hours(session, cal.start, cal.end)
    return [RosterRow(u, posts.get(u.id or 0), hours.get(u.id or 0, 0.0))
            for u in accounts.list_users(session) if u.role in STAFF_ROLES]  # fmt: skip


@dataclass(frozen=True)
class StaffFile:
    """A staff member's profile page."""

    user: User
    profile: StaffProfile | None
    qualifications: list[StaffQualification]
    trainings: list[TrainingRecord]

    @property
    def training_hours(self) -> float:
        """Hours of every recorded training."""
        return round(math.fsum(t.hours for t in self.trainings), 1)


def staff_user(session: Session, user_id: int) -> User:
    """A staff user, or a Chinese not-found error (other roles have no staff file)."""
    user = session.get(User, user_id)
    if user is None or user.role not in STAFF_ROLES:
        raise NotFoundError(f"工作人员 {user_id} 不存在", field="user_id")
    return user


def staff_file(session: Session, user_id: int) -> StaffFile:
    """Profile, certificates and trainings of one staff member."""
    user = staff_user(session, user_id)
    return StaffFile(user, repo.profiles(session).get(user_id),
                     list(repo.qualifications(session, user_id)),
                     list(repo.trainings(session, user_id)))  # fmt: skip


def set_post(
    session: Session, user_id: int, post: str, duties: str | None, actor: str
) -> StaffProfile:
    """Set a staff member's post (岗位) and duties."""
    staff_user(session, user_id)
    if not post.strip():
        raise DomainError("请填写岗位", field="post")
    profile = session.get(StaffProfile, user_id)
    if profile is None:
        profile = create(session, StaffProfile, {"user_id": user_id, "post": post.strip(),
                                                 "duties": duties})  # fmt: skip
    else:
        profile.post, profile.duties, profile.updated_at = post.strip(), duties, utcnow()
        session.add(profile)
        session.flush()
    append_audit(session, actor=actor, action="set_post", entity="app_user", entity_id=user_id,
                 detail={"post": profile.post})  # fmt: skip
    return profile


def add_qualification(
    session: Session, user_id: int, data: dict[str, Any], actor: str
) -> StaffQualification:
    """Record a qualification certificate (资格证书)."""
    staff_user(session, user_id)
    record = validated(StaffQualification, data | {"user_id": user_id})
    if record.expires_on is not None and record.expires_on < record.obtained_on:
        raise DomainError(f"证书有效期至 {record.expires_on} 早于取得日期 {record.obtained_on}",
                          field="expires_on")  # fmt: skip
    row = add(session, record)
    append_audit(session, actor=actor, action="add_qualification", entity="app_user",
                 entity_id=user_id, detail={"name": row.name})  # fmt: skip
    return row


def add_training(
    session: Session, user_id: int, data: dict[str, Any], actor: str
) -> TrainingRecord:
    """Record a training (培训记录: date, topic, hours)."""
    staff_user(session, user_id)
    record = validated(TrainingRecord, data | {"user_id": user_id})
    if record.day > center_today():
        raise DomainError(f"培训日期 {record.day} 晚于今天", field="day")
    row = add(session, record)
    append_audit(session, actor=actor, action="add_training", entity="app_user",
                 entity_id=user_id, detail={"day": row.day.isoformat(), "topic": row.topic,
                                            "hours": row.hours})  # fmt: skip
    return row


@dataclass
class Workload:
    """One user's work and results in a period."""

    username: str
    introductions: int = 0
    meetings: int = 0
    deals: int = 0
    amount_wan: float = 0.0

    def as_json(self) -> dict[str, Any]:
        """The row of `staff workload --json`."""
        return {"username": self.username, "introductions": self.introductions,
                "meetings": self.meetings, "deals": self.deals,
                "amount_wan": round(self.amount_wan, 2)}  # fmt: skip


def workload(session: Session, period: Period) -> list[Workload]:
    """Per staff user (and any other actor who moved matches): introductions, meetings, deals
    and their amount in the period, busiest first."""
    rows = {u.user.username: Workload(u.user.username) for u in roster(session, period.start.year)}
    since, before = period.utc_bounds()
    for actor, stage, count in repo.moves_by_actor(session, since, before):
        row = rows.setdefault(actor, Workload(actor))
        if PipelineStage(stage) == PipelineStage.introduced:
            row.introductions += count
        elif PipelineStage(stage) == PipelineStage.meeting:
            row.meetings += count
    seen: set[int] = set()
    for deal, actor in repo.deals_by_introducer(session, period.start, period.end):
        if deal.id in seen:  # introduced twice: the first introducer keeps it
            continue
        seen.add(deal.id or 0)
        row = rows.setdefault(actor, Workload(actor))
        row.deals += 1
        row.amount_wan = math.fsum((row.amount_wan, deal.amount_wan))
    return sorted(rows.values(), key=lambda w: (-w.deals, -w.introductions, w.username))
