"""The pipeline's SQL: finding matches, the optimistic stage move, deals awaiting a decision."""

from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from models import Deal, Match
from models.reference import DealStatus


def match_of(
    session: Session, demand_id: int, institution_id: int, **offer: int | None
) -> Match | None:
    """A match of the demand with the institution; with `offer` (loan_product_id, mandate_id),
    the one of exactly that product or mandate (None: none named)."""
    query = select(Match).where(
        Match.demand_id == demand_id, Match.institution_id == institution_id
    )
    for name, value in offer.items():
        query = query.where(getattr(Match, name) == value)
    return session.exec(query).first()


def move_if_version(session: Session, match_id: int, expected_version: int, **values: Any) -> bool:
    """Update the match and bump its version only if it still has `expected_version`."""
    result = session.execute(
        update(Match)
        .where(col(Match.id) == match_id, col(Match.version) == expected_version)
        .values(version=expected_version + 1, **values)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def claimed_deals(session: Session, limit: int) -> list[Deal]:
    """Claimed deals awaiting a matchmaker, oldest first."""
    query = select(Deal).where(Deal.status == DealStatus.claimed).order_by(col(Deal.id))
    return list(session.exec(query.limit(limit)))


def live_deal_of(session: Session, match_id: int) -> int | None:
    """The id of a claimed or confirmed deal of the match, if any."""
    query = select(Deal.id).where(
        Deal.match_id == match_id, col(Deal.status).in_([DealStatus.claimed, DealStatus.confirmed])
    )
    return session.exec(query).first()
