"""Cell values to typed values: amounts in 万元, dates, enums from Chinese labels, industry codes.

Every parser takes the cleaned cell text (see `normalize.clean_cell`) or the raw cell object
that the xlsx reader returned, and either returns a value or raises `ValueError` whose message is the
Chinese rule the value broke. Parsers that accept a value but want the user to know something
about it (a foreign currency, an undisclosed amount) return a note alongside.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import TypeVar

from rapidfuzz import fuzz, process

from ingestion.normalize import clean_cell
from models.industry_synonyms import IndustryTerm, fold_term, load_industry_synonyms
from models.reference import (
    INDUSTRY_DIVISIONS,
    INDUSTRY_SECTIONS,
    Board,
    Collateral,
    FinancingType,
    LabelledEnum,
    ListingTier,
    Qualification,
    Stage,
    canonical_industry_code,
    industry_code_from_name,
    region_code_from_name,
    strategic_industry_code_from_name,
    strategic_industry_name,
)

E = TypeVar("E", bound=LabelledEnum)

#: Cells that mean "no value given"; an amount written this way is empty, with a note.
UNDISCLOSED = frozenset(
    {
        "未披露",
        "不详",
        "暂无",
        "无",
        "未知",
        "保密",
        "待定",
        "不公开",
        "-",
        "--",
        "—",
        "/",
        "n/a",
        "na",
    }
)
#: Multiplier of each unit to 万元.
UNIT_TO_WAN = {
    "元": 1e-4,
    "千元": 1e-1,
    "万": 1.0,
    "万元": 1.0,
    "十万": 10.0,
    "十万元": 10.0,
    "百万": 100.0,
    "百万元": 100.0,
    "千万": 1000.0,
    "千万元": 1000.0,
    "亿": 1e4,
    "亿元": 1e4,
    "万亿": 1e8,
}
CURRENCIES = {
    "人民币": "CNY",
    "rmb": "CNY",
    "cny": "CNY",
    "美元": "USD",
    "美金": "USD",
    "usd": "USD",
    "us$": "USD",
    "$": "USD",
    "港元": "HKD",
    "港币": "HKD",
    "hkd": "HKD",
    "欧元": "EUR",
    "eur": "EUR",
    "日元": "JPY",
    "jpy": "JPY",
    "英镑": "GBP",
    "gbp": "GBP",
}
_CURRENCY_WORDS = sorted(CURRENCIES, key=len, reverse=True)
_UNIT_WORDS = sorted(UNIT_TO_WAN, key=len, reverse=True)
_NUMBER = re.compile(r"[+-]?(?:\d+(?:,\d{3})*|\d*)(?:\.\d+)?")
_RANGE_SPLIT = re.compile(r"\s*(?:-|~|～|—|–|至|到)\s*")


@dataclass(frozen=True, slots=True)
class Amount:
    """An amount in 万元 of `currency` (CNY unless the cell said otherwise); `note` for the user."""

    wan: float | None
    currency: str = "CNY"
    note: str | None = None


def _split_currency(text: str) -> tuple[str, str | None]:
    lowered = text.lower()
    for word in _CURRENCY_WORDS:
        if word in lowered:
            start = lowered.index(word)
            return text[:start] + text[start + len(word) :], CURRENCIES[word]
    return text, None


def _split_unit(text: str) -> tuple[str, str | None]:
    for word in _UNIT_WORDS:
        if text.endswith(word):
            return text[: -len(word)], word
    return text, None


def parse_amount(value: object, header_unit: str | None = None) -> Amount:
    """Parse '500万元人民币', '3.5亿', '1,200', '222.2222万元人民币', '10万美元', '未披露'.

    A bare number takes `header_unit` (the unit text of a header like '拟融资金额（万元）' or
    '注册资本（万美元）'), else 万元.
    Foreign currency is kept in its own 万 units and flagged in the note; it is never converted.
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = repr(float(value))
    text = clean_cell(value).replace(" ", "")
    if not text:
        return Amount(None)
    if text.lower() in UNDISCLOSED:
        return Amount(None, note=f"金额“{text}”视为未填写")
    if header_unit and _NUMBER.fullmatch(text):
        text += header_unit
    rest, currency = _split_currency(text)
    number, unit = _split_unit(rest.rstrip("整"))
    if not number and (unit or currency):
        return Amount(None, note=f"金额“{text}”只有单位没有数值，视为未填写")
    if not number or not _NUMBER.fullmatch(number):
        raise ValueError("不是可识别的金额（如 500万元、3.5亿、1,200）")
    wan = round(float(number.replace(",", "")) * UNIT_TO_WAN[unit or "万元"], 6)
    if wan < 0:
        raise ValueError("金额不能为负数")
    if currency and currency != "CNY":
        return Amount(wan, currency, f"外币金额（{currency}），按原币记录，未折算人民币")
    return Amount(wan)


