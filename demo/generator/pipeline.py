"""Two years of pipeline history: matches, their timestamped transitions, and the deals they made.

A few deals are deliberately not brokered (撮合), so Appendix A's counting rule is exercised.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from demo.generator.context import GenContext, new_row, utc
from demo.generator.enterprises import Population
from demo.generator.institutions import EQUITY_KINDS, Registry
from demo.generator.offers import Offer, offers_for, responsiveness
from demo.generator.vocab import MATCHMAKERS
from models.demand import FinancingDemand
from models.match import Deal, Match, MatchTransition
from models.reference import (
    PIPELINE_ORDER,
    DealLink,
    DealType,
    DemandStatus,
    FinancingType,
    InstitutionKind,
    PipelineStage,
)

#: Chance that the best-fitting chosen offer of a demand's side closes at a latent fit of 0.6;
#: it scales with the square of the fit, so outcomes follow sector, ticket, region and the
#: institution's responsiveness (stage is a hard requirement of a fitting mandate), with noise.
_WIN_CHANCE = {DealType.loan: 0.4, DealType.equity: 0.25}
_FIT_NOISE = 0.08
_ADVANCE = {
    PipelineStage.recommended: 0.7,
    PipelineStage.introduced: 0.75,
    PipelineStage.meeting: 0.65,
    PipelineStage.due_diligence: 0.7,
    PipelineStage.term_sheet: 0.0,  # only the demand's winner closes
}
_NOTES = {
    "pre_closed": "机构反馈：该笔业务在中心引荐前已完成审批，不计入撮合",
    "unintroduced": "机构报送成交，中心未进行引荐，不计入撮合",
}
_LOST_NOTES = ("企业估值预期差异较大", "授信审批未通过", "企业选择其他融资渠道", "机构投资方向调整")
Path = list[tuple[PipelineStage, datetime]]


@dataclass
class _Plan:
    demand: FinancingDemand
    offer: Offer
    actor: str
    path: Path
    mode: str = "brokered"  # brokered | pre_closed | unintroduced
    match: Match = field(init=False)
    amount_wan: float = 0.0  # of its deal, drawn before the demand is written (amount raised)

    @property
    def won(self) -> bool:
        return self.path[-1][0] == PipelineStage.closed_won


def generate_pipeline(
    ctx: GenContext, population: Population, registry: Registry, demands: list[FinancingDemand]
) -> tuple[list[Match], list[Deal]]:
    """Insert the demands, each with its status from its outcome, their matches, transitions
    and deals."""
    plans = [p for d in demands for p in _plan_demand(ctx, population, registry, d)]
    _mark_unbrokered(ctx, plans)
    for plan in (p for p in plans if p.won):
        plan.amount_wan = _deal_amount(ctx, plan)
        plan.demand.amount_raised_wan += plan.amount_wan
    _settle_demands(ctx, demands, plans)
    ctx.stream(demands)
    for plan in plans:
        plan.match = _match(ctx, plan)
    ctx.stream([p.match for p in plans])
    ctx.stream([t for p in plans for t in _transitions(ctx, p)])
    deals = [_deal(ctx, p) for p in plans if p.won]
    deals += _direct_deals(ctx, population, registry)
    ctx.stream(deals)
    return [p.match for p in plans], deals


def _plan_demand(
    ctx: GenContext, population: Population, registry: Registry, demand: FinancingDemand
) -> list[_Plan]:
    assert demand.created_at is not None
    start = demand.created_at + timedelta(days=ctx.rng.randint(1, 20), hours=ctx.rng.randint(0, 6))
    if ctx.chance(0.2) or start >= utc(ctx.today):
        return []
    enterprise = population.by_id[demand.enterprise_id]
    sides = {
        FinancingType.loan: (DealType.loan,),
        FinancingType.equity: (DealType.equity,),
        FinancingType.mixed: (DealType.loan, DealType.equity),
    }[demand.financing_type]
    plans: list[_Plan] = []
    shortlist = registry.shortlist(ctx.rng)
    for side in sides:
        offers = offers_for(shortlist, demand, enterprise, side, start.date())
        fit = {id(o): o.latent_fit(demand, enterprise) for o in offers}
        plans += _plan_side(ctx, demand, offers, start, fit)
    return plans


def _winner(ctx: GenContext, chosen: list[Offer], fit: dict[int, float]) -> Offer | None:
    """The best-fitting chosen offer (latent fit plus noise) closes with a fit-scaled chance."""
    fitting = [o for o in chosen if o.fits]
    if not fitting:
        return None
    noisy = {id(o): fit[id(o)] + ctx.rng.gauss(0.0, _FIT_NOISE) for o in fitting}
    best = max(fitting, key=lambda o: noisy[id(o)])
    p = min(0.95, _WIN_CHANCE[best.side] * (max(noisy[id(best)], 0.0) / 0.6) ** 2)
    return best if ctx.chance(p) else None


def _plan_side(
    ctx: GenContext,
    demand: FinancingDemand,
    offers: list[Offer],
    start: datetime,
    fit: dict[int, float],
) -> list[_Plan]:
    fitting = [o for o in offers if o.fits]
    chosen = ctx.rng.sample(fitting, min(len(fitting), ctx.rng.randint(1, 3)))
    others = [o for o in offers if not o.fits]
    if others and (not chosen or ctx.chance(0.25)):
        chosen.append(ctx.rng.choice(others))
    winner = _winner(ctx, chosen, fit)
    actor = ctx.rng.choice(MATCHMAKERS)
    plans = [
        _Plan(demand, o, actor, _timed(ctx, _stages(ctx, o is winner, start, o), start))
        for o in chosen
    ]
    won_at = [p.path[-1][1] for p in plans if p.won]
    if won_at:
        _close_others(ctx, plans, won_at[0])
    return plans


def _close_others(ctx: GenContext, plans: list[_Plan], won_at: datetime) -> None:
    """Once one institution has closed, the side's other open matches are lost."""
    for plan in plans:
        if plan.won:
            continue
        plan.path = [(stage, at) for stage, at in plan.path if at < won_at]
        lost_at = won_at + timedelta(days=ctx.rng.randint(1, 7))
        if not plan.path[-1][0].is_closed and lost_at < utc(ctx.today):
            plan.path.append((PipelineStage.closed_lost, lost_at))


