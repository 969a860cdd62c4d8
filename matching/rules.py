"""Hard rules on whole ``(B, n)`` batches, each with a Chinese reason for one pair.

A missing enterprise fact that a product requires breaks the rule: the matcher cannot vouch for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np

from matching.profiles import (
    CREDIT,
    GUARANTEE,
    KIND_LOAN,
    STAGE_INDEX,
    VENTURE_STAGES,
    BoolArray,
    CandidateRow,
    CandidateSet,
    DemandBatch,
    DemandProfile,
    Vocabulary,
    by_demand_key,
    region_prefix,
    region_prefixes,
)

#: Which candidate kinds (loan product, mandate) each financing type accepts.
COMPATIBLE = np.array([[True, False], [False, True], [True, True]])


@dataclass(frozen=True)
class RuleConfig:
    """Parameters of the hard rules: the day residency is checked on, the ticket tolerance."""

    today: date
    ticket_tolerance: float = 0.2


Check = Callable[[DemandBatch, CandidateSet, RuleConfig], BoolArray]
Describe = Callable[[DemandProfile, CandidateRow, RuleConfig, Vocabulary], str]


@dataclass(frozen=True)
class Rule:
    """One hard rule: a machine code, a Chinese label, the batch check and the pair reason."""

    code: str
    label: str
    violated: Check
    reason: Describe


def wan(value: float) -> str:
    """An amount in 万元 as users read it: '1,500' or '12.5'."""
    return f"{value:,.0f}" if float(value).is_integer() or value >= 100 else f"{value:,.1f}"


def _region_label(prefix: str, vocab: Vocabulary) -> str:
    return vocab.label("regions", prefix.ljust(6, "0"))


# --- financing type ---------------------------------------------------------------------------


def _type_check(batch: DemandBatch, cands: CandidateSet, cfg: RuleConfig) -> BoolArray:
    return ~COMPATIBLE[batch.ftype][:, cands.kind]


def _type_reason(d: DemandProfile, c: CandidateRow, cfg: RuleConfig, v: Vocabulary) -> str:
    what = "贷款产品" if c.kind == "loan" else "股权投资"
    return f"融资方式不符：该产品为{what}"


# --- residency and activity -------------------------------------------------------------------


def _resident_check(batch: DemandBatch, cands: CandidateSet, cfg: RuleConfig) -> BoolArray:
    day = cfg.today.toordinal()
    return ((cands.resident_from > day) | (cands.resident_until < day))[None, :]


def _resident_reason(d: DemandProfile, c: CandidateRow, cfg: RuleConfig, v: Vocabulary) -> str:
    return "机构未入驻或入驻协议已到期"


def _active_check(batch: DemandBatch, cands: CandidateSet, cfg: RuleConfig) -> BoolArray:
    return ~cands.active[None, :]


def _active_reason(d: DemandProfile, c: CandidateRow, cfg: RuleConfig, v: Vocabulary) -> str:
    return "该产品/投资策略已停用"


# --- region -----------------------------------------------------------------------------------


def served(table: BoolArray, unrestricted: BoolArray, rows: np.ndarray) -> BoolArray:
    """True where a candidate lists a prefix of the demand's region, or lists none; ``(B, n)``."""
    return unrestricted[None, :] | table[rows[:, 0]] | table[rows[:, 1]] | table[rows[:, 2]]


def _region_key(b: DemandBatch) -> np.ndarray:
    return np.column_stack([b.region_rows, b.inst_region_rows, b.region_known])


@by_demand_key(_region_key)
def _region_check(batch: DemandBatch, cands: CandidateSet, cfg: RuleConfig) -> BoolArray:
    inst, prod = cands.institution_regions, cands.product_regions
    ok = served(inst.table, inst.unrestricted, batch.inst_region_rows)
    ok &= served(prod.table, prod.unrestricted, batch.region_rows)
    return ~ok & batch.region_known[:, None]


def _pair_served(region: str | None, codes: tuple[str, ...]) -> bool:
    prefixes = region_prefixes(region)
    return not codes or prefixes is None or any(region_prefix(c) in prefixes for c in codes)


