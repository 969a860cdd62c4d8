"""The recommendation service's SQL: the rows its world is built from, and the data version its
caches key on (one round trip)."""

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import Integer, cast, func, true, update
from sqlalchemy import select as core_select
from sqlmodel import Session, SQLModel, col, select

from models import (
    DataVersion,
    Deal,
    Enterprise,
    FinancingDemand,
    Institution,
    InvestmentMandate,
    LoanProduct,
    Match,
    MatchTransition,
    RankerModel,
)
from models.policy import Policy
from models.reference import DealStatus

Row = TypeVar("Row", bound=SQLModel)
VERSIONED = (Enterprise, FinancingDemand, Match, MatchTransition, Deal, Institution, LoanProduct,
             InvestmentMandate)  # fmt: skip


def all_rows(session: Session, model: type[Row]) -> list[Row]:
    """Every row of `model`, in id order."""
    return list(session.exec(select(model).order_by(col(model.id))).all())  # type: ignore[attr-defined]


def policies(session: Session) -> list[Policy]:
    """The policy catalogue (贴息 and other loan subsidies are read from it), in id order."""
    return all_rows(session, Policy)


def confirmed_deals(session: Session) -> list[Deal]:
    """The confirmed deals (claims and rejected ones never count), in id order."""
    query = select(Deal).where(Deal.status == DealStatus.confirmed).order_by(col(Deal.id))
    return list(session.exec(query).all())


def stage_moves(session: Session) -> Sequence[tuple[int, str, datetime]]:
    """(match id, stage moved to, when) of every pipeline move, oldest first."""
    moves = select(MatchTransition.match_id, MatchTransition.to_stage, MatchTransition.at)
    return session.exec(moves.order_by(col(MatchTransition.at))).all()


def _version_parts() -> list[Any]:
    """Cheap aggregates that change when the rows the matcher reads change, one scan per table.

    Row counts and largest ids catch inserts and deletes, the largest ``updated_at`` (else
    ``created_at``) edits that stamp it (imports, dedupe) and reused ids, ``sum(match.version)``
    every pipeline move, and sums over the products' and mandates' amounts, capacity and active
    flags most edits of them. Edits none of these see are covered by the cache's time to live.
    """
    extra: dict[Any, list[Any]] = {
        Match: [func.sum(Match.version)],
        LoanProduct: [
            func.sum(LoanProduct.min_amount_wan + LoanProduct.max_amount_wan),
            func.sum(cast(col(LoanProduct.active), Integer)),
        ],
        InvestmentMandate: [
            func.sum(InvestmentMandate.min_ticket_wan + InvestmentMandate.max_ticket_wan),
            func.sum(InvestmentMandate.remaining_capacity_wan),
            func.sum(cast(col(InvestmentMandate.active), Integer)),
        ],
    }
    parts: list[Any] = []
    for table in VERSIONED:
        aggregates: list[Any] = [func.count(), func.max(col(table.id))]
        stamp = getattr(table, "updated_at", None) or getattr(table, "created_at", None)
        if stamp is not None:
            aggregates.append(func.max(stamp))
        aggregates += extra.get(table, [])
        parts.append(core_select(*aggregates).select_from(table))
    return parts


def _version_columns() -> tuple[list[Any], Any]:
    """Every aggregate column, and the cross join of the single-row subqueries they come from
    (one subquery, one scan, per table)."""
    subs = [part.subquery() for part in _version_parts()]
    joined: Any = subs[0]
    for sub in subs[1:]:
        joined = joined.join(sub, true())
    return [c for sub in subs for c in sub.c], joined


@lru_cache(maxsize=1)
def _version_query() -> Any:
    """All the aggregates in one statement."""
    columns, joined = _version_columns()
    return core_select(*columns).select_from(joined)


# PostgreSQL: the change counter (`models.data_version`), which the triggers of migration 0005
# move at every commit that changed a counted table (and only then: commits of the audit log or
# import bookkeeping leave it), and whether this transaction has written anything itself.
_PG_COUNTER = core_select(
    func.pg_current_xact_id_if_assigned().is_(None),
    core_select(col(DataVersion.n)).where(col(DataVersion.id) == 1).scalar_subquery(),
)


def data_version(session: Session) -> tuple[object, ...]:
    """The data version the caches key on: aggregates of every table read, in one round trip.

    The statement is built once; SQLAlchemy caches its compiled form. It runs as a Core statement
    on the session's connection (and transaction): no ORM machinery per call, but pending changes
    are flushed first, as an ORM query would (autoflush), so the version sees them. On
    PostgreSQL it is the change counter of `models.data_version` (one row) outside a transaction
    that has written (a transaction sees its own changes, which are counted only when it commits).
    """
    if session.autoflush:
        session.flush()
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        clean, counted = conn.execute(_PG_COUNTER).one()
        if clean and counted is not None:
            return ("counter", counted)
    return tuple(conn.execute(_version_query()).one())


# --- published models


def served_model(session: Session) -> RankerModel | None:
    """The published ranker every process ranks with (None: the rules)."""
    query = select(RankerModel).where(col(RankerModel.served).is_(True))
    return session.exec(query.order_by(col(RankerModel.id).desc())).first()


def published_models(session: Session) -> list[RankerModel]:
    """Every published ranker, newest first."""
    return list(session.exec(select(RankerModel).order_by(col(RankerModel.id).desc())).all())


def model_by_version(session: Session, version: str) -> RankerModel | None:
    """A published ranker by its version."""
    return session.exec(select(RankerModel).where(RankerModel.version == version)).first()


def serve_only(session: Session, version: str | None, at: datetime) -> None:
    """Serve `version` and no other (None: none, i.e. the rules)."""
    session.execute(
        update(RankerModel)
        .where(col(RankerModel.served).is_(True))
        .values(served=False, served_since=None)
        .execution_options(synchronize_session=False)
    )
    if version is not None:
        session.execute(
            update(RankerModel)
            .where(col(RankerModel.version) == version)
            .values(served=True, served_since=at)
            .execution_options(synchronize_session=False)
        )
    session.expire_all()
