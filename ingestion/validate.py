"""One row of cells to typed values, or to the reasons it cannot be loaded.

Each field has a converter (cell, header unit) → value; a converter's `ValueError` becomes a
problem naming the row, the column, the value and the rule broken, in Chinese. Required fields
and cross-field ranges are checked per kind after conversion.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

from ingestion.headers import HeaderMap
from ingestion.normalize import tidy_legal_name
from ingestion.uscc import validate_uscc
from ingestion.values import (
    Amount,
    parse_amount,
    parse_amount_range,
    parse_board,
    parse_collateral,
    parse_date,
    parse_enum,
    parse_financing_type,
    parse_float,
    parse_industry,
    parse_int,
    parse_labels,
    parse_qualifications,
    parse_region,
    parse_stage,
    parse_text,
    parse_tier,
)
from models.reference import DealType, EventKind, ImportKind, InstitutionKind, Stage

Converted = tuple[Any, str | None]  # value, note for the user
Converter = Callable[[Any, str | None], Converted]


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a row is quarantined: the column, the original value and the rule, in Chinese."""

    column: str
    value: Any
    rule: str

    def describe(self, row_number: int, sheet: str) -> str:
        """'第12行，列“统一社会信用代码”，值“9144…”：校验码错误…'"""
        where = f"工作表“{sheet}”" if sheet else ""
        shown = "（空）" if self.value in (None, "") else f"“{self.value}”"
        return f"{where}第{row_number}行，列“{self.column}”，值{shown}：{self.rule}"


@dataclass(slots=True)
class ParsedRow:
    """A row after conversion: typed `values` by field, `problems` if it must be quarantined."""

    number: int
    sheet: str
    raw: dict[str, Any]
    columns: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def reason(self) -> str:
        """All problems, joined, as stored with a quarantined row."""
        return "；".join(p.describe(self.number, self.sheet) for p in self.problems)


def _text(limit: int) -> Converter:
    def convert(cell: Any, _unit: str | None) -> Converted:
        text = parse_text(cell)
        if text is not None and len(text) > limit:
            raise ValueError(f"长度超过{limit}个字符")
        return text, None

    return convert


def _legal_name(cell: Any, _unit: str | None) -> Converted:
    text = parse_text(cell)
    if text is None:
        return None, None
    name = tidy_legal_name(text)
    if not 2 <= len(name) <= 200:
        raise ValueError("企业名称长度应为2至200个字符")
    return name, None


_validate_uscc = lru_cache(maxsize=4096)(validate_uscc)


def _uscc(cell: Any, _unit: str | None) -> Converted:
    text = parse_text(cell)
    if text is None:
        return None, None
    result = _validate_uscc(text)
    if not result.ok:
        raise ValueError(f"统一社会信用代码不符合 GB 32100-2015：{result.reason}")
    note = f"统一社会信用代码提示：{'；'.join(result.warnings)}" if result.warnings else None
    return result.code, note


def _amount(cell: Any, unit: str | None) -> Converted:
    amount = parse_amount(cell, unit)
    return amount.wan, amount.note


def _amount_range(cell: Any, unit: str | None) -> Converted:
    low, high = parse_amount_range(cell, unit)
    note = low.note or high.note
    return (low.wan, high.wan) if low.wan is not None else None, note


def _date(cell: Any, _unit: str | None) -> Converted:
    return parse_date(cell), None


def _plain(parser: Callable[[Any], Any]) -> Converter:
    return lambda cell, _unit: (parser(cell), None)


def _listed(parser: Callable[[Any], tuple[list[Any], list[str]]], what: str) -> Converter:
    def convert(cell: Any, _unit: str | None) -> Converted:
        found, unknown = parser(cell)
        note = f"{what}中未识别：{'、'.join(unknown)}（已忽略）" if unknown else None
        return [m.value for m in found], note

    return convert


def _stages(cell: Any, _unit: str | None) -> Converted:
    found, unknown = parse_labels(Stage, cell)
    note = f"投资阶段中未识别：{'、'.join(unknown)}" if unknown else None
    return [m.value for m in found], note