def _region_reason(d: DemandProfile, c: CandidateRow, cfg: RuleConfig, v: Vocabulary) -> str:
    codes = c.institution_regions
    if _pair_served(d.region_code, codes):
        codes = c.product_regions
    names = "、".join(_region_label(region_prefix(x), v) for x in codes[:4])
    return f"超出服务区域（服务范围：{names}）"


# --- amounts ----------------------------------------------------------------------------------


def _ticket_check(batch: DemandBatch, cands: CandidateSet, cfg: RuleConfig) -> BoolArray:
    t = cfg.ticket_tolerance
    too_small = batch.amount_max[:, None] < cands.ticket_min[None, :] * (1 - t)
    too_big = batch.amount_min[:, None] > cands.ticket_max[None, :] * (1 + t)
    return too_small | too_big


def _ticket_reason(d: DemandProfile, c: CandidateRow, cfg: RuleConfig, v: Vocabulary) -> str:
    return (
        f"金额超出产品额度范围：产品 {wan(c.ticket_min_wan)}–{wan(c.ticket_max_wan)} 万元，"
        f"需求 {wan(d.amount_min_wan)}–{wan(d.amount_max_wan)} 万元"
    )


def _on_columns(cols: np.ndarray, shape: tuple[int, int], part: BoolArray) -> BoolArray:
    """A ``(B, n)`` array that is ``part`` on ``cols`` and False elsewhere."""
    out = np.zeros(shape, dtype=bool)
    out[:, cols] = part
    return out


def _capacity_check(batch: DemandBatch, cands: CandidateSet, cfg: RuleConfig) -> BoolArray:
    cols = np.flatnonzero(np.isfinite(cands.capacity))
    part = cands.capacity[None, cols] < batch.amount_min[:, None]
    return _on_columns(cols, (len(batch), len(cands)), part)


def _capacity_reason(d: DemandProfile, c: CandidateRow, cfg: RuleConfig, v: Vocabulary) -> str:
    left = c.remaining_capacity_wan or 0.0
    return f"剩余可投额度不足：剩余 {wan(left)} 万元，需求至少 {wan(d.amount_min_wan)} 万元"


# --- eligibility ------------------------------------------------------------------------------


@by_demand_key(lambda b: b.has_qualification)
def _qualification_check(batch: DemandBatch, cands: CandidateSet, cfg: RuleConfig) -> BoolArray:
    if not cands.qualifications:
        return np.zeros((1, len(cands)), dtype=bool)
    lacking = (~batch.has_qualification).astype(np.float32)
    return (lacking @ cands.required.T.astype(np.float32)) > 0


def _qualification_reason(d: DemandProfile, c: CandidateRow, cfg: RuleConfig, v: Vocabulary) -> str:
    missing = [q for q in c.required_qualifications if q not in d.qualifications]
    return "不满足：需" + "、".join(v.label("qualifications", q) for q in missing) + "资质"


def _minimum_check(have: np.ndarray, need: np.ndarray) -> BoolArray:
    """Violated where a minimum is set and ``have`` is below it or unknown (NaN); ``(B, n)``."""
    cols = np.flatnonzero(~np.isnan(need))
    with np.errstate(invalid="ignore"):
        part = ~(have[:, None] >= need[None, cols])
    return _on_columns(cols, (len(have), len(need)), part)


def _years_check(batch: DemandBatch, cands: CandidateSet, cfg: RuleConfig) -> BoolArray:
    return _minimum_check(batch.years, cands.min_years)


def _years_reason(d: DemandProfile, c: CandidateRow, cfg: RuleConfig, v: Vocabulary) -> str:
    have = "成立日期未知" if d.years_operating is None else f"企业成立 {d.years_operating:.1f} 年"
    return f"不满足：需成立满 {c.min_years_operating:g} 年（{have}）"


def _revenue_check(batch: DemandBatch, cands: CandidateSet, cfg: RuleConfig) -> BoolArray:
    return _minimum_check(batch.revenue, cands.min_revenue)


