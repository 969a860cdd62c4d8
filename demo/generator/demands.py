"""Financing demands (融资需求库): amounts consistent with stage and revenue."""

from datetime import date, timedelta

from demo.generator.context import GenContext, new_row
from demo.generator.enterprises import Population
from demo.generator.vocab import DEMAND_PURPOSES
from models.demand import FinancingDemand
from models.enterprise import Enterprise
from models.reference import Collateral, Confidentiality, FinancingType, Stage

# Typical equity round by stage (万元); loans scale with revenue instead.
_EQUITY_ROUND: dict[Stage, tuple[float, float]] = {
    Stage.seed: (100, 800),
    Stage.startup: (500, 3000),
    Stage.growth: (2000, 10000),
    Stage.expansion: (5000, 30000),
    Stage.mature: (8000, 40000),
    Stage.pre_ipo: (10000, 60000),
}
# (loan, equity, mixed) shares by stage.
_TYPE_SHARES: dict[Stage, tuple[float, float, float]] = {
    Stage.seed: (0.15, 0.8, 0.05),
    Stage.startup: (0.35, 0.55, 0.1),
    Stage.growth: (0.5, 0.32, 0.18),
    Stage.expansion: (0.55, 0.3, 0.15),
    Stage.mature: (0.75, 0.15, 0.1),
    Stage.pre_ipo: (0.45, 0.45, 0.1),
}
_TYPES = (FinancingType.loan, FinancingType.equity, FinancingType.mixed)
_LOAN_CAP_WAN = 20000.0
_CONFIDENTIALITY = (
    (Confidentiality.teaser, 0.65),
    (Confidentiality.public, 0.2),
    (Confidentiality.confidential, 0.15),
)


def generate_demands(ctx: GenContext, population: Population) -> list[FinancingDemand]:
    """0–2 demands per enterprise (about 0.6 on average), open: the pipeline settles their
    status and inserts them."""
    first = ctx.counts.get(str(FinancingDemand.__tablename__), 0)  # numbers their references
    rows: list[FinancingDemand] = []
    for enterprise in population.enterprises:
        count = ctx.weighted([(0, 0.5), (1, 0.38), (2, 0.12)])
        for _ in range(count):
            rows.append(_demand(ctx, enterprise, first + len(rows)))
    return rows


def _demand(ctx: GenContext, enterprise: Enterprise, seq: int) -> FinancingDemand:
    assert enterprise.id is not None and enterprise.stage is not None
    ftype = ctx.rng.choices(_TYPES, weights=_TYPE_SHARES[enterprise.stage])[0]
    low, high = _amount_range(ctx, enterprise, ftype)
    created = ctx.at(_created_day(ctx, enterprise))
    return new_row(
        FinancingDemand,
        enterprise_id=enterprise.id,
        financing_type=ftype,
        amount_min_wan=low,
        amount_max_wan=high,
        round_stage=enterprise.stage,
        purpose=ctx.rng.choice(DEMAND_PURPOSES[ftype.value]),
        collateral_offered=_collateral(ctx, enterprise) if ftype != FinancingType.equity else [],
        term_months=ctx.rng.choice((6, 12, 12, 24, 36)) if ftype != FinancingType.equity else None,
        deadline=created.date() + timedelta(days=ctx.rng.randint(90, 300)),
        confidentiality=ctx.weighted(_CONFIDENTIALITY),
        source_ref=f"XQ{created.year}{seq + 1:05d}",
        created_at=created,
        updated_at=created,
    )


def _created_day(ctx: GenContext, enterprise: Enterprise) -> date:
    assert enterprise.created_at is not None
    first = max(enterprise.created_at.date(), ctx.history_start)
    return ctx.day_between(first, ctx.today - timedelta(days=1))


def _amount_range(ctx: GenContext, e: Enterprise, ftype: FinancingType) -> tuple[float, float]:
    assert e.stage is not None
    if ftype == FinancingType.equity:
        amount = ctx.rng.uniform(*_EQUITY_ROUND[e.stage])
    else:
        base = max(e.revenue_wan or 0.0, 150.0) * ctx.rng.uniform(0.08, 0.35)
        amount = min(_LOAN_CAP_WAN, max(50.0, base))
        if ftype == FinancingType.mixed:
            amount += ctx.rng.uniform(*_EQUITY_ROUND[e.stage]) * 0.5
    low = _round_amount(amount * ctx.rng.uniform(0.6, 0.9))
    return low, max(low, _round_amount(amount * ctx.rng.uniform(1.0, 1.3)))


def _round_amount(amount: float) -> float:
    step = 10.0 if amount < 1000 else 100.0
    return max(step, round(amount / step) * step)


def _collateral(ctx: GenContext, e: Enterprise) -> list[str]:
    offered = [Collateral.none.value] if ctx.chance(0.5) else []
    if (e.patents or 0) >= 5 and ctx.chance(0.6):
        offered.append(Collateral.ip_pledge.value)
    if (e.revenue_wan or 0) >= 1000 and ctx.chance(0.4):
        offered.append(Collateral.receivables.value)
    if e.stage in (Stage.mature, Stage.pre_ipo) and ctx.chance(0.4):
        offered.append(Collateral.real_estate.value)
    if ctx.chance(0.15):
        offered.append(Collateral.guarantee.value)
    return offered or [Collateral.none.value]
