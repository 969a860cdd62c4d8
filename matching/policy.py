"""The policy calculator core (政策计算器): conditions as data → met / unmet / unknown, and benefits.

Unknown is never a pass, only policies in force match, every verdict has a reason: docs/policy.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
StatusArray = npt.NDArray[np.int8]

MET, UNMET, UNKNOWN = 1, 0, -1
STATUS_WORDS: Mapping[int, str] = {MET: "满足", UNMET: "不满足", UNKNOWN: "待核实"}
STATUS_CODES: Mapping[int, str] = {MET: "met", UNMET: "unmet", UNKNOWN: "unknown"}
DAYS_PER_MONTH = 30.44
DAYS_PER_YEAR = 365.25
NOT_TWICE = "同类扶持已按更优的政策计算，不重复享受"
REFERENCE_LOAN = 100.0  # 万元: the loan a financing benefit is quoted on when none is known

#: Condition type → the Chinese name of the condition.
CONDITION_TYPES: Mapping[str, str] = {
    "qualification": "企业资质",
    "region": "注册地",
    "industry": "所属行业",
    "strategic_industry": "战略性新兴产业",
    "stage": "发展阶段",
    "employees": "从业人数",
    "revenue": "营业收入",
    "years_operating": "成立年限",
    "rd_ratio": "研发投入占营业收入比例",
    "patents": "有效专利",
    "resident_bank_loan": "入驻银行贷款",
    "listing_milestone": "上市里程碑",
}
#: Numeric condition type → (fact column, unit shown).
NUMERIC: Mapping[str, tuple[str, str]] = {
    "employees": ("employees", "人"),
    "revenue": ("revenue_wan", "万元"),
    "years_operating": ("years", "年"),
    "rd_ratio": ("rd_ratio", "%"),
    "patents": ("patents", "项"),
}
#: List condition type → (its parameter, the vocabulary table of its codes, the verb shown).
_LISTS: Mapping[str, tuple[str, str, str]] = {
    "qualification": ("any_of", "qualifications", "具备"),
    "region": ("prefixes", "regions", "注册在"),
    "industry": ("codes", "industries", "属于"),
    "strategic_industry": ("codes", "strategic", "属于"),
    "stage": ("any_of", "stages", "处于"),
    "listing_milestone": ("any_of", "milestones", "已完成"),
}
#: Formula kind → what it computes.
FORMULA_KINDS: Mapping[str, str] = {
    "fixed": "定额",
    "percent": "按基数比例（研发投入、营业收入等）",
    "per_head": "按人数",
    "milestones": "按上市里程碑分段奖励",
    "interest_points": "贴息（按贷款金额的百分点）",
    "interest_share": "贴息（按实付利息的比例）",
    "guarantee_fee_share": "担保费补贴（按担保费的比例）",
    "rate_cap": "风险补偿资金池贷款利率上限",
    "unquantified": "不测算金额（税收优惠、资格认定等，见政策要点）",
}
LOAN_FORMULAS = frozenset({"interest_points", "interest_share", "guarantee_fee_share", "rate_cap"})
_BASES: Mapping[str, tuple[str, str]] = {
    "rd_expense": ("rd_expense_wan", "研发投入"),
    "revenue": ("revenue_wan", "营业收入"),
    "rd_staff": ("rd_staff", "研发人员"),
    "employees": ("employees", "从业人员"),
}


# ---------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyVocabulary:
    """Chinese labels of the codes conditions use; a code without a label is shown as is."""

    qualifications: Mapping[str, str] = field(default_factory=dict)
    stages: Mapping[str, str] = field(default_factory=dict)
    industries: Mapping[str, str] = field(default_factory=dict)
    strategic: Mapping[str, str] = field(default_factory=dict)
    regions: Mapping[str, str] = field(default_factory=dict)
    milestones: Mapping[str, str] = field(default_factory=dict)

    def label(self, table: str, code: str) -> str:
        """The label of ``code`` in ``table``; regions also by prefix ('4403' → 深圳市)."""
        labels: Mapping[str, str] = getattr(self, table)
        if table == "regions":
            return labels.get(code) or labels.get(code.ljust(6, "0")) or code
        return labels.get(code, code)

    def labels(self, table: str, codes: Iterable[str], joiner: str = "、") -> str:
        """Several labels joined."""
        return joiner.join(self.label(table, c) for c in codes)


@dataclass(frozen=True)
class Condition:
    """One eligibility condition: its type and typed parameters."""

    type: str
    params: Mapping[str, Any]

    @property
    def label(self) -> str:
        """The Chinese name of the condition."""
        return CONDITION_TYPES[self.type]

    def to_dict(self) -> dict[str, Any]:
        """The stored form."""
        return {"type": self.type, **self.params}


def parse_condition(raw: Mapping[str, Any]) -> Condition:
    """Check one stored condition and return it typed; ``ValueError`` (Chinese) if malformed."""
    kind = str(raw.get("type"))
    if kind not in CONDITION_TYPES:
        known = "、".join(CONDITION_TYPES)
        raise ValueError(f"未知的条件类型“{kind}”，可选：{known}")
    params = {k: v for k, v in raw.items() if k != "type"}
    if kind in _LISTS:
        key = _LISTS[kind][0]
        values = params.get(key)
        if not isinstance(values, list | tuple) or not values:
            raise ValueError(f"条件“{CONDITION_TYPES[kind]}”需要非空列表参数 {key}")
        params[key] = tuple(str(v) for v in values)
    elif kind in NUMERIC:
        _check_range(kind, params)
    else:  # resident_bank_loan
        params["within_months"] = int(params.get("within_months", 12))
        if params["within_months"] < 1:
            raise ValueError("条件“入驻银行贷款”的 within_months 应至少为1")
    return Condition(kind, params)


def _check_range(kind: str, params: dict[str, Any]) -> None:
    low, high = params.get("min"), params.get("max")
    if low is None and high is None:
        raise ValueError(f"条件“{CONDITION_TYPES[kind]}”至少需要 min 或 max")
    for key in ("min", "max"):
        if params.get(key) is not None:
            params[key] = float(params[key])
    if low is not None and high is not None and float(low) > float(high):
        raise ValueError(f"条件“{CONDITION_TYPES[kind]}”的下限大于上限")


def parse_formula(raw: Mapping[str, Any], amount_wan: float | None) -> dict[str, Any]:
    """Check a stored benefit formula; an empty one with a fixed amount means ``fixed``."""
    formula = dict(raw)
    kind = str(formula.get("kind") or ("fixed" if amount_wan is not None else None))
    if kind not in FORMULA_KINDS:
        raise ValueError(f"未知的计算方式“{kind}”，可选：{'、'.join(FORMULA_KINDS)}")
    needs = {"percent": ("base", "percent"), "per_head": ("base", "per_head_wan"),
             "milestones": ("amounts",), "interest_points": ("points",),
             "interest_share": ("percent",), "guarantee_fee_share": ("percent",),
             "rate_cap": ("max_rate_pct",)}.get(kind, ())  # fmt: skip
    missing = [n for n in needs if formula.get(n) is None]
    if missing or (kind == "fixed" and amount_wan is None):
        raise ValueError(f"计算方式“{FORMULA_KINDS[kind]}”缺少参数：{'、'.join(missing) or '金额'}")
    if kind in ("percent", "per_head") and formula["base"] not in _BASES:
        raise ValueError(f"计算基数“{formula['base']}”无效，可选：{'、'.join(_BASES)}")
    return formula | {"kind": kind}


@dataclass(frozen=True)
class PolicySpec:
    """One policy as the core sees it (validity, conditions, benefit, loans covered)."""

    id: int
    title: str
    issuer: str
    level: str
    benefit_type: str
    effective_on: date
    expires_on: date | None
    conditions: tuple[Condition, ...]
    amount_wan: float | None = None
    cap_wan: float | None = None
    formula: Mapping[str, Any] = field(default_factory=dict)
    loan_scope: Mapping[str, Any] = field(default_factory=dict)

    def active_on(self, day: date) -> bool:
        """True when the policy is in force on ``day`` (both ends included)."""
        return self.effective_on <= day and (self.expires_on is None or day <= self.expires_on)

    def validity_text(self, day: date) -> str:
        """Why the policy is or is not in force on ``day``, in Chinese."""
        if day < self.effective_on:
            return f"政策尚未生效（{self.effective_on.isoformat()}起施行）"
        if self.expires_on is not None and day > self.expires_on:
            return f"政策已于{self.expires_on.isoformat()}失效"
        until = self.expires_on.isoformat() if self.expires_on else "长期"
        return f"政策有效期{self.effective_on.isoformat()}至{until}"

    @property
    def is_loan_policy(self) -> bool:
        """True if the benefit is computed on a loan (贴息, 担保费补贴, 风险补偿利率上限)."""
        return self.formula.get("kind") in LOAN_FORMULAS


@dataclass(frozen=True)
class LoanRecord:
    """A loan the enterprise received (a recorded deal)."""

    closed_on: date
    amount_wan: float
    institution_name: str
    resident: bool


@dataclass(frozen=True)
class EnterpriseRecord:
    """What the calculator knows about one enterprise; ``None`` means not known."""

    id: int
    name: str
    region_code: str | None = None
    industry_code: str | None = None
    sei_category: str | None = None
    stage: str | None = None
    founded_on: date | None = None
    employees: int | None = None
    rd_staff: int | None = None
    revenue_wan: float | None = None
    rd_expense_wan: float | None = None
    patents: int | None = None
    qualifications: tuple[str, ...] = ()
    loans: tuple[LoanRecord, ...] = ()
    in_cultivation: bool = False
    milestones: Mapping[str, date] = field(default_factory=dict)
    loan_need_wan: float | None = None
    loan_need_months: int | None = None


def _floats(values: Iterable[float | int | None]) -> FloatArray:
    return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)


def _strings(values: Iterable[str | None]) -> npt.NDArray[np.str_]:
    return np.array([v or "" for v in values], dtype=np.str_)


@dataclass(frozen=True)
class EnterpriseFacts:
    """Column arrays over ``n`` enterprises (NaN or '' where unknown), built once per call."""

    records: tuple[EnterpriseRecord, ...]
    ids: IntArray
    columns: Mapping[str, Any]
    qual_bits: IntArray
    qual_index: Mapping[str, int]
    loan_owner: IntArray
    loan_day: IntArray
    loan_amount: FloatArray
    loan_resident: BoolArray
    in_cultivation: BoolArray
    milestone_days: Mapping[str, IntArray]

    @property
    def n(self) -> int:
        """Number of enterprises."""
        return len(self.records)

    @classmethod
    def build(cls, records: Sequence[EnterpriseRecord]) -> EnterpriseFacts:
        """Turn records into columns (one pass over the records)."""
        loans = [(i, ln) for i, r in enumerate(records) for ln in r.loans]
        kinds = sorted({k for r in records for k in r.milestones})
        quals = {q: i for i, q in enumerate(sorted({q for r in records for q in r.qualifications}))}
        if len(quals) > 62:
            raise ValueError("too many distinct qualifications for a bit mask")
        return cls(
            records=tuple(records),
            ids=np.array([r.id for r in records], dtype=np.int64),
            columns=_columns(records),
            qual_bits=np.array(
                [sum(1 << quals[q] for q in set(r.qualifications)) for r in records], dtype=np.int64
            ),
            qual_index=quals,
            loan_owner=np.array([i for i, _ in loans], dtype=np.int64),
            loan_day=np.array([ln.closed_on.toordinal() for _, ln in loans], dtype=np.int64),
            loan_amount=np.array([ln.amount_wan for _, ln in loans], dtype=np.float64),
            loan_resident=np.array([ln.resident for _, ln in loans], dtype=np.bool_),
            in_cultivation=np.array([r.in_cultivation for r in records], dtype=np.bool_),
            milestone_days={
                k: np.array([_ordinal(r.milestones.get(k)) for r in records], dtype=np.int64)
                for k in kinds
            },
        )


def _ordinal(day: date | None) -> int:
    return day.toordinal() if day else 0


def _columns(records: Sequence[EnterpriseRecord]) -> dict[str, Any]:
    revenue = _floats(r.revenue_wan for r in records)
    rd_expense = _floats(r.rd_expense_wan for r in records)
    with np.errstate(divide="ignore", invalid="ignore"):
        rd_ratio = np.where(revenue > 0, 100.0 * rd_expense / revenue, np.nan)
    return {
        "region": _strings(r.region_code for r in records),
        "industry": _strings(r.industry_code for r in records),
        "sei": _strings((r.sei_category or "").split(".")[0] for r in records),
        "stage": _strings(r.stage for r in records),
        "founded": _floats(_ordinal(r.founded_on) or None for r in records),
        "employees": _floats(r.employees for r in records),
        "rd_staff": _floats(r.rd_staff for r in records),
        "revenue_wan": revenue,
        "rd_expense_wan": rd_expense,
        "rd_ratio": rd_ratio,
        "patents": _floats(r.patents for r in records),
        "loan_need_wan": _floats(r.loan_need_wan for r in records),
        "loan_need_months": _floats(r.loan_need_months for r in records),
    }


# ---------------------------------------------------------------------------------------------
# Verdicts, vectorised over enterprises
# ---------------------------------------------------------------------------------------------


def _status(known: BoolArray, ok: BoolArray) -> StatusArray:
    return np.where(known, np.where(ok, MET, UNMET), UNKNOWN).astype(np.int8)


def _numeric_values(kind: str, facts: EnterpriseFacts, as_of: date) -> FloatArray:
    if kind == "years_operating":
        founded: FloatArray = facts.columns["founded"]
        return (as_of.toordinal() - founded) / DAYS_PER_YEAR
    values: FloatArray = facts.columns[NUMERIC[kind][0]]
    return values


def _numeric(cond: Condition, facts: EnterpriseFacts, as_of: date) -> StatusArray:
    values = _numeric_values(cond.type, facts, as_of)
    known = ~np.isnan(values)
    low, high = cond.params.get("min"), cond.params.get("max")
    with np.errstate(invalid="ignore"):
        ok = np.ones(facts.n, dtype=np.bool_)
        if low is not None:
            ok &= values >= low - 1e-9
        if high is not None:
            ok &= values <= high + 1e-9
    return _status(known, ok)


def _prefix(column: str, key: str) -> Callable[[Condition, EnterpriseFacts, date], StatusArray]:
    def evaluate(cond: Condition, facts: EnterpriseFacts, _as_of: date) -> StatusArray:
        values = facts.columns[column]
        ok = np.zeros(facts.n, dtype=np.bool_)
        for prefix in cond.params[key]:
            ok |= np.char.startswith(values, prefix)
        return _status(values != "", ok)

    return evaluate


def _stage(cond: Condition, facts: EnterpriseFacts, _as_of: date) -> StatusArray:
    values = facts.columns["stage"]
    return _status(values != "", np.isin(values, list(cond.params["any_of"])))


def _strategic(cond: Condition, facts: EnterpriseFacts, _as_of: date) -> StatusArray:
    values = facts.columns["sei"]
    codes = [c.split(".")[0] for c in cond.params["codes"]]
    return _status(values != "", np.isin(values, codes))


def _qualification(cond: Condition, facts: EnterpriseFacts, _as_of: date) -> StatusArray:
    mask = sum(1 << facts.qual_index[q] for q in cond.params["any_of"] if q in facts.qual_index)
    ok = (facts.qual_bits & mask) != 0
    # No qualification recorded at all is not a known "no": it is unknown.
    return _status(facts.qual_bits != 0, ok)


def _loan_window(cond: Condition, facts: EnterpriseFacts, as_of: date) -> BoolArray:
    start = as_of.toordinal() - cond.params["within_months"] * DAYS_PER_MONTH
    chosen = facts.loan_resident & (facts.loan_day >= start) & (facts.loan_day <= as_of.toordinal())
    minimum = cond.params.get("min_amount_wan")
    if minimum is not None:
        chosen &= facts.loan_amount >= float(minimum)
    return chosen


def _resident_loan(cond: Condition, facts: EnterpriseFacts, as_of: date) -> StatusArray:
    # The center's deal records are the source here: resident banks report what they lend.
    has = np.zeros(facts.n, dtype=np.bool_)
    has[facts.loan_owner[_loan_window(cond, facts, as_of)]] = True
    return _status(np.ones(facts.n, dtype=np.bool_), has)


def _milestone(cond: Condition, facts: EnterpriseFacts, as_of: date) -> StatusArray:
    reached = np.zeros(facts.n, dtype=np.bool_)
    for kind in cond.params["any_of"]:
        days = facts.milestone_days.get(kind)
        if days is not None:
            reached |= (days > 0) & (days <= as_of.toordinal())
    # Outside the cultivation database the center does not know the milestones.
    return _status(facts.in_cultivation | reached, reached)


_EVALUATORS: Mapping[str, Callable[[Condition, EnterpriseFacts, date], StatusArray]] = {
    "qualification": _qualification,
    "region": _prefix("region", "prefixes"),
    "industry": _prefix("industry", "codes"),
    "strategic_industry": _strategic,
    "stage": _stage,
    **{kind: _numeric for kind in NUMERIC},
    "resident_bank_loan": _resident_loan,
    "listing_milestone": _milestone,
}


def condition_status(cond: Condition, facts: EnterpriseFacts, as_of: date) -> StatusArray:
    """``MET`` / ``UNMET`` / ``UNKNOWN`` for every enterprise, shape ``(n,)``."""
    return _EVALUATORS[cond.type](cond, facts, as_of)


@dataclass(frozen=True)
class PolicyVerdicts:
    """One policy over all enterprises: per-condition statuses ``(n_conditions, n)`` and totals."""

    policy: PolicySpec
    active: bool
    status: StatusArray
    qualified: BoolArray
    missing: IntArray
    unknown: IntArray


def evaluate_policy(policy: PolicySpec, facts: EnterpriseFacts, as_of: date) -> PolicyVerdicts:
    """Every condition of ``policy`` for every enterprise; out of force qualifies no one."""
    rows = [condition_status(c, facts, as_of) for c in policy.conditions]
    status = np.vstack(rows) if rows else np.zeros((0, facts.n), dtype=np.int8)
    missing = (status != MET).sum(axis=0).astype(np.int64)
    active = policy.active_on(as_of)
    return PolicyVerdicts(
        policy=policy,
        active=active,
        status=status,
        qualified=(missing == 0) & active,
        missing=missing,
        unknown=(status == UNKNOWN).sum(axis=0).astype(np.int64),
    )


def evaluate_catalogue(
    policies: Sequence[PolicySpec], facts: EnterpriseFacts, as_of: date
) -> list[PolicyVerdicts]:
    """:func:`evaluate_policy` for each policy (the whole catalogue × every enterprise)."""
    return [evaluate_policy(p, facts, as_of) for p in policies]


# ---------------------------------------------------------------------------------------------
# Explanations
# ---------------------------------------------------------------------------------------------


def _num(value: float) -> str:
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _range_text(low: float | None, high: float | None, unit: str) -> str:
    if low is not None and high is not None:
        return f"{_num(low)}至{_num(high)}{unit}"
    if low is not None:
        return f"不少于{_num(low)}{unit}"
    return f"不超过{_num(high or 0.0)}{unit}"


def requirement_text(cond: Condition, vocab: PolicyVocabulary) -> str:
    """What the condition asks for, in Chinese."""
    p = cond.params
    if cond.type in NUMERIC:
        return _range_text(p.get("min"), p.get("max"), NUMERIC[cond.type][1])
    if cond.type == "resident_bank_loan":
        floor = (
            f"（不少于{_num(float(p['min_amount_wan']))}万元）" if p.get("min_amount_wan") else ""
        )
        return f"近{p['within_months']}个月内获得入驻银行贷款{floor}"
    key, table, verb = _LISTS[cond.type]
    return verb + vocab.labels(table, p[key], "或")


def _record_value(cond: Condition, record: EnterpriseRecord, vocab: PolicyVocabulary) -> str:
    """The enterprise's own value for list-type conditions."""
    code = {
        "region": record.region_code,
        "industry": record.industry_code,
        "strategic_industry": record.sei_category,
        "stage": record.stage,
    }[cond.type]
    if not code:
        return f"{cond.label}未登记"
    table = _LISTS[cond.type][1]
    shown = vocab.label(table, code.split(".")[0] if table == "strategic" else code)
    return f"为{shown}（{code}）" if shown != code else f"为{code}"