def parse_amount_range(value: object, header_unit: str | None = None) -> tuple[Amount, Amount]:
    """Parse one amount or a range ('500-1000万', '1亿至2亿', '300万~5000万') into (low, high)."""
    text = clean_cell(value) if not isinstance(value, int | float) else value
    if isinstance(text, str):
        parts = [p for p in _RANGE_SPLIT.split(text) if p]
        if len(parts) == 2 and not text.startswith("-"):
            _, unit = _split_unit(_split_currency(parts[1])[0])
            low_text = parts[0] if _split_unit(parts[0])[1] else parts[0] + (unit or "")
            low, high = parse_amount(low_text, header_unit), parse_amount(parts[1], header_unit)
            if low.wan is not None and high.wan is not None and low.wan > high.wan:
                raise ValueError("金额区间下限大于上限")
            return low, high
    single = parse_amount(text, header_unit)
    return single, single


_EXCEL_EPOCH = date(1899, 12, 30)
_DATE_PATTERNS = (
    (re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?"), "day"),
    (re.compile(r"(\d{4})(\d{2})(\d{2})"), "day"),
    (re.compile(r"(\d{4})[-/.年](\d{1,2})月?(?:份)?"), "month"),
    (re.compile(r"(\d{4})年?(?:度)?"), "year"),
)


def parse_date(value: object) -> date | None:
    """Parse '2024-03-01', '2024/3/1', '2024年3月1日', '2024年3月', '2024.03', '20240301',
    Excel serial numbers (45352) and cells the xlsx reader already turned into dates.

    A month gives its first day and a bare year 1 January. Empty gives None.
    """
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _from_serial(float(value))
    text = clean_cell(value).replace(" ", "")
    if not text or text.lower() in UNDISCLOSED:
        return None
    text = text.split("T")[0] if re.match(r"\d{4}-\d{2}-\d{2}T", text) else text
    if re.fullmatch(r"\d{5}(?:\.\d+)?", text):
        return _from_serial(float(text))
    text = re.sub(r"\s*\d{1,2}:\d{2}(?::\d{2})?$", "", text)
    for pattern, precision in _DATE_PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            return _build_date(match.groups(), precision)
    raise ValueError("不是可识别的日期（如 2024-03-01、2024年3月、2024.03）")


def _from_serial(serial: float) -> date:
    if not 1 <= serial < 2_958_466:
        raise ValueError("Excel 日期序号超出范围")
    return _EXCEL_EPOCH + timedelta(days=int(serial))


def _build_date(groups: tuple[str | None, ...], precision: str) -> date:
    year = int(groups[0] or 0)
    month = int(groups[1] or 1) if precision != "year" else 1
    day = int(groups[2] or 1) if precision == "day" else 1
    try:
        built = date(year, month, day)
    except ValueError as exc:
        raise ValueError("日期不存在（年月日超出范围）") from exc
    if not 1900 <= built.year <= 2100:
        raise ValueError("日期年份应在1900至2100之间")
    return built


def parse_int(value: object) -> int | None:
    """Parse a count such as '120', '120人', '1,200', 35.0; empty gives None."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if float(value) != int(value):
            raise ValueError("应为整数")
        return int(value)
    text = clean_cell(value).replace(" ", "").replace(",", "")
    if not text or text.lower() in UNDISCLOSED:
        return None
    match = re.fullmatch(r"(\d+)(?:\.0+)?\s*(?:人|名|项|个|件|家|月|个月)?", text)
    if match is None:
        raise ValueError("应为非负整数")
    return int(match.group(1))


def parse_float(value: object) -> float | None:
    """Parse a plain number, allowing '%' and thousands separators; empty gives None."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    text = clean_cell(value).replace(" ", "").replace(",", "").rstrip("%")
    if not text or text.lower() in UNDISCLOSED:
        return None
    try:
        return float(text)
    except ValueError:
        raise ValueError("应为数字") from None


def parse_text(value: object) -> str | None:
    """Cleaned text, or None when empty or a placeholder such as '无'."""
    text = clean_cell(value)
    return None if not text or text.lower() in UNDISCLOSED else text


# ---------------------------------------------------------------------------------------------
# Vocabularies
# ---------------------------------------------------------------------------------------------

_ROUND_TO_STAGE = (
    (re.compile(r"种子|天使"), Stage.seed),
    (re.compile(r"pre-?ipo|ipo|拟上市|上市前", re.I), Stage.pre_ipo),
    (re.compile(r"pre-?a|^a\+?轮?$|^a轮|初创|创业期", re.I), Stage.startup),
    (re.compile(r"^b\+?轮?$|^b轮|成长", re.I), Stage.growth),
    (re.compile(r"^[cd]\+?轮?$|^[cd]轮|扩张", re.I), Stage.expansion),
    (re.compile(r"^[e-f]\+?轮|成熟|已上市|战略", re.I), Stage.mature),
)


def parse_enum(enum_cls: type[E], value: object) -> E | None:
    """A member of `enum_cls` from its Chinese label, alias or English value; empty gives None."""
    text = parse_text(value)
    if text is None:
        return None
    try:
        return enum_cls.from_label(text)
    except ValueError:
        expected = "、".join(m.label for m in enum_cls)
        raise ValueError(f"不是可识别的取值，应为：{expected}") from None


def parse_stage(value: object) -> Stage | None:
    """发展阶段 from '种子期', '成长期', or a financing round ('天使轮', 'A轮', 'Pre-IPO')."""
    text = parse_text(value)
    if text is None:
        return None
    try:
        return Stage.from_label(text)
    except ValueError:
        pass
    compact = text.replace(" ", "").lower()
    for pattern, stage in _ROUND_TO_STAGE:
        if pattern.search(compact):
            return stage
    raise ValueError(
        "不是可识别的发展阶段（种子期、初创期、成长期、扩张期、成熟期、拟上市或 A轮 等）"
    )


def parse_financing_type(value: object) -> FinancingType | None:
    """融资方式 from '信用贷款', '知识产权质押贷款', '股权融资', '投贷联动', '债权+股权' …"""
    text = parse_text(value)
    if text is None:
        return None
    try:
        return FinancingType.from_label(text)
    except ValueError:
        pass
    debt = any(w in text for w in ("贷", "债", "保理", "融资租赁", "授信", "借款"))
    equity = any(w in text for w in ("股权", "投资", "入股", "增资", "vc", "VC", "天使"))
    if "投贷" in text or (debt and equity):
        return FinancingType.mixed
    if debt or equity:
        return FinancingType.loan if debt else FinancingType.equity
    raise ValueError("不是可识别的融资方式（贷款、股权、投贷联动）")


_SPLIT_LIST = re.compile(r"[、,;；/|+＋]+|\s+|及|和")


def parse_labels(enum_cls: type[E], value: object) -> tuple[list[E], list[str]]:
    """A list of members from '高新技术企业、专精特新'; unknown parts are returned apart."""
    text = parse_text(value)
    if text is None:
        return [], []
    found: list[E] = []
    unknown: list[str] = []
    try:
        return [enum_cls.from_label(text)], []
    except ValueError:
        pass
    for part in (p for p in _SPLIT_LIST.split(text) if p):
        try:
            member = enum_cls.from_label(part)
        except ValueError:
            unknown.append(part)
            continue
        if member not in found:
            found.append(member)
    return found, unknown


def parse_collateral(value: object) -> tuple[list[Collateral], list[str]]:
    """担保方式 list ('知识产权质押、信用'); unknown parts returned apart."""
    return parse_labels(Collateral, value)


def parse_qualifications(value: object) -> tuple[list[Qualification], list[str]]:
    """企业资质 list ('国家高新技术企业、专精特新'); unknown parts returned apart."""
    return parse_labels(Qualification, value)


_BOARD_ALIASES = {
    "新三板": Board.neeq_basic,
    "全国股转系统": Board.neeq_basic,
    "四板": Board.regional,
    "区域股权市场": Board.regional,
    "沪市主板": Board.main,
    "深市主板": Board.main,
    "上交所主板": Board.main,
    "深交所主板": Board.main,
    "中小板": Board.main,
    "北交所": Board.bse,
}


def parse_board(value: object) -> Board | None:
    """资本市场板块 from '科创板', '北交所', '新三板' (基础层 unless it says 创新层), '四板' …"""
    text = parse_text(value)
    if text is None:
        return None
    if text in _BOARD_ALIASES:
        return _BOARD_ALIASES[text]
    if "创新层" in text:
        return Board.neeq_innovation
    return parse_enum(Board, text)


def parse_tier(value: object) -> ListingTier | None:
    """上市培育梯队 from '储备层', '培育', '辅导期', '申报' …"""
    text = parse_text(value)
    if text is None:
        return None
    for member in ListingTier:
        if text.startswith(member.label.rstrip("层")):
            return member
    return parse_enum(ListingTier, text)


@lru_cache(maxsize=1)
def _industry_names() -> dict[str, str]:
    names = {d.name: d.section + d.code for d in INDUSTRY_DIVISIONS}
    names.update({s.name: s.code for s in INDUSTRY_SECTIONS if s.name not in names})
    return names


_CODE_IN_TEXT = re.compile(r"^([A-Ta-t]?\d{2,4}|[A-Ta-t])(?=$|[\s:：、\-(（]|[\u4e00-\u9fff])")
_INDUSTRY_PARTS = re.compile(r"[、,，;；/|+＋]+|及|和|与")
_LATIN_WORD = re.compile(r"[a-z0-9][a-z0-9\-]*")


def parse_industry(value: object) -> str | None:
    """A GB/T 4754 code ('C39', '3911', 'I65 软件…'), name ('医药制造业') or common word of the
    synonym table ('人工智能', '医疗器械') to the stored form: section letter plus up to four
    digits ('C39', 'I65', 'C')."""
    found = match_industry(value)
    return found.code if found else None


def match_industry(value: object) -> IndustryTerm | None:
    """The industry code and 战略性新兴产业 category of a cell (see `parse_industry`).

    In order: a code; an exact 门类/大类 name; a word of the synonym table
    (`models/data/industry_synonyms.csv`), the whole cell, then its first listed part that is
    one ('人工智能、大数据'), a Latin word of it ('CRO服务'), then the longest Chinese word it
    contains ('工业机器人研发');
    last a near 大类 name. Raises `ValueError` when nothing fits.
    """
    text = parse_text(value)
    if text is None:
        return None
    match = _CODE_IN_TEXT.match(text.replace(" ", ""))
    if match:
        code = canonical_industry_code(match.group(1))
        if code:
            return IndustryTerm(code[:5], None)
    exact = industry_code_from_name(text)
    if exact:
        return IndustryTerm(canonical_industry_code(exact) or exact, None)
    return _synonym_of(text) or IndustryTerm(_industry_from_name(text), None)


def _synonym_of(text: str) -> IndustryTerm | None:
    terms = load_industry_synonyms().terms
    folded = fold_term(text)
    if folded in terms:
        return terms[folded]
    for part in _INDUSTRY_PARTS.split(folded):
        if part in terms:
            return terms[part]
    for word in _LATIN_WORD.findall(folded):  # 'CRO服务', 'AI芯片研发': a whole Latin word
        if word in terms:
            return terms[word]
    contained = [t for t in _chinese_terms() if t in folded]
    return terms[max(contained, key=len)] if contained else None


@lru_cache(maxsize=1)
def _chinese_terms() -> tuple[str, ...]:
    """Terms with a Chinese character: only these are looked for inside a longer text (an
    abbreviation such as 'ai' would be found inside unrelated words)."""
    return tuple(t for t in load_industry_synonyms().terms if re.search(r"[\u4e00-\u9fff]", t))


def parse_strategic_industry(value: object) -> str | None:
    """A 战略性新兴产业（2018）category ('1'..'9') from its code, its name ('新能源汽车产业') or a
    word of the synonym table that has one ('人工智能' → '1')."""
    text = parse_text(value)
    if text is None:
        return None
    code = text.split(".")[0] if text[:1].isdigit() else strategic_industry_code_from_name(text)
    if code and strategic_industry_name(code):
        return code
    found = _synonym_of(text)
    if found is None or found.sei is None:
        raise ValueError("不是可识别的战略性新兴产业类别（如 新一代信息技术产业、生物产业、1-9）")
    return found.sei


def _industry_from_name(text: str) -> str:
    names = _industry_names()
    for name, code in names.items():
        if len(text) >= 4 and (text in name or name in text):
            return code
    best = process.extractOne(text, list(names), scorer=fuzz.ratio, score_cutoff=80)
    if best is None:
        raise ValueError("不是可识别的国民经济行业分类代码、名称或行业同义词（GB/T 4754-2017）")
    return names[best[0]]


def parse_region(value: object) -> str | None:
    """行政区划代码 from a 6-digit code or a place/address ('深圳市南山区…' → '440305')."""
    text = parse_text(value)
    if text is None:
        return None
    if re.fullmatch(r"\d{6}", text):
        return text
    return region_code_from_name(text)
