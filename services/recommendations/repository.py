"""The recommendation service's SQL: the candidate side (catalog, confirmed deals, pipeline
columns) its index is built and advanced from, one demand's rows by id, and the version the
index keys on (one round trip)."""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import Integer, case, cast, func, true, update
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
from models.db import sqlite_transaction_clean
from models.policy import Policy
from models.reference import OPEN_FOR_MATCHING, DealStatus, PipelineStage

Row = TypeVar("Row", bound=SQLModel)
#: The tables PostgreSQL's change counter counts: those the index and the training world read.
VERSIONED = (Enterprise, FinancingDemand, Match, MatchTransition, Deal, Institution, LoanProduct,
             InvestmentMandate)  # fmt: skip


def all_rows(session: Session, model: type[Row]) -> list[Row]:
    """Every row of `model`, in id order."""
    return list(session.exec(select(model).order_by(col(model.id))).all())  # type: ignore[attr-defined]


def policies(session: Session) -> list[Policy]:
    """The policy catalogue (贴息 and other loan subsidies are read from it), in id order."""
    return all_rows(session, Policy)


def stage_moves(session: Session) -> Sequence[tuple[int, str, datetime]]:
    """(match id, stage moved to, when) of every pipeline move, oldest first."""
    moves = select(MatchTransition.match_id, MatchTransition.to_stage, MatchTransition.at)
    return session.exec(moves.order_by(col(MatchTransition.at))).all()


# --- the candidate side, by id or after the last id seen

#: Stages past ``introduced``: a match's first move to one of them is its progress.
PROGRESS = (PipelineStage.meeting, PipelineStage.due_diligence, PipelineStage.term_sheet,
            PipelineStage.closed_won)  # fmt: skip
#: Candidate-side tables whose aggregates key the index (small: they scale with institutions).
CATALOG = (Institution, LoanProduct, InvestmentMandate)
_CHUNK = 500  # ids per IN list


def batched(ids: Sequence[int], n: int) -> Iterator[Sequence[int]]:
    """``ids`` in slices of ``n`` (one IN list each)."""
    for start in range(0, len(ids), n):
        yield ids[start : start + n]


def catalog(
    session: Session,
) -> tuple[list[Institution], list[LoanProduct], list[InvestmentMandate]]:
    """Institutions, loan products and mandates, each in id order."""
    return (
        all_rows(session, Institution),
        all_rows(session, LoanProduct),
        all_rows(session, InvestmentMandate),
    )


def _first_progress() -> Any:
    """When a match first moved past ``introduced`` (a correlated subquery on its transitions)."""
    return (
        core_select(func.min(MatchTransition.at))
        .where(col(MatchTransition.match_id) == col(Match.id))
        .where(col(MatchTransition.to_stage).in_(PROGRESS))
        .scalar_subquery()
    )


_PIPELINE_COLUMNS: tuple[Any, ...] = (col(Match.id), col(Match.institution_id), col(Match.stage),
                                      col(Match.introduced_at), col(Match.recommended_at),
                                      col(Match.created_at))  # fmt: skip


def pipeline_rows(session: Session, match_ids: Sequence[int] | None = None) -> list[Any]:
    """(id, institution, stage, introduced, recommended, created, first progress) of the matches
    ``match_ids`` (None: every match), in id order."""
    query = core_select(*_PIPELINE_COLUMNS, _first_progress()).order_by(col(Match.id))
    if match_ids is None:
        return list(session.connection().execute(query).all())
    return [
        row
        for chunk in batched(sorted(set(match_ids)), _CHUNK)
        for row in session.connection().execute(query.where(col(Match.id).in_(chunk))).all()
    ]


def changed_matches(session: Session, after_match: int, after_transition: int) -> list[int]:
    """Ids of the matches created after ``after_match`` or moved after ``after_transition``."""
    moved = core_select(col(MatchTransition.match_id)).where(
        col(MatchTransition.id) > after_transition
    )
    new = core_select(col(Match.id)).where(col(Match.id) > after_match)
    return list(session.connection().execute(moved.union(new)).scalars().all())


def deal_rows(session: Session) -> list[Any]:
    """Every confirmed deal, in id order: (institution, enterprise, closed on, amount, the
    enterprise's stage, industry and region, the round stage of the demand its match was for)."""
    query = (
        core_select(
            col(Deal.institution_id),
            col(Deal.enterprise_id),
            col(Deal.closed_on),
            col(Deal.amount_wan),
            col(Enterprise.stage),
            col(Enterprise.industry_code),
            col(Enterprise.region_code),
            col(FinancingDemand.round_stage),
        )
        .join(Enterprise, col(Enterprise.id) == col(Deal.enterprise_id))
        .outerjoin(Match, col(Match.id) == col(Deal.match_id))
        .outerjoin(FinancingDemand, col(FinancingDemand.id) == col(Match.demand_id))
        .where(col(Deal.status) == DealStatus.confirmed)
        .order_by(col(Deal.id))
    )
    return list(session.connection().execute(query).all())


def demands_by_id(
    session: Session, demand_ids: Sequence[int]
) -> dict[int, tuple[FinancingDemand, Enterprise]]:
    """Each demand of ``demand_ids`` that exists, with its enterprise."""
    out: dict[int, tuple[FinancingDemand, Enterprise]] = {}
    for chunk in batched(sorted(set(demand_ids)), _CHUNK):
        query = (
            select(FinancingDemand, Enterprise)
            .join(Enterprise, col(Enterprise.id) == col(FinancingDemand.enterprise_id))
            .where(col(FinancingDemand.id).in_(chunk))
        )
        out |= {d.id or 0: (d, e) for d, e in session.exec(query).all()}
    return out