def value_text(
    cond: Condition, facts: EnterpriseFacts, j: int, as_of: date, vocab: PolicyVocabulary
) -> str:
    """The enterprise's value for the condition, in Chinese ('未登记' when unknown)."""
    record = facts.records[j]
    if cond.type in NUMERIC:
        value = float(_numeric_values(cond.type, facts, as_of)[j])
        if math.isnan(value):
            return f"{cond.label}未登记" + ("或营业收入为0" if cond.type == "rd_ratio" else "")
        return f"为{_num(value)}{NUMERIC[cond.type][1]}"
    if cond.type == "qualification":
        quals = record.qualifications
        return f"资质为{vocab.labels('qualifications', quals)}" if quals else "未登记任何资质"
    if cond.type == "resident_bank_loan":
        return _loan_value(cond, facts, j, as_of)
    if cond.type == "listing_milestone":
        return _milestone_value(record, vocab, as_of)
    return _record_value(cond, record, vocab)


def _loan_value(cond: Condition, facts: EnterpriseFacts, j: int, as_of: date) -> str:
    mine = np.flatnonzero(_loan_window(cond, facts, as_of) & (facts.loan_owner == j))
    months = cond.params["within_months"]
    if mine.size == 0:
        return f"中心未记录其近{months}个月的入驻银行贷款"
    loans = [ln for ln in facts.records[j].loans if ln.resident]
    best = max(loans, key=lambda ln: (ln.closed_on <= as_of, ln.closed_on))
    total = float(facts.loan_amount[mine].sum())
    return (f"近{months}个月获入驻银行贷款{len(mine)}笔共{_num(total)}万元"
            f"（最近一笔：{best.institution_name}，{best.closed_on.isoformat()}）")  # fmt: skip


