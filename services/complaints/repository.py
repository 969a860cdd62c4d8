"""Queries of the complaint channel (7.2): complaints and their improvement measures."""

from collections.abc import Collection, Sequence
from datetime import date, datetime

from sqlalchemy import or_
from sqlmodel import Session, col, select

from models import Complaint, ImprovementMeasure
from models.reference import ComplaintKind, ComplaintStatus


def list_complaints(
    session: Session,
    *,
    statuses: Collection[ComplaintStatus] | None = None,
    kinds: Collection[ComplaintKind] | None = None,
    limit: int | None = None,
) -> Sequence[Complaint]:
    """Complaints filtered by status and kind, newest first."""
    query = select(Complaint)
    if statuses is not None:
        query = query.where(col(Complaint.status).in_(list(statuses)))
    if kinds is not None:
        query = query.where(col(Complaint.kind).in_(list(kinds)))
    query = query.order_by(col(Complaint.received_at).desc(), col(Complaint.id).desc())
    return session.exec(query.limit(limit) if limit else query).all()


def complaints_of_enterprise(session: Session, enterprise_id: int) -> Sequence[Complaint]:
    """The enterprise's records, newest first."""
    query = select(Complaint).where(Complaint.enterprise_id == enterprise_id)
    return session.exec(query.order_by(col(Complaint.id).desc())).all()


def survey_of_match(session: Session, match_id: int) -> Complaint | None:
    """The survey answer about a match, if one was given."""
    query = select(Complaint).where(
        Complaint.match_id == match_id, Complaint.kind == ComplaintKind.survey
    )
    return session.exec(query).first()


def measures_for(session: Session, complaint_ids: Collection[int]) -> Sequence[ImprovementMeasure]:
    """Improvement measures of the given complaints, by due date."""
    if not complaint_ids:
        return []
    query = (
        select(ImprovementMeasure)
        .where(col(ImprovementMeasure.complaint_id).in_(list(complaint_ids)))
        .order_by(col(ImprovementMeasure.due_on), col(ImprovementMeasure.id))
    )
    return session.exec(query).all()


def cases_open_at(
    session: Session, kinds: Collection[ComplaintKind], before: datetime
) -> Sequence[Complaint]:
    """Cases of `kinds` received before `before` and not resolved before it, oldest first."""
    query = (
        select(Complaint)
        .where(col(Complaint.kind).in_(list(kinds)))
        .where(col(Complaint.received_at) < before)
        .where(or_(col(Complaint.resolved_at).is_(None), col(Complaint.resolved_at) >= before))
        .order_by(col(Complaint.received_at), col(Complaint.id))
    )
    return session.exec(query).all()


def measures_open_on(session: Session, day: date, before: datetime) -> Sequence[ImprovementMeasure]:
    """Measures of cases received before `before`, not done by `day`, by due date."""
    received = select(Complaint.id).where(col(Complaint.received_at) < before)
    query = (
        select(ImprovementMeasure)
        .where(col(ImprovementMeasure.complaint_id).in_(received))
        .where(
            or_(col(ImprovementMeasure.done_on).is_(None), col(ImprovementMeasure.done_on) > day)
        )
        .order_by(col(ImprovementMeasure.due_on), col(ImprovementMeasure.id))
    )
    return session.exec(query).all()
