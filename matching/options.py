"""Financing options of practice for one demand leg: loans costed (rate + guarantee fee − 贴息),
loans paired with a guarantor (银担合作), single mandates, and syndicates for large rounds.

The rules (or learned) score decides each candidate's fit; this module turns eligible
candidates into the options a credit officer or an investor would put forward.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date

import numpy as np

from matching.explain import (
    Explained,
    Member,
    Reason,
    RuleFailure,
    explained,
    near_misses,
    reasons_for,
)
from matching.profiles import (
    CREDIT,
    KIND_LOAN,
    STAGE_INDEX,
    UNKNOWN_STAGE,
    CandidateRow,
    CandidateSet,
    DemandProfile,
    Float32Array,
    IntArray,
    Vocabulary,
    encode_demands,
    region_prefix,
    region_prefixes,
    sector_keys,
)
from matching.rank import ExposurePolicy, ScoringModel, top_k
from matching.rules import RULES, RuleConfig, violations, wan
from matching.scorers import DEFAULT_WEIGHTS, SCORER_CODES, TICKET_EDGE, fits

#: Weight of the cost fit added to a loan's score: a 1-point cheaper loan gains about 0.02,
#: enough to lead among close fits, never enough to lift a poor fit over a good one.
COST_WEIGHT = 0.12
COST_FLOOR_PCT, COST_CEIL_PCT = 1.5, 7.0
#: A lead investor takes at least this share of the round.
LEAD_SHARE = 0.3
#: Syndicates are proposed when fewer single mandates than this can take the round.
SYNDICATE_BELOW = 3
MAX_SYNDICATE = 6
#: The guarantee fee quoted for a guarantor that registers none (% a year).
DEFAULT_FEE_PCT = 2.0
#: Rules a syndicate member may break: it takes a part of the round, not all of it.
_PART_OF_ROUND = frozenset({"ticket", "capacity"})

#: The 贴息 a loan earns the enterprise: (candidate, guarantee fee %) → (annual points, text).
Subsidy = Callable[[CandidateRow, float], tuple[float, str]]


def no_subsidy(row: CandidateRow, fee_pct: float) -> tuple[float, str]:
    """No policy catalogue: no 贴息."""
    return 0.0, ""


@dataclass(frozen=True)
class GuarantorRow:
    """A resident guarantee institution's offer: tickets, sectors, regions and fee range."""

    institution_id: int
    product_id: int
    institution_name: str
    product_name: str
    ticket_min_wan: float
    ticket_max_wan: float
    fee_min_pct: float | None = None
    fee_max_pct: float | None = None
    regions: tuple[str, ...] = ()
    sectors: tuple[str, ...] = ()
    agreement_start: date | None = None
    agreement_end: date | None = None
    active: bool = True

    @property
    def fee_pct(self) -> float:
        """The fee a matchmaker quotes: the middle of the range (2 % when none is registered)."""
        fees = [f for f in (self.fee_min_pct, self.fee_max_pct) if f is not None]
        return sum(fees) / len(fees) if fees else DEFAULT_FEE_PCT

    def covers(self, demand: DemandProfile, amount_wan: float, cfg: RuleConfig) -> bool:
        """Resident, active, serving the enterprise's region and sector, the amount in range."""
        resident = self.agreement_start is not None and self.agreement_start <= cfg.today
        resident &= self.agreement_end is None or self.agreement_end >= cfg.today
        t = cfg.ticket_tolerance
        fits_amount = self.ticket_min_wan * (1 - t) <= amount_wan <= self.ticket_max_wan * (1 + t)
        return resident and self.active and fits_amount and self._serves(demand)

    def _serves(self, demand: DemandProfile) -> bool:
        prefixes = region_prefixes(demand.region_code) or ()
        region_ok = not self.regions or any(region_prefix(r) in prefixes for r in self.regions)
        keys = sector_keys(demand.industry_code) or ()
        sector_ok = not self.sectors or any(s in keys for s in self.sectors)
        return region_ok and sector_ok