def _codes(parser: Callable[[Any], str | None]) -> Converter:
    def convert(cell: Any, _unit: str | None) -> Converted:
        text = parse_text(cell)
        parts = [p for p in (text or "").replace("，", "、").replace(",", "、").split("、") if p]
        return [c for c in (parser(p) for p in parts) if c], None

    return convert


def _industry(cell: Any, _unit: str | None) -> Converted:
    try:
        return parse_industry(cell), None
    except ValueError as exc:
        return None, f"行业“{parse_text(cell)}”无法识别，已留空（{exc}）"


def _region(cell: Any, _unit: str | None) -> Converted:
    return parse_region(cell), None


def _enum(enum_cls: Any) -> Converter:
    return lambda cell, _unit: (parse_enum(enum_cls, cell), None)


def _nonneg(parser: Callable[[Any], float | int | None]) -> Converter:
    def convert(cell: Any, _unit: str | None) -> Converted:
        value = parser(cell)
        if value is not None and value < 0:
            raise ValueError("不能为负数")
        return value, None

    return convert


CONVERTERS: dict[str, Converter] = {
    "legal_name": _legal_name,
    "uscc": _uscc,
    "short_name": _text(100),
    "region": _region,
    "address": _region,
    "industry": _industry,
    "stage": _plain(parse_stage),
    "founded_on": _date,
    "registered_capital": _amount,
    "employees": _nonneg(parse_int),
    "rd_staff": _nonneg(parse_int),
    "revenue": _amount,
    "net_profit": lambda cell, unit: _signed_amount(cell, unit),
    "rd_expense": _amount,
    "patents": _nonneg(parse_int),
    "qualifications": _listed(parse_qualifications, "企业资质"),
    "business_scope": _text(20000),
    "financing_type": _plain(parse_financing_type),
    "amount": _amount_range,
    "amount_min": _amount,
    "amount_max": _amount,
    "round_stage": _plain(parse_stage),
    "purpose": _text(5000),
    "collateral": _listed(parse_collateral, "担保方式"),
    "term_months": _nonneg(parse_int),
    "deadline": _date,
    "source_ref": _text(100),
    "target_board": _plain(parse_board),
    "tier": _plain(parse_tier),
    "coaching_started_on": _date,
    "listed_board": _plain(parse_board),
    "listed_on": _date,
    "estimated_market_value": _amount,
    "sponsor": _text(200),
    "institution_name": _legal_name,
    "institution_kind": _enum(InstitutionKind),
    "regions_served": _codes(parse_region),
    "focus": _text(5000),
    "agreement_start": _date,
    "agreement_end": _date,
    "email": _text(120),
    "product_name": _text(120),
    "min_amount": _amount,
    "max_amount": _amount,
    "term": lambda cell, _unit: (_int_range(cell), None),
    "rate": lambda cell, _unit: (_float_range(cell), None),
    "required_qualifications": _listed(parse_qualifications, "准入资质"),
    "min_years_operating": _nonneg(parse_float),
    "min_revenue": _amount,
    "sectors": _codes(lambda p: _quiet(parse_industry, p)),
    "regions": _codes(parse_region),
    "mandate_name": _text(120),
    "stages": _stages,
    "ticket": _amount_range,
    "min_ticket": _amount,
    "max_ticket": _amount,
    "fund_size": _amount,
    "remaining_capacity": _amount,
    "deal_type": lambda cell, _unit: (_deal_type(cell), None),
    "closed_on": _date,
    "note": _text(300),
    "event_title": _text(200),
    "event_kind": _enum(EventKind),
    "event_date": _date,
    "person_name": _text(50),
    "organisation": _text(200),
    "phone": _text(30),
    "checked_in_at": _date,
}


def _signed_amount(cell: Any, unit: str | None) -> Converted:
    text = parse_text(cell)
    if text and text.startswith("-"):
        amount: Amount = parse_amount(text[1:], unit)
        return (-amount.wan if amount.wan is not None else None), amount.note
    return _amount(cell, unit)


