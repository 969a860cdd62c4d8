"""Queries of the institutions area: commitments, the ledger behind their actuals, agreement
history and yearly evaluations. The rules live in `services.institutions.service`."""

from collections.abc import Sequence
from datetime import date, datetime

from sqlmodel import Session, col, or_, select

from models import (
    AgreementPeriod,
    Attendance,
    Deal,
    Event,
    Institution,
    InstitutionEvaluation,
    Match,
    ServiceCommitment,
)
from models.reference import DealStatus, EventKind


def commitments(session: Session, institution_id: int, year: int) -> Sequence[ServiceCommitment]:
    """The commitments signed for `year` (and those signed for every year, `year` empty)."""
    query = (
        select(ServiceCommitment)
        .where(ServiceCommitment.institution_id == institution_id)
        .where(or_(col(ServiceCommitment.year).is_(None), ServiceCommitment.year == year))
        .order_by(col(ServiceCommitment.id))
    )
    return session.exec(query).all()


def confirmed_deals(
    session: Session, institution_id: int, start: date, end: date
) -> Sequence[tuple[Deal, Match | None]]:
    """The institution's confirmed deals closed in [start, end], each with its match."""
    query = (
        select(Deal, Match)
        .join(Match, col(Deal.match_id) == col(Match.id), isouter=True)
        .where(Deal.institution_id == institution_id)
        .where(Deal.status == DealStatus.confirmed)
        .where(col(Deal.closed_on) >= start)
        .where(col(Deal.closed_on) <= end)
        .order_by(col(Deal.closed_on), col(Deal.id))
    )
    return session.exec(query).all()


def roadshows_attended(
    session: Session, institution_id: int, since: datetime, before: datetime
) -> Sequence[Event]:
    """Roadshows held in [since, before) that someone of the institution attended."""
    attended = select(Attendance.event_id).where(Attendance.institution_id == institution_id)
    query = (
        select(Event)
        .where(Event.kind == EventKind.roadshow)
        .where(col(Event.id).in_(attended))
        .where(col(Event.starts_at) >= since)
        .where(col(Event.starts_at) < before)
        .order_by(col(Event.starts_at))
    )
    return session.exec(query).all()


def agreement_history(session: Session, institution_id: int) -> Sequence[AgreementPeriod]:
    """Earlier agreement periods, oldest first."""
    query = (
        select(AgreementPeriod)
        .where(AgreementPeriod.institution_id == institution_id)
        .order_by(col(AgreementPeriod.starts_on))
    )
    return session.exec(query).all()


def evaluations(session: Session, institution_id: int) -> Sequence[InstitutionEvaluation]:
    """The institution's yearly evaluations, latest year first."""
    query = (
        select(InstitutionEvaluation)
        .where(InstitutionEvaluation.institution_id == institution_id)
        .order_by(col(InstitutionEvaluation.year).desc())
    )
    return session.exec(query).all()


def evaluation_of(session: Session, institution_id: int, year: int) -> InstitutionEvaluation | None:
    """The evaluation of one year, if made."""
    query = (
        select(InstitutionEvaluation)
        .where(InstitutionEvaluation.institution_id == institution_id)
        .where(InstitutionEvaluation.year == year)
    )
    return session.exec(query).first()


def institutions(session: Session) -> Sequence[Institution]:
    """Every institution, by name."""
    return session.exec(select(Institution).order_by(col(Institution.name))).all()
