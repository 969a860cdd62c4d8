"""The portal's SQL: an enterprise's demands and matches, and the notice mails' rows."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import exists, update
from sqlalchemy import select as core_select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from models import (
    Consent,
    FinancingDemand,
    Institution,
    Match,
    MatchTransition,
    PortalNotice,
    User,
)
from models.reference import NoticeStatus, PipelineStage, UserRole


def demands_of(session: Session, enterprise_id: int) -> Sequence[FinancingDemand]:
    """The enterprise's demands, newest first."""
    query = select(FinancingDemand).where(col(FinancingDemand.enterprise_id) == enterprise_id)
    return session.exec(query.order_by(col(FinancingDemand.id).desc())).all()


def _requested() -> Any:
    """SQL: an institution asked for the match (its only transition into 已推荐)."""
    return exists().where(
        col(MatchTransition.match_id) == col(Match.id),
        col(MatchTransition.to_stage) == PipelineStage.recommended,
    )


def matches_of(session: Session, enterprise_id: int) -> Sequence[Any]:
    """The enterprise's matches it is told about (introduced, or asked for by an institution),
    with the institution's name and kind, newest first."""
    query = (
        core_select(
            Match, col(Institution.name), col(Institution.kind), _requested().label("requested")
        )
        .join(FinancingDemand, col(FinancingDemand.id) == col(Match.demand_id))
        .join(Institution, col(Institution.id) == col(Match.institution_id))
        .where(col(FinancingDemand.enterprise_id) == enterprise_id)
        .where(col(Match.introduced_at).is_not(None) | _requested())
        .order_by(col(Match.id).desc())
    )
    return session.execute(query).all()


def consents_of(session: Session, enterprise_id: int) -> Sequence[Any]:
    """The enterprise's consents with the institution's name, newest first."""
    query = (
        select(Consent, Institution.name)
        .join(Institution, col(Institution.id) == col(Consent.institution_id))
        .where(Consent.enterprise_id == enterprise_id)
        .order_by(col(Consent.id).desc())
    )
    return session.exec(query).all()


def institution_names(session: Session) -> list[tuple[int, str]]:
    """Every institution's id and name, by name (resident institutions are public)."""
    query = select(Institution.id, Institution.name).order_by(col(Institution.name))
    return [(int(i or 0), n) for i, n in session.exec(query).all()]


# --- notice mails


def notice_candidates(session: Session) -> Sequence[Any]:
    """Every (match, enterprise user) pair a notice may be due for: active enterprise users
    with an address, and the matches of their enterprise's demands that were introduced or
    asked for, with what decides the kind."""
    query = (
        core_select(col(Match.id).label("match_id"), col(Match.institution_id), col(Match.stage),
                    col(Match.introduced_at), _requested().label("requested"),
                    col(User.id).label("user_id"), col(FinancingDemand.enterprise_id))
        .join(FinancingDemand, col(FinancingDemand.id) == col(Match.demand_id))
        .join(User, col(User.enterprise_id) == col(FinancingDemand.enterprise_id))
        .where(col(User.role) == UserRole.enterprise, col(User.active).is_(True),
               col(User.email).is_not(None))
        .where(col(Match.introduced_at).is_not(None) | _requested())
        .order_by(col(Match.id), col(User.id))
    )  # fmt: skip
    return session.execute(query).all()


def add_notice(session: Session, values: dict[str, Any]) -> bool:
    """Insert a notice unless one with its key exists; True when this call inserted it."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(PortalNotice)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(col(PortalNotice.id))
    )
    return session.execute(statement).first() is not None


def pending_notices(session: Session) -> list[int]:
    """The ids of notices waiting to be sent, oldest first."""
    query = select(PortalNotice.id).where(PortalNotice.status == NoticeStatus.pending)
    return [int(i or 0) for i in session.exec(query.order_by(col(PortalNotice.id))).all()]


def claim_notice(session: Session, notice_id: int) -> bool:
    """Take a pending notice for sending (atomically: of two senders one wins)."""
    claimed = session.execute(
        update(PortalNotice)
        .where(col(PortalNotice.id) == notice_id, col(PortalNotice.status) == NoticeStatus.pending)
        .values(status=NoticeStatus.sending, attempts=col(PortalNotice.attempts) + 1)
    )  # fmt: skip
    return bool(getattr(claimed, "rowcount", 0))


def finish_notice(
    session: Session, notice_id: int, status: NoticeStatus, at: datetime | None, error: str | None
) -> None:
    """Record how sending a claimed notice ended."""
    session.execute(
        update(PortalNotice).where(col(PortalNotice.id) == notice_id)
        .values(status=status, sent_at=at, error=error)
    )  # fmt: skip


def demand_of_match(session: Session, match_id: int) -> int:
    """The demand a match is about."""
    return int(session.exec(select(Match.demand_id).where(Match.id == match_id)).one())


def notices_of(session: Session, user_id: int) -> Sequence[PortalNotice]:
    """A user's notices, newest first."""
    query = select(PortalNotice).where(PortalNotice.user_id == user_id)
    return session.exec(query.order_by(col(PortalNotice.id).desc())).all()