def open_demand_ids(session: Session) -> list[int]:
    """The demands open for matching, in id order."""
    query = select(FinancingDemand.id).where(col(FinancingDemand.status).in_(OPEN_FOR_MATCHING))
    return [i for i in session.exec(query.order_by(col(FinancingDemand.id))).all() if i]


def offers_of_demands(
    session: Session, demand_ids: Sequence[int]
) -> list[tuple[int, int, int | None, int | None]]:
    """(demand, institution, loan product, mandate) of every match of ``demand_ids``."""
    columns = (col(Match.demand_id), col(Match.institution_id), col(Match.loan_product_id),
               col(Match.mandate_id))  # fmt: skip
    return [
        (int(d), int(i), p, m)
        for chunk in batched(sorted(set(demand_ids)), _CHUNK)
        for d, i, p, m in session.connection().execute(
            core_select(*columns).where(col(Match.demand_id).in_(chunk)).order_by(col(Match.id))
        )
    ]


def relationship_rows(
    session: Session, enterprise_ids: Sequence[int]
) -> tuple[list[Any], list[tuple[int, int, date]]]:
    """The enterprises' own history: their demands' matches (enterprise, then the columns of
    ``pipeline_rows``) and their confirmed deals (institution, enterprise, closed on)."""
    matches: list[Any] = []
    deals: list[tuple[int, int, date]] = []
    conn = session.connection()
    for chunk in batched(sorted(set(enterprise_ids)), _CHUNK):
        query = (
            core_select(col(FinancingDemand.enterprise_id), *_PIPELINE_COLUMNS, _first_progress())
            .join(FinancingDemand, col(FinancingDemand.id) == col(Match.demand_id))
            .where(col(FinancingDemand.enterprise_id).in_(chunk))
            .order_by(col(Match.id))
        )
        matches += conn.execute(query).all()
        confirmed = (
            core_select(col(Deal.institution_id), col(Deal.enterprise_id), col(Deal.closed_on))
            .where(col(Deal.enterprise_id).in_(chunk), col(Deal.status) == DealStatus.confirmed)
            .order_by(col(Deal.id))
        )
        deals += [(int(i), int(e), d) for i, e, d in conn.execute(confirmed)]
    return matches, deals


@dataclass(frozen=True)
class IndexVersion:
    """What the candidate index keys on: aggregates of the catalog and of the deals, the last
    match and transition ids, PostgreSQL's change counter, and whether this transaction is clean
    (has written nothing not yet committed: only then may what it reads be kept)."""

    catalog: tuple[object, ...]
    deals: tuple[object, ...]
    last_match: int
    last_transition: int
    counter: int | None
    clean: bool


def _catalog_parts() -> list[Any]:
    """Cheap aggregates of the catalog tables (rows, largest id, latest stamp, amounts, flags)
    and of the deals (rows, largest id, latest stamps, confirmed ones)."""
    parts = _version_parts()
    confirmed = func.sum(case((col(Deal.status) == DealStatus.confirmed, 1), else_=0))
    parts.append(
        core_select(
            func.count(),
            func.max(col(Deal.id)),
            func.max(col(Deal.created_at)),
            func.max(col(Deal.decided_at)),
            confirmed,
        )
    )
    parts.append(core_select(func.coalesce(func.max(col(Match.id)), 0)))
    parts.append(core_select(func.coalesce(func.max(col(MatchTransition.id)), 0)))
    return parts


@lru_cache(maxsize=1)
def _index_query() -> tuple[Any, int]:
    """The index version in one statement, and how many of its columns are the catalog's."""
    subs = [part.subquery() for part in _catalog_parts()]
    joined: Any = subs[0]
    for sub in subs[1:]:
        joined = joined.join(sub, true())
    n_catalog = sum(len(sub.c) for sub in subs[: len(CATALOG)])
    return core_select(*[c for sub in subs for c in sub.c]).select_from(joined), n_catalog


def index_version(session: Session, known: IndexVersion | None = None) -> IndexVersion:
    """The version of the candidate side as this session sees it (pending changes flushed).

    On PostgreSQL a clean transaction that finds the change counter where ``known`` had it gets
    ``known`` back from one indexed row; otherwise the aggregates are read (one statement).
    """
    if session.autoflush:
        session.flush()
    conn = session.connection()
    clean, counter = sqlite_transaction_clean(conn), None
    if conn.dialect.name == "postgresql":
        clean, counter = conn.execute(_PG_COUNTER).one()
        if clean and counter is not None and known is not None and known.counter == counter:
            return known
    query, n = _index_query()
    row = tuple(conn.execute(query).one())
    return IndexVersion(row[:n], row[n:-2], int(row[-2]), int(row[-1]), counter, bool(clean))


def _version_parts() -> list[Any]:
    """One scan per catalog table: row count, largest id, latest ``updated_at`` (else
    ``created_at``), and sums over the products' and mandates' amounts, capacity and active
    flags, which most edits move. Edits none of these see are covered by the index's time to
    live."""
    extra: dict[Any, list[Any]] = {
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
    for table in CATALOG:
        aggregates: list[Any] = [func.count(), func.max(col(table.id))]
        stamp = getattr(table, "updated_at", None) or getattr(table, "created_at", None)
        if stamp is not None:
            aggregates.append(func.max(stamp))
        aggregates += extra.get(table, [])
        parts.append(core_select(*aggregates).select_from(table))
    return parts


# PostgreSQL: whether this transaction has written anything itself, and the change counter
# (`models.data_version`), which the triggers of migration 0005 move at every commit that changed
# a counted table: a commit whose ids are below the largest seen still moves it.
_PG_COUNTER = core_select(
    func.pg_current_xact_id_if_assigned().is_(None),
    core_select(col(DataVersion.n)).where(col(DataVersion.id) == 1).scalar_subquery(),
)


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