def _quiet(parser: Callable[[Any], str | None], text: str) -> str | None:
    try:
        return parser(text)
    except ValueError:
        return None


def _number_range(cell: Any, parse: Callable[[str], float]) -> tuple[float, float] | None:
    text = parse_text(cell)
    if text is None:
        return None
    cleaned = text.replace("个月", "").replace("月", "").replace("%", "").replace(" ", "")
    for sep in ("-", "~", "～", "至", "到", "—"):
        if sep in cleaned.lstrip("-"):
            low, high = cleaned.split(sep, 1)
            return parse(low), parse(high)
    value = parse(cleaned)
    return value, value


def _int_range(cell: Any) -> tuple[float, float] | None:
    if isinstance(cell, int | float):
        return float(cell), float(cell)
    try:
        return _number_range(cell, lambda s: float(int(s)))
    except ValueError:
        raise ValueError("期限应为月数或区间（如 12、6-36个月）") from None


def _float_range(cell: Any) -> tuple[float, float] | None:
    if isinstance(cell, int | float):
        return float(cell), float(cell)
    try:
        return _number_range(cell, float)
    except ValueError:
        raise ValueError("应为数字或区间（如 3.85%、3.5-4.5%）") from None


def _deal_type(cell: Any) -> DealType | None:
    text = parse_text(cell)
    if text is None:
        return None
    try:
        return DealType.from_label(text)
    except ValueError:
        kind = parse_financing_type(text)
    return DealType.loan if kind and kind.value == "loan" else DealType.equity


# ---------------------------------------------------------------------------------------------
# Rows
# ---------------------------------------------------------------------------------------------

#: Fields a row of each kind cannot do without (alternatives joined by '|').
REQUIRED: dict[ImportKind, tuple[str, ...]] = {
    ImportKind.enterprises: ("legal_name",),
    ImportKind.demands: ("legal_name|uscc", "financing_type", "amount|amount_min|amount_max"),
    ImportKind.listing: ("legal_name|uscc", "target_board"),
    ImportKind.institutions: ("institution_name", "institution_kind"),
    ImportKind.products: ("institution_name", "product_name", "amount|max_amount"),
    ImportKind.mandates: ("institution_name", "mandate_name", "ticket|max_ticket"),
    ImportKind.deals: ("legal_name|uscc", "institution_name", "amount", "closed_on"),
    ImportKind.events: ("event_title", "event_date", "person_name"),
}
FIELD_LABELS = {
    "legal_name": "企业名称",
    "uscc": "统一社会信用代码",
    "financing_type": "融资方式",
    "amount": "金额",
    "amount_min": "金额下限",
    "amount_max": "金额上限",
    "target_board": "拟上市板块",
    "institution_name": "机构名称",
    "institution_kind": "机构类型",
    "product_name": "产品名称",
    "max_amount": "最高额度",
    "mandate_name": "基金/策略名称",
    "ticket": "单笔投资金额",
    "max_ticket": "单笔投资上限",
    "closed_on": "成交日期",
    "event_title": "活动名称",
    "event_date": "活动日期",
    "person_name": "姓名",
}