@dataclass(frozen=True)
class Option:
    """One option: a candidate (the lead of a syndicate), its guarantor, cost and co-investors."""

    kind: str  # loan | equity | syndicate | loan+guarantee
    candidate: int
    score: float
    guarantor: GuarantorRow | None = None
    annual_cost_pct: float | None = None
    cost_text: str = ""
    members: tuple[tuple[int, float], ...] = ()  # (candidate, amount 万元), lead first


def cost_fit(cost_pct: float | None) -> float:
    """1 at 1.5 % a year or less, 0 at 7 % or more, linear between; 0.5 when unknown."""
    if cost_pct is None:
        return 0.5
    return float(np.clip((COST_CEIL_PCT - cost_pct) / (COST_CEIL_PCT - COST_FLOOR_PCT), 0, 1))


def _scores(
    model: ScoringModel,
    demand: DemandProfile,
    cands: CandidateSet,
    cfg: RuleConfig,
    exclude: IntArray | None,
    penalty: Float32Array | None,
) -> Float32Array:
    scores = model.score(encode_demands([demand], cands), cands, cfg)[0]
    if penalty is not None:
        scores = np.where(np.isfinite(scores), scores * penalty, scores)
    if exclude is not None:
        scores[exclude] = -np.inf
    return scores


def _guarantor(
    demand: DemandProfile, guarantors: Sequence[GuarantorRow], cfg: RuleConfig
) -> GuarantorRow | None:
    """The cheapest guarantor covering the enterprise for the loan amount (then by id)."""
    covering = [g for g in guarantors if g.covers(demand, demand.amount_min_wan, cfg)]
    return min(covering, key=lambda g: (g.fee_pct, g.institution_id), default=None)


def _own_guarantee(demand: DemandProfile, row: CandidateRow) -> bool:
    """The enterprise brings collateral or a guarantee the product takes (or it lends on credit)."""
    accepted = set(row.collateral_accepted)
    return not accepted or bool(accepted & (set(demand.collateral_offered) | {CREDIT}))


def _loan_option(
    demand: DemandProfile,
    cands: CandidateSet,
    j: int,
    score: float,
    guarantor: GuarantorRow | None,
    subsidy: Subsidy,
) -> Option | None:
    row = cands.rows[j]
    own = _own_guarantee(demand, row)
    if not own and guarantor is None:
        return None  # a guarantee product with no guarantor covering the enterprise
    paired = None if own else guarantor
    fee = paired.fee_pct if paired else 0.0
    points, why = subsidy(row, fee)
    cost = None if row.rate_pct is None else max(0.0, row.rate_pct + fee - points)
    text = _cost_text(row.rate_pct, fee, points, why, cost)
    kind = "loan+guarantee" if paired else "loan"
    return Option(kind, j, score + COST_WEIGHT * cost_fit(cost), paired, cost, text)


def _cost_text(rate: float | None, fee: float, points: float, why: str, cost: float | None) -> str:
    if rate is None or cost is None:
        return "产品未登记利率，成本按中性计"
    parts = [f"利率 {rate:.2f}%"]
    if fee:
        parts.append(f"+ 担保费 {fee:.2f}%")
    if points:
        parts.append(f"− 贴息 {points:.2f}%（{why}）")
    return f"综合年化成本 {cost:.2f}%：" + " ".join(parts)


def loan_options(
    model: ScoringModel,
    demand: DemandProfile,
    cands: CandidateSet,
    cfg: RuleConfig,
    guarantors: Sequence[GuarantorRow] = (),
    subsidy: Subsidy = no_subsidy,
    exclude: IntArray | None = None,
    penalty: Float32Array | None = None,
) -> tuple[list[Option], list[Option]]:
    """Every eligible loan as an option, costed and paired with a guarantor where it needs one;
    then the guarantee products no resident guarantor covers the enterprise for (best first)."""
    scores = _scores(model, demand, cands, cfg, exclude, penalty)
    guarantor = _guarantor(demand, guarantors, cfg)
    out, unpaired = [], []
    for j in np.flatnonzero(np.isfinite(scores) & (cands.kind == KIND_LOAN)).tolist():
        option = _loan_option(demand, cands, j, float(scores[j]), guarantor, subsidy)
        if option is None:
            unpaired.append(Option("loan+guarantee", j, float(scores[j])))
        else:
            out.append(option)
    return out, sorted(unpaired, key=lambda o: (-o.score, o.candidate))


