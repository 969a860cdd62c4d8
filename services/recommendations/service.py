"""The only adapter between the database and the matching core; it never commits.

Every ranking uses the served model (`published.served_ranker`) unless the caller passes one;
training saves into the ``model_dir`` the caller passes. Nothing reads the environment.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from pathlib import Path

import numpy as np
from sqlmodel import Session

from matching.candidates import build_candidate_set
from matching.explain import Explained
from matching.history import (
    NEVER_DAY,
    DealHistory,
    PipelineHistory,
    infer_profiles,
    recent_activity,
    relationships,
    responsiveness,
)
from matching.learned import EPOCH, RULES_VERSION, LearnedRanker, deal_history
from matching.offline.baselines import CategoryRoundPopularity
from matching.offline.data import History
from matching.offline.evaluate import Ranker, evaluate_split
from matching.offline.ranker import InvestorRanker
from matching.options import GuarantorRow, Subsidy, no_subsidy, rank_leg, with_leg
from matching.profiles import (
    STAGE_INDEX,
    UNKNOWN_STAGE,
    CandidateRow,
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
    Deal,
    Enterprise,
    FinancingDemand,
    Institution,
    InvestmentMandate,
    LoanProduct,
    Match,
)
from models.clock import center_today
from models.errors import NotFoundError
from models.reference import (
    BUYOUT_WORDS,
    EQUITY_LINKED_WORDS,
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
from services.recommendations.published import publish, served_ranker

LOAD_WINDOW_DAYS = 30
_REACHED = {s: i for i, s in enumerate(
    [PipelineStage.recommended, PipelineStage.introduced, PipelineStage.meeting,
     PipelineStage.due_diligence, PipelineStage.term_sheet, PipelineStage.closed_won]
)}  # fmt: skip


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


# --- loading the pipeline and deal history ----------------------------------------------------


def _day(value: datetime | date | None) -> int:
    if value is None:
        return int(NEVER_DAY)
    return (value.date() if isinstance(value, datetime) else value).toordinal()


@dataclass
class _World:
    """Everything loaded once per call: rows by id and the histories as arrays."""

    enterprises: dict[int, Enterprise]
    demands: dict[int, FinancingDemand]
    matches: list[Match]
    deals: DealHistory
    pipeline: PipelineHistory
    institutions: list[Institution]
    products: dict[int, list[LoanProduct]]
    mandates: dict[int, list[InvestmentMandate]]
    by_demand: dict[int, list[Match]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for m in self.matches:
            self.by_demand.setdefault(m.demand_id, []).append(m)


def _load_world(session: Session) -> _World:
    """Load everything through a private session on the caller's connection (and transaction).

    Closing it detaches the rows with their loaded values, so a cached world never expires,
    lazily reloads or leaks into the caller's session.
    """
    with Session(bind=session.connection()) as private:
        matches = repo.all_rows(private, Match)
        demands = {d.id: d for d in repo.all_rows(private, FinancingDemand) if d.id is not None}
        enterprises = {e.id: e for e in repo.all_rows(private, Enterprise) if e.id is not None}
        products: dict[int, list[LoanProduct]] = defaultdict(list)
        for p in repo.all_rows(private, LoanProduct):
            products[p.institution_id].append(p)
        mandates: dict[int, list[InvestmentMandate]] = defaultdict(list)
        for m in repo.all_rows(private, InvestmentMandate):
            mandates[m.institution_id].append(m)
        return _World(
            enterprises=enterprises,
            demands=demands,
            matches=matches,
            deals=_deal_history(repo.confirmed_deals(private), enterprises, demands, matches),
            pipeline=_pipeline_history(repo.stage_moves(private), demands, matches),
            institutions=repo.all_rows(private, Institution),
            products=products,
            mandates=mandates,
        )


def _deal_history(
    deals: Sequence[Deal],
    enterprises: dict[int, Enterprise],
    demands: dict[int, FinancingDemand],
    matches: Sequence[Match],
) -> DealHistory:
    demand_of = {m.id: demands.get(m.demand_id) for m in matches}
    stages, industries, regions = [], [], []
    for d in deals:
        e = enterprises[d.enterprise_id]
        dem = demand_of.get(d.match_id) if d.match_id else None
        stage = (dem.round_stage if dem else None) or e.stage
        stages.append(STAGE_INDEX.get(stage or "", UNKNOWN_STAGE))
        industries.append(canonical_industry_code(e.industry_code or "") or "")
        regions.append(e.region_code or "")
    return DealHistory(
        institution_id=np.array([d.institution_id for d in deals], dtype=np.int64),
        enterprise_id=np.array([d.enterprise_id for d in deals], dtype=np.int64),
        day=np.array([d.closed_on.toordinal() for d in deals], dtype=np.int64),
        stage=np.array(stages, dtype=np.int64),
        industry_code=tuple(industries),
        region_code=tuple(regions),
        amount_wan=np.array([d.amount_wan for d in deals], dtype=np.float64),
    )


def _pipeline_history(
    moves: Iterable[tuple[int, str, datetime]],
    demands: dict[int, FinancingDemand],
    matches: Sequence[Match],
) -> PipelineHistory:
    progressed: dict[int, int] = {}
    for match_id, to_stage, at in moves:
        if _REACHED.get(PipelineStage(to_stage), 0) >= 2 and match_id not in progressed:
            progressed[match_id] = _day(at)
    reached = [
        _REACHED.get(m.stage, 2 if m.id in progressed else 1 if m.introduced_at else 0)
        for m in matches
    ]
    return PipelineHistory(
        institution_id=np.array([m.institution_id for m in matches], dtype=np.int64),
        enterprise_id=np.array([demands[m.demand_id].enterprise_id for m in matches], np.int64),
        introduced_day=np.array([_day(m.introduced_at) for m in matches], dtype=np.int64),
        progressed_day=np.array([progressed.get(m.id or 0, NEVER_DAY) for m in matches], np.int64),
        reached=np.array(reached, dtype=np.int64),
        won=np.array([m.stage == PipelineStage.closed_won for m in matches], dtype=bool),
    )


# --- building the core's inputs ---------------------------------------------------------------


def _sectors(codes: Iterable[str]) -> tuple[str, ...]:
    return tuple(c for c in (canonical_industry_code(x) for x in codes) if c)


def _mid(low: float | None, high: float | None) -> float | None:
    values = [v for v in (low, high) if v is not None]
    return sum(values) / len(values) if values else None


def _marked(text: str, words: Iterable[str]) -> bool:
    return any(w.lower() in text.lower() for w in words)


def _product_row(inst: Institution, p: LoanProduct, signals: tuple[float, float]) -> CandidateRow:
    return CandidateRow(
        institution_id=inst.id or 0, product_id=p.id or 0, kind="loan",
        institution_name=inst.short_name or inst.name, product_name=p.name,
        institution_kind=inst.kind, ticket_min_wan=p.min_amount_wan,
        ticket_max_wan=p.max_amount_wan, agreement_start=inst.agreement_start,
        agreement_end=inst.agreement_end, active=p.active,
        institution_regions=tuple(inst.regions_served), product_regions=tuple(p.regions),
        sectors=_sectors(p.sectors), required_qualifications=tuple(p.required_qualifications),
        collateral_accepted=tuple(p.collateral_accepted),
        min_years_operating=p.min_years_operating, min_revenue_wan=p.min_revenue_wan,
        text=f"{inst.focus or ''} {p.name}", activity=signals[0], responsiveness=signals[1],
        rate_pct=_mid(p.rate_min_pct, p.rate_max_pct),
        equity_linked=_marked(p.name, EQUITY_LINKED_WORDS),
    )  # fmt: skip


def _mandate_row(
    inst: Institution, m: InvestmentMandate, signals: tuple[float, float]
) -> CandidateRow:
    return CandidateRow(
        institution_id=inst.id or 0, product_id=m.id or 0, kind="equity",
        institution_name=inst.short_name or inst.name, product_name=m.name,
        institution_kind=inst.kind, ticket_min_wan=m.min_ticket_wan,
        ticket_max_wan=m.max_ticket_wan, remaining_capacity_wan=m.remaining_capacity_wan,
        agreement_start=inst.agreement_start, agreement_end=inst.agreement_end, active=m.active,
        institution_regions=tuple(inst.regions_served), product_regions=tuple(m.regions),
        stages=tuple(m.stages), sectors=_sectors(m.sectors),
        sei_categories=tuple(m.sei_categories), text=f"{inst.focus or ''} {m.name}",
        activity=signals[0], responsiveness=signals[1], buyout=_marked(m.name, BUYOUT_WORDS),
    )  # fmt: skip


def _candidate_rows(world: _World, as_of: date) -> list[CandidateRow]:
    ids = np.array([i.id for i in world.institutions], dtype=np.int64)
    act = recent_activity(world.deals, world.pipeline, ids, as_of)
    resp = responsiveness(world.pipeline, ids, as_of)
    rows: list[CandidateRow] = []
    for k, inst in enumerate(world.institutions):
        signals = (float(act[k]), float(resp[k]))
        if inst.kind != InstitutionKind.guarantee:  # a guarantor's products are guarantees
            rows += [_product_row(inst, p, signals) for p in world.products.get(inst.id or 0, [])]
        rows += [_mandate_row(inst, m, signals) for m in world.mandates.get(inst.id or 0, [])]
    return rows


def _candidates(world: _World, as_of: date, encoder: TextEncoder | None = None) -> CandidateSet:
    rows = _candidate_rows(world, as_of)
    ids = np.array([i.id for i in world.institutions], dtype=np.int64)
    profiles = infer_profiles(world.deals, ids, as_of)
    return build_candidate_set(rows, profiles, encoder=encoder)


def _profile(world: _World, demand: FinancingDemand, as_of: date) -> DemandProfile:
    e = world.enterprises[demand.enterprise_id]
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
        relationships=relationships(world.deals, world.pipeline, e.id or 0, as_of),
        enterprise_name=e.short_name or e.legal_name,
    )  # fmt: skip


def _candidate_of(cands: CandidateSet, m: Match) -> IntArray:
    """Candidate indices a match refers to: its product or mandate, else all of the institution's."""
    mine = cands.institution_id == m.institution_id
    if m.loan_product_id is not None:
        mine &= (cands.product_id == m.loan_product_id) & (cands.kind == 0)
    elif m.mandate_id is not None:
        mine &= (cands.product_id == m.mandate_id) & (cands.kind == 1)
    return np.flatnonzero(mine)


