"""Queries behind the evaluation figures (表A.1, 表B.1) and the complaint channel (7.2).

Every function returns rows; the counting rules themselves live in `services.evaluation`.
Time windows arrive as UTC datetimes (the service converts Beijing calendar days to them).
"""

from collections.abc import Collection, Sequence
from datetime import date, datetime

from sqlalchemy import func
from sqlmodel import Session, col, or_, select

from models import (
    AppendixBScore,
    Attendance,
    Complaint,
    Deal,
    Enterprise,
    EvaluationPeriod,
    Event,
    EvidenceFile,
    FinancingDemand,
    Institution,
    ListingRecord,
    Match,
    PlanTarget,
    ReportSignoff,
)
from models.reference import (
    ComplaintKind,
    DealStatus,
    DealType,
    EventKind,
    InstitutionKind,
)


def resident_institutions(
    session: Session, kinds: Collection[InstitutionKind], start: date, end: date
) -> Sequence[Institution]:
    """Institutions of `kinds` whose resident agreement overlaps [start, end]."""
    query = (
        select(Institution)
        .where(col(Institution.kind).in_(list(kinds)))
        .where(col(Institution.agreement_start).is_not(None))
        .where(col(Institution.agreement_start) <= end)
        .where(
            or_(col(Institution.agreement_end).is_(None), col(Institution.agreement_end) >= start)
        )
        .order_by(col(Institution.id))
    )
    return session.exec(query).all()


def deals_closed_between(
    session: Session, deal_type: DealType, start: date, end: date
) -> Sequence[tuple[Deal, Match | None]]:
    """Confirmed deals of `deal_type` closed in [start, end], each with its match (None when
    unlinked): a claim no matchmaker confirmed counts nowhere."""
    query = (
        select(Deal, Match)
        .join(Match, col(Deal.match_id) == col(Match.id), isouter=True)
        .where(Deal.status == DealStatus.confirmed)
        .where(Deal.deal_type == deal_type)
        .where(col(Deal.closed_on) >= start)
        .where(col(Deal.closed_on) <= end)
        .order_by(col(Deal.closed_on), col(Deal.id))
    )
    return session.exec(query).all()


def matches_introduced_between(
    session: Session, kinds: Collection[InstitutionKind], since: datetime, before: datetime
) -> Sequence[tuple[Match, int]]:
    """Matches with institutions of `kinds` introduced in [since, before), with the enterprise id."""
    query = (
        select(Match, FinancingDemand.enterprise_id)
        .join(FinancingDemand, col(Match.demand_id) == col(FinancingDemand.id))
        .join(Institution, col(Match.institution_id) == col(Institution.id))
        .where(col(Institution.kind).in_(list(kinds)))
        .where(col(Match.introduced_at) >= since)
        .where(col(Match.introduced_at) < before)
        .order_by(col(Match.introduced_at), col(Match.id))
    )
    return session.exec(query).all()


def listings_between(session: Session, start: date, end: date) -> Sequence[ListingRecord]:
    """Cultivation records whose listing date falls in [start, end]."""
    query = (
        select(ListingRecord)
        .where(col(ListingRecord.listed_on) >= start)
        .where(col(ListingRecord.listed_on) <= end)
        .order_by(col(ListingRecord.listed_on), col(ListingRecord.id))
    )
    return session.exec(query).all()


def coached_unlisted_at(session: Session, day: date) -> Sequence[ListingRecord]:
    """Cultivation records begun by `day` and not listed anywhere by `day`."""
    query = (
        select(ListingRecord)
        .where(col(ListingRecord.coaching_started_on) <= day)
        .where(
            or_(
                col(ListingRecord.listed_on).is_(None),
                col(ListingRecord.listed_board).is_(None),
                col(ListingRecord.listed_on) > day,
            )
        )
        .order_by(col(ListingRecord.id))
    )
    return session.exec(query).all()


def events_between(
    session: Session, kind: EventKind, since: datetime, before: datetime, now: datetime
) -> Sequence[tuple[Event, int]]:
    """Events of `kind` held in the period: starting in [since, before), ended before `before`
    and by `now`, with attendance recorded; each with its attendance count (人次). A roadshow
    scheduled for next week, or one nobody recorded attendance of, is not yet held."""
    attended = (
        select(Attendance.event_id, func.count().label("n"))
        .group_by(col(Attendance.event_id))
        .subquery()
    )
    query = (
        select(Event, attended.c.n)
        .join(attended, attended.c.event_id == col(Event.id))
        .where(Event.kind == kind)
        .where(col(Event.starts_at) >= since)
        .where(col(Event.starts_at) < before)
        .where(col(Event.ends_at) < before, col(Event.ends_at) <= now)
        .order_by(col(Event.starts_at), col(Event.id))
    )
    return [(event, int(n)) for event, n in session.exec(query).all()]