def _milestone_value(record: EnterpriseRecord, vocab: PolicyVocabulary, as_of: date) -> str:
    done = [k for k, d in sorted(record.milestones.items(), key=lambda kv: kv[1]) if d <= as_of]
    if not record.in_cultivation and not done:
        return "未纳入上市培育库，里程碑情况未知"
    if not done:
        return "在上市培育库中，尚未完成任何里程碑"
    return "已完成" + "、".join(
        f"{vocab.label('milestones', k)}（{record.milestones[k].isoformat()}）" for k in done
    )


@dataclass(frozen=True)
class ConditionVerdict:
    """One condition for one enterprise: status, requirement, the enterprise's value, and why."""

    type: str
    label: str
    status: str
    requirement: str
    value: str
    text: str


def explain_condition(
    cond: Condition,
    status: int,
    facts: EnterpriseFacts,
    j: int,
    as_of: date,
    vocab: PolicyVocabulary,
) -> ConditionVerdict:
    """The verdict of ``cond`` for enterprise ``j`` with its Chinese explanation."""
    required = requirement_text(cond, vocab)
    value = value_text(cond, facts, j, as_of, vocab)
    word = STATUS_WORDS[status]
    tail = "（数据缺失，不视为满足）" if status == UNKNOWN else ""
    text = f"{word}｜{cond.label}：要求{required}；企业{value}{tail}"
    return ConditionVerdict(cond.type, cond.label, STATUS_CODES[status], required, value, text)


