"""The pipeline's SQL: finding matches, the optimistic stage move, deals awaiting a decision."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, or_, select

from models import (
    Deal,
    DemandChange,
    DuplicateCandidate,
    Enterprise,
    FinancingDemand,
    Institution,
    InvestmentMandate,
    LoanProduct,
    Match,
    MatchTransition,
)
from models.demand import open_for_matching
from models.paging import enterprise_names, institution_names
from models.reference import DealLink, DealStatus, DemandStatus, PipelineStage


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


# --- console and API reads

REQUEST_NOTE = "机构申请引荐"
BOARD_LIMIT = 30
UNDISCLOSED = "（未获企业授权，不显示企业名称）"
# The names of enterprises by id, as a page may show them (all for staff; for an institution
# only those a consent covers: see `services.disclosure.service.disclosed_names`).
Names = Callable[[set[int]], dict[int, str]]


@dataclass(frozen=True)
class MatchRow:
    """A match with the names a page shows."""

    match: Match
    enterprise_id: int
    enterprise_name: str
    institution_name: str
    offer_name: str | None
    amount_wan: float | None = None


def _offer_names(session: Session, matches: Sequence[Match]) -> dict[tuple[str, int], str]:
    products = {m.loan_product_id for m in matches if m.loan_product_id}
    mandates = {m.mandate_id for m in matches if m.mandate_id}
    names: dict[tuple[str, int], str] = {}
    for p in session.exec(select(LoanProduct).where(col(LoanProduct.id).in_(products))):
        names[("loan", p.id or 0)] = p.name
    for m in session.exec(select(InvestmentMandate).where(col(InvestmentMandate.id).in_(mandates))):
        names[("equity", m.id or 0)] = m.name
    return names


def match_rows(
    session: Session, matches: Sequence[Match], names: Names | None = None
) -> list[MatchRow]:
    """Matches with enterprise (by `names`, default: every name), institution and offer names
    and any confirmed deal amount; an enterprise `names` leaves out shows as undisclosed."""
    demands = {d.id: d for d in session.exec(select(FinancingDemand).where(
        col(FinancingDemand.id).in_({m.demand_id for m in matches})))}  # fmt: skip
    ent_ids = {d.enterprise_id for d in demands.values()}
    ents = names(ent_ids) if names else enterprise_names(session, ent_ids)
    insts = institution_names(session, {m.institution_id for m in matches})
    offers = _offer_names(session, matches)
    deals = deal_amounts(session, [m.id or 0 for m in matches])
    rows = []
    for m in matches:
        ent_id = demands[m.demand_id].enterprise_id
        offer = offers.get(("loan", m.loan_product_id or 0)) or offers.get(
            ("equity", m.mandate_id or 0)
        )
        rows.append(MatchRow(m, ent_id, ents.get(ent_id, UNDISCLOSED),
                             insts.get(m.institution_id, str(m.institution_id)), offer,
                             deals.get(m.id or 0)))  # fmt: skip
    return rows


def deal_amounts(session: Session, match_ids: Sequence[int]) -> dict[int, float]:
    """Total confirmed deal amount (万元) per match."""
    query = (
        select(Deal.match_id, func.sum(Deal.amount_wan))
        .where(col(Deal.match_id).in_(list(match_ids)))
        .where(Deal.status == DealStatus.confirmed)
        .group_by(col(Deal.match_id))
    )
    return {int(mid): float(total) for mid, total in session.exec(query).all() if mid is not None}


def demand_matches(session: Session, demand_id: int) -> list[MatchRow]:
    """The pipeline of one demand, newest first."""
    query = select(Match).where(Match.demand_id == demand_id).order_by(col(Match.id).desc())
    return match_rows(session, list(session.exec(query)))


def pipeline_board(session: Session, limit: int = BOARD_LIMIT) -> dict[PipelineStage, Any]:
    """Per stage: its count and the most recently touched matches."""
    counts = dict(session.exec(select(Match.stage, func.count()).group_by(col(Match.stage))).all())
    board: dict[PipelineStage, Any] = {}
    for stage in PipelineStage:
        query = select(Match).where(Match.stage == stage).order_by(col(Match.id).desc())
        rows = match_rows(session, list(session.exec(query.limit(limit))))
        board[stage] = {"count": int(counts.get(stage, 0)), "rows": rows}
    return board


def dashboard_counts(session: Session, day: date) -> dict[str, int]:
    """The figures on the matchmaker's home page; 入驻机构 counts agreements in force on `day`."""

    def count(query: Any) -> int:
        return int(session.exec(select(func.count()).select_from(query.subquery())).one())

    return {
        "enterprises": count(select(Enterprise.id)),
        "open_demands": count(select(FinancingDemand.id).where(open_for_matching())),
        "institutions": count(select(Institution.id).where(
            col(Institution.agreement_start) <= day,
            or_(col(Institution.agreement_end).is_(None), col(Institution.agreement_end) >= day))),
        "open_matches": count(select(Match.id).where(col(Match.stage).not_in(
            [PipelineStage.closed_won, PipelineStage.closed_lost]))),
        "pending_duplicates": count(select(DuplicateCandidate.id).where(
            DuplicateCandidate.status == "pending")),
        "deals": count(select(Deal.id).where(Deal.status == DealStatus.confirmed)),
    }  # fmt: skip


def introduction_requests(session: Session, institution_id: int) -> list[Match]:
    """Matches the institution asked for (its request note on the first transition)."""
    requested = select(MatchTransition.match_id).where(
        col(MatchTransition.note).startswith(REQUEST_NOTE)
    )  # a subquery, not DISTINCT over the row: PostgreSQL cannot compare its JSON column
    query = (
        select(Match)
        .where(Match.institution_id == institution_id)
        .where(col(Match.id).in_(requested))
        .order_by(col(Match.id).desc())
    )
    return list(session.exec(query))


