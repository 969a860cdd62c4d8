"""One row of cells to typed values, or to the reasons it cannot be loaded.

Each field has a converter (cell, header unit) → value; a converter's `ValueError` becomes a
problem naming the row, the column, the value and the rule broken, in Chinese. Required fields
and cross-field ranges are checked per kind after conversion.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from itertools import compress, repeat
from operator import is_not, itemgetter
from typing import Any

from ingestion.headers import HeaderMap
from ingestion.normalize import clean_cell, tidy_legal_name
from ingestion.raw_json import json_safe
from ingestion.uscc import validate_uscc
from ingestion.values import (
    Amount,
    match_industry,
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
    parse_strategic_industry,
    parse_text,
    parse_tier,
)
from models.base import MAX_LONG_TEXT, MAX_PURPOSE
from models.clock import center_today
from models.reference import (
    Confidentiality,
    DealType,
    EventKind,
    ImportKind,
    InstitutionKind,
    Stage,
)

#: A note for the user: its text, or (rule, text) where the rule has a name of its own.
Note = str | tuple[str, str]
Converted = tuple[Any, Note | None]  # value, note for the user
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
        shown = "（空）" if self.value in (None, "") else f"“{_shown(self.value)}”"
        return f"{where}第{row_number}行，列“{self.column}”，值{shown}：{self.rule}"


#: Characters of a value a problem quotes: an over-long cell is named, not repeated.
SHOWN_CHARS = 100


def _shown(value: Any) -> Any:
    if isinstance(value, str) and len(value) > SHOWN_CHARS:
        return f"{value[:SHOWN_CHARS]}…（共 {len(value):,} 个字符）"
    return value


class Rule:
    """The names of the rules a warning or a review reason is filed under."""

    value_note = "value_note"  # a cell read with a remark (a foreign currency, 未披露 …)
    industry_unmapped = "industry_unmapped"
    amount_unit = "amount_unit"  # an amount implausible for its unit: to review, not stored
    contact_format = "contact_format"
    load_note = "load_note"  # a remark of the loader (merged by name, sponsor unknown …)


@dataclass(frozen=True, slots=True)
class RowWarning:
    """Something the user should see about a row that was read: where, the value and why."""

    sheet: str
    row: int
    column: str
    value: Any
    rule: str
    message: str


#: Rules whose problems mean "a person must look at this", not "the row is wrong".
REVIEW_RULES = frozenset({Rule.amount_unit})


@dataclass(slots=True)
class ParsedRow:
    """A row after conversion: typed `values` by field, `problems` if it must be quarantined."""

    number: int
    sheet: str
    raw: dict[str, Any]  # header label → the cell as read
    columns: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warnings: list[RowWarning] = field(default_factory=list)

    def warn(self, column: str, value: Any, rule: str, message: str) -> None:
        """Record a warning (shown in the summary) and its message as a note of the row."""
        self.warnings.append(RowWarning(self.sheet, self.number, column, value, rule, message))
        self.notes.append(f"列“{column}”：{message}" if column else message)

    def reason(self) -> str:
        """All problems, joined, as stored with a quarantined row."""
        return "；".join(p.describe(self.number, self.sheet) for p in self.problems)


class RowRejected(Exception):
    """A row that converts but cannot be loaded (its enterprise or institution is unknown …)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.rule)
        self.problem = problem


class RowHeld(RowRejected):
    """A row a person must decide on (a brand naming several enterprises, a second open
    demand): held for review, loading nothing."""


def bounded_text(limit: int) -> Converter:
    """Text of at most `limit` characters (a table column's or the API's maximum length)."""

    def convert(cell: Any, _unit: str | None) -> Converted:
        text = parse_text(cell)
        if text is not None and len(text) > limit:
            raise ValueError(f"长度为 {len(text):,} 个字符，超过 {limit:,} 个字符的上限")
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


_validate_uscc = lru_cache(maxsize=1 << 16)(validate_uscc)


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