# ---------------------------------------------------------------------------------------------
# Benefits
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoanTerms:
    """A loan a financing benefit is computed on: amount, term, nominal rate, guarantee fee rate."""

    amount_wan: float
    term_months: int
    rate_pct: float
    guarantee_fee_pct: float = 0.0

    @property
    def years(self) -> float:
        """The term in years."""
        return self.term_months / 12.0

    @property
    def interest_wan(self) -> float:
        """Simple interest over the term (万元)."""
        return self.amount_wan * self.rate_pct / 100.0 * self.years

    @property
    def guarantee_fee_wan(self) -> float:
        """Guarantee fee over the term (万元)."""
        return self.amount_wan * self.guarantee_fee_pct / 100.0 * self.years


@dataclass(frozen=True)
class Benefit:
    """The expected benefit (万元, ``None`` when it cannot be computed) and how it was computed."""

    amount_wan: float | None
    text: str


def _capped(value: float, policy: PolicySpec) -> tuple[float, str]:
    cap = policy.formula.get("cap_wan", policy.cap_wan)
    if cap is not None and value > float(cap):
        return float(cap), f"，按上限{_num(float(cap))}万元"
    return value, ""


def loan_benefit(policy: PolicySpec, loan: LoanTerms) -> Benefit:
    """The benefit of a loan policy on ``loan`` (贴息, 担保费补贴, or the rate cap's saving)."""
    f = policy.formula
    kind = f["kind"]
    if kind == "interest_points":
        points = min(float(f["points"]), loan.rate_pct)
        raw = loan.amount_wan * points / 100.0 * loan.years
        how = f"贷款{_num(loan.amount_wan)}万元×贴息{points:g}个百分点×{loan.years:g}年"
    elif kind == "interest_share":
        raw = loan.interest_wan * float(f["percent"]) / 100.0
        how = f"利息{loan.interest_wan:,.2f}万元×{float(f['percent']):g}%"
    elif kind == "guarantee_fee_share":
        raw = loan.guarantee_fee_wan * float(f["percent"]) / 100.0
        how = f"担保费{loan.guarantee_fee_wan:,.2f}万元×{float(f['percent']):g}%"
    else:  # rate_cap
        gap = max(0.0, loan.rate_pct - float(f["max_rate_pct"]))
        raw = loan.amount_wan * gap / 100.0 * loan.years
        how = f"利率上限{float(f['max_rate_pct']):g}%，较名义利率{loan.rate_pct:g}%低{gap:.2f}个百分点"
    value, note = _capped(raw, policy)
    return Benefit(round(value, 2), f"{how}＝{raw:,.2f}万元{note}")