def _load(world: _World, cands: CandidateSet, today: date) -> IntArray:
    """Open recommendations of each candidate's institution made in the last 30 days."""
    since = datetime.combine(today - timedelta(days=LOAD_WINDOW_DAYS), datetime.min.time(), UTC)
    counts: dict[int, int] = defaultdict(int)
    for m in world.matches:
        at = m.recommended_at or m.created_at
        if not m.stage.is_closed and at is not None and _aware(at) >= since:
            counts[m.institution_id] += 1
    return np.array([counts.get(int(i), 0) for i in cands.institution_id], dtype=np.int64)


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


# --- the world cache --------------------------------------------------------------------------


@dataclass
class _Entry:
    """One loaded world and what was derived from it: the text encoder, candidates per day."""

    world: _World
    loaded_at: float
    encoder: TextEncoder | None = None
    days: OrderedDict[date, tuple[CandidateSet, IntArray]] = field(default_factory=OrderedDict)


class WorldCache:
    """Loaded worlds keyed by (database, data version): LRU-bounded, thread-safe, with a TTL."""

    def __init__(
        self,
        maxsize: int = 4,
        days: int = 4,
        ttl_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.maxsize, self.days, self.ttl_seconds, self.clock = maxsize, days, ttl_seconds, clock
        self._entries: OrderedDict[tuple[object, ...], _Entry] = OrderedDict()
        # One load or derivation at a time: concurrent misses wait, then hit.
        self._lock = threading.Lock()
        self.loads = 0

    def clear(self) -> None:
        """Forget every world (after writes the version does not see)."""
        with self._lock:
            self._entries.clear()

    def entry(self, session: Session) -> _Entry:
        """The world as ``session`` sees it, loaded only when the data version changed."""
        bind = session.get_bind()
        key = (id(bind), str(bind.engine.url), repo.data_version(session))
        return self._get(key, lambda: _load_world(session))

    def _get(self, key: tuple[object, ...], load: Callable[[], _World]) -> _Entry:
        with self._lock:
            found = self._entries.pop(key, None)
            if found is None or self.clock() - found.loaded_at > self.ttl_seconds:
                found = _Entry(load(), self.clock())
                self.loads += 1
            self._entries[key] = found  # the most recently used last
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)
            return found

    def candidates(self, entry: _Entry, today: date) -> tuple[CandidateSet, IntArray]:
        """The candidate set as of ``today`` and each candidate's open-recommendation load."""
        with self._lock:
            if today not in entry.days:
                if entry.encoder is None:
                    entry.encoder = _fit_encoder(entry.world, today)
                cands = _candidates(entry.world, today, entry.encoder)
                entry.days[today] = (cands, _load(entry.world, cands, today))
                while len(entry.days) > self.days:
                    entry.days.popitem(last=False)
            return entry.days[today]