def _revenue_reason(d: DemandProfile, c: CandidateRow, cfg: RuleConfig, v: Vocabulary) -> str:
    have = "营收未知" if d.revenue_wan is None else f"企业 {wan(d.revenue_wan)} 万元"
    return f"不满足：需年营业收入不低于 {wan(c.min_revenue_wan or 0.0)} 万元（{have}）"


def _accepting(cands: CandidateSet, code: str) -> BoolArray:
    """Which candidates accept the collateral ``code``; shape ``(n,)``."""
    if code not in cands.collateral:
        return np.zeros(len(cands), dtype=bool)
    return cands.accepted[:, cands.collateral.index(code)]


def needs_collateral(cands: CandidateSet) -> BoolArray:
    """Loans that lend neither on credit (信用) nor against a third-party guarantee; ``(n,)``.

    Only these can fail the collateral rule: a credit product takes any borrower whatever it
    pledges, and a guarantee product is served with a guarantor (银担合作) when the enterprise
    brings none of its own.
    """
    restricted = np.any(cands.accepted, axis=1) & (cands.kind == KIND_LOAN)
    return restricted & ~_accepting(cands, CREDIT) & ~_accepting(cands, GUARANTEE)


@by_demand_key(lambda b: b.offered)
def _collateral_check(batch: DemandBatch, cands: CandidateSet, cfg: RuleConfig) -> BoolArray:
    if not cands.collateral:
        return np.zeros((1, len(cands)), dtype=bool)
    overlap = (batch.offered.astype(np.float32) @ cands.accepted.T.astype(np.float32)) > 0
    return needs_collateral(cands)[None, :] & ~overlap


def _collateral_reason(d: DemandProfile, c: CandidateRow, cfg: RuleConfig, v: Vocabulary) -> str:
    accepted = "、".join(v.label("collateral", x) for x in c.collateral_accepted)
    offered = "、".join(v.label("collateral", x) for x in sorted(d.collateral_offered)) or "未提供"
    return f"担保方式不符：该产品需{accepted}（企业提供：{offered}）"


# --- stage and strategy (equity) --------------------------------------------------------------


def _stage_check(batch: DemandBatch, cands: CandidateSet, cfg: RuleConfig) -> BoolArray:
    """A mandate that lists its stages, none within one stage of the demand's (known) stage."""
    stated = (cands.stage_source == 1) & (cands.kind != KIND_LOAN)
    return stated[None, :] & (cands.stage_fit[batch.stage] <= 0)


def _stage_reason(d: DemandProfile, c: CandidateRow, cfg: RuleConfig, v: Vocabulary) -> str:
    listed = "、".join(v.label("stages", s) for s in c.stages)
    stage = v.label("stages", d.stage or "")
    return f"阶段不符：{stage}与投资阶段（{listed}）相差两个及以上阶段"


def _venture(batch: DemandBatch) -> BoolArray:
    return np.isin(batch.stage, [STAGE_INDEX[s] for s in VENTURE_STAGES])


def _strategy_check(batch: DemandBatch, cands: CandidateSet, cfg: RuleConfig) -> BoolArray:
    return _venture(batch)[:, None] & cands.buyout[None, :]


def _equity_link_check(batch: DemandBatch, cands: CandidateSet, cfg: RuleConfig) -> BoolArray:
    return ~batch.with_equity[:, None] & cands.equity_linked[None, :]


def _equity_link_reason(d: DemandProfile, c: CandidateRow, cfg: RuleConfig, v: Vocabulary) -> str:
    return "投贷联动贷款以股权融资为前提：该需求不含股权融资部分"


def _strategy_reason(d: DemandProfile, c: CandidateRow, cfg: RuleConfig, v: Vocabulary) -> str:
    return "投资策略不符：并购/控股型资金不参与创业企业融资轮次"


@by_demand_key(lambda b: np.column_stack([b.sector_rows, b.section_rows, b.sector_known]))
def _loan_sector_check(batch: DemandBatch, cands: CandidateSet, cfg: RuleConfig) -> BoolArray:
    t = cands.sectors.table
    listed = t[batch.sector_rows] | t[batch.section_rows]
    restricted = ~cands.sectors.unrestricted & (cands.kind == KIND_LOAN)
    return restricted[None, :] & ~listed & batch.sector_known[:, None]