def _stages(ctx: GenContext, won: bool, start: datetime, offer: Offer) -> list[PipelineStage]:
    if won:
        return list(PIPELINE_ORDER)
    stages = [PipelineStage.recommended]
    stale = (utc(ctx.today) - start).days > 120  # old open matches were mostly given up
    for stage in PIPELINE_ORDER[:-1]:
        advance = _ADVANCE[stage]
        if stage == PipelineStage.introduced:  # a responsive institution takes the meeting
            advance = 0.2 + 0.75 * responsiveness(offer.institution)
        if not ctx.chance(advance):
            if ctx.chance(0.75 if stale else 0.3):
                stages.append(PipelineStage.closed_lost)
            return stages
        stages.append(PIPELINE_ORDER[PIPELINE_ORDER.index(stage) + 1])
    return stages


def _timed(ctx: GenContext, stages: list[PipelineStage], start: datetime) -> Path:
    """Timestamps 2–30 days apart; whatever would fall on or after `today` has not happened."""
    path: Path = []
    at, now = start, utc(ctx.today)
    for stage in stages:
        if at >= now:
            break
        path.append((stage, at))
        at += timedelta(days=ctx.rng.randint(2, 30), hours=ctx.rng.randint(0, 8))
    return path


def _mark_unbrokered(ctx: GenContext, plans: list[_Plan]) -> None:
    """Turn a few winners into deals the center cannot claim (at least two of each kind)."""
    winners = [p for p in plans if p.won]
    k = max(2, round(len(winners) * 0.03))
    marked = ctx.rng.sample(winners, min(len(winners), 2 * k))
    for plan in marked[:k]:
        plan.mode = "pre_closed"
        plan.path = [*plan.path[:2], (PipelineStage.closed_won, _later(ctx, plan.path[1][1]))]
    for plan in marked[k:]:
        plan.mode = "unintroduced"
        plan.path = [plan.path[0], (PipelineStage.closed_won, _later(ctx, plan.path[0][1]))]


def _later(ctx: GenContext, at: datetime) -> datetime:
    later = at + timedelta(days=ctx.rng.randint(1, 10))
    return later if later < utc(ctx.today) else at + timedelta(hours=1)


def _match(ctx: GenContext, plan: _Plan) -> Match:
    assert plan.demand.id is not None and plan.offer.institution.id is not None
    last, last_at = plan.path[-1]
    times = dict(plan.path)
    product, mandate = plan.offer.product, plan.offer.mandate
    return new_row(
        Match,
        demand_id=plan.demand.id,
        institution_id=plan.offer.institution.id,
        loan_product_id=product.id if product is not None else None,
        mandate_id=mandate.id if mandate is not None else None,
        stage=last,
        score=round(
            ctx.rng.uniform(0.65, 0.95) if plan.offer.fits else ctx.rng.uniform(0.3, 0.6), 3
        ),
        reasons=_reasons(plan.offer),
        model_version="rules-v1",
        version=len(plan.path),
        recommended_at=plan.path[0][1],
        introduced_at=times.get(PipelineStage.introduced),
        closed_at=last_at if last.is_closed else None,
        created_at=plan.path[0][1],
    )


