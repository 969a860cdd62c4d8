"""Queries behind the deal-flow digests: subscriptions, candidate demands and the delivery claim.

The claim (`claim_delivery`) is the heart of exactly-once: a conditional UPDATE that only one
transaction can win while the row is pending or failed. See docs/workers.md.
"""

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from models import (
    Deal,
    DigestDelivery,
    Enterprise,
    FinancingDemand,
    Institution,
    Match,
    Subscription,
)
from models.demand import open_for_matching
from models.reference import Channel, Confidentiality, DealStatus, DeliveryStatus

CLAIMABLE = (DeliveryStatus.pending, DeliveryStatus.failed)
_LOCK_NOT_AVAILABLE = "55P03"


class ClaimBusyError(Exception):
    """Another transaction holds the claim longer than the lock timeout; try again later.

    The transaction is aborted (PostgreSQL); the caller must roll back.
    """


def active_subscriptions(session: Session, frequency: str) -> Sequence[Subscription]:
    """Active subscriptions of one frequency, in id order; an e-mail subscription only once
    its address is confirmed."""
    query = (
        select(Subscription)
        .where(col(Subscription.active).is_(True))
        .where(Subscription.frequency == frequency)
        .where(
            or_(
                col(Subscription.channel) != Channel.email,
                col(Subscription.email_confirmed).is_(True),
            )
        )
        .order_by(col(Subscription.id))
    )
    return session.exec(query).all()


def unconfirmed_since(session: Session, institution_id: int, since: datetime) -> int:
    """How many subscriptions of the institution created after `since` await an address check."""
    query = (
        select(func.count())
        .select_from(Subscription)
        .where(Subscription.institution_id == institution_id)
        .where(col(Subscription.email_confirmed).is_(False))
        .where(col(Subscription.created_at) > since)
    )
    return int(session.exec(query).one())


def subscriptions_with_delivery(session: Session, period: str) -> set[int]:
    """Ids of subscriptions that already have a delivery (any status) for `period`."""
    query = select(DigestDelivery.subscription_id).where(DigestDelivery.period == period)
    return set(session.exec(query).all())


def last_delivered_at(session: Session, subscription_ids: Iterable[int]) -> dict[int, datetime]:
    """For each subscription, when its newest *delivered* digest was built (the watermark)."""
    ids = list(subscription_ids)
    if not ids:
        return {}
    query = (
        select(DigestDelivery.subscription_id, func.max(DigestDelivery.created_at))
        .where(col(DigestDelivery.subscription_id).in_(ids))
        .where(DigestDelivery.status == DeliveryStatus.delivered)
        .group_by(col(DigestDelivery.subscription_id))
    )
    return {sub_id: at for sub_id, at in session.exec(query).all()}


def teaser_candidates(
    session: Session, since: datetime | None, until: datetime
) -> Sequence[tuple[FinancingDemand, Enterprise]]:
    """Open, non-confidential demands changed in (since, until], with their enterprise."""
    query = (
        select(FinancingDemand, Enterprise)
        .join(Enterprise, col(FinancingDemand.enterprise_id) == col(Enterprise.id))
        .where(open_for_matching())
        .where(FinancingDemand.confidentiality != Confidentiality.confidential)
        .where(col(FinancingDemand.updated_at) <= until)
        .order_by(col(FinancingDemand.id))
    )
    if since is not None:
        query = query.where(col(FinancingDemand.updated_at) > since)
    return session.exec(query).all()


def institutions_by_id(session: Session, ids: Iterable[int]) -> dict[int, Institution]:
    """Institutions by id."""
    wanted = list(ids)
    if not wanted:
        return {}
    query = select(Institution).where(col(Institution.id).in_(wanted))
    return {i.id: i for i in session.exec(query).all() if i.id is not None}


def funded_demands(
    session: Session, institution_ids: Iterable[int], demands: Sequence[FinancingDemand]
) -> dict[int, set[int]]:
    """For each institution, which of `demands` it has already funded: a confirmed deal of it
    tied to the demand's match, or, when the deal is tied to no match, made to the demand's
    enterprise on or after the day the demand was raised."""
    insts = list(institution_ids)
    by_enterprise: dict[int, list[FinancingDemand]] = {}
    for demand in demands:
        by_enterprise.setdefault(demand.enterprise_id, []).append(demand)
    if not insts or not by_enterprise:
        return {}
    query = (
        select(
            col(Deal.institution_id),
            col(Deal.enterprise_id),
            col(Deal.closed_on),
            col(Match.demand_id),
        )
        .outerjoin(Match, col(Match.id) == col(Deal.match_id))
        .where(Deal.status == DealStatus.confirmed)
        .where(col(Deal.institution_id).in_(insts))
        .where(col(Deal.enterprise_id).in_(list(by_enterprise)))
    )
    funded: dict[int, set[int]] = {}
    for inst, ent, closed_on, demand_id in session.exec(query).all():
        for demand in by_enterprise[ent]:
            linked = demand_id == demand.id
            if linked or (demand_id is None and closed_on >= demand.created_at.date()):
                funded.setdefault(inst, set()).add(demand.id or 0)
    return funded