class ReviewNeeded(ValueError):
    """A value that converts but must not be stored before a person looks at it."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule


#: A bare number under '万元' (or no unit) from here on is 100 亿元 or more: typed in 元.
WAN_CEILING = 1e6
#: A financing amount under '元' below this (1 万元) was typed in 万元.
YUAN_FLOOR = 1e4


def _bare_number(cell: Any) -> float | None:
    """The cell's number when it is written without a unit (the header's then applies)."""
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        return float(cell)
    text = parse_text(cell)
    if text is None:
        return None
    try:
        return float(text.replace(",", "").replace(" ", ""))
    except ValueError:
        return None


def _check_unit(number: float, unit: str | None, *, financing: bool) -> None:
    """Raise `ReviewNeeded` when a bare number is implausible for the unit it is read in."""
    shown = f"{number:,.0f}" if number == int(number) else f"{number:,}"
    if (unit is None or unit.startswith("万")) and number >= WAN_CEILING:
        raise ReviewNeeded(Rule.amount_unit, f"按“万元”计为 {number / 1e4:,.0f} 亿元，疑为以“元”填写；"
                           "已转入复核，未入库（请核对单位后重新导入）")  # fmt: skip
    if financing and unit is not None and unit.startswith("元") and 0 < number < YUAN_FLOOR:
        raise ReviewNeeded(Rule.amount_unit, f"表头单位为“元”，金额仅 {shown} 元（不足 1 万元），"
                           "疑为以“万元”填写；已转入复核，未入库（请核对单位后重新导入）")  # fmt: skip


def _checked(convert: Converter, *, financing: bool) -> Converter:
    """`convert` after the unit-plausibility check of a cell of bare numbers (a range: each end;
    a cell that writes its own unit is what it says)."""

    def checked(cell: Any, unit: str | None) -> Converted:
        text = parse_text(cell) if not isinstance(cell, int | float) else None
        parts = _RANGE_ENDS.split(text) if text else [cell]
        numbers = [_bare_number(part) for part in (parts if len(parts) == 2 else [cell])]
        if None not in numbers:
            for number in numbers:
                _check_unit(number or 0.0, unit, financing=financing)
        return convert(cell, unit)

    return checked


_RANGE_ENDS = re.compile(r"\s*(?:~|～|—|–|至|到|(?<=\d)-)\s*")


_TERM = re.compile(r"(\d+(?:\.\d+)?)\s*(年|个月|月|期)?")


def _term_months(cell: Any, unit: str | None) -> Converted:
    """融资期限 in months: 12, '12个月', '1年', '6-12个月' (the longer end), '3年' under a '（年）'
    header as 36."""
    text = parse_text(cell) if not isinstance(cell, int | float) else str(cell)
    if text is None:
        return None, None
    ends = [m for m in _TERM.finditer(text.replace(" ", "")) if m.group(1)]
    if not ends or len(ends) > 2:
        raise ValueError("期限应为月数或年数（如 12、12个月、1年、6-12个月）")
    word = ends[-1].group(2) or (unit if unit in ("年", "月", "个月") else "月")
    months = float(ends[-1].group(1)) * (12 if word == "年" else 1)
    if months != int(months):
        raise ValueError("期限折算后应为整月数")
    note = f"期限为区间“{text}”，按较长的 {int(months)} 个月记录" if len(ends) == 2 else None
    return int(months), note


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
    """An `IndustryTerm` (code and 战略性新兴产业 category); an unknown word is a warning."""
    try:
        return match_industry(cell), None
    except ValueError:
        message = (f"行业“{parse_text(cell)}”未能对应到 GB/T 4754-2017 大类，已留空"
                   f"（可在行业同义词表 {INDUSTRY_TABLE} 中补充）")  # fmt: skip
        return None, (Rule.industry_unmapped, message)


INDUSTRY_TABLE = "models/data/industry_synonyms.csv"


_MOBILE = re.compile(r"1[3-9]\d{9}")
_LANDLINE = re.compile(r"0\d{2,3}\d{7,8}(?:\d{1,6})?|[2-9]\d{6,7}")
_EMAIL = re.compile(r"[^@\s，,;；]+@[^@\s，,;；]+\.[A-Za-z]{2,}")


def _phone(cell: Any, _unit: str | None) -> Converted:
    """A phone number as written (digits kept with '-'); one that is none is a warning."""
    text = parse_text(cell) if not isinstance(cell, int | float) else str(int(cell))
    if text is None:
        return None, None
    digits = re.sub(r"[\s\-－—()（）+]", "", text).removeprefix("86")
    if _MOBILE.fullmatch(digits) or _LANDLINE.fullmatch(digits):
        return text[:30], None
    return None, (Rule.contact_format, f"“{text}”不是有效的手机或固定电话号码，未保存")


def _email(cell: Any, _unit: str | None) -> Converted:
    text = parse_text(cell)
    if text is None:
        return None, None
    if len(text) <= 120 and _EMAIL.fullmatch(text):
        return text, None
    return None, (Rule.contact_format, f"“{text}”不是有效的电子邮箱地址，未保存")


_YES_NO = {"是": Confidentiality.confidential, "否": Confidentiality.teaser}


def _confidentiality(cell: Any, _unit: str | None) -> Converted:
    """保密要求: 公开, 脱敏 or 保密 (read as written: '保密' is no placeholder here), 是/否."""
    text = clean_cell(cell)
    if not text:
        return None, None
    try:
        return _YES_NO.get(text) or Confidentiality.from_label(text), None
    except ValueError:
        raise ValueError("不是可识别的保密要求，应为：公开、脱敏、保密（或 是/否）") from None


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
    "short_name": bounded_text(100),
    "region": _region,
    "address": _region,
    "industry": _industry,
    "stage": _plain(parse_stage),
    "founded_on": _date,
    "registered_capital": _checked(_amount, financing=False),
    "employees": _nonneg(parse_int),
    "rd_staff": _nonneg(parse_int),
    "revenue": _checked(_amount, financing=False),
    "net_profit": lambda cell, unit: _signed_amount(cell, unit),
    "rd_expense": _checked(_amount, financing=False),
    "patents": _nonneg(parse_int),
    "qualifications": _listed(parse_qualifications, "企业资质"),
    "business_scope": bounded_text(MAX_LONG_TEXT),
    "financing_type": _plain(parse_financing_type),
    "amount": _checked(_amount_range, financing=True),
    "amount_min": _checked(_amount, financing=True),
    "amount_max": _checked(_amount, financing=True),
    "round_stage": _plain(parse_stage),
    "purpose": bounded_text(MAX_PURPOSE),
    "collateral": _listed(parse_collateral, "担保方式"),
    "term_months": _term_months,
    "confidentiality": _confidentiality,
    "contact_name": bounded_text(50),
    "contact_title": bounded_text(50),
    "contact_phone": _phone,
    "contact_email": _email,
    "deadline": _date,
    "source_ref": bounded_text(100),
    "target_board": _plain(parse_board),
    "tier": _plain(parse_tier),
    "coaching_started_on": _date,
    "listed_board": _plain(parse_board),
    "listed_on": _date,
    "estimated_market_value": _amount,
    "sponsor": bounded_text(200),
    "institution_name": _legal_name,
    "institution_kind": _enum(InstitutionKind),
    "regions_served": _codes(parse_region),
    "focus": bounded_text(MAX_LONG_TEXT),
    "agreement_start": _date,
    "agreement_end": _date,
    "email": bounded_text(120),
    "product_name": bounded_text(120),
    "min_amount": _checked(_amount, financing=True),
    "max_amount": _checked(_amount, financing=True),
    "term": lambda cell, _unit: (_int_range(cell), None),
    "rate": lambda cell, _unit: (_float_range(cell), None),
    "required_qualifications": _listed(parse_qualifications, "准入资质"),
    "min_years_operating": _nonneg(parse_float),
    "min_revenue": _amount,
    "sectors": _codes(lambda p: _quiet(parse_industry, p)),
    "regions": _codes(parse_region),
    "mandate_name": bounded_text(120),
    "stages": _stages,
    "ticket": _checked(_amount_range, financing=True),
    "min_ticket": _checked(_amount, financing=True),
    "max_ticket": _checked(_amount, financing=True),
    "fund_size": _amount,
    "remaining_capacity": _amount,
    "deal_type": lambda cell, _unit: (_deal_type(cell), None),
    "closed_on": _date,
    "note": bounded_text(300),
    "event_title": bounded_text(200),
    "event_kind": _enum(EventKind),
    "event_date": _date,
    "venue": bounded_text(200),
    "topic": bounded_text(100),
    "sei_categories": _codes(lambda p: _quiet(parse_strategic_industry, p)),
    "person_name": bounded_text(50),
    "organisation": bounded_text(200),
    "phone": bounded_text(30),
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


def parse_row(number: int, sheet: str, cells: list[Any], header: HeaderMap) -> ParsedRow:
    """Convert the mapped cells of one row; collect every problem rather than the first."""
    return RowParser(sheet, header).parse(number, cells)


#: Distinct cells remembered per column before its memo starts afresh (bounds the memory).
MEMO_LIMIT = 4096
#: A memo entry: `(value,)` for a clean conversion, `(value, note, error)` otherwise.
_Entry = tuple[Any, ...]
_Memo = dict[Any, _Entry]


@dataclass(slots=True)
class _Column:
    """One mapped column of the sheet: where it is, how it converts, and its memo."""

    index: int
    name: str
    convert: Converter
    unit: str | None
    label: str
    memo: _Memo = field(default_factory=dict)
    lists: bool = False  # the converter has given a list: each row gets its own copy


class RowParser:
    """`parse_row` for the rows of one sheet, a chunk at a time and a column at a time.

    Converters are pure functions of (cell, header unit), and most cells of a column repeat
    (amounts, dates, 融资方式, 行业 …), so each column memoises cell → result and a chunk's
    column is looked up in one pass. A memo is cleared when it reaches `MEMO_LIMIT` entries:
    memory stays bounded however long the file, and columns of unique values (名称, 编号)
    merely pay a dict insert per cell. Rows come out exactly as `parse_row` makes them: values
    in column order, notes and problems in column order, then the required and range checks.
    """

    def __init__(
        self, sheet: str, header: HeaderMap, clock: Callable[[], date] = center_today
    ) -> None:
        self.sheet = sheet
        self.header = header
        self.clock = clock  # "today" for the no-date-after-today check: the center's date
        self.columns = [
            _Column(index, name, CONVERTERS[name], header.units.get(index), header.labels[index])
            for index, name in header.fields.items()
        ]
        self.names = tuple(c.name for c in self.columns)
        self.checks = _RowChecks(header)

    def parse(self, number: int, cells: list[Any]) -> ParsedRow:
        """Convert one row (see `parse_row`)."""
        return self.parse_many([(number, cells)])[0]

    def parse_many(self, chunk: list[tuple[int, list[Any]]]) -> list[ParsedRow]:
        """Convert a chunk of (row number, cells) rows."""
        if not chunk:
            return []
        rows_cells = [cells for _number, cells in chunk]
        value_columns: list[list[Any]] = []
        flagged: dict[int, list[tuple[_Column, Any, _Entry]]] = {}
        for column in self.columns:
            cells = list(map(itemgetter(column.index), rows_cells))
            entries = _lookup(column, cells)
            values = list(map(_first, entries))
            if column.lists:
                values = [list(v) if type(v) is list else v for v in values]
            value_columns.append(values)
            if len(set(map(len, entries))) > 1 or len(entries[0]) > 1:
                for position, entry in enumerate(entries):
                    if len(entry) > 1:
                        flagged.setdefault(position, []).append((column, cells[position], entry))
        return self._rows(chunk, value_columns, flagged)

    def _rows(
        self,
        chunk: list[tuple[int, list[Any]]],
        value_columns: list[list[Any]],
        flagged: dict[int, list[tuple[_Column, Any, _Entry]]],
    ) -> list[ParsedRow]:
        sheet, labels, by_field, names = (
            self.sheet,
            self.header.labels,
            self.header.by_field,
            self.names,
        )
        today = self.clock()
        checks = self.checks.for_today(today)
        suspects = self.checks.suspects(names, value_columns, today)
        rows: list[ParsedRow] = []
        for position, ((number, cells), converted) in enumerate(
            zip(chunk, zip(*value_columns, strict=False), strict=False)
        ):
            if None in converted:
                present = map(is_not, converted, repeat(None))
                values = dict(compress(zip(names, converted, strict=False), present))
            else:
                values = dict(zip(names, converted, strict=False))
            raw = dict(zip(labels, cells, strict=False))
            # Every field given: the dataclass's default factories cost more than the literals.
            row = ParsedRow(number, sheet, raw, by_field, values, [], [], [])
            if position in flagged:
                _add_notes_and_problems(row, flagged[position])
            if suspects is None or position in suspects:
                checks(row)
            rows.append(row)
        return rows


_first = itemgetter(0)


def _lookup(column: _Column, cells: list[Any]) -> list[_Entry]:
    """The memo entry of every cell (text cells are their own key; others are typed keys)."""
    memo = column.memo
    try:
        entries: list[Any] = list(map(memo.get, cells))
    except TypeError:  # an unhashable cell somewhere: look the column up cell by cell
        entries = [None] * len(cells)
    if None in entries:
        for position in [i for i, e in enumerate(entries) if e is None]:
            cell = cells[position]
            key = cell if type(cell) is str else (type(cell), cell)
            try:
                found = memo.get(key)
            except TypeError:  # unhashable: convert without the memo
                entries[position] = _convert(column, cell)
                continue
            if found is None:
                found = _convert(column, cell)
                if len(memo) >= MEMO_LIMIT:
                    memo.clear()
                memo[key] = found
            entries[position] = found
    return entries


def _convert(column: _Column, cell: Any) -> _Entry:
    try:
        value, note = column.convert(cell, column.unit)
    except ReviewNeeded as exc:
        return (None, None, (exc.rule, str(exc)))
    except ValueError as exc:
        return (None, None, str(exc))
    if isinstance(value, list):
        column.lists = True
        if not value:
            value = None  # an empty list is no value, like None
    return (value,) if note is None else (value, note, None)


def _add_notes_and_problems(row: ParsedRow, found: list[tuple[_Column, Any, _Entry]]) -> None:
    for column, cell, (_value, note, error) in found:
        if isinstance(error, tuple):  # to review: a problem, and a warning the summary lists
            row.problems.append(Problem(column.label, json_safe(cell), "待复核：" + error[1]))
            row.warn(column.label, json_safe(cell), *error)
        elif error is not None:
            row.problems.append(Problem(column.label, json_safe(cell), error))
        elif note:
            rule, text = note if isinstance(note, tuple) else (Rule.value_note, note)
            row.warn(column.label, json_safe(cell), rule, text)


class _RowChecks:
    """The required-field and range checks of one header, prepared once for its rows."""

    def __init__(self, header: HeaderMap) -> None:
        self.header = header
        mapped = set(header.fields.values())
        self.required = [
            (options, _labels_of(header, list(options))) for options in _required(header.kind)
        ]
        self.dates = [
            n
            for n in ("founded_on", "coaching_started_on", "listed_on", "closed_on")
            if n in mapped
        ]
        self.ranges = bool(mapped & {"term_months", "agreement_start", "agreement_end"}) or (
            "amount" in mapped and header.kind is ImportKind.deals
        )

    def suspects(
        self, names: tuple[str, ...], value_columns: list[list[Any]], today: date
    ) -> set[int] | None:
        """The positions of the rows a check may fail on (None: any row may).

        Worked out a column at a time: a row lacking every column of a required field, or
        with a date after today. Every other row passes `for_today`'s checks untouched.
        """
        if self.ranges:
            return None
        columns: dict[str, list[list[Any]]] = {}
        for name, values in zip(names, value_columns, strict=True):
            columns.setdefault(name, []).append(values)
        found: set[int] = set()
        for options, _labels in self.required:
            held = [values for o in options for values in columns.get(o, ())]
            if not held:
                return None
            if any(None not in values for values in held):
                continue  # a column of the field is filled in every row
            found.update(
                i for i, vs in enumerate(zip(*held, strict=True)) if vs.count(None) == len(vs)
            )
        for name in self.dates:
            for values in columns.get(name, ()):
                found.update(_after(values, today))
        return found

    def for_today(self, today: date) -> Callable[[ParsedRow], None]:
        """The checks of a row, with today's date taken once (for the chunk)."""
        required, dates, header, ranges = self.required, self.dates, self.header, self.ranges

        def check(row: ParsedRow) -> None:
            values = row.values
            for options, labels in required:
                if values.keys().isdisjoint(options):
                    _missing(row, options, labels)
            for name in dates:
                if name in values and values[name] > today:
                    row.problems.append(_problem(header, name, values[name], "日期不能晚于今天"))
            if ranges:
                _check_ranges(row, header)

        return check


def _after(values: list[Any], today: date) -> list[int]:
    """Positions of the dates after `today` (tested once per distinct date)."""
    try:
        late = {v for v in set(values) if v is not None and v > today}
    except TypeError:  # an unhashable value: test every one
        return [i for i, v in enumerate(values) if v is not None and v > today]
    return [i for i, v in enumerate(values) if v in late] if late else []


@lru_cache(maxsize=16)
def _required(kind: ImportKind) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(need.split("|")) for need in REQUIRED[kind])


def _missing(row: ParsedRow, options: tuple[str, ...], labels: list[str]) -> None:
    if any(p.column in labels for p in row.problems):
        return  # the column is there but did not convert: that problem says it already
    wanted = "或".join(FIELD_LABELS.get(o, o) for o in options)
    column = labels[0] if labels else None
    row.problems.append(Problem(column or wanted, None, f"必填项“{wanted}”缺失"))


def _labels_of(header: HeaderMap, fields: list[str]) -> list[str]:
    return [header.labels[i] for i, f in header.fields.items() if f in fields]


def _check_ranges(row: ParsedRow, header: HeaderMap) -> None:
    values = row.values
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
    return Problem(labels[0] if labels else name, json_safe(value), rule)
