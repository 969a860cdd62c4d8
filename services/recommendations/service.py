"""The only adapter between the database and the matching core; it never commits.

Every ranking uses the served model (`published.served_ranker`) unless the caller passes one;
training saves into the ``model_dir`` the caller passes. Nothing reads the environment.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from sqlmodel import Session

from matching.explain import Explained
from matching.history import (
    NEVER_DAY,
    DealHistory,
    PipelineHistory,
    relationships,
)
from matching.learned import EPOCH, RULES_VERSION, LearnedRanker
from matching.learned import deal_history as deal_rounds
from matching.offline.baselines import CategoryRoundPopularity
from matching.offline.data import History
from matching.offline.evaluate import Ranker, evaluate_split
from matching.offline.ranker import InvestorRanker
from matching.options import Subsidy, no_subsidy, rank_leg, with_leg
from matching.profiles import (
    UNKNOWN_STAGE,
    CandidateSet,
    DemandProfile,
    Float32Array,
    FloatArray,
    IntArray,
    Vocabulary,
    encode_demands,
)
from matching.rank import (
    ExposurePolicy,
    ScoringModel,
    load_penalty,
    rank_batch,
)
from matching.rules import RuleConfig
from matching.text import TextEncoder
from models import (
    Enterprise,
    FinancingDemand,
    Match,
)
from models.clock import center_today
from models.errors import NotFoundError
from models.reference import (
    INDUSTRY_DIVISIONS,
    INDUSTRY_SECTIONS,
    REGIONS,
    STRATEGIC_EMERGING_INDUSTRIES,
    Collateral,
    FinancingType,
    InstitutionKind,
    PipelineStage,
    Qualification,
    Stage,
    canonical_industry_code,
    qualifications_met,
)
from services.recommendations import repository as repo
from services.recommendations.costs import subsidy_for
from services.recommendations.index import (
    REACHED,
    Catalog,
    IndexCache,
    Pipeline,
    candidate_set,
    day_of,
    deal_history,
)
from services.recommendations.published import publish, served_ranker


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    """The Chinese labels of the reference data, for explanations."""
    industries = {s.code: s.name for s in INDUSTRY_SECTIONS}
    industries |= {d.section + d.code: d.name for d in INDUSTRY_DIVISIONS}
    return Vocabulary(
        stages=Stage.labels(),
        qualifications=Qualification.labels(),
        collateral=Collateral.labels(),
        industries=industries,
        strategic=dict(STRATEGIC_EMERGING_INDUSTRIES),
        regions=dict(REGIONS),
        institution_kinds=InstitutionKind.labels(),
    )


@dataclass
class Recommendation:
    """A ranked list for one demand, with reasons and why-nots."""

    demand_id: int
    enterprise_name: str
    model_version: str
    items: list[Explained]
    near_misses: list[Explained]
    legs: list[LegSummary] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return asdict(self)

    def leg_items(self, leg: str) -> list[Explained]:
        """The items of one leg ('equity' or 'loan'), best first."""
        return [i for i in self.items if (i.leg or i.kind.split("+")[0]) == leg]


@dataclass
class TrainReport:
    """What ``train_reranker`` did: the version, the outcome counts, holdout metrics or why not."""

    version: str
    n_outcomes: int
    n_won: int
    fallback_reason: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    path: str | None = None

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return asdict(self)


# --- the training world: every row, for the batch that learns from every outcome ---------------


@dataclass
class _World:
    """Everything, loaded once per training run: rows by id and the histories as arrays."""

    catalog: Catalog
    enterprises: dict[int, Enterprise]
    demands: dict[int, FinancingDemand]
    matches: list[Match]
    deals: DealHistory
    pipeline: PipelineHistory


def _load_world(session: Session) -> _World:
    """Load everything through a private session on the caller's connection (and transaction)."""
    with Session(bind=session.connection()) as private:
        matches = repo.all_rows(private, Match)
        demands = {d.id: d for d in repo.all_rows(private, FinancingDemand) if d.id is not None}
        enterprises = {e.id: e for e in repo.all_rows(private, Enterprise) if e.id is not None}
        return _World(
            catalog=Catalog.read(private),
            enterprises=enterprises,
            demands=demands,
            matches=matches,
            deals=deal_history(repo.deal_rows(private)),
            pipeline=_pipeline_history(repo.stage_moves(private), demands, matches),
        )