def _loan_sector_reason(d: DemandProfile, c: CandidateRow, cfg: RuleConfig, v: Vocabulary) -> str:
    names = "、".join(v.label("industries", x) for x in c.sectors[:4])
    return f"行业不符：该产品限{names}"


RULES: tuple[Rule, ...] = (
    Rule("financing_type", "融资方式", _type_check, _type_reason),
    Rule("residency", "入驻状态", _resident_check, _resident_reason),
    Rule("inactive", "产品状态", _active_check, _active_reason),
    Rule("region", "服务区域", _region_check, _region_reason),
    Rule("sector", "行业限制", _loan_sector_check, _loan_sector_reason),
    Rule("ticket", "额度范围", _ticket_check, _ticket_reason),
    Rule("capacity", "剩余额度", _capacity_check, _capacity_reason),
    Rule("qualification", "资质要求", _qualification_check, _qualification_reason),
    Rule("years_operating", "经营年限", _years_check, _years_reason),
    Rule("revenue", "营业收入", _revenue_check, _revenue_reason),
    Rule("collateral", "担保方式", _collateral_check, _collateral_reason),
    Rule("stage", "投资阶段", _stage_check, _stage_reason),
    Rule("strategy", "投资策略", _strategy_check, _strategy_reason),
    Rule("equity_link", "投贷联动", _equity_link_check, _equity_link_reason),
)
RULES_BY_CODE = {r.code: r for r in RULES}
#: Rules whose failure makes a candidate irrelevant rather than a near-miss worth explaining.
NOT_NEAR_MISS = frozenset({"financing_type", "residency", "inactive", "stage", "strategy"})


#: Rules :func:`eligible` checks through their own (categorical) batch checks; the others are
#: fused into a few threshold comparisons there.
_CATEGORICAL: tuple[Rule, ...] = tuple(
    r
    for r in RULES
    if r.code
    in {"region", "sector", "qualification", "collateral", "stage", "strategy", "equity_link"}
)


def _no_minimum(values: np.ndarray) -> np.ndarray:
    """NaN (no minimum, or a fact unknown) as -inf, so one ``<`` decides the minimum rules."""
    return np.where(np.isnan(values), -np.inf, values)


def _fused_violated(batch: DemandBatch, cands: CandidateSet, cfg: RuleConfig) -> BoolArray:
    """Financing type, residency, activity, ticket, capacity, years and revenue in a few passes.

    The same tests as the separate rules: ``amount_min > min(max·(1+t), capacity)`` is the
    too-big ticket or the capacity rule, and an unknown fact (-inf) is below any set minimum.
    """
    t, day = cfg.ticket_tolerance, cfg.today.toordinal()
    usable = cands.active & (cands.resident_from <= day) & (cands.resident_until >= day)
    type_ok = COMPATIBLE[:, cands.kind] & usable[None, :]  # (3, n)
    out = ~type_ok[batch.ftype]
    out |= batch.amount_max[:, None] < (cands.ticket_min * (1 - t))[None, :]
    ceiling = np.minimum(cands.ticket_max * (1 + t), cands.capacity)
    out |= batch.amount_min[:, None] > ceiling[None, :]
    out |= _no_minimum(batch.years)[:, None] < cands.years_floor[None, :]
    out |= _no_minimum(batch.revenue)[:, None] < cands.revenue_floor[None, :]
    return out


def eligible(batch: DemandBatch, cands: CandidateSet, cfg: RuleConfig) -> BoolArray:
    """True where a candidate passes every hard rule."""
    broken = _fused_violated(batch, cands, cfg)
    for rule in _CATEGORICAL:
        np.logical_or(broken, rule.violated(batch, cands, cfg), out=broken)
    return np.logical_not(broken, out=broken)


def violations(batch: DemandBatch, cands: CandidateSet, cfg: RuleConfig) -> BoolArray:
    """Which rule each pair breaks."""
    shape = (len(batch), len(cands))
    return np.stack([np.broadcast_to(r.violated(batch, cands, cfg), shape) for r in RULES])