def _base_value(policy: PolicySpec, facts: EnterpriseFacts) -> FloatArray:
    column: FloatArray = facts.columns[_BASES[policy.formula["base"]][0]]
    return column


def benefit_amounts(
    policy: PolicySpec,
    facts: EnterpriseFacts,
    as_of: date,
    reference_rate_pct: float = 3.5,
) -> FloatArray:
    """Expected benefit (万元) for every enterprise, NaN where it cannot be computed.

    Loan policies use the enterprise's open loan demand (amount, term) at the reference rate,
    and NaN for enterprises without one.
    """
    f, n = policy.formula, facts.n
    kind = f.get("kind", "fixed")
    if kind == "fixed":
        return np.full(n, float(policy.amount_wan or 0.0))
    if kind == "unquantified":
        return np.full(n, np.nan)
    if kind == "percent":
        raw = _base_value(policy, facts) * float(f["percent"]) / 100.0
    elif kind == "per_head":
        heads = np.minimum(_base_value(policy, facts), float(f.get("max_heads", np.inf)))
        raw = heads * float(f["per_head_wan"])
    elif kind == "milestones":
        raw = _milestone_rewards(policy, facts, as_of)
    else:
        raw = _loan_amounts(policy, facts, reference_rate_pct)
    cap = f.get("cap_wan", policy.cap_wan)
    return np.minimum(raw, float(cap)) if cap is not None else raw