def _pipeline_history(
    moves: Iterable[tuple[int, str, datetime]],
    demands: dict[int, FinancingDemand],
    matches: Sequence[Match],
) -> PipelineHistory:
    progressed: dict[int, int] = {}
    for match_id, to_stage, at in moves:
        if REACHED.get(PipelineStage(to_stage), 0) >= 2 and match_id not in progressed:
            progressed[match_id] = day_of(at)
    reached = [
        REACHED.get(m.stage, 2 if m.id in progressed else 1 if m.introduced_at else 0)
        for m in matches
    ]
    return PipelineHistory(
        institution_id=np.array([m.institution_id for m in matches], dtype=np.int64),
        enterprise_id=np.array([demands[m.demand_id].enterprise_id for m in matches], np.int64),
        introduced_day=np.array([day_of(m.introduced_at) for m in matches], dtype=np.int64),
        progressed_day=np.array([progressed.get(m.id or 0, NEVER_DAY) for m in matches], np.int64),
        reached=np.array(reached, dtype=np.int64),
        won=np.array([m.stage == PipelineStage.closed_won for m in matches], dtype=bool),
    )


def _candidates(world: _World, as_of: date, encoder: TextEncoder | None = None) -> CandidateSet:
    return candidate_set(world.catalog, world.deals, world.pipeline, as_of, encoder)


def _profile(world: _World, demand: FinancingDemand, as_of: date) -> DemandProfile:
    e = world.enterprises[demand.enterprise_id]
    return _demand_profile(demand, e, relationships(world.deals, world.pipeline, e.id or 0, as_of),
                           as_of)  # fmt: skip


# --- one demand's side, read by id ------------------------------------------------------------


def _demand_profile(
    demand: FinancingDemand, e: Enterprise, rels: dict[int, float], as_of: date
) -> DemandProfile:
    years = (as_of - e.founded_on).days / 365.25 if e.founded_on else None
    return DemandProfile(
        demand_id=demand.id or 0, enterprise_id=e.id or 0,
        financing_type=demand.financing_type, amount_min_wan=demand.amount_min_wan,
        amount_max_wan=demand.amount_max_wan, stage=demand.round_stage or e.stage,
        industry_code=canonical_industry_code(e.industry_code or ""),
        sei_category=e.sei_category, region_code=e.region_code,
        qualifications=qualifications_met(e.qualifications),
        collateral_offered=frozenset(demand.collateral_offered), years_operating=years,
        revenue_wan=e.revenue_wan, text=f"{e.business_scope or ''} {demand.purpose or ''}",
        relationships=rels, enterprise_name=e.short_name or e.legal_name,
    )  # fmt: skip


def _relationships(
    session: Session, enterprise_ids: Sequence[int], as_of: date
) -> dict[int, dict[int, float]]:
    """Each enterprise's earlier relationships, from its own matches and deals only."""
    matches, deals = repo.relationship_rows(session, enterprise_ids)
    rows_of: dict[int, list[Any]] = defaultdict(list)
    for row in matches:
        rows_of[row.enterprise_id].append(row)
    deals_of: dict[int, list[tuple[int, int, date]]] = defaultdict(list)
    for deal in deals:
        deals_of[deal[1]].append(deal)
    out = {}
    for e in enterprise_ids:
        own = Pipeline.of_rows(rows_of[e], 0, 0).history()
        own = replace(own, enterprise_id=np.full(len(own.institution_id), e, dtype=np.int64))
        out[e] = relationships(_deals_of(e, deals_of[e]), own, e, as_of)
    return out


def _deals_of(enterprise_id: int, deals: Sequence[tuple[int, int, date]]) -> DealHistory:
    n = len(deals)
    return DealHistory(
        institution_id=np.array([d[0] for d in deals], dtype=np.int64),
        enterprise_id=np.full(n, enterprise_id, dtype=np.int64),
        day=np.array([d[2].toordinal() for d in deals], dtype=np.int64),
        stage=np.full(n, UNKNOWN_STAGE, dtype=np.int64),
        industry_code=("",) * n,
        region_code=("",) * n,
        amount_wan=np.zeros(n),
    )


@dataclass
class _Asked:
    """A demand being ranked: its row, its enterprise's and its profile."""

    demand: FinancingDemand
    enterprise: Enterprise
    profile: DemandProfile


