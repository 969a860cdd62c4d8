"""Read queries the console needs and the services do not offer (lists, boards, names).

Only reads: every write goes through a service (`models.services`, `ingestion`, `workers`,
`services.evaluation`).
"""

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from models import (
    Consent,
    Deal,
    DigestDelivery,
    DuplicateCandidate,
    Enterprise,
    EvaluationPeriod,
    Event,
    EventParticipant,
    EventSession,
    FinancingDemand,
    ImportBatch,
    Institution,
    InvestmentMandate,
    LoanProduct,
    Match,
    MatchTransition,
    SlateItem,
    Subscription,
)
from models.reference import DealStatus, DemandStatus, EventKind, PipelineStage
from services.disclosure.service import teaser_filter
from services.evaluation.repository import enterprise_names, institution_names

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
    if products:
        for p in session.exec(select(LoanProduct).where(col(LoanProduct.id).in_(products))):
            names[("loan", p.id or 0)] = p.name
    if mandates:
        query = select(InvestmentMandate).where(col(InvestmentMandate.id).in_(mandates))
        for m in session.exec(query):
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
    if not match_ids:
        return {}
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


def dashboard_counts(session: Session) -> dict[str, int]:
    """The figures on the matchmaker's home page."""

    def count(query: Any) -> int:
        return int(session.exec(select(func.count()).select_from(query.subquery())).one())

    return {
        "enterprises": count(select(Enterprise.id)),
        "open_demands": count(select(FinancingDemand.id).where(
            FinancingDemand.status == DemandStatus.open)),
        "institutions": count(select(Institution.id)),
        "open_matches": count(select(Match.id).where(col(Match.stage).not_in(
            [PipelineStage.closed_won, PipelineStage.closed_lost]))),
        "pending_duplicates": count(select(DuplicateCandidate.id).where(
            DuplicateCandidate.status == "pending")),
        "deals": count(select(Deal.id).where(Deal.status == DealStatus.confirmed)),
    }  # fmt: skip


def recent_batches(session: Session, limit: int = 15) -> list[ImportBatch]:
    """The latest import batches."""
    query = select(ImportBatch).order_by(col(ImportBatch.id).desc()).limit(limit)
    return list(session.exec(query))


def institutions(session: Session) -> list[Institution]:
    """Every institution, by name."""
    return list(session.exec(select(Institution).order_by(col(Institution.name))))


def enterprise_demands(session: Session, enterprise_id: int) -> list[FinancingDemand]:
    """An enterprise's demands, newest first."""
    query = select(FinancingDemand).where(FinancingDemand.enterprise_id == enterprise_id)
    return list(session.exec(query.order_by(col(FinancingDemand.id).desc())))


def consents(session: Session, limit: int = 50) -> list[tuple[Consent, str, str]]:
    """The latest consents with enterprise and institution names."""
    rows = list(session.exec(select(Consent).order_by(col(Consent.id).desc()).limit(limit)))
    ents = enterprise_names(session, {c.enterprise_id for c in rows})
    insts = institution_names(session, {c.institution_id for c in rows})
    return [(c, ents.get(c.enterprise_id, "?"), insts.get(c.institution_id, "?")) for c in rows]


def roadshows(session: Session, limit: int = 30) -> list[tuple[Event, int, int]]:
    """Roadshows, latest first, with their presenter and investor counts."""
    events = list(session.exec(select(Event).where(Event.kind == EventKind.roadshow)
                               .order_by(col(Event.starts_at).desc()).limit(limit)))  # fmt: skip
    counts: dict[tuple[int, str], int] = defaultdict(int)
    query = (
        select(EventParticipant.event_id, EventParticipant.role, func.count())
        .where(col(EventParticipant.event_id).in_([e.id for e in events]))
        .group_by(col(EventParticipant.event_id), col(EventParticipant.role))
    )
    for event_id, role, n in session.exec(query).all():
        counts[(event_id, role)] = int(n)
    return [(e, counts[(e.id or 0, "presenter")], counts[(e.id or 0, "investor")]) for e in events]


@dataclass(frozen=True)
class SlateView:
    """A drawn slate laid out for the page: pitches by time × room, seats, 1:1 meetings."""

    rooms: list[str]
    times: list[Any]
    grid: dict[tuple[Any, str], str]
    meetings: list[tuple[SlateItem, str, str]]
    seats: int
    sessions: list[EventSession]
    participants: dict[str, int]


def slate_view(session: Session, event: Event) -> SlateView:
    """The event's slate items as a room × time grid with names."""
    rows = list(session.exec(select(SlateItem).where(SlateItem.event_id == event.id)
                             .order_by(col(SlateItem.starts_at), col(SlateItem.id))))  # fmt: skip
    ents = enterprise_names(session, {r.enterprise_id for r in rows if r.enterprise_id})
    insts = institution_names(session, {r.institution_id for r in rows if r.institution_id})
    pitches = [r for r in rows if r.item_type == "pitch"]
    grid = {(r.starts_at, r.room or ""): ents.get(r.enterprise_id or 0, "?") for r in pitches}
    meetings = [(r, insts.get(r.institution_id or 0, "?"), ents.get(r.enterprise_id or 0, "?"))
                for r in rows if r.item_type == "meeting"]  # fmt: skip
    sessions = list(session.exec(select(EventSession).where(EventSession.event_id == event.id)
                                 .order_by(col(EventSession.starts_at))))  # fmt: skip
    return SlateView(list(event.rooms), sorted({r.starts_at for r in pitches}), grid, meetings,
                     sum(1 for r in rows if r.item_type == "attendance"), sessions,
                     participant_counts(session, event.id or 0))  # fmt: skip


def participant_counts(session: Session, event_id: int) -> dict[str, int]:
    """Presenters and investors registered for an event (cancelled ones left out)."""
    query = (
        select(EventParticipant.role, func.count())
        .where(EventParticipant.event_id == event_id, EventParticipant.status != "cancelled")
        .group_by(col(EventParticipant.role))
    )
    return {role: int(n) for role, n in session.exec(query).all()}


def subscriptions_of(session: Session, institution_id: int) -> list[Subscription]:
    """An institution's subscriptions."""
    query = select(Subscription).where(Subscription.institution_id == institution_id)
    return list(session.exec(query.order_by(col(Subscription.id))))


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


def deals_of(session: Session, institution_id: int, limit: int = 30) -> list[Deal]:
    """The institution's deals (claims included), latest first."""
    query = select(Deal).where(Deal.institution_id == institution_id)
    return list(session.exec(query.order_by(col(Deal.closed_on).desc()).limit(limit)))


def evaluation_periods(session: Session) -> list[EvaluationPeriod]:
    """Evaluation periods, latest first."""
    query = select(EvaluationPeriod).order_by(col(EvaluationPeriod.starts_on).desc())
    return list(session.exec(query))


def open_teasers(
    session: Session, offset: int, limit: int, chosen: set[int]
) -> tuple[list[Any], int]:
    """Open demands with their enterprise (for teasers), newest first, and the total: the
    confidential ones only of the enterprises in `chosen` (see `teaser_filter`)."""
    query = (
        select(FinancingDemand, Enterprise)
        .join(Enterprise, col(Enterprise.id) == col(FinancingDemand.enterprise_id))
        .where(teaser_filter(chosen))
        .order_by(col(FinancingDemand.id).desc())
    )
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    return list(session.exec(query.offset(offset).limit(limit)).all()), int(total)
