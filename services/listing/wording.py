"""Chinese sentences for criteria: values in the threshold's unit, and the gap when missed.

``最近一年营业收入 0.8 亿元，距 1 亿元差 0.2 亿元``: amounts are stored in 万元 and shown in 亿元
when the threshold is at least 1 亿元, so the value, the threshold and the gap read alike.
"""

from __future__ import annotations

from services.listing.criteria import Criterion
from services.listing.facts import Observed

_PERCENT_AGGS = frozenset({"share", "growth", "cagr"})
_YI = 10000.0


def number(value: float, digits: int = 2) -> str:
    """A number with at most ``digits`` decimals and no trailing zeros: 0.80 → '0.8'."""
    text = f"{value:,.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _unit(c: Criterion) -> tuple[str, float]:
    """Display unit and the divisor from the stored unit."""
    if c.unit:
        return f" {c.unit}", 1.0
    if c.agg in _PERCENT_AGGS or c.metric == "weighted_roe":
        return "%", 1.0
    if c.agg == "per":
        return " 元/股", 1.0
    if c.metric == "neeq_months":
        return " 个月", 1.0
    if c.metric == "operating_years":
        return " 年", 1.0
    if abs(c.threshold or 0.0) >= _YI:
        return " 亿元", _YI
    return " 万元", 1.0


def amount(c: Criterion, value: float) -> str:
    """``value`` (stored unit) in the criterion's display unit: 8000 → '0.8 亿元'."""
    unit, div = _unit(c)
    if unit == " 万元" and abs(value) >= _YI and not c.threshold:
        unit, div = " 亿元", _YI
    digits = 1 if unit == " 个月" else 2
    return f"{number(value / div, digits)}{unit}".replace(" %", "%")


def _condition(c: Criterion) -> str:
    if c.op == "is_true":
        return "是"
    if c.threshold == 0:
        return "为正" if c.op == ">" else "不为负"
    assert c.threshold is not None
    return f"{'高于' if c.op == '>' else '不低于'} {amount(c, c.threshold)}"


def _head(c: Criterion, year: int | None) -> str:
    return f"{c.label}（{year} 年）" if year is not None else f"{c.label} "


def _join(text: str) -> str:
    """No space after a Chinese unit ('1 亿元差'), one after a number or '%' ('15% 差')."""
    return text if "\u4e00" <= text[-1] <= "\u9fff" else text + " "


def _unmet(c: Criterion, obs: Observed, year: int | None) -> str:
    head, shown = _head(c, year), amount(c, obs.value)
    if c.op == "is_true":
        return f"{head.rstrip()}：否"
    assert c.threshold is not None
    if c.threshold == 0:
        return f"{head}{shown}，需{_condition(c)}"
    gap = amount(c, c.threshold - obs.value)
    return f"{head}{shown}，距 {_join(amount(c, c.threshold))}差 {gap}"


def describe(c: Criterion, obs: Observed, verdict: str, year: int | None) -> str:
    """The sentence for a criterion whose figure is ``obs`` (one year's when ``year`` is given)."""
    if verdict == "unmet":
        return _unmet(c, obs, year)
    if c.op == "is_true":
        return f"{c.label}：是"
    prefix = f"{c.label}均" if c.agg == "each" else c.label
    shown = amount(c, obs.value)
    if verdict == "met":
        lowest = "（最低一年）" if c.agg == "each" else ""
        return f"{prefix}{_condition(c)}：{shown}{lowest}"
    return f"{c.label}至多 {shown}（扣非前后净利润未全部填报），无法确认{_condition(c)}"


def missing_text(c: Criterion, gaps: list[str]) -> str:
    """What is missing to evaluate ``c``."""
    what = "、".join(g for g in gaps if g)
    subject = {
        "market_value": "预计市值",
        "neeq_months": "新三板挂牌信息",
        "neeq_innovation": "新三板挂牌层级",
        "operating_years": "成立日期",
    }.get(c.metric)
    if subject is not None and not what:
        return f"{c.label}：缺少{subject}数据"
    return f"{c.label}：缺少 {what}数据" if what else f"{c.label}：缺少数据"