def best(
    options: Sequence[Option], cands: CandidateSet, k: int, per_list: int | None
) -> list[Option]:
    """The ``k`` best options, at most ``per_list`` per institution (of the lead candidate)."""
    if not options:
        return []
    scores = np.full((1, len(options)), -np.inf, dtype=np.float32)
    scores[0] = [o.score for o in options]
    groups = cands.institution_index[[o.candidate for o in options]]
    ids, _ = top_k(scores, k, groups, per_list)
    return [options[i] for i in ids[0].tolist() if i >= 0]


# --- equity: single mandates and syndicates ---------------------------------------------------


def equity_options(
    model: ScoringModel,
    demand: DemandProfile,
    cands: CandidateSet,
    cfg: RuleConfig,
    k: int,
    exposure: ExposurePolicy,
    exclude: IntArray | None = None,
    penalty: Float32Array | None = None,
) -> list[Option]:
    """Single mandates, and syndicates when few mandates can take the round, best first."""
    scores = _scores(model, demand, cands, cfg, exclude, penalty)
    solo = [
        Option("equity", j, float(scores[j]))
        for j in np.flatnonzero(np.isfinite(scores) & (cands.kind != KIND_LOAN)).tolist()
    ]
    solo = best(solo, cands, k, exposure.per_list)
    if len(solo) >= SYNDICATE_BELOW:
        return solo
    both = solo + syndicates(demand, cands, cfg, scores, k, exclude)
    return sorted(both, key=lambda o: (-o.score, o.kind, o.candidate))[:k]


def _part_pool(
    demand: DemandProfile, cands: CandidateSet, cfg: RuleConfig, exclude: IntArray | None
) -> IntArray:
    """Mandates that break no rule but the round being too big for them alone."""
    broken = violations(encode_demands([demand], cands), cands, cfg)[:, 0, :]
    other = np.array([r.code not in _PART_OF_ROUND for r in RULES])
    too_small = demand.amount_max_wan < cands.ticket_min * (1 - cfg.ticket_tolerance)
    ok = ~broken[other].any(axis=0) & (cands.kind != KIND_LOAN) & ~too_small
    if exclude is not None:
        ok[exclude] = False
    return np.flatnonzero(ok)


def _member_scores(
    demand: DemandProfile, cands: CandidateSet, pool: IntArray, scores: Float32Array
) -> Float32Array:
    """Each member's fit taking its own largest ticket (the edge of its range), not the round."""
    f = fits(encode_demands([demand], cands), cands)[:, 0, :]
    t = SCORER_CODES.index("ticket")
    w = np.array([DEFAULT_WEIGHTS.get(c, 0.0) for c in SCORER_CODES], dtype=np.float32)
    soft = w @ f
    soft = soft - w[t] * f[t] + w[t] * TICKET_EDGE
    return np.where(np.isfinite(scores), scores, soft)[pool].astype(np.float32)


def _take(cands: CandidateSet, j: int) -> float:
    return float(min(cands.ticket_max[j], cands.capacity[j]))


def _build(
    lead: int, order: Sequence[int], cands: CandidateSet, need: float
) -> tuple[tuple[int, float], ...] | None:
    """The lead's take, then co-investors in order until the round is covered; None if never."""
    members = [(lead, min(_take(cands, lead), need))]
    left, seen = need - members[0][1], {int(cands.institution_id[lead])}
    for j in order:
        if left <= 0 or len(members) >= MAX_SYNDICATE:
            break
        inst = int(cands.institution_id[j])
        if inst in seen:
            continue
        amount = min(_take(cands, j), left)
        if amount < cands.ticket_min[j]:
            continue
        members.append((j, amount))
        seen.add(inst)
        left -= amount
    return tuple(members) if left <= 1e-6 else None