def _reasons(offer: Offer) -> list[dict[str, object]]:
    reasons: list[dict[str, object]] = [{"factor": "financing_type", "text": "融资方式匹配"}]
    low, high = offer.ticket()
    if offer.product is not None:
        text = f"产品“{offer.product.name}”额度{low:.0f}–{high:.0f}万元覆盖需求"
        reasons.append({"factor": "ticket", "text": text})
    if offer.mandate is not None:
        text = f"投资方向“{offer.mandate.name}”的阶段与行业符合，单笔{low:.0f}–{high:.0f}万元"
        reasons.append({"factor": "mandate", "text": text})
    return reasons


def _transitions(ctx: GenContext, plan: _Plan) -> list[MatchTransition]:
    assert plan.match.id is not None
    rows, previous = [], None
    for stage, at in plan.path:
        rows.append(
            new_row(
                MatchTransition,
                match_id=plan.match.id,
                from_stage=previous,
                to_stage=stage,
                at=at,
                actor=plan.actor,
                note=_transition_note(ctx, plan, stage),
            )
        )
        previous = stage
    return rows


def _transition_note(ctx: GenContext, plan: _Plan, stage: PipelineStage) -> str | None:
    if stage == PipelineStage.closed_lost:
        return ctx.rng.choice(_LOST_NOTES)
    if stage == PipelineStage.closed_won:
        return _NOTES.get(plan.mode, "签约完成，资金已到位")
    return None


def _deal(ctx: GenContext, plan: _Plan) -> Deal:
    assert plan.match.id is not None and plan.offer.institution.id is not None
    closed_at = plan.path[-1][1]
    closed_on = closed_at.date()
    if plan.mode == "pre_closed":
        closed_on = plan.path[1][1].date() - timedelta(days=ctx.rng.randint(5, 40))
    return new_row(
        Deal,
        deal_type=plan.offer.side,
        amount_wan=plan.amount_wan,
        closed_on=closed_on,
        enterprise_id=plan.demand.enterprise_id,
        institution_id=plan.offer.institution.id,
        match_id=plan.match.id,
        link_status=DealLink.linked,
        note=_NOTES.get(plan.mode),
        created_at=closed_at,
    )


def _deal_amount(ctx: GenContext, plan: _Plan) -> float:
    low, high = plan.offer.ticket()
    return _amount_between(
        ctx, max(low, plan.demand.amount_min_wan), min(high, plan.demand.amount_max_wan)
    )


def _amount_between(ctx: GenContext, low: float, high: float) -> float:
    steps = max(0, int((high - low) // 10))
    return round(low + 10 * ctx.rng.randint(0, steps), 2)


def _direct_deals(ctx: GenContext, population: Population, registry: Registry) -> list[Deal]:
    """Deals institutions report without any match: never brokered by the center."""
    count = max(3, round(len(population.enterprises) * 0.012))
    deals = [_direct_deal(ctx, population, registry) for _ in range(count)]
    return [d for d in deals if d is not None]


def _direct_deal(ctx: GenContext, population: Population, registry: Registry) -> Deal | None:
    enterprise = ctx.rng.choice(population.enterprises)
    day = ctx.day_between(ctx.history_start, ctx.today - timedelta(days=1))
    side = DealType.loan if ctx.chance(0.6) else DealType.equity
    kinds = (InstitutionKind.bank,) if side == DealType.loan else EQUITY_KINDS
    candidates = [i for i in registry.of_kind(*kinds) if i.is_resident_on(day)]
    if enterprise.id is None or not candidates:
        return None
    institution = ctx.rng.choice(candidates)
    assert institution.id is not None
    median = 400.0 if side == DealType.loan else 2000.0
    amount = max(10.0, round(ctx.rng.lognormvariate(0, 0.8) * median, -1))
    return new_row(
        Deal,
        deal_type=side,
        amount_wan=amount,
        closed_on=day,
        enterprise_id=enterprise.id,
        institution_id=institution.id,
        note="机构自行报送，非中心撮合",
        link_status=DealLink.rejected,
        created_at=ctx.at(day),
    )


def _settle_demands(ctx: GenContext, demands: list[FinancingDemand], plans: list[_Plan]) -> None:
    by_demand: dict[int, list[_Plan]] = {}  # by object: the demands have no ids yet
    for plan in plans:
        by_demand.setdefault(id(plan.demand), []).append(plan)
    for demand in demands:
        _settle(ctx, demand, by_demand.get(id(demand), []))


def _settle(ctx: GenContext, demand: FinancingDemand, plans: list[_Plan]) -> None:
    assert demand.created_at is not None
    now = utc(ctx.today)
    touched = [at for p in plans for _, at in p.path]
    demand.updated_at = max(touched, default=demand.created_at)
    introduced = any(stage != PipelineStage.recommended for p in plans for stage, _ in p.path)
    active = DemandStatus.open if introduced else DemandStatus.pending
    demand.status = active
    if any(p.won for p in plans):
        demand.status = DemandStatus.funded
    elif (now - demand.created_at).days > 365 and all(p.path[-1][0].is_closed for p in plans):
        demand.status = DemandStatus.withdrawn if ctx.chance(0.6) else active
