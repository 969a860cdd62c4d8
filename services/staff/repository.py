"""Queries of the staff area: profiles, qualifications, training records, and the pipeline moves
and deals behind each matchmaker's workload."""

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from models import (
    Deal,
    MatchTransition,
    StaffProfile,
    StaffQualification,
    TrainingRecord,
)
from models.reference import DealLink, DealStatus, PipelineStage


def profiles(session: Session) -> dict[int, StaffProfile]:
    """Every staff profile by user id."""
    return {p.user_id: p for p in session.exec(select(StaffProfile)).all()}


def qualifications(session: Session, user_id: int) -> Sequence[StaffQualification]:
    """A user's certificates, latest first."""
    query = (
        select(StaffQualification)
        .where(StaffQualification.user_id == user_id)
        .order_by(col(StaffQualification.obtained_on).desc(), col(StaffQualification.id))
    )
    return session.exec(query).all()


def trainings(session: Session, user_id: int) -> Sequence[TrainingRecord]:
    """A user's training records, latest first."""
    query = (
        select(TrainingRecord)
        .where(TrainingRecord.user_id == user_id)
        .order_by(col(TrainingRecord.day).desc(), col(TrainingRecord.id))
    )
    return session.exec(query).all()


def training_hours(session: Session, start: date, end: date) -> dict[int, float]:
    """Training hours per user in [start, end]."""
    query = (
        select(TrainingRecord.user_id, func.sum(TrainingRecord.hours))
        .where(col(TrainingRecord.day) >= start)
        .where(col(TrainingRecord.day) <= end)
        .group_by(col(TrainingRecord.user_id))
    )
    return {int(u): float(h or 0) for u, h in session.exec(query).all()}


def moves_by_actor(
    session: Session, since: datetime, before: datetime
) -> Sequence[tuple[str, str, int]]:
    """(actor, stage moved to, how many) for pipeline moves in [since, before)."""
    query = (
        select(MatchTransition.actor, MatchTransition.to_stage, func.count())
        .where(col(MatchTransition.at) >= since)
        .where(col(MatchTransition.at) < before)
        .group_by(col(MatchTransition.actor), col(MatchTransition.to_stage))
    )
    return session.exec(query).all()


def deals_by_introducer(session: Session, start: date, end: date) -> Sequence[tuple[Deal, str]]:
    """Confirmed deals linked to an introduction, closed in [start, end], with who introduced."""
    query = (
        select(Deal, MatchTransition.actor)
        .join(MatchTransition, col(MatchTransition.match_id) == col(Deal.match_id))
        .where(MatchTransition.to_stage == PipelineStage.introduced)
        .where(Deal.status == DealStatus.confirmed)
        .where(Deal.link_status == DealLink.linked)
        .where(col(Deal.closed_on) >= start)
        .where(col(Deal.closed_on) <= end)
        .order_by(col(Deal.id), col(MatchTransition.at))
    )
    return session.exec(query).all()