def syndicates(
    demand: DemandProfile,
    cands: CandidateSet,
    cfg: RuleConfig,
    scores: Float32Array,
    k: int,
    exclude: IntArray | None = None,
) -> list[Option]:
    """Lead (≥ 30 % of the round) plus co-investors covering it, by amount-weighted member fit.

    One syndicate per lead institution, best first.
    """
    if k <= 0:
        return []
    pool = _part_pool(demand, cands, cfg, exclude)
    member = dict(
        zip(pool.tolist(), _member_scores(demand, cands, pool, scores).tolist(), strict=True)
    )
    order = sorted(member, key=lambda j: (-member[j], j))
    need = demand.amount_min_wan
    out: list[Option] = []
    leads: set[int] = set()
    for lead in order:
        inst = int(cands.institution_id[lead])
        if inst in leads or _take(cands, lead) < LEAD_SHARE * need:
            continue
        members = _build(lead, order, cands, need)
        if members is None or len(members) < 2:
            continue
        score = sum(member[j] * a for j, a in members) / need
        out.append(Option("syndicate", lead, float(score), members=members))
        leads.add(inst)
    out.sort(key=lambda o: (-o.score, o.candidate))
    return out[:k]


def syndicate_text(option: Option, cands: CandidateSet, need: float) -> str:
    """领投 … 跟投 …: who takes how much of the round."""
    (lead, lead_amt), rest = option.members[0], option.members[1:]
    lead_name = cands.rows[lead].institution_name
    co = "、".join(f"{cands.rows[j].institution_name} {wan(a)} 万元" for j, a in rest)
    share = lead_amt / need if need else 0.0
    return f"领投 {lead_name} {wan(lead_amt)} 万元（占本轮 {share:.0%}），跟投 {co}，合计覆盖本轮"


def with_leg(demand: DemandProfile, leg: str, low: float, high: float) -> DemandProfile:
    """One leg of a mixed demand as a demand of its own kind."""
    return replace(demand, financing_type=leg, amount_min_wan=low, amount_max_wan=high, leg=leg)


# --- explanations -----------------------------------------------------------------------------

GUARANTOR_RULE = RuleFailure(
    "guarantor", "担保机构", "该产品需第三方担保，暂无覆盖该企业的入驻担保机构"
)


def _member(cands: CandidateSet, j: int, amount: float, role: str) -> Member:
    row = cands.rows[j]
    return Member(row.institution_id, row.institution_name, row.product_id, row.product_name,
                  role, round(amount, 2))  # fmt: skip


def _notes(
    demand: DemandProfile, cands: CandidateSet, option: Option, vocab: Vocabulary
) -> tuple[str, ...]:
    row, notes = cands.rows[option.candidate], []
    if option.guarantor is not None:
        g = option.guarantor
        notes.append(f"银担合作：由{g.institution_name}提供担保（担保费率约 {g.fee_pct:.2f}%/年）")
    if option.kind == "syndicate":
        notes.append(syndicate_text(option, cands, demand.amount_min_wan))
    if row.equity_linked:
        notes.append("投贷联动：该贷款以股权投资机构的投资决策为前提（认股权/投贷联动产品）")
    if _weak_stage(demand, cands, option.candidate):
        stages = "、".join(vocab.label("stages", s) for s in row.stages)
        stage = vocab.label("stages", demand.stage or "")
        notes.append(f"弱匹配：{stage}与投资阶段（{stages}）相差一个阶段")
    return tuple(notes)


def _weak_stage(demand: DemandProfile, cands: CandidateSet, j: int) -> bool:
    """A mandate listing its stages, one stage away from the demand's."""
    fit = cands.stage_fit[STAGE_INDEX.get(demand.stage or "", UNKNOWN_STAGE), j]
    return cands.rows[j].kind != "loan" and cands.stage_source[j] == 1 and 0 < fit < 1