def _asked(session: Session, demand_ids: Sequence[int], as_of: date) -> list[_Asked]:
    """The demands of ``demand_ids`` that exist, in that order, each read by id."""
    rows = repo.demands_by_id(session, demand_ids)
    found = [rows[d] for d in demand_ids if d in rows]
    rels = _relationships(session, [e.id or 0 for _, e in found], as_of)
    return [_Asked(d, e, _demand_profile(d, e, rels[e.id or 0], as_of)) for d, e in found]


def _candidate_of(
    cands: CandidateSet, institution_id: int, loan_product_id: int | None, mandate_id: int | None
) -> IntArray:
    """Candidate indices a match refers to: its product or mandate, else all of the institution's."""
    mine = cands.institution_id == institution_id
    if loan_product_id is not None:
        mine &= (cands.product_id == loan_product_id) & (cands.kind == 0)
    elif mandate_id is not None:
        mine &= (cands.product_id == mandate_id) & (cands.kind == 1)
    return np.flatnonzero(mine)


def _taken(session: Session, cands: CandidateSet, demand_ids: Sequence[int]) -> list[IntArray]:
    """Per demand, the candidates already in its pipeline."""
    taken: dict[int, list[IntArray]] = defaultdict(list)
    for demand_id, inst, product, mandate in repo.offers_of_demands(session, demand_ids):
        taken[demand_id].append(_candidate_of(cands, inst, product, mandate))
    empty = np.zeros(0, dtype=np.int64)
    return [np.concatenate(taken[d]) if taken[d] else empty for d in demand_ids]


_CACHE = IndexCache()


# --- the service functions --------------------------------------------------------------------


#: The equity share of a mixed (投贷联动) demand that states no equity amount.
DEFAULT_EQUITY_SHARE = 0.6
_LEG_LABELS = {"equity": "股权", "loan": "贷款"}


@dataclass
class LegSummary:
    """One leg of a demand: its kind, amounts and where the split came from (Chinese)."""

    leg: str
    label: str
    amount_min_wan: float
    amount_max_wan: float
    basis: str


def _legs(
    profile: DemandProfile, demand: FinancingDemand, equity_share: float
) -> list[tuple[DemandProfile, str]]:
    """A loan or equity demand as itself; a mixed one as its equity leg and its loan leg."""
    if demand.financing_type != FinancingType.mixed:
        return [(profile, "")]
    low, high = demand.amount_min_wan, demand.amount_max_wan
    if demand.equity_amount_wan is not None and high > 0:
        share = min(1.0, demand.equity_amount_wan / ((low + high) / 2 or high))
        basis = f"按需求填报：股权 {demand.equity_amount_wan:,.0f} 万元，其余为贷款"
    else:
        share = equity_share
        basis = f"按默认拆分：股权 {share:.0%}、贷款 {1 - share:.0%}（撮合专员可调整）"
    return [
        (with_leg(profile, "equity", low * share, high * share), basis),
        (with_leg(profile, "loan", low * (1 - share), high * (1 - share)), basis),
    ]


def recommend_for_demand(
    session: Session,
    demand_id: int,
    k: int = 10,
    today: date | None = None,
    model: ScoringModel | None = None,
    exposure: ExposurePolicy | None = None,
    near_miss_limit: int = 3,
    equity_share: float = DEFAULT_EQUITY_SHARE,
) -> Recommendation:
    """Rank institutions' products and mandates for one demand, with reasons and why-nots.

    A mixed demand is ranked as two legs (equity, then loan), each among its own kind; loans
    come costed (rate + guarantee fee − 贴息) and, where they need a guarantee, paired with a
    resident guarantor; large rounds get syndicates. Candidates already in this demand's
    pipeline are left out. ``today`` decides residency and the history window (default: the
    center's date). The candidate side comes from the index (`index.IndexCache`), advanced by
    what changed since; the demand, its enterprise and their own matches and deals are read by
    id, so a call costs the same few statements whatever the database holds.
    """
    today = today or center_today()
    index = _CACHE.index(session)
    asked = _asked(session, [demand_id], today)
    if not asked:
        raise NotFoundError(f"融资需求 {demand_id} 不存在")
    demand, enterprise, profile = asked[0].demand, asked[0].enterprise, asked[0].profile
    model = model or served_ranker(session)
    policy = exposure or ExposurePolicy(per_list=2, max_load=50)
    cands, load = _CACHE.candidates(index, today)
    cfg, vocab = RuleConfig(today=today), vocabulary()
    common = {"k": k, "exposure": policy, "exclude": _taken(session, cands, [demand_id])[0],
              "penalty": load_penalty(load, policy, len(cands)),
              "near_miss_limit": near_miss_limit}  # fmt: skip
    guarantors, policies = index.guarantors(), repo.policies(session)
    legs, rankings = [], []
    for leg, basis in _legs(profile, demand, equity_share):
        subsidy: Subsidy = no_subsidy
        if leg.financing_type == "loan":
            amount = (leg.amount_min_wan + leg.amount_max_wan) / 2
            subsidy = subsidy_for(policies, enterprise, amount, demand.term_months, today)
        ranking = rank_leg(model, leg, cands, cfg, vocab, guarantors=guarantors,
                           subsidy=subsidy, **common)  # type: ignore[arg-type]  # fmt: skip
        rankings.append(ranking)
        legs.append(LegSummary(leg.financing_type, _LEG_LABELS[leg.financing_type],
                               round(leg.amount_min_wan, 2), round(leg.amount_max_wan, 2), basis))  # fmt: skip
    return Recommendation(
        demand_id=demand_id,
        enterprise_name=profile.enterprise_name,
        model_version=model.model_version,
        items=[i for r in rankings for i in r.items],
        near_misses=[m for r in rankings for m in r.near_misses],
        legs=legs,
    )


