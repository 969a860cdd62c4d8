"""Header rows to fields: synonyms per field and kind, a rapidfuzz fallback, and overrides.

A header cell is compared after `normalize_header` (half-width, no spaces or '*', lower case,
bracketed notes such as '（必填）' removed; a bracketed unit such as '（万元）' is kept apart and
applies to the column's bare numbers). Exact synonyms win; otherwise the closest synonym with a
rapidfuzz ratio of at least `FUZZY_CUTOFF` is taken. A mapping file overrides both.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from rapidfuzz import fuzz, process

from ingestion.normalize import clean_cell
from models.errors import DomainError
from models.reference import ImportKind

FUZZY_CUTOFF = 85.0
IGNORE = "-"  # a mapping-file target that drops a column on purpose

_ENTERPRISE: dict[str, tuple[str, ...]] = {
    "legal_name": (
        "企业名称",
        "公司名称",
        "单位名称",
        "企业全称",
        "公司全称",
        "企业(单位)名称",
        "申报单位",
        "申请企业",
        "融资企业",
        "企业",
        "公司",
        "company",
        "companyname",
        "enterprise",
        "enterprisename",
        "legalname",
        "name",
    ),
    "uscc": (
        "统一社会信用代码",
        "信用代码",
        "社会信用代码",
        "统一信用代码",
        "uscc",
        "统一代码",
        "社会统一信用代码",
        "creditcode",
    ),
    "short_name": ("企业简称", "简称", "名称", "品牌", "品牌名称", "项目名称", "shortname"),
    "region": ("所在区域", "所属区域", "区域", "所在地区", "地区", "所属区", "行政区划", "region"),
    "address": ("地址", "注册地址", "办公地址", "经营地址", "企业地址", "address"),
    "industry": (
        "所属行业",
        "行业",
        "行业分类",
        "国民经济行业",
        "行业代码",
        "国民经济行业分类",
        "industry",
    ),
    "stage": ("发展阶段", "企业阶段", "所处阶段", "stage"),
    "founded_on": (
        "成立日期",
        "成立时间",
        "注册日期",
        "注册时间",
        "成立年份",
        "founded",
        "founded_on",
    ),
    "registered_capital": ("注册资本", "注册资金", "registeredcapital"),
    "employees": ("员工人数", "职工人数", "从业人数", "员工数", "人数", "employees"),
    "rd_staff": ("研发人员", "研发人员数", "研发人数", "科技人员数"),
    "revenue": ("营业收入", "营收", "年营业收入", "上年营业收入", "销售收入", "revenue"),
    "net_profit": ("净利润", "上年净利润", "netprofit"),
    "rd_expense": ("研发投入", "研发费用", "研发经费"),
    "patents": ("专利数", "有效专利数", "专利数量", "知识产权数", "patents"),
    "qualifications": ("企业资质", "资质", "资质荣誉", "企业荣誉", "认定情况", "qualifications"),
    "business_scope": ("经营范围", "主营业务", "主要产品", "业务简介", "公司介绍", "企业简介"),
}
_DEMAND: dict[str, tuple[str, ...]] = {
    "financing_type": ("融资方式", "融资类型", "融资需求类型", "需求类型", "方式", "financingtype"),
    "amount": (
        "拟融资金额",
        "融资需求金额",
        "需求金额",
        "融资金额",
        "融资额度",
        "拟融资额",
        "融资需求",
        "amount",
    ),
    "amount_min": ("融资金额下限", "最低融资金额", "金额下限"),
    "amount_max": ("融资金额上限", "最高融资金额", "金额上限"),
    "round_stage": ("融资轮次", "轮次", "本轮轮次", "融资阶段"),
    "purpose": ("资金用途", "融资用途", "用途", "purpose"),
    "collateral": ("担保方式", "增信方式", "可提供担保", "抵质押物", "collateral"),
    "term_months": (
        "融资期限",
        "期限",
        "贷款期限",
        "期限(月)",
        "需求期限",
        "借款期限",
        "融资周期",
        "使用期限",
        "资金使用期限",
    ),
    "confidentiality": ("保密要求", "是否保密", "保密级别", "公开程度", "信息公开方式"),
    "deadline": ("需求截止日期", "截止日期", "期望到位时间", "资金到位时间"),
    "source_ref": ("需求编号", "编号", "项目编号", "ref"),
}
#: Contact persons (personal information: see `models.enterprise.ContactPerson`).
_CONTACT: dict[str, tuple[str, ...]] = {
    "contact_name": ("联系人", "联系人姓名", "企业联系人", "对接人", "联络人", "融资联系人"),
    "contact_title": ("职务", "联系人职务", "职位", "岗位"),
    "contact_phone": (
        "联系电话",
        "手机",
        "手机号",
        "手机号码",
        "联系方式",
        "电话",
        "联系人电话",
        "联系人手机",
        "办公电话",
    ),
    "contact_email": ("邮箱", "电子邮箱", "联系人邮箱", "电子邮件", "email", "e-mail"),
}
_LISTING: dict[str, tuple[str, ...]] = {
    "target_board": ("拟上市板块", "目标板块", "拟挂牌上市板块", "上市板块", "目标市场"),
    "tier": ("培育梯队", "梯队", "培育层次", "层次", "所处梯队"),
    "coaching_started_on": ("纳入培育日期", "入库时间", "纳入时间", "辅导开始日期", "入库日期"),
    "listed_board": ("已上市板块", "实际上市板块", "挂牌板块"),
    "listed_on": ("上市日期", "挂牌日期", "上市时间"),
    "estimated_market_value": ("预计市值", "估值", "投后估值"),
    "sponsor": ("辅导机构", "保荐机构", "券商", "中介机构"),
}
_INSTITUTION_NAME = ("机构名称", "机构全称", "金融机构", "银行名称", "投资机构", "合作机构", "机构")
_INSTITUTIONS: dict[str, tuple[str, ...]] = {
    "institution_name": _INSTITUTION_NAME,
    "institution_kind": ("机构类型", "机构类别", "类型", "kind"),
    "uscc": ("统一社会信用代码", "信用代码", "uscc"),
    "short_name": ("机构简称", "简称"),
    "regions_served": ("服务区域", "业务区域"),
    "focus": ("业务方向", "投资方向", "业务范围", "服务内容"),
    "agreement_start": ("入驻日期", "协议起始日", "入驻协议起始日期", "签约日期"),
    "agreement_end": ("协议到期日", "到期日期", "入驻协议到期日"),
    "email": ("邮箱", "电子邮箱", "email"),
}
_PRODUCTS: dict[str, tuple[str, ...]] = {
    "institution_name": _INSTITUTION_NAME,
    "product_name": ("产品名称", "贷款产品", "产品"),
    "amount": ("贷款额度", "额度", "授信额度", "额度范围"),
    "min_amount": ("最低额度", "额度下限"),
    "max_amount": ("最高额度", "额度上限"),
    "term": ("贷款期限", "期限", "期限(月)"),
    "rate": ("利率", "年利率", "利率范围"),
    "collateral": ("担保方式", "接受担保方式"),
    "required_qualifications": ("准入资质", "资质要求"),
    "min_years_operating": ("成立年限要求", "经营年限"),
    "min_revenue": ("营收要求", "最低营业收入"),
    "sectors": ("支持行业", "适用行业", "行业"),
    "regions": ("适用区域", "区域"),
}
_MANDATES: dict[str, tuple[str, ...]] = {
    "institution_name": _INSTITUTION_NAME,
    "mandate_name": ("基金名称", "投资策略", "基金", "策略名称"),
    "stages": ("投资阶段", "偏好阶段", "阶段偏好"),
    "sectors": ("投资领域", "关注行业", "投资行业", "行业偏好"),
    "ticket": ("单笔投资金额", "单笔投资规模", "投资金额范围"),
    "min_ticket": ("单笔投资下限", "最低投资金额"),
    "max_ticket": ("单笔投资上限", "最高投资金额"),
    "regions": ("投资区域", "区域偏好"),
    "fund_size": ("基金规模", "管理规模"),
    "remaining_capacity": ("剩余可投金额", "剩余可投额度", "可投金额"),
    "sei_categories": ("战略性新兴产业", "战新产业", "新兴产业方向", "战略性新兴产业方向"),
}
_DEALS: dict[str, tuple[str, ...]] = {
    "institution_name": _INSTITUTION_NAME,
    "deal_type": ("成交类型", "业务类型", "融资方式", "类型"),
    "amount": ("放款金额", "投资金额", "成交金额", "金额", "融资金额"),
    "closed_on": ("放款日期", "投资日期", "成交日期", "完成日期", "日期"),
    "note": ("备注", "说明"),
}
_EVENTS: dict[str, tuple[str, ...]] = {
    "event_title": ("活动名称", "路演名称", "培训名称", "活动主题", "会议名称"),
    "event_kind": ("活动类型", "活动类别"),
    "event_date": ("活动日期", "活动时间", "日期", "举办日期"),
    "person_name": ("姓名", "参会人", "参会人员", "签到人", "参加人员"),
    "organisation": ("单位", "工作单位", "所在单位", "企业名称", "公司名称", "机构名称"),
    "phone": ("手机", "手机号", "联系电话", "电话", "手机号码"),
    "checked_in_at": ("签到时间",),
    "venue": ("活动地点", "地点", "举办地点", "会场"),
    "topic": ("培训主题", "主题", "课程主题"),
}
_ENTERPRISE_REF = {k: _ENTERPRISE[k] for k in ("legal_name", "uscc", "short_name")}

#: Synonyms per kind: the kind's own fields plus, where a row names an enterprise, its fields.
SYNONYMS: dict[ImportKind, dict[str, tuple[str, ...]]] = {
    ImportKind.enterprises: _ENTERPRISE | _CONTACT,
    ImportKind.demands: _DEMAND | _ENTERPRISE | _CONTACT,
    ImportKind.listing: _LISTING | _ENTERPRISE | _CONTACT,
    ImportKind.institutions: _INSTITUTIONS,
    ImportKind.products: _PRODUCTS,
    ImportKind.mandates: _MANDATES,
    ImportKind.deals: _DEALS | _ENTERPRISE_REF,
    ImportKind.events: _EVENTS,
}  # fmt: skip
#: Fields whose presence tells one kind from another, for detection from the header alone.
SIGNATURE: dict[ImportKind, frozenset[str]] = {
    ImportKind.enterprises: frozenset({"legal_name", "uscc"}),
    ImportKind.demands: frozenset({"financing_type", "amount", "amount_min", "amount_max"}),
    ImportKind.listing: frozenset({"target_board", "tier", "coaching_started_on", "listed_board"}),
    ImportKind.institutions: frozenset({"institution_kind", "agreement_start", "regions_served"}),
    ImportKind.products: frozenset({"product_name", "rate", "term"}),
    ImportKind.mandates: frozenset({"mandate_name", "stages", "ticket", "fund_size"}),
    ImportKind.deals: frozenset({"closed_on", "deal_type"}),
    ImportKind.events: frozenset({"event_title", "person_name", "event_date"}),
}
#: Columns our own quarantine export adds; recognised so a re-import ignores them quietly.
QUARANTINE_COLUMNS = ("原行号", "隔离原因", "序号", "no", "No.")

_UNIT_NOTE = re.compile(r"[(\[]([^()\[\]]*)[)\]]")
_UNIT_WORD = re.compile(
    r"^(?:单位[:：]?)?((?:元|千元|万|万元|十万|百万|千万|亿|亿元)(?:人民币|美元|港元|欧元)?|年|个月|月)$"
)
_STRIP = re.compile(r"[\s*※#:：_\-./、]+")


@dataclass(frozen=True, slots=True)
class Header:
    """One normalised header cell: comparison text and the unit written in it, if any."""

    text: str
    unit: str | None
    label: str = ""


def normalize_header(cell: object) -> Header:
    """'拟融资金额（万元）*' → Header('拟融资金额', '万元'); bracketed notes are dropped."""
    text = clean_cell(cell).lower()
    unit: str | None = None
    for note in _UNIT_NOTE.findall(text):
        found = _UNIT_WORD.match(note.replace(" ", ""))
        if found and unit is None:
            unit = found.group(1)
    text = _UNIT_NOTE.sub("", text)
    return Header(_STRIP.sub("", text), unit, clean_cell(cell))


@dataclass(slots=True)
class HeaderMap:
    """Column index → field, the unit per column, and the header cells left unmapped."""

    kind: ImportKind
    fields: dict[int, str] = field(default_factory=dict)
    units: dict[int, str] = field(default_factory=dict)
    unmapped: list[str] = field(default_factory=list)
    fuzzy: dict[str, str] = field(default_factory=dict)
    labels: list[str] = field(default_factory=list)
    by_field: dict[str, str] = field(default_factory=dict)

    def column_of(self, name: str) -> int | None:
        """The column mapped to field `name`, if any."""
        return next((i for i, f in self.fields.items() if f == name), None)


@lru_cache(maxsize=16)
def _lookup(kind: ImportKind) -> dict[str, str]:
    table: dict[str, str] = {}
    for name, synonyms in SYNONYMS[kind].items():
        for synonym in synonyms:
            table.setdefault(normalize_header(synonym).text, name)
    return table


def _match(text: str, kind: ImportKind) -> tuple[str | None, bool]:
    """(field, was_fuzzy) for one normalised header text."""
    table = _lookup(kind)
    if text in table:
        return table[text], False
    if len(text) < 3:
        return None, False
    best = process.extractOne(text, list(table), scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
    return (table[best[0]], True) if best else (None, False)


def header_candidates(
    lower: Sequence[object], upper: Sequence[object] | None
) -> list[list[Header]]:
    """Per column, the header texts to try: the cell, its merged parent + cell, the parent."""
    parents = _forward_fill(upper) if upper is not None else []
    columns: list[list[Header]] = []
    for i, cell in enumerate(lower):
        own = normalize_header(cell)
        options = [own] if own.text else []
        parent = parents[i] if i < len(parents) else Header("", None)
        if parent.text and parent.text != own.text:
            label = parent.label + own.label
            options.append(Header(parent.text + own.text, own.unit or parent.unit, label))
            if not own.text:
                options.append(parent)
        columns.append(options)
    return columns


def _forward_fill(cells: Sequence[object]) -> list[Header]:
    """Horizontally merged cells arrive as one value then blanks: carry the value right."""
    filled: list[Header] = []
    last = Header("", None)
    for cell in cells:
        own = normalize_header(cell)
        last = own if own.text else last
        filled.append(last)
    return filled


def map_headers(
    columns: list[list[Header]], kind: ImportKind, overrides: dict[str, str] | None = None
) -> HeaderMap:
    """Map each column to a field of `kind`; a field is taken by its first column only.

    `labels` gets one unique display label per column (the header text that matched), which
    is how the original values are kept with a quarantined row.
    """
    result = HeaderMap(kind)
    wanted = {normalize_header(k).text: v for k, v in (overrides or {}).items()}
    taken: set[str] = set()
    labels = UniqueLabels()
    for index, options in enumerate(columns):
        name, fuzzy, chosen = _map_column(options, kind, wanted)
        label = labels.add(chosen.label if chosen else "", index)
        result.labels.append(label)
        if name == IGNORE or (name is None and label in QUARANTINE_COLUMNS):
            continue
        if name is None or name in taken:
            if chosen and chosen.text:
                result.unmapped.append(label)
            continue
        taken.add(name)
        result.fields[index] = name
        if chosen and chosen.unit:
            result.units[index] = chosen.unit
        if fuzzy:
            result.fuzzy[label] = name
    _promote_short_name(result)
    result.by_field = {name: result.labels[i] for i, name in result.fields.items()}
    return result


class UniqueLabels:
    """Display labels made unique as they come: '名称', '名称#2', '名称#3', … in linear time.

    The labels given out are a set, and each base label keeps the next number to try, so a row
    of n equal headers costs O(n), not the O(n³) of searching a list for '名称#2', '名称#3', ….
    A number is only ever tried once per base, so probing past labels taken by other columns
    ('名称#2' written as a header of its own) stays linear too.
    """

    def __init__(self) -> None:
        self.used: set[str] = set()
        self.next_number: dict[str, int] = {}

    def add(self, label: str, index: int) -> str:
        """The unique label for column `index` (0-based; '第N列' when `label` is empty)."""
        label = label or f"第{index + 1}列"
        candidate = label
        if candidate in self.used:
            n = self.next_number.get(label, 2)
            candidate = f"{label}#{n}"
            while candidate in self.used:
                n += 1
                candidate = f"{label}#{n}"
            self.next_number[label] = n + 1
        self.used.add(candidate)
        return candidate


def _promote_short_name(result: HeaderMap) -> None:
    """A lone '名称' column is the legal name when no other column is."""
    if "legal_name" not in SYNONYMS[result.kind] or "legal_name" in result.fields.values():
        return
    column = result.column_of("short_name")
    if column is not None:
        result.fields[column] = "legal_name"


def _map_column(
    options: list[Header], kind: ImportKind, wanted: dict[str, str]
) -> tuple[str | None, bool, Header | None]:
    for option in options:
        if option.text in wanted:
            return wanted[option.text], False, option
    for option in options:
        name, fuzzy = _match(option.text, kind)
        if name is not None and not fuzzy:
            return name, False, option
    for option in options:
        name, fuzzy = _match(option.text, kind)
        if name is not None:
            return name, True, option
    return None, False, options[0] if options else None


def header_score(
    columns: list[list[Header]], kind: ImportKind, extra: frozenset[str] = frozenset()
) -> int:
    """How many columns map to a field of `kind` (exact synonyms, or names in `extra`)."""
    table = _lookup(kind)
    return sum(1 for options in columns if any(o.text in table or o.text in extra for o in options))


def detect_kind(columns: list[list[Header]]) -> ImportKind | None:
    """The kind whose signature fields the header shows most; enterprises if only those."""
    best: tuple[float, int, ImportKind] | None = None
    for order, kind in enumerate(SIGNATURE):
        table = _lookup(kind)
        mapped = {table[o.text] for options in columns for o in options if o.text in table}
        hits: float = len(mapped & SIGNATURE[kind])
        if kind is ImportKind.enterprises:
            hits = 0.5 if "legal_name" in mapped else 0  # any other kind showing itself wins
        if hits and (best is None or hits > best[0]):
            best = (hits, order, kind)
    return best[2] if best else None


def load_mapping(path: Path) -> tuple[dict[str, str], ImportKind | None]:
    """Read a mapping file: JSON {"原列名": "field"} or lines `原列名 = field` (# comments).

    A `kind` entry (`"__kind__"` or `kind`) names the import kind; `-` as a target ignores a column.
    """
    text = path.read_text(encoding="utf-8-sig")
    try:
        data = json.loads(text) if text.lstrip().startswith("{") else _parse_lines(text)
    except json.JSONDecodeError as exc:
        raise DomainError(
            f"映射文件 {path.name} 不是有效的 JSON：{exc.msg}（第{exc.lineno}行）"
        ) from exc
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise DomainError(f"映射文件 {path.name} 应为“原列名 → 字段名”的对应表")
    kind_text = data.pop("__kind__", None) or data.pop("kind", None)
    kind = ImportKind.from_label(kind_text) if kind_text else None
    return data, kind


def _parse_lines(text: str) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = re.split(r"\s*(?:=|:|：|->|→)\s*", line, maxsplit=1)
        if len(parts) != 2 or not parts[0] or not parts[1]:
            raise DomainError(f"映射文件第{number}行应写作“原列名 = 字段名”：{line}")
        mapping[parts[0]] = parts[1]
    return mapping