def _cost_reason(option: Option) -> Reason:
    fit = cost_fit(option.annual_cost_pct)
    return Reason("cost", "综合成本", round(fit, 4), round(COST_WEIGHT * fit, 4), option.cost_text)


def explain_options(
    demand: DemandProfile,
    cands: CandidateSet,
    options: Sequence[Option],
    vocab: Vocabulary,
    weights: Mapping[str, float] | None = None,
) -> list[Explained]:
    """Reasons, costs, guarantors and co-investors of ranked options (best first)."""
    w = weights or DEFAULT_WEIGHTS
    f = fits(encode_demands([demand], cands), cands)[:, 0, :]
    out = []
    for rank, o in enumerate(options, start=1):
        reasons = reasons_for(demand, cands, o.candidate, f[:, o.candidate], w, vocab)
        loan = o.kind in ("loan", "loan+guarantee")
        if loan:
            reasons = tuple(sorted((_cost_reason(o), *reasons), key=lambda r: -r.contribution))
        base = explained(demand, cands, o.candidate, rank, o.score, reasons)
        g = o.guarantor
        members = tuple(
            _member(cands, j, a, "领投" if i == 0 else "跟投") for i, (j, a) in enumerate(o.members)
        )
        out.append(replace(
            base, kind=o.kind, leg=demand.leg, members=members,
            guarantor_institution_id=g.institution_id if g else None,
            guarantor_name=g.institution_name if g else None,
            guarantee_fee_pct=round(g.fee_pct, 3) if g else None,
            annual_cost_pct=round(o.annual_cost_pct, 3) if o.annual_cost_pct is not None else None,
            equity_linked=cands.rows[o.candidate].equity_linked,
            notes=_notes(demand, cands, o, vocab),
        ))  # fmt: skip
    return out


def _unpaired_misses(
    demand: DemandProfile, cands: CandidateSet, unpaired: Sequence[Option], vocab: Vocabulary
) -> list[Explained]:
    shown = explain_options(demand, cands, unpaired, vocab)
    return [replace(e, rank=0, failures=(GUARANTOR_RULE,), leg=demand.leg) for e in shown]


@dataclass(frozen=True)
class LegRanking:
    """One leg's ranked options and near misses (a loan or equity demand has one leg)."""

    leg: str
    amount_min_wan: float
    amount_max_wan: float
    items: list[Explained]
    near_misses: list[Explained]


def rank_leg(
    model: ScoringModel,
    demand: DemandProfile,
    cands: CandidateSet,
    cfg: RuleConfig,
    vocab: Vocabulary,
    k: int = 10,
    exposure: ExposurePolicy | None = None,
    guarantors: Sequence[GuarantorRow] = (),
    subsidy: Subsidy = no_subsidy,
    exclude: IntArray | None = None,
    penalty: Float32Array | None = None,
    near_miss_limit: int = 3,
) -> LegRanking:
    """The options of one leg (``demand.financing_type`` 'loan' or 'equity'), best first."""
    exposure = exposure or ExposurePolicy()
    misses = near_misses(demand, cands, cfg, vocab, limit=near_miss_limit)
    if demand.financing_type == "loan":
        options, unpaired = loan_options(
            model, demand, cands, cfg, guarantors, subsidy, exclude, penalty
        )
        chosen = best(options, cands, k, exposure.per_list)
        misses = (misses + _unpaired_misses(demand, cands, unpaired, vocab))[:near_miss_limit]
    else:
        chosen = equity_options(model, demand, cands, cfg, k, exposure, exclude, penalty)
    items = explain_options(demand, cands, chosen, vocab)
    misses = [replace(m, leg=demand.leg) for m in misses]
    return LegRanking(demand.financing_type, demand.amount_min_wan, demand.amount_max_wan,
                      items, misses)  # fmt: skip