def deals_to_confirm(
    session: Session, institution_id: int, names: Names | None = None
) -> list[MatchRow]:
    """The institution's matches at term sheet, or won, without a claimed or confirmed deal
    (enterprise names by `names`)."""
    recorded = select(Deal.match_id).where(
        col(Deal.match_id).is_not(None),
        col(Deal.status).in_([DealStatus.claimed, DealStatus.confirmed]),
    )
    query = (
        select(Match)
        .where(Match.institution_id == institution_id)
        .where(col(Match.stage).in_([PipelineStage.term_sheet, PipelineStage.closed_won]))
        .where(col(Match.id).not_in(recorded))
        .order_by(col(Match.id).desc())
    )
    return match_rows(session, list(session.exec(query)), names)


@dataclass(frozen=True)
class ClaimRow:
    """A claimed deal for a matchmaker to confirm, with the names and the demand's range."""

    deal: Deal
    enterprise_name: str
    institution_name: str
    demand_id: int | None
    amount_min_wan: float | None
    amount_max_wan: float | None

    @property
    def out_of_range(self) -> bool:
        """True when the claimed amount is above the demand's upper bound."""
        return self.amount_max_wan is not None and self.deal.amount_wan > self.amount_max_wan


def deal_claims(session: Session, limit: int = 50) -> list[ClaimRow]:
    """Claimed deals awaiting a matchmaker, oldest first."""
    query = (
        select(Deal, FinancingDemand)
        .join(Match, col(Match.id) == col(Deal.match_id), isouter=True)
        .join(FinancingDemand, col(FinancingDemand.id) == col(Match.demand_id), isouter=True)
        .where(Deal.status == DealStatus.claimed)
        .order_by(col(Deal.id))
        .limit(limit)
    )
    rows = list(session.exec(query).all())
    ents = enterprise_names(session, {d.enterprise_id for d, _ in rows})
    insts = institution_names(session, {d.institution_id for d, _ in rows})
    return [ClaimRow(d, ents.get(d.enterprise_id, "?"), insts.get(d.institution_id, "?"),
                     dem.id if dem else None, dem.amount_min_wan if dem else None,
                     dem.amount_max_wan if dem else None) for d, dem in rows]  # fmt: skip


# --- demand lifecycle and deals tied to introductions


def demand_history(session: Session, demand_id: int) -> list[DemandChange]:
    """A demand's changes, newest first."""
    query = select(DemandChange).where(DemandChange.demand_id == demand_id)
    return list(session.exec(query.order_by(col(DemandChange.id).desc())))


def has_introduction(session: Session, demand_id: int) -> bool:
    """True when any match of the demand was introduced."""
    query = select(Match.id).where(
        Match.demand_id == demand_id, col(Match.introduced_at).is_not(None)
    )
    return session.exec(query.limit(1)).first() is not None


def linked_deal_total(session: Session, demand_id: int) -> float:
    """The confirmed deals linked to the demand's matches (万元)."""
    query = (
        select(func.coalesce(func.sum(Deal.amount_wan), 0.0))
        .join(Match, col(Match.id) == col(Deal.match_id))
        .where(Match.demand_id == demand_id)
        .where(Deal.status == DealStatus.confirmed, Deal.link_status == DealLink.linked)
    )
    return float(session.exec(query).one())


def overdue_demands(session: Session, today: date) -> list[FinancingDemand]:
    """Open or paused demands whose deadline is before `today`."""
    live = [*DemandStatus.open_for_matching(), DemandStatus.paused]
    query = (
        select(FinancingDemand)
        .where(col(FinancingDemand.status).in_(live))
        .where(col(FinancingDemand.deadline) < today)
        .order_by(col(FinancingDemand.id))
    )
    return list(session.exec(query))


def link_candidates(session: Session, deal: Deal, day_after: datetime) -> list[Match]:
    """The matches a deal may be tied to: of its enterprise's demands with its institution,
    introduced (已引荐 or later) before `day_after` (the start of the day after the deal), not
    declined."""
    query = (
        select(Match)
        .join(FinancingDemand, col(FinancingDemand.id) == col(Match.demand_id))
        .where(FinancingDemand.enterprise_id == deal.enterprise_id)
        .where(Match.institution_id == deal.institution_id)
        .where(col(Match.introduced_at).is_not(None), col(Match.introduced_at) < day_after)
        .where(Match.stage != PipelineStage.closed_lost)
        .order_by(col(Match.id))
    )
    return list(session.exec(query))


def unlinked_deals(session: Session, limit: int) -> list[Deal]:
    """Deals waiting in the 待关联成交 queue (not rejected claims), oldest first."""
    query = (
        select(Deal)
        .where(Deal.link_status == DealLink.unlinked, Deal.status != DealStatus.rejected)
        .order_by(col(Deal.id))
    )
    return list(session.exec(query.limit(limit)))


def demands_of_linked_deals(session: Session, ids: Sequence[int]) -> list[int]:
    """The demands whose matches the linked deals among `ids` are tied to, by id."""
    query = (
        select(Match.demand_id)
        .join(Deal, col(Deal.match_id) == col(Match.id))
        .where(col(Deal.id).in_(list(ids)), Deal.link_status == DealLink.linked)
    )
    return sorted(set(session.exec(query)))


def deals_of_ids(session: Session, ids: Sequence[int]) -> list[Deal]:
    """The deals with these ids (unlinked ones only), by id."""
    query = select(Deal).where(col(Deal.id).in_(list(ids)), Deal.link_status == DealLink.unlinked)
    return list(session.exec(query.order_by(col(Deal.id))))