def deliveries_of_period(
    session: Session, period: str
) -> Sequence[tuple[DigestDelivery, Subscription]]:
    """The period's deliveries that did not give up, with their subscription, in id order."""
    query = (
        select(DigestDelivery, Subscription)
        .join(Subscription, col(Subscription.id) == col(DigestDelivery.subscription_id))
        .where(DigestDelivery.period == period)
        .where(DigestDelivery.status != DeliveryStatus.dead)
        .order_by(col(DigestDelivery.id))
    )
    return session.exec(query).all()


def demands_by_id(
    session: Session, demand_ids: Sequence[int]
) -> dict[int, tuple[FinancingDemand, Enterprise]]:
    """Demands (with enterprise) by id; missing ids are simply absent."""
    if not demand_ids:
        return {}
    query = (
        select(FinancingDemand, Enterprise)
        .join(Enterprise, col(FinancingDemand.enterprise_id) == col(Enterprise.id))
        .where(col(FinancingDemand.id).in_(list(demand_ids)))
    )
    return {d.id: (d, e) for d, e in session.exec(query).all() if d.id is not None}


def insert_deliveries(session: Session, rows: Sequence[dict[str, Any]]) -> dict[int, int]:
    """Insert deliveries, skipping any (subscription, period) that exists; return {sub_id: id}.

    `ON CONFLICT DO NOTHING` on the unique key, so two dispatchers of one period never fail
    and never both create a row: exactly one of them gets each id back.
    """
    if not rows:
        return {}
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(DigestDelivery)
        .values(list(rows))
        .on_conflict_do_nothing(index_elements=["subscription_id", "period"])
        .returning(col(DigestDelivery.subscription_id), col(DigestDelivery.id))
    )
    return {sub_id: row_id for sub_id, row_id in session.execute(statement).all()}


def bound_claim_waits(session: Session, lock_timeout: float, idle_timeout: float) -> None:
    """PostgreSQL: wait at most `lock_timeout` s for another claim; drop a hung holder's lock.

    `idle_in_transaction_session_timeout` is the lease expiry: a worker that holds a claim but
    stops talking to the database (hung, partitioned) loses its session, and so its claim.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    statement = text(
        "SELECT set_config('lock_timeout', :lock, true),"
        " set_config('idle_in_transaction_session_timeout', :idle, true)"
    )
    session.execute(
        statement,
        {"lock": f"{int(lock_timeout * 1000)}ms", "idle": f"{int(idle_timeout * 1000)}ms"},
    )


def claim_delivery(session: Session, delivery_id: int) -> DigestDelivery | None:
    """Claim a pending or failed delivery for this transaction: status 'sending', attempts + 1.

    Returns the claimed row, or None when it is not claimable (delivered, dead, missing). The
    UPDATE locks the row until commit or rollback. A second claimer blocks, then re-reads the
    committed status and gets None; if the holder dies its transaction rolls back and the row
    is claimable again.
    """
    statement = (
        update(DigestDelivery)
        .where(col(DigestDelivery.id) == delivery_id)
        .where(col(DigestDelivery.status).in_(CLAIMABLE))
        .values(status=DeliveryStatus.sending, attempts=col(DigestDelivery.attempts) + 1)
        .returning(DigestDelivery)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    try:
        return session.execute(statement).scalars().first()
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) == _LOCK_NOT_AVAILABLE:
            raise ClaimBusyError(f"推送记录 {delivery_id} 正由其他进程发送") from exc
        raise


def reset_dead(session: Session, delivery_id: int) -> bool:
    """Make a dead delivery pending again with a fresh attempt budget; False if not dead."""
    statement = (
        update(DigestDelivery)
        .where(col(DigestDelivery.id) == delivery_id)
        .where(col(DigestDelivery.status) == DeliveryStatus.dead)
        .values(status=DeliveryStatus.pending, attempts=0)
        .returning(col(DigestDelivery.id))
        .execution_options(synchronize_session=False)
    )
    reset = session.execute(statement).first() is not None
    if reset:
        session.expire_all()
    return reset


def dead_deliveries(session: Session, limit: int = 500) -> Sequence[DigestDelivery]:
    """The dead-letter list, newest first."""
    query = (
        select(DigestDelivery)
        .where(DigestDelivery.status == DeliveryStatus.dead)
        .order_by(col(DigestDelivery.id).desc())
        .limit(limit)
    )
    return session.exec(query).all()


def unfinished_before(session: Session, created_before: datetime, limit: int = 5000) -> list[int]:
    """Ids of pending or failed deliveries built before `created_before` (for the sweeper)."""
    query = (
        select(DigestDelivery.id)
        .where(col(DigestDelivery.status).in_(CLAIMABLE))
        .where(col(DigestDelivery.created_at) < created_before)
        .order_by(col(DigestDelivery.id))
        .limit(limit)
    )
    return [i for i in session.exec(query).all() if i is not None]


# --- console and API reads


def digest_history(
    session: Session, institution_id: int, limit: int = 30
) -> list[tuple[DigestDelivery, str]]:
    """The institution's latest digest deliveries with the subscription's name."""
    query = (
        select(DigestDelivery, Subscription.name)
        .join(Subscription, col(Subscription.id) == col(DigestDelivery.subscription_id))
        .where(Subscription.institution_id == institution_id)
        .order_by(col(DigestDelivery.id).desc())
        .limit(limit)
    )
    return [(d, name) for d, name in session.exec(query).all()]