def _fit_encoder(world: _World, as_of: date) -> TextEncoder:
    """The text encoder of the world's candidates (their texts do not depend on the day)."""
    return TextEncoder().fit([r.text for r in _candidate_rows(world, as_of)])


_CACHE = WorldCache()


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


def _guarantor_rows(world: _World) -> list[GuarantorRow]:
    """Resident guarantee institutions' offers: their registered guarantee products, else
    their history (tickets and sectors of their confirmed deals)."""
    out: list[GuarantorRow] = []
    for inst in world.institutions:
        if inst.kind != InstitutionKind.guarantee:
            continue
        name = inst.short_name or inst.name
        base = GuarantorRow(inst.id or 0, 0, name, "融资担保", 0.0, 0.0,
                            regions=tuple(inst.regions_served),
                            agreement_start=inst.agreement_start,
                            agreement_end=inst.agreement_end)  # fmt: skip
        products = world.products.get(inst.id or 0, [])
        out += [
            replace(
                base,
                product_id=p.id or 0,
                product_name=p.name,
                ticket_min_wan=p.min_amount_wan,
                ticket_max_wan=p.max_amount_wan,
                fee_min_pct=p.rate_min_pct,
                fee_max_pct=p.rate_max_pct,
                regions=tuple(p.regions) or base.regions,
                sectors=_sectors(p.sectors),
                active=p.active,
            )
            for p in products
        ]
        if not products:
            out += _guarantor_from_history(world.deals, base)
    return out