def _milestone_rewards(policy: PolicySpec, facts: EnterpriseFacts, as_of: date) -> FloatArray:
    total = np.zeros(facts.n)
    since, until = policy.effective_on.toordinal(), as_of.toordinal()
    for kind, amount in policy.formula["amounts"].items():
        days = facts.milestone_days.get(kind)
        if days is not None:
            total += np.where((days >= since) & (days <= until), float(amount), 0.0)
    return total


def _loan_amounts(policy: PolicySpec, facts: EnterpriseFacts, rate_pct: float) -> FloatArray:
    amount: FloatArray = facts.columns["loan_need_wan"]
    months: FloatArray = facts.columns["loan_need_months"]
    years = np.where(np.isnan(months), 12.0, months) / 12.0
    f = policy.formula
    kind = f["kind"]
    if kind == "interest_points":
        return amount * min(float(f["points"]), rate_pct) / 100.0 * years
    if kind == "interest_share":
        return amount * rate_pct / 100.0 * years * float(f["percent"]) / 100.0
    if kind == "guarantee_fee_share":
        fee = float(f.get("fee_rate_pct", 0.0))
        return amount * fee / 100.0 * years * float(f["percent"]) / 100.0
    gap = max(0.0, rate_pct - float(f["max_rate_pct"]))  # rate_cap
    return amount * gap / 100.0 * years


