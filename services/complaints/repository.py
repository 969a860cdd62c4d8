"""Queries of the complaint channel (7.2): complaints and their improvement measures."""

from collections.abc import Collection, Sequence

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


def open_measures(session: Session) -> Sequence[ImprovementMeasure]:
    """Improvement measures not yet done, by due date."""
    query = (
        select(ImprovementMeasure)
        .where(col(ImprovementMeasure.done_on).is_(None))
        .order_by(col(ImprovementMeasure.due_on), col(ImprovementMeasure.id))
    )
    return session.exec(query).all()