def _guarantor_from_history(deals: DealHistory, base: GuarantorRow) -> list[GuarantorRow]:
    mine = deals.institution_id == base.institution_id
    if not mine.any():
        return []
    amounts = deals.amount_wan[mine]
    sections = {deals.industry_code[i][:1] for i in np.flatnonzero(mine)} - {""}
    return [replace(base, ticket_min_wan=float(amounts.min()) / 2,
                    ticket_max_wan=float(amounts.max()) * 2, sectors=tuple(sorted(sections)))]  # fmt: skip


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
    center's date). The loaded world and the candidate set come from the cache while the data
    version is unchanged, so a call costs one version query plus the ranking of one demand.
    """
    today = today or center_today()
    entry = _CACHE.entry(session)
    world = entry.world
    demand = world.demands.get(demand_id)
    if demand is None:
        raise NotFoundError(f"融资需求 {demand_id} 不存在")
    model = model or served_ranker(session)
    policy = exposure or ExposurePolicy(per_list=2, max_load=50)
    cands, load = _CACHE.candidates(entry, today)
    profile = _profile(world, demand, today)
    cfg, vocab = RuleConfig(today=today), vocabulary()
    common = {"k": k, "exposure": policy, "exclude": _taken(world, cands, demand_id),
              "penalty": load_penalty(load, policy, len(cands)),
              "near_miss_limit": near_miss_limit}  # fmt: skip
    guarantors, policies = _guarantor_rows(world), repo.policies(session)
    enterprise = world.enterprises[demand.enterprise_id]
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
    entry = _CACHE.entry(session)
    cands, _ = _CACHE.candidates(entry, today)
    wanted = [entry.world.demands[d] for d in demand_ids if d in entry.world.demands]
    empty = (np.zeros(0, dtype=np.int64), np.zeros(0))
    if not wanted:
        return {i: empty for i in institution_ids}
    batch = encode_demands([_profile(entry.world, d, today) for d in wanted], cands)
    scores = (model or served_ranker(session)).score(batch, cands, RuleConfig(today=today))
    wanted_ids = np.array([d.id for d in wanted], dtype=np.int64)
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
    entry = _CACHE.entry(session)
    cands, load = _CACHE.candidates(entry, today)
    world = entry.world
    open_demands = sorted(
        (d for d in world.demands.values() if d.status.is_open_for_matching),
        key=lambda d: d.id or 0,
    )
    profiles = [_profile(world, d, today) for d in open_demands]
    exclude = [_taken(world, cands, d.id or 0) for d in open_demands]
    model = model or served_ranker(session)
    policy = ExposurePolicy(per_list=2, max_share=max_share, max_load=50)
    ids, scores = rank_batch(
        model, profiles, cands, RuleConfig(today=today), k, policy, exclude, load, n_jobs=n_jobs
    )
    return RerankResult(
        today, model.model_version, np.array([d.id for d in open_demands], dtype=np.int64),
        _at(ids, cands.institution_id), _at(ids, cands.product_id),
        _at(ids, cands.kind.astype(np.int64)), scores.astype(np.float64),
    )  # fmt: skip


def _at(ids: IntArray, column: IntArray) -> IntArray:
    """``column`` at candidate indices ``ids``, -1 where ``ids`` pads."""
    return np.where(ids >= 0, column[np.maximum(ids, 0)], -1)


def _taken(world: _World, cands: CandidateSet, demand_id: int) -> IntArray:
    taken = [_candidate_of(cands, m) for m in world.by_demand.get(demand_id, [])]
    return np.concatenate(taken) if taken else np.zeros(0, dtype=np.int64)


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
    history = deal_history(deals)
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