def _json_safe(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def parse_row(number: int, sheet: str, cells: list[Any], header: HeaderMap) -> ParsedRow:
    """Convert the mapped cells of one row; collect every problem rather than the first."""
    return RowParser(sheet, header).parse(number, cells)


#: Distinct cells remembered per column before its memo starts afresh (bounds the memory).
MEMO_LIMIT = 4096
_Memo = dict[tuple[type, Any], tuple[Any, str | None, str | None]]


class RowParser:
    """`parse_row` for the rows of one sheet, converting each distinct cell of a column once.

    Converters are pure functions of (cell, header unit), and most cells of a column repeat
    (amounts, dates, 融资方式, 行业 …), so each column memoises cell → (value, note, error).
    A memo is cleared when it reaches `MEMO_LIMIT` entries: memory stays bounded however long
    the file, and columns of unique values (名称, 编号) merely pay a dict insert per cell.
    """

    def __init__(self, sheet: str, header: HeaderMap) -> None:
        self.sheet = sheet
        self.header = header
        self.labels = header.labels
        self.plan: list[tuple[int, str, Converter, str | None, str, _Memo]] = [
            (index, name, CONVERTERS[name], header.units.get(index), header.labels[index], {})
            for index, name in header.fields.items()
        ]

    def parse(self, number: int, cells: list[Any]) -> ParsedRow:
        """Convert one row (see `parse_row`)."""
        raw = _raw_cells(self.labels, cells)
        row = ParsedRow(number, self.sheet, raw, self.header.by_field)
        values, notes = row.values, row.notes
        for index, name, convert, unit, label, memo in self.plan:
            cell = cells[index]
            value, note, error = _converted(memo, convert, cell, unit)
            if error is not None:
                row.problems.append(Problem(label, _json_safe(cell), error))
                continue
            if value is not None and value != []:
                values[name] = list(value) if type(value) is list else value
            if note:
                notes.append(f"列“{label}”：{note}")
        _check_required(row, self.header)
        _check_ranges(row, self.header)
        return row


def _converted(
    memo: _Memo, convert: Converter, cell: Any, unit: str | None
) -> tuple[Any, str | None, str | None]:
    key = (type(cell), cell)
    try:
        found = memo.get(key)
    except TypeError:  # an unhashable cell: convert it without the memo
        memo, found = {}, None
    if found is not None:
        return found
    try:
        value, note = convert(cell, unit)
        found = (value, note, None)
    except ValueError as exc:
        found = (None, None, str(exc))
    if len(memo) >= MEMO_LIMIT:
        memo.clear()
    memo[key] = found
    return found


def _raw_cells(labels: list[str], cells: list[Any]) -> dict[str, Any]:
    return {
        label: cell if cell is None or type(cell) is str else _json_safe(cell)
        for label, cell in zip(labels, cells, strict=False)
    }


@lru_cache(maxsize=16)
def _required(kind: ImportKind) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(need.split("|")) for need in REQUIRED[kind])


def _check_required(row: ParsedRow, header: HeaderMap) -> None:
    values = row.values
    for options in _required(header.kind):
        if any(o in values for o in options):
            continue
        failed = any(p.column in _labels_of(header, list(options)) for p in row.problems)
        if failed:
            continue
        column = next(iter(_labels_of(header, list(options))), None)
        wanted = "或".join(FIELD_LABELS.get(o, o) for o in options)
        row.problems.append(Problem(column or wanted, None, f"必填项“{wanted}”缺失"))


def _labels_of(header: HeaderMap, fields: list[str]) -> list[str]:
    return [header.labels[i] for i, f in header.fields.items() if f in fields]


def _check_ranges(row: ParsedRow, header: HeaderMap) -> None:
    values = row.values
    today = date.today()
    for name in ("founded_on", "coaching_started_on", "listed_on", "closed_on"):
        if name in values and values[name] > today:
            row.problems.append(_problem(header, name, values[name], "日期不能晚于今天"))
    term = values.get("term_months")
    if term is not None and not 1 <= term <= 360:
        row.problems.append(_problem(header, "term_months", term, "融资期限应在1至360个月之间"))
    if "amount" in values and header.kind is ImportKind.deals:
        low, high = values["amount"]
        if not low or low <= 0 or low != high:
            row.problems.append(_problem(header, "amount", low, "成交金额应为大于0的单个金额"))
    start, end = values.get("agreement_start"), values.get("agreement_end")
    if start and end and end < start:
        row.problems.append(_problem(header, "agreement_end", end, "协议到期日早于起始日"))


def _problem(header: HeaderMap, name: str, value: Any, rule: str) -> Problem:
    labels = _labels_of(header, [name])
    return Problem(labels[0] if labels else name, _json_safe(value), rule)