def benefit_text(
    policy: PolicySpec,
    facts: EnterpriseFacts,
    j: int,
    as_of: date,
    vocab: PolicyVocabulary,
    reference_rate_pct: float = 3.5,
) -> Benefit:
    """The expected benefit for enterprise ``j`` with how it was computed, in Chinese."""
    amount = float(benefit_amounts(policy, facts, as_of, reference_rate_pct)[j])
    value = None if math.isnan(amount) else round(amount, 2)
    return Benefit(value, _how(policy, facts, j, as_of, vocab, reference_rate_pct))


def _how(
    policy: PolicySpec,
    facts: EnterpriseFacts,
    j: int,
    as_of: date,
    vocab: PolicyVocabulary,
    rate: float,
) -> str:
    f = policy.formula
    kind = f.get("kind", "fixed")
    cap = f.get("cap_wan", policy.cap_wan)
    cap_note = f"，上限{_num(float(cap))}万元" if cap is not None else ""
    if kind == "fixed":
        return f"定额{_num(policy.amount_wan or 0.0)}万元"
    if kind == "unquantified":
        return "不测算金额（税收优惠、资格认定等），见政策要点"
    if kind in ("percent", "per_head"):
        return _base_how(policy, facts, j)
    if kind == "milestones":
        return _milestone_how(policy, facts.records[j], as_of, vocab) + cap_note
    return _loan_how(policy, facts.records[j], rate)  # loan_benefit states its own cap


def _base_how(policy: PolicySpec, facts: EnterpriseFacts, j: int) -> str:
    f = policy.formula
    column, name = _BASES[f["base"]]
    base = float(facts.columns[column][j])
    if math.isnan(base):
        return f"按{name}计算，但企业{name}未登记，无法测算"
    if f["kind"] == "percent":
        raw = base * float(f["percent"]) / 100.0
        how = f"{name}{_num(base)}万元×{float(f['percent']):g}%＝{_num(raw)}万元"
    else:
        heads = min(base, float(f.get("max_heads", math.inf)))
        raw = heads * float(f["per_head_wan"])
        limit = f"（最多{int(f['max_heads'])}人）" if f.get("max_heads") else ""
        how = (
            f"{name}{_num(base)}人{limit}×每人{_num(float(f['per_head_wan']))}万元＝{_num(raw)}万元"
        )
    return how + _capped(raw, policy)[1]


def _milestone_how(
    policy: PolicySpec, record: EnterpriseRecord, as_of: date, vocab: PolicyVocabulary
) -> str:
    parts, upcoming = [], []
    for kind, amount in policy.formula["amounts"].items():
        day = record.milestones.get(kind)
        label = f"{vocab.label('milestones', kind)}{_num(float(amount))}万元"
        if day is not None and policy.effective_on <= day <= as_of:
            parts.append(label)
        elif day is None:
            upcoming.append(label)
    done = "已达成：" + "、".join(parts) if parts else "政策有效期内尚未达成奖励节点"
    return done + ("；后续可获：" + "、".join(upcoming) if upcoming else "")


def _loan_how(policy: PolicySpec, record: EnterpriseRecord, rate: float) -> str:
    if policy.formula["kind"] == "rate_cap":
        cap = float(policy.formula["max_rate_pct"])
        return (
            f"入池贷款年利率不超过{cap:g}%；产品利率高于此上限的部分即为节省（参考利率{rate:g}%）"
        )
    if record.loan_need_wan is None:
        fee = float(policy.formula.get("fee_rate_pct", 0.0))
        per = loan_benefit(policy, LoanTerms(REFERENCE_LOAN, 12, rate, fee))
        return f"按实际贷款计算；每{_num(REFERENCE_LOAN)}万元贷款一年约{per.amount_wan:,.2f}万元（参考利率{rate:g}%）"
    term = record.loan_need_months or 12
    fee = float(policy.formula.get("fee_rate_pct", 0.0))
    quote = loan_benefit(policy, LoanTerms(record.loan_need_wan, term, rate, fee))
    return f"按融资需求{_num(record.loan_need_wan)}万元、{term}个月、参考利率{rate:g}%测算：{quote.text}"


# ---------------------------------------------------------------------------------------------
# Reach: the enterprises a policy's outreach should go to
# ---------------------------------------------------------------------------------------------


def rank_reach(
    verdicts: PolicyVerdicts, benefits: FloatArray, max_missing: int = 1
) -> tuple[IntArray, IntArray]:
    """Enterprise indices that qualify or are ``max_missing`` conditions short, best first.

    Order: qualified first, then one short; among the one-short, a missing *datum* (unknown,
    the enterprise may well qualify) before a condition known to be unmet; then by expected
    benefit (largest first, unknown last), then by enterprise position. Returns (indices,
    conditions missing). An out-of-force policy reaches no one.
    """
    if not verdicts.active:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    chosen = np.flatnonzero(verdicts.missing <= max_missing)
    missing = verdicts.missing[chosen]
    unmet = missing - verdicts.unknown[chosen]
    gain = np.nan_to_num(benefits[chosen], nan=-1.0)
    order = np.lexsort((chosen, -gain, unmet, missing))
    return chosen[order], missing[order]