def latest_deal_day(session: Session) -> date | None:
    """The latest close date of any confirmed deal (None when there is none)."""
    query = select(func.max(Deal.closed_on)).where(Deal.status == DealStatus.confirmed)
    return session.exec(query).one()


# --- Appendix B --------------------------------------------------------------------------------


def period_by_name(session: Session, name: str) -> EvaluationPeriod | None:
    """The evaluation period called `name`."""
    return session.exec(select(EvaluationPeriod).where(EvaluationPeriod.name == name)).first()


def period_spanning(session: Session, start: date, end: date) -> EvaluationPeriod | None:
    """The evaluation period whose dates are exactly [start, end] (the first, by id)."""
    query = (
        select(EvaluationPeriod)
        .where(EvaluationPeriod.starts_on == start)
        .where(EvaluationPeriod.ends_on == end)
        .order_by(col(EvaluationPeriod.id))
    )
    return session.exec(query).first()


def scores_for_period(session: Session, period_id: int) -> Sequence[AppendixBScore]:
    """Every 表B.1 score recorded for the period."""
    query = select(AppendixBScore).where(AppendixBScore.period_id == period_id)
    return session.exec(query.order_by(col(AppendixBScore.id))).all()


def score_for_item(session: Session, period_id: int, item_code: str) -> AppendixBScore | None:
    """The score of one 表B.1 item in the period, if recorded."""
    query = (
        select(AppendixBScore)
        .where(AppendixBScore.period_id == period_id)
        .where(AppendixBScore.item_code == item_code)
    )
    return session.exec(query).first()


def survey_ratings_between(
    session: Session, since: datetime, before: datetime
) -> Sequence[Complaint]:
    """Satisfaction surveys with a rating, received in [since, before)."""
    query = (
        select(Complaint)
        .where(Complaint.kind == ComplaintKind.survey)
        .where(col(Complaint.satisfaction).is_not(None))
        .where(col(Complaint.received_at) >= since)
        .where(col(Complaint.received_at) < before)
        .order_by(col(Complaint.id))
    )
    return session.exec(query).all()


# --- the demo tour's overview of the center


def enterprise_codes(session: Session) -> Sequence[str | None]:
    """Every enterprise's USCC."""
    return session.exec(select(Enterprise.uscc)).all()


def first_enterprises(session: Session, limit: int) -> Sequence[Enterprise]:
    """The first ``limit`` enterprises by id."""
    return session.exec(select(Enterprise).order_by(col(Enterprise.id)).limit(limit)).all()


def institutions_by_kind(session: Session) -> list[tuple[str, int]]:
    """(institution kind, count) pairs."""
    query = select(Institution.kind, func.count()).group_by(Institution.kind)
    return [(str(k), n) for k, n in session.exec(query).all()]


def demands_by_type(session: Session) -> list[tuple[str, int]]:
    """(financing type, count) pairs."""
    kind = FinancingDemand.financing_type
    return [(str(t), n) for t, n in session.exec(select(kind, func.count()).group_by(kind)).all()]


def confirmed_deals_by_type(session: Session) -> list[tuple[str, int, float]]:
    """(deal type, count, total amount in 万元) of the confirmed deals."""
    query = select(Deal.deal_type, func.count(), func.sum(Deal.amount_wan))
    query = query.where(Deal.status == DealStatus.confirmed).group_by(Deal.deal_type)
    return [(str(t), n, total) for t, n, total in session.exec(query).all()]


def targets_for_year(session: Session, year: int) -> Sequence[PlanTarget]:
    """The annual plan's targets for `year`."""
    return session.exec(select(PlanTarget).where(PlanTarget.year == year)).all()


def target_for(session: Session, year: int, key: str) -> PlanTarget | None:
    """The target of 表A.1 line `key` for `year`, if the plan sets one."""
    query = select(PlanTarget).where(PlanTarget.year == year, PlanTarget.indicator_key == key)
    return session.exec(query).first()


def evidence_for_period(session: Session, period_id: int) -> Sequence[EvidenceFile]:
    """The evidence files of an evaluation period, by item then upload order."""
    query = (
        select(EvidenceFile)
        .where(EvidenceFile.period_id == period_id)
        .order_by(col(EvidenceFile.item_code), col(EvidenceFile.id))
    )
    return session.exec(query).all()


def signoffs_for_period(session: Session, period_id: int) -> Sequence[ReportSignoff]:
    """The sign-offs of an evaluation period's self-assessment, oldest first."""
    query = (
        select(ReportSignoff)
        .where(ReportSignoff.period_id == period_id)
        .order_by(col(ReportSignoff.id))
    )
    return session.exec(query).all()
