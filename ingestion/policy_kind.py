"""The policy catalogue as an import kind: a spreadsheet of policies → `policy` rows.

One row is one policy (one benefit of one document). Conditions come from plain columns a
center would write — 资质要求 “高新技术企业、专精特新”, 适用地区 “深圳市南山区”, 营业收入
“≤2亿”, 成立年限 “1年以上”, 上市里程碑 “股改、辅导备案” … — each becoming one typed condition
(see docs/policy.md); a column 其他条件 may hold further conditions as JSON. The benefit comes
from 扶持金额 (a fixed amount) or 计算方式 in words (“按研发投入的10%，最高200万元”, “贴息1个
百分点”, “实付利息的50%”, “担保费的50%（费率2%）”, “股改50万元；辅导备案100万元”) or JSON.

Natural key: 发文机关 + 政策名称. Every row read ends inserted, updated, unchanged, merged (a
second row of the batch on the same policy) or quarantined with its reason.

The import itself (reading, upserting, the audit) is ``services.imports.policies``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz, process

from ingestion.headers import Header, normalize_header
from ingestion.validate import Note, ParsedRow, Problem, RowRejected, bounded_text
from ingestion.values import (
    parse_amount,
    parse_collateral,
    parse_date,
    parse_enum,
    parse_industry,
    parse_labels,
    parse_qualifications,
    parse_region,
    parse_text,
)
from matching.policy import parse_condition, parse_formula
from models.base import MAX_LONG_TEXT
from models.policy import BenefitType, PolicyLevel
from models.reference import (
    ListingMilestoneKind,
    Stage,
    strategic_industry_code_from_name,
)

Converted = tuple[Any, Note | None]
Converter = Callable[[Any, str | None], Converted]
FUZZY_CUTOFF = 85.0

#: Field → header synonyms (field names are distinct from every other kind's).
POLICY_SYNONYMS: dict[str, tuple[str, ...]] = {
    "policy_title": ("政策名称", "政策", "扶持项目", "项目名称", "条款名称", "政策条款"),
    "issuer": ("发文机关", "发布单位", "发文单位", "主管部门", "发布机关", "发文部门"),
    "policy_level": ("政策层级", "层级", "级别", "政策级别"),
    "document_no": ("文号", "发文字号", "文件编号", "文件号"),
    "effective_on": ("生效日期", "施行日期", "有效期起", "起始日期", "实施日期"),
    "expires_on": ("失效日期", "有效期至", "有效期止", "截止日期", "废止日期"),
    "benefit_type": ("扶持方式", "支持方式", "政策类型", "扶持类型", "补贴类型"),
    "benefit_amount": ("扶持金额", "奖励金额", "补助金额", "资助金额", "定额"),
    "benefit_cap": ("最高金额", "单户上限", "上限", "封顶金额", "最高限额"),
    "benefit_formula": ("计算方式", "计算公式", "扶持标准", "支持标准", "奖补标准"),
    "cond_qualifications": ("资质要求", "企业资质要求", "认定要求", "资质条件"),
    "cond_regions": ("适用地区", "注册地要求", "适用区域", "注册地"),
    "cond_industries": ("适用行业", "行业要求", "支持行业"),
    "cond_strategic": ("战略性新兴产业", "战新产业", "产业领域"),
    "cond_stages": ("发展阶段要求", "适用阶段", "企业阶段要求"),
    "cond_employees": ("从业人数要求", "人数要求", "从业人数", "员工人数要求"),
    "cond_revenue": ("营业收入要求", "营收要求", "营业收入"),
    "cond_years": ("成立年限", "成立年限要求", "经营年限要求"),
    "cond_rd_ratio": ("研发投入占比", "研发投入强度", "研发费用占比"),
    "cond_patents": ("有效专利要求", "专利要求", "有效专利"),
    "cond_resident_loan": ("入驻银行贷款", "贷款要求", "需有入驻银行贷款"),
    "cond_milestones": ("上市里程碑", "上市进程要求", "上市阶段"),
    "cond_other": ("其他条件", "其他条件json", "条件json"),
    "loan_collateral": ("适用担保方式", "担保方式要求", "贷款担保方式"),
    "loan_max_amount": ("单户贷款上限", "贷款金额上限", "贷款额度上限"),
    "loan_max_term": ("贷款期限上限", "最长贷款期限"),
    "loan_any_bank": ("不限入驻银行",),
    "policy_summary": ("政策要点", "政策摘要", "政策说明", "备注"),
    "to_verify": ("待核实", "是否待核实"),
}
#: Fields whose presence marks a policy sheet.
POLICY_SIGNATURE = frozenset({"issuer", "benefit_type", "benefit_formula", "policy_level"})
POLICY_REQUIRED = ("policy_title", "issuer", "policy_level", "effective_on", "benefit_type")
POLICY_LABELS = {
    "policy_title": "政策名称",
    "issuer": "发文机关",
    "policy_level": "政策层级",
    "effective_on": "生效日期",
    "benefit_type": "扶持方式",
}

# --- cells → values ---------------------------------------------------------------------------

_BOUND = re.compile(
    r"^(≤|<=|不超过|不高于|小于等于|≥|>=|不少于|不低于|大于等于)?(.+?)(以下|以内|以上|及以上)?$"
)
_LOWER_WORDS = ("≥", ">=", "不少于", "不低于", "大于等于", "以上", "及以上")
_RANGE = re.compile(r"\s*(?:-|~|～|—|–|至|到)\s*")
_UNIT_SUFFIX = re.compile(r"(年|人|项|%|个)$")


def _number(text: str, money: bool, unit: str | None) -> float:
    if money:
        amount = parse_amount(text, unit)
        if amount.wan is None:
            raise ValueError("不是可识别的金额")
        return amount.wan
    try:
        return float(_UNIT_SUFFIX.sub("", text.replace(",", "")))
    except ValueError:
        raise ValueError("不是可识别的数值（如 ≤500、1-10、3年以上）") from None


def parse_bound(
    cell: Any, *, money: bool = False, unit: str | None = None
) -> tuple[float | None, float | None] | None:
    """'≤500' → (None, 500); '1年以上' → (1, None); '2000万-2亿' → (2000, 20000); '' → None."""
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        return float(cell), None
    text = (parse_text(cell) or "").replace(" ", "")
    if not text:
        return None
    parts = [p for p in _RANGE.split(text) if p]
    if len(parts) == 2:
        return _number(parts[0], money, unit), _number(parts[1], money, unit)
    found = _BOUND.match(text)
    assert found is not None  # the pattern matches any non-empty text
    value = _number(found.group(2), money, unit)
    words = (found.group(1) or "") + (found.group(3) or "")
    lower = any(w in words for w in _LOWER_WORDS)
    return (value, None) if lower or not words else (None, value)


def _range_condition(kind: str, money: bool = False) -> Converter:
    def convert(cell: Any, unit: str | None) -> Converted:
        bound = parse_bound(cell, money=money, unit=unit)
        if bound is None:
            return None, None
        return {"type": kind, "min": bound[0], "max": bound[1]}, None

    return convert


def _region_prefix(code: str) -> str:
    while code.endswith("00") and len(code) > 2:
        code = code[:-2]
    return code


def _split(cell: Any) -> list[str]:
    text = parse_text(cell) or ""
    return [p for p in re.split(r"[、,，;；/|]+|\s+", text) if p]


def _regions(cell: Any, _unit: str | None) -> Converted:
    codes = [parse_region(p) for p in _split(cell)]
    if any(c is None for c in codes):
        raise ValueError("含无法识别的地区（应为行政区划名称或代码，如 深圳市南山区、440305）")
    prefixes = [_region_prefix(c) for c in codes if c]
    return ({"type": "region", "prefixes": prefixes} if prefixes else None), None


def _industries(cell: Any, _unit: str | None) -> Converted:
    codes = [parse_industry(p) for p in _split(cell)]
    found = [c for c in codes if c]
    return ({"type": "industry", "codes": found} if found else None), None


def _labelled(
    kind: str, parser: Callable[[Any], tuple[list[Any], list[str]]], what: str
) -> Converter:
    def convert(cell: Any, _unit: str | None) -> Converted:
        found, unknown = parser(cell)
        if unknown:
            raise ValueError(f"{what}中有无法识别的项：{'、'.join(unknown)}")
        return ({"type": kind, "any_of": [m.value for m in found]} if found else None), None

    return convert


def _strategic(cell: Any, _unit: str | None) -> Converted:
    codes = [p if p[:1].isdigit() else strategic_industry_code_from_name(p) for p in _split(cell)]
    if any(c is None for c in codes):
        raise ValueError("含无法识别的战略性新兴产业类别（应为1–9或类别全称）")
    return ({"type": "strategic_industry", "codes": codes} if codes else None), None


_YES = ("是", "需", "要", "有", "y", "yes", "true", "1")
_NO = ("否", "无", "不需", "不要", "n", "no", "false", "0")


def _resident_loan(cell: Any, _unit: str | None) -> Converted:
    text = (parse_text(cell) or "").lower()
    if not text or text.startswith(_NO):
        return None, None
    months = re.search(r"(\d+)\s*个?月", text)
    if months is None and not text.startswith(_YES) and "近" not in text:
        raise ValueError("应为 是/否 或 近12个月")
    return {
        "type": "resident_bank_loan",
        "within_months": int(months.group(1)) if months else 12,
    }, None


def _other(cell: Any, _unit: str | None) -> Converted:
    text = parse_text(cell)
    if text is None:
        return None, None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"不是有效的 JSON：{exc.msg}") from exc
    items = data if isinstance(data, list) else [data]
    return [parse_condition(c).to_dict() for c in items], None


def _amount(cell: Any, unit: str | None) -> Converted:
    amount = parse_amount(cell, unit)
    return amount.wan, amount.note


def _plain(parser: Callable[[Any], Any]) -> Converter:
    return lambda cell, _unit: (parser(cell), None)


def _months(cell: Any, _unit: str | None) -> Converted:
    bound = parse_bound(cell)
    return (None if bound is None else int(bound[1] or bound[0] or 0)), None


def _flag(cell: Any, _unit: str | None) -> Converted:
    text = (parse_text(cell) or "").lower()
    return (text.startswith(_YES) if text else None), None


def _collateral(cell: Any, _unit: str | None) -> Converted:
    found, unknown = parse_collateral(cell)
    if unknown:
        raise ValueError(f"担保方式中有无法识别的项：{'、'.join(unknown)}")
    return [c.value for c in found], None


POLICY_CONVERTERS: dict[str, Converter] = {
    "policy_title": bounded_text(200),
    "issuer": bounded_text(120),
    "policy_level": _plain(lambda c: parse_enum(PolicyLevel, c)),
    "document_no": bounded_text(80),
    "effective_on": _plain(parse_date),
    "expires_on": _plain(parse_date),
    "benefit_type": _plain(lambda c: parse_enum(BenefitType, c)),
    "benefit_amount": _amount,
    "benefit_cap": _amount,
    "benefit_formula": lambda cell, unit: (parse_formula_text(cell), None),
    "cond_qualifications": _labelled("qualification", parse_qualifications, "资质要求"),
    "cond_regions": _regions,
    "cond_industries": _industries,
    "cond_strategic": _strategic,
    "cond_stages": _labelled("stage", lambda c: parse_labels(Stage, c), "发展阶段"),
    "cond_employees": _range_condition("employees"),
    "cond_revenue": _range_condition("revenue", money=True),
    "cond_years": _range_condition("years_operating"),
    "cond_rd_ratio": _range_condition("rd_ratio"),
    "cond_patents": _range_condition("patents"),
    "cond_resident_loan": _resident_loan,
    "cond_milestones": _labelled(
        "listing_milestone", lambda c: parse_labels(ListingMilestoneKind, c), "上市里程碑"
    ),
    "cond_other": _other,
    "loan_collateral": _collateral,
    "loan_max_amount": _amount,
    "loan_max_term": _months,
    "loan_any_bank": _flag,
    "policy_summary": bounded_text(MAX_LONG_TEXT),
    "to_verify": _flag,
}

# --- the benefit formula in words ------------------------------------------------------------

_PCT = r"(\d+(?:\.\d+)?)\s*%"
_FORMULA_PATTERNS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], dict[str, Any]]], ...] = (
    (re.compile(r"贴息\s*(\d+(?:\.\d+)?)\s*个?百分点"),
     lambda m: {"kind": "interest_points", "points": float(m.group(1))}),
    (re.compile(r"利息的?\s*" + _PCT),
     lambda m: {"kind": "interest_share", "percent": float(m.group(1))}),
    (re.compile(r"担保费的?\s*" + _PCT),
     lambda m: {"kind": "guarantee_fee_share", "percent": float(m.group(1))}),
    (re.compile(r"利率(?:不超过|不高于|上限)\s*" + _PCT),
     lambda m: {"kind": "rate_cap", "max_rate_pct": float(m.group(1))}),
    (re.compile(r"(研发投入|研发费用|营业收入)的?\s*" + _PCT),
     lambda m: {"kind": "percent", "base": "revenue" if m.group(1) == "营业收入" else "rd_expense",
                "percent": float(m.group(2))}),
    (re.compile(r"每人\s*(\d+(?:\.\d+)?)\s*万元?"),
     lambda m: {"kind": "per_head", "base": "rd_staff", "per_head_wan": float(m.group(1))}),
)  # fmt: skip
_CAP = re.compile(r"(?:最高|上限|不超过)\s*(\d+(?:\.\d+)?)\s*万")
_HEADS = re.compile(r"最多\s*(\d+)\s*人")
_FEE = re.compile(r"费率\s*" + _PCT)
_STEP = re.compile(r"([^\d；;，,、\s]+?)\s*(\d+(?:\.\d+)?)\s*万元?")


def parse_formula_text(cell: Any) -> dict[str, Any] | None:
    """The benefit formula from JSON or words ('按研发投入的10%，最高200万元'); None if blank."""
    text = parse_text(cell)
    if text is None:
        return None
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"计算方式不是有效的 JSON：{exc.msg}") from exc
        return dict(data)
    formula = _words_formula(text)
    if (cap := _CAP.search(text)) is not None:
        formula["cap_wan"] = float(cap.group(1))
    if (heads := _HEADS.search(text)) is not None:
        formula["max_heads"] = int(heads.group(1))
    if (fee := _FEE.search(text)) is not None:
        formula["fee_rate_pct"] = float(fee.group(1))
    return formula


def _words_formula(text: str) -> dict[str, Any]:
    if text.startswith("不测算"):
        return {"kind": "unquantified"}
    for pattern, build in _FORMULA_PATTERNS:
        found = pattern.search(text)
        if found is not None:
            return build(found)
    steps = _milestone_steps(text)
    if steps:
        return {"kind": "milestones", "amounts": steps}
    if re.fullmatch(r"(?:定额|一次性)?\s*(?:奖励|补助|资助)?\s*\d+(?:\.\d+)?\s*万元?", text):
        return {"kind": "fixed", "amount_wan": float(re.findall(r"\d+(?:\.\d+)?", text)[0])}
    raise ValueError("无法识别的计算方式（例：按研发投入的10%，最高200万元；贴息1个百分点；"
                     "实付利息的50%；担保费的50%；股改50万元；辅导备案100万元）")  # fmt: skip


def _milestone_steps(text: str) -> dict[str, float]:
    steps: dict[str, float] = {}
    for label, amount in _STEP.findall(text):
        try:
            kind = ListingMilestoneKind.from_label(label.removeprefix("完成"))
        except ValueError:
            return {}
        steps[kind.value] = float(amount)
    return steps


# --- rows → policies -------------------------------------------------------------------------

_CONDITION_FIELDS = tuple(f for f in POLICY_SYNONYMS if f.startswith("cond_") and f != "cond_other")


def policy_values(row: ParsedRow) -> dict[str, Any]:
    """The `Policy` fields of one parsed row; `RowRejected` for a formula or validity error."""
    v = row.values
    conditions = [v[f] for f in _CONDITION_FIELDS if f in v] + list(v.get("cond_other", []))
    formula = dict(v.get("benefit_formula") or {})
    amount = v.get("benefit_amount", formula.pop("amount_wan", None))
    try:
        formula = parse_formula(formula, amount) if formula or amount is not None else {}
    except ValueError as exc:
        raise RowRejected(Problem(policy_column(row, "benefit_formula"), None, str(exc))) from exc
    if not formula:
        raise RowRejected(
            Problem(policy_column(row, "benefit_formula"), None, "扶持金额与计算方式至少填写一项")
        )
    expires = v.get("expires_on")
    if expires is not None and expires < v["effective_on"]:
        raise RowRejected(
            Problem(policy_column(row, "expires_on"), expires.isoformat(), "失效日期早于生效日期")
        )
    return {
        "title": v["policy_title"], "issuer": v["issuer"], "level": v["policy_level"],
        "document_no": v.get("document_no"), "effective_on": v["effective_on"],
        "expires_on": expires, "benefit_type": v["benefit_type"], "amount_wan": amount,
        "cap_wan": v.get("benefit_cap"), "formula": formula, "conditions": conditions,
        "loan_scope": _loan_scope(v), "summary": v.get("policy_summary"),
        "to_verify": bool(v.get("to_verify")),
    }  # fmt: skip


def _loan_scope(v: dict[str, Any]) -> dict[str, Any]:
    scope: dict[str, Any] = {}
    if v.get("loan_any_bank"):
        scope["resident_only"] = False
    if v.get("loan_collateral"):
        scope["collateral"] = v["loan_collateral"]
    if v.get("loan_max_amount") is not None:
        scope["max_amount_wan"] = v["loan_max_amount"]
    if v.get("loan_max_term") is not None:
        scope["max_term_months"] = v["loan_max_term"]
    return scope


def policy_column(row: ParsedRow, name: str) -> str:
    return row.columns.get(name, POLICY_LABELS.get(name, name))


# --- the stand-alone import (before registration) -------------------------------------------


_TABLE: dict[str, str] = {
    normalize_header(synonym).text: name
    for name, synonyms in POLICY_SYNONYMS.items()
    for synonym in synonyms
}


@dataclass
class PolicyHeader:
    """Column index → field, with units, display labels and the columns left unmapped."""

    fields: dict[int, str]
    units: dict[int, str]
    labels: list[str]
    unmapped: list[str]

    @property
    def by_field(self) -> dict[str, str]:
        """Field → the header label it was read from."""
        return {name: self.labels[i] for i, name in self.fields.items()}


def _field_of(options: list[Header]) -> Header | None:
    for option in options:
        if option.text in _TABLE:
            return option
    for option in options:
        if len(option.text) >= 3 and process.extractOne(
            option.text, list(_TABLE), scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF
        ):
            return option
    return None


def map_policy_headers(columns: list[list[Header]]) -> PolicyHeader:
    """Map header columns to policy fields (exact synonyms, then close ones); first column wins."""
    header = PolicyHeader({}, {}, [], [])
    for index, options in enumerate(columns):
        chosen = _field_of(options)
        label = (options[0].label if options else "") or f"第{index + 1}列"
        header.labels.append(label)
        if chosen is None:
            header.unmapped.append(label)
            continue
        best = process.extractOne(chosen.text, list(_TABLE), scorer=fuzz.ratio)
        name = _TABLE.get(chosen.text) or (_TABLE[best[0]] if best else "")
        if name in header.fields.values():
            header.unmapped.append(label)
            continue
        header.fields[index] = name
        if chosen.unit:
            header.units[index] = chosen.unit
    return header


def parse_policy_row(number: int, sheet: str, cells: list[Any], header: PolicyHeader) -> ParsedRow:
    """Convert one row's mapped cells; every problem is collected, not just the first."""
    raw = {label: _json_safe(cell) for label, cell in zip(header.labels, cells, strict=False)}
    row = ParsedRow(number, sheet, raw, header.by_field)
    for index, name in header.fields.items():
        try:
            value, note = POLICY_CONVERTERS[name](cells[index], header.units.get(index))
        except ValueError as exc:
            row.problems.append(Problem(header.labels[index], _json_safe(cells[index]), str(exc)))
            continue
        if value is not None and value != []:
            row.values[name] = value
        if note:
            row.notes.append(f"列“{header.labels[index]}”：{note}")
    for name in POLICY_REQUIRED:
        if name not in row.values and not any(
            p.column == policy_column(row, name) for p in row.problems
        ):
            row.problems.append(
                Problem(policy_column(row, name), None, f"必填项“{POLICY_LABELS[name]}”缺失")
            )
    return row


def _json_safe(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
