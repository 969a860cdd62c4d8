"""Evaluate criteria on an enterprise's figures: met / unmet / unknown, with the gap in Chinese.

Pure functions over :mod:`.facts` and :mod:`.criteria`; nothing here reads the database. Missing
data never makes a criterion unmet: it is *unknown*, and the detail says what is missing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from models.reference import Board, LabelledEnum
from services.listing.criteria import (
    AnyOf,
    BoardCriteria,
    CriteriaSet,
    Criterion,
    Item,
)
from services.listing.facts import EnterpriseFacts, Observed
from services.listing.wording import describe, missing_text


class Verdict(LabelledEnum):
    """Outcome of one criterion or one standard."""

    met = "met", "满足"
    unmet = "unmet", "不满足"
    unknown = "unknown", "待补充数据"


class BoardStatus(LabelledEnum):
    """Readiness for one board: ready if one standard is fully met."""

    ready = "ready", "已满足"
    possibly_ready = "possibly_ready", "可能满足（待补充数据）"
    not_ready = "not_ready", "暂不满足"


@dataclass(frozen=True)
class CriterionResult:
    """One criterion's verdict; ``value``/``threshold`` in the criterion's own unit."""

    label: str
    verdict: Verdict
    detail: str
    value: float | None = None
    threshold: float | None = None
    years: tuple[int, ...] = ()


@dataclass(frozen=True)
class SetResult:
    """One standard's verdict: the board's common criteria first, then the standard's own."""

    set_id: str
    name: str
    citation: str
    verification: str
    verdict: Verdict
    criteria: tuple[CriterionResult, ...]

    def count(self, verdict: Verdict) -> int:
        """How many criteria have ``verdict``."""
        return sum(1 for c in self.criteria if c.verdict is verdict)


@dataclass(frozen=True)
class BoardResult:
    """A board's readiness and every standard in force."""

    board: Board
    label: str
    caveat: str
    status: BoardStatus
    sets: tuple[SetResult, ...]

    @property
    def best(self) -> SetResult | None:
        """The standard closest to being met (met, then fewest unmet, then fewest unknown)."""
        return min(self.sets, key=_closeness) if self.sets else None


def _closeness(s: SetResult) -> tuple[int, int, int]:
    return (0 if s.verdict is Verdict.met else 1, s.count(Verdict.unmet), s.count(Verdict.unknown))


# --- aggregates -------------------------------------------------------------------------------

# An aggregate returns the figure, or the list of what is missing.
Outcome = Observed | list[str]


def _yearly_all(c: Criterion, f: EnterpriseFacts, lower: bool, metric: str) -> dict[int, Outcome]:
    out: dict[int, Outcome] = {}
    for year in f.window(c.years):
        obs = f.yearly(metric, year, lower)
        out[year] = obs if obs is not None else [f"{year} 年"]
    return out


def _missing(parts: dict[int, Outcome]) -> list[str]:
    return [m for v in parts.values() if isinstance(v, list) for m in v]


def _fold(parts: dict[int, Outcome], fn: Callable[[list[float]], float]) -> Outcome:
    gaps = _missing(parts)
    if gaps or not parts:
        return gaps or ["财务数据"]
    obs = [v for v in parts.values() if isinstance(v, Observed)]
    return Observed(fn([o.value for o in obs]), exact=all(o.exact for o in obs))


def _ratio(num: Outcome, den: Outcome, scale: float) -> Outcome:
    if isinstance(num, list) or isinstance(den, list):
        return (num if isinstance(num, list) else []) + (den if isinstance(den, list) else [])
    if den.value <= 0:
        return ["为正的分母（营业收入/股本为 0 或负数，无法计算比例）"]
    return Observed(num.value / den.value * scale, exact=num.exact and den.exact)


def _change(c: Criterion, f: EnterpriseFacts, lower: bool) -> Outcome:
    span = 2 if c.agg == "growth" else c.years
    parts = _yearly_all(c.model_copy(update={"years": span}), f, lower, c.metric)
    gaps = _missing(parts)
    if gaps or not parts:
        return gaps or ["财务数据"]
    vals = [v.value for v in parts.values() if isinstance(v, Observed)]
    if c.agg == "increasing":
        return Observed(float(all(b > a for a, b in pairwise(vals))))
    if vals[0] <= 0:
        return ["为正的基期营业收入（基期为 0 或负数，无法计算增长率）"]
    return Observed(((vals[-1] / vals[0]) ** (1 / (len(vals) - 1)) - 1) * 100)


def aggregate(c: Criterion, f: EnterpriseFacts, lower: bool) -> Outcome:
    """The figure ``c`` compares (or what is missing to compute it)."""
    if c.agg == "value":
        v = f.value(c.metric)
        return Observed(v) if v is not None else [""]
    if c.agg in ("growth", "cagr", "increasing"):
        return _change(c, f, lower)
    if c.agg in ("share", "per"):
        assert c.of is not None
        years = c.years if c.agg == "share" else 1
        num = _fold(_yearly_all(c.model_copy(update={"years": years}), f, lower, c.metric), sum)
        den = _fold(_yearly_all(c.model_copy(update={"years": years}), f, lower, c.of), sum)
        return _ratio(num, den, 100.0 if c.agg == "share" else 1.0)
    parts = _yearly_all(
        c if c.agg != "latest" else c.model_copy(update={"years": 1}), f, lower, c.metric
    )
    return _fold(parts, (lambda v: sum(v) / len(v)) if c.agg == "average" else sum)