def rank_demands_for_institutions(
    session: Session,
    institution_ids: Sequence[int],
    demand_ids: Sequence[int],
    today: date | None = None,
    model: ScoringModel | None = None,
) -> dict[int, tuple[IntArray, FloatArray]]:
    """Order demands for each institution's digest, best first; demands it cannot serve drop out.

    The demands are encoded and scored against all candidates once; each institution then
    takes the best of its own candidates' columns.
    """
    today = today or center_today()
    cands, _ = _CACHE.candidates(_CACHE.index(session), today)
    wanted = _asked(session, demand_ids, today)
    empty = (np.zeros(0, dtype=np.int64), np.zeros(0))
    if not wanted:
        return {i: empty for i in institution_ids}
    batch = encode_demands([a.profile for a in wanted], cands)
    scores = (model or served_ranker(session)).score(batch, cands, RuleConfig(today=today))
    wanted_ids = np.array([a.demand.id for a in wanted], dtype=np.int64)
    out: dict[int, tuple[IntArray, FloatArray]] = {}
    for inst in institution_ids:
        cols = np.flatnonzero(cands.institution_id == inst)
        out[inst] = _best_first(wanted_ids, scores[:, cols].max(axis=1)) if len(cols) else empty
    return out


def _best_first(ids: IntArray, best: Float32Array) -> tuple[IntArray, FloatArray]:
    order = np.lexsort((ids, -best))
    order = order[np.isfinite(best[order])]
    return ids[order], best[order].astype(np.float64)


@dataclass
class RerankResult:
    """The nightly batch re-rank: per open demand, its top candidates (best first)."""

    today: date
    model_version: str
    demand_ids: IntArray  # (B,)
    institution_ids: IntArray  # (B, k); -1 where fewer candidates are eligible
    product_ids: IntArray  # (B, k); loan product or mandate id, -1 as above
    kinds: IntArray  # (B, k); 0 loan product, 1 mandate, -1 as above
    scores: FloatArray  # (B, k); -inf as above

    def __repr__(self) -> str:
        filled = int((self.institution_ids >= 0).sum())
        return (
            f"RerankResult(today={self.today}, model={self.model_version}, "
            f"demands={len(self.demand_ids)}, recommendations={filled})"
        )


def rerank_open_demands(
    session: Session,
    today: date | None = None,
    k: int = 10,
    model: ScoringModel | None = None,
    max_share: float | None = 0.2,
    n_jobs: int = 1,
) -> RerankResult:
    """Rank candidates for every open demand in one batch (the nightly re-rank).

    Candidates already in a demand's pipeline are left out, as for a single recommendation;
    ``max_share`` caps how many lists one institution appears in. Nothing is written: the
    caller decides what to store or notify.
    """
    today = today or center_today()
    cands, load = _CACHE.candidates(_CACHE.index(session), today)
    open_ids = repo.open_demand_ids(session)
    profiles = [a.profile for a in _asked(session, open_ids, today)]
    exclude = _taken(session, cands, open_ids)
    model = model or served_ranker(session)
    policy = ExposurePolicy(per_list=2, max_share=max_share, max_load=50)
    ids, scores = rank_batch(
        model, profiles, cands, RuleConfig(today=today), k, policy, exclude, load, n_jobs=n_jobs
    )
    return RerankResult(
        today, model.model_version, np.array(open_ids, dtype=np.int64),
        _at(ids, cands.institution_id), _at(ids, cands.product_id),
        _at(ids, cands.kind.astype(np.int64)), scores.astype(np.float64),
    )  # fmt: skip