# ---------------------------------------------------------------------------------------------
# Policy-linked financing
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoanOffer:
    """A bank loan product as a subsidy sees it."""

    product_id: int
    product_name: str
    institution_name: str
    resident: bool
    collateral: tuple[str, ...]
    rate_pct: float


def scope_reason(policy: PolicySpec, offer: LoanOffer, loan: LoanTerms) -> str | None:
    """Why ``policy`` does not cover this loan (Chinese), or ``None`` if it does."""
    scope = policy.loan_scope
    if scope.get("resident_only", True) and not offer.resident:
        return f"{offer.institution_name}不是中心入驻银行（政策限入驻/合作银行贷款）"
    wanted = tuple(scope.get("collateral") or ())
    if wanted and not set(wanted) & set(offer.collateral):
        return f"产品“{offer.product_name}”不接受政策要求的担保方式"
    if scope.get("max_amount_wan") is not None and loan.amount_wan > float(scope["max_amount_wan"]):
        return f"贷款金额超过政策支持上限{_num(float(scope['max_amount_wan']))}万元"
    if scope.get("max_term_months") is not None and loan.term_months > int(
        scope["max_term_months"]
    ):
        return f"贷款期限超过政策支持上限{int(scope['max_term_months'])}个月"
    return None


@dataclass(frozen=True)
class SubsidyLine:
    """One policy's part in a loan's subsidy."""

    policy_id: int
    title: str
    benefit_type: str
    amount_wan: float
    text: str


@dataclass(frozen=True)
class FinancingQuote:
    """A loan's nominal cost, the subsidies that apply, and the effective cost after them."""

    amount_wan: float
    term_months: int
    nominal_rate_pct: float
    interest_wan: float
    guarantee_fee_wan: float
    lines: tuple[SubsidyLine, ...]
    not_applied: tuple[tuple[int, str, str], ...]
    total_subsidy_wan: float
    effective_cost_wan: float
    effective_rate_pct: float


def quote_loan(
    offer: LoanOffer,
    loan: LoanTerms,
    candidates: Sequence[tuple[PolicySpec, list[str]]],
) -> FinancingQuote:
    """Apply the loan policies to one loan.

    ``candidates`` are the loan policies with, per policy, the enterprise conditions it fails
    (Chinese texts; empty if it qualifies). Of several policies of one benefit type only the
    most generous applies (同一事项不重复享受) unless its formula says ``"stackable": true``.
    """
    chosen: dict[str, SubsidyLine] = {}
    stacked: list[SubsidyLine] = []
    skipped: list[tuple[int, str, str]] = []
    for policy, failures in candidates:
        why = "；".join(failures) or scope_reason(policy, offer, loan)
        if why:
            skipped.append((policy.id, policy.title, why))
            continue
        line = _line(policy, loan)
        current = chosen.get(policy.benefit_type)
        if policy.formula.get("stackable"):
            stacked.append(line)
        elif current is None or line.amount_wan > current.amount_wan:
            _supersede(chosen, policy.benefit_type, line, skipped)
        else:
            skipped.append((policy.id, policy.title, NOT_TWICE))
    return _quote(loan, (*chosen.values(), *stacked), skipped)


def _supersede(
    chosen: dict[str, SubsidyLine],
    kind: str,
    line: SubsidyLine,
    skipped: list[tuple[int, str, str]],
) -> None:
    old = chosen.get(kind)
    if old is not None:
        skipped.append((old.policy_id, old.title, NOT_TWICE))
    chosen[kind] = line


def _line(policy: PolicySpec, loan: LoanTerms) -> SubsidyLine:
    benefit = loan_benefit(policy, loan)
    return SubsidyLine(policy.id, policy.title, policy.benefit_type, benefit.amount_wan or 0.0,
                       benefit.text)  # fmt: skip


def _quote(
    loan: LoanTerms, lines: Sequence[SubsidyLine], skipped: list[tuple[int, str, str]]
) -> FinancingQuote:
    gross = loan.interest_wan + loan.guarantee_fee_wan
    total = min(sum(line.amount_wan for line in lines), gross)
    cost = gross - total
    return FinancingQuote(
        amount_wan=loan.amount_wan,
        term_months=loan.term_months,
        nominal_rate_pct=loan.rate_pct,
        interest_wan=round(loan.interest_wan, 2),
        guarantee_fee_wan=round(loan.guarantee_fee_wan, 2),
        lines=tuple(sorted(lines, key=lambda line: -line.amount_wan)),
        not_applied=tuple(skipped),
        total_subsidy_wan=round(total, 2),
        effective_cost_wan=round(cost, 2),
        effective_rate_pct=round(cost / loan.amount_wan / loan.years * 100.0, 3),
    )