# --- verdicts ---------------------------------------------------------------------------------


_PRECISION = 6  # 2750 → 3300 is a 20 % growth, not 19.999999999999996 %


def _passes(c: Criterion, value: float) -> bool:
    if c.op == "is_true":
        return value >= 0.5
    assert c.threshold is not None
    value = round(value, _PRECISION)
    return value >= c.threshold if c.op == ">=" else value > c.threshold


def _verdict(c: Criterion, obs: Observed) -> Verdict:
    if not _passes(c, obs.value):
        return Verdict.unmet  # an upper bound that fails: the rule's figure fails too
    return Verdict.met if obs.exact else Verdict.unknown


def _each(c: Criterion, f: EnterpriseFacts, lower: bool) -> CriterionResult:
    parts = _yearly_all(c, f, lower, c.metric)
    years = tuple(parts)
    failing = [
        (y, o) for y, o in parts.items() if isinstance(o, Observed) and not _passes(c, o.value)
    ]
    if failing:
        year, obs = failing[0]
        return CriterionResult(
            c.label,
            Verdict.unmet,
            describe(c, obs, Verdict.unmet.value, year),
            obs.value,
            c.threshold,
            years,
        )
    gaps = _missing(parts) or ([] if parts else ["财务数据"])
    if gaps:
        return CriterionResult(
            c.label, Verdict.unknown, missing_text(c, gaps), None, c.threshold, years
        )
    obs_all = [o for o in parts.values() if isinstance(o, Observed)]
    worst = min(obs_all, key=lambda o: o.value)
    verdict = Verdict.met if all(o.exact for o in obs_all) else Verdict.unknown
    return CriterionResult(
        c.label, verdict, describe(c, worst, verdict.value, None), worst.value, c.threshold, years
    )


def evaluate_criterion(c: Criterion, facts: EnterpriseFacts, lower_of: bool) -> CriterionResult:
    """Evaluate one criterion; missing data gives *unknown*, never *unmet*."""
    if c.metric == "manual":
        return CriterionResult(c.label, Verdict.unknown, f"需人工判断：{c.label}")
    if c.agg == "each":
        return _each(c, facts, lower_of)
    outcome = aggregate(c, facts, lower_of)
    years = tuple(facts.window(c.years)) if c.agg != "value" else ()
    if isinstance(outcome, list):
        return CriterionResult(
            c.label, Verdict.unknown, missing_text(c, outcome), None, c.threshold, years
        )
    verdict = _verdict(c, outcome)
    return CriterionResult(
        c.label,
        verdict,
        describe(c, outcome, verdict.value, None),
        outcome.value,
        c.threshold,
        years,
    )


def _any_of(item: AnyOf, facts: EnterpriseFacts, lower_of: bool) -> CriterionResult:
    subs = [evaluate_criterion(c, facts, lower_of) for c in item.any_of]
    verdicts = {s.verdict for s in subs}
    if Verdict.met in verdicts:
        verdict = Verdict.met
    else:
        verdict = Verdict.unknown if Verdict.unknown in verdicts else Verdict.unmet
    detail = f"{item.label}（满足其一）：" + "；".join(s.detail for s in subs)
    return CriterionResult(item.label, verdict, detail)


def evaluate_item(item: Item, facts: EnterpriseFacts, lower_of: bool) -> CriterionResult:
    """Evaluate a criterion or a group of alternatives."""
    if isinstance(item, AnyOf):
        return _any_of(item, facts, lower_of)
    return evaluate_criterion(item, facts, lower_of)


def combine(verdicts: Sequence[Verdict]) -> Verdict:
    """All met → met; any unmet → unmet; otherwise unknown."""
    if Verdict.unmet in verdicts:
        return Verdict.unmet
    return Verdict.unknown if Verdict.unknown in verdicts else Verdict.met


def evaluate_set(
    criteria_set: CriteriaSet, common: Sequence[Criterion], facts: EnterpriseFacts
) -> SetResult:
    """Evaluate one standard together with its board's common criteria."""
    lower = criteria_set.net_profit_basis == "lower_of"
    items: list[Item] = [*common, *criteria_set.criteria]
    results = tuple(evaluate_item(i, facts, lower) for i in items)
    return SetResult(
        set_id=criteria_set.id,
        name=criteria_set.name,
        citation=criteria_set.citation(),
        verification=criteria_set.verification,
        verdict=combine([r.verdict for r in results]),
        criteria=results,
    )


def evaluate_board(board: Board, spec: BoardCriteria, facts: EnterpriseFacts) -> BoardResult:
    """Evaluate every standard of ``board`` in force on ``facts.as_of``."""
    sets = tuple(evaluate_set(s, spec.common, facts) for s in spec.sets_on(facts.as_of))
    verdicts = {s.verdict for s in sets}
    if Verdict.met in verdicts:
        status = BoardStatus.ready
    elif Verdict.unknown in verdicts:
        status = BoardStatus.possibly_ready
    else:
        status = BoardStatus.not_ready
    return BoardResult(board, spec.label, spec.caveat, status, sets)