def _at(ids: IntArray, column: IntArray) -> IntArray:
    """``column`` at candidate indices ``ids``, -1 where ``ids`` pads."""
    return np.where(ids >= 0, column[np.maximum(ids, 0)], -1)


# --- training ---------------------------------------------------------------------------------


def _deals_before(deals: DealHistory, today: date) -> DealHistory:
    keep = deals.day < today.toordinal()
    return DealHistory(
        deals.institution_id[keep], deals.enterprise_id[keep], deals.day[keep], deals.stage[keep],
        tuple(np.asarray(deals.industry_code, dtype=object)[keep].tolist()),
        tuple(np.asarray(deals.region_code, dtype=object)[keep].tolist()),
        deals.amount_wan[keep],
    )  # fmt: skip


def confirmed_deals(session: Session, today: date) -> int:
    """How many confirmed deals (the outcomes the ranker learns from) closed before ``today``."""
    return int((_load_world(session).deals.day < today.toordinal()).sum())


def center_ranker(random_state: int = 0) -> InvestorRanker:
    """The LambdaMART sized for a center's few hundred deals: quarterly replay windows over two
    years, small leaves, few trees (the investment-history defaults expect 10,000+ rounds)."""
    return InvestorRanker(window_days=91.0, n_windows=8, min_leaf_samples=5, max_iter=50,
                          random_state=random_state)  # fmt: skip


def _holdout_metrics(history: History, cutoff: date, random_state: int) -> dict[str, float]:
    """Recall@10 of the ranker and the popularity reference on deals from ``cutoff`` on, both
    fitted on earlier deals only (overall and for institutions new to the enterprise)."""
    models: dict[str, Ranker] = {"learned": center_ranker(random_state),
                                 "popularity": CategoryRoundPopularity()}  # fmt: skip
    split = float((cutoff - EPOCH).days)
    if not (history.rounds.day >= split).any() or not (history.rounds.day < split).any():
        return {}
    out: dict[str, float] = {}
    for r in evaluate_split(history, split, 10, models):
        out[f"recall10_{r.name}"] = r.overall.recall
        out[f"recall10_new_{r.name}"] = r.new.recall
        out["holdout_rounds"] = float(r.overall.n_queries)
    return out


def train_reranker(
    session: Session,
    model_dir: Path,
    today: date | None = None,
    min_outcomes: int = 200,
    holdout_days: int = 180,
    random_state: int = 0,
) -> TrainReport:
    """Train the one ranker (:class:`LearnedRanker`) on the center's confirmed deals, then
    publish and serve it (``model_dir``).

    Metrics: Recall@10 on the deals of the last ``holdout_days`` up to the latest deal (a
    history that stops before today, as the demo's, still gets a holdout) against category+stage
    popularity, both fitted on earlier deals only; the published model is then fitted on every
    deal before ``today``, and every caller ranks with it from the next call on (``model use``
    rolls back). With fewer than ``min_outcomes`` deals nothing is published (the rules rank).
    """
    today = today or center_today()
    world = _load_world(session)
    deals = _deals_before(world.deals, today)
    n = len(deals.day)
    if n < min_outcomes:
        reason = (f"已确认成交 {n} 笔，不足训练所需的 {min_outcomes} 笔，继续使用规则排序")  # fmt: skip
        return TrainReport(RULES_VERSION, n, n, reason)
    history = deal_rounds(deals)
    ids = np.array([int(k) for k in history.investor_keys.tolist()], dtype=np.int64)
    model = LearnedRanker(center_ranker(random_state).fit(history), ids)
    if model.ranker.model_ is None:
        reason = f"已确认成交 {n} 笔，但没有可供学习的时间窗口，继续使用规则排序"
        return TrainReport(RULES_VERSION, n, n, reason)
    report = TrainReport(model.model_version, n, n)
    last = date.fromordinal(min(today.toordinal(), int(deals.day.max()) + 1))
    report.metrics = _holdout_metrics(history, last - timedelta(days=holdout_days), random_state)
    row = publish(session, model, model_dir, report.metrics, n, n, datetime.now(UTC))
    report.path = row.path
    return report
