"""Reference data: national classifications, the product's vocabularies, and Appendix B items.

Plain Python data, no database. Code uses the English values; users see the Chinese labels.

Sources (names are copied exactly, full-width punctuation included):

* GB/T 4754-2017 国民经济行业分类 — 20 门类 (A–T) and 97 大类 (01–97).
* 战略性新兴产业分类（2018）(国家统计局令第23号) — the 9 first-level categories.
* GB/T 2260 中华人民共和国行政区划代码 — all provincial-level codes, and the current districts of
  the cities a center most often serves (深圳, 广州, 北京, 上海, 杭州, 苏州, 武汉, 成都, 西安).
* The evaluation standard's 表B.1 科技金融服务中心评价定性指标 (Appendix B).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, NamedTuple, Self

# ---------------------------------------------------------------------------------------------
# GB/T 4754-2017 国民经济行业分类
# ---------------------------------------------------------------------------------------------


class IndustrySection(NamedTuple):
    """A 门类: one capital letter and its name."""

    code: str
    name: str


class IndustryDivision(NamedTuple):
    """A 大类: a two-digit code, its name, and the letter of its 门类."""

    code: str
    name: str
    section: str


INDUSTRY_SECTIONS: tuple[IndustrySection, ...] = (
    IndustrySection("A", "农、林、牧、渔业"),
    IndustrySection("B", "采矿业"),
    IndustrySection("C", "制造业"),
    IndustrySection("D", "电力、热力、燃气及水生产和供应业"),
    IndustrySection("E", "建筑业"),
    IndustrySection("F", "批发和零售业"),
    IndustrySection("G", "交通运输、仓储和邮政业"),
    IndustrySection("H", "住宿和餐饮业"),
    IndustrySection("I", "信息传输、软件和信息技术服务业"),
    IndustrySection("J", "金融业"),
    IndustrySection("K", "房地产业"),
    IndustrySection("L", "租赁和商务服务业"),
    IndustrySection("M", "科学研究和技术服务业"),
    IndustrySection("N", "水利、环境和公共设施管理业"),
    IndustrySection("O", "居民服务、修理和其他服务业"),
    IndustrySection("P", "教育"),
    IndustrySection("Q", "卫生和社会工作"),
    IndustrySection("R", "文化、体育和娱乐业"),
    IndustrySection("S", "公共管理、社会保障和社会组织"),
    IndustrySection("T", "国际组织"),
)

INDUSTRY_DIVISIONS: tuple[IndustryDivision, ...] = (
    IndustryDivision("01", "农业", "A"),
    IndustryDivision("02", "林业", "A"),
    IndustryDivision("03", "畜牧业", "A"),
    IndustryDivision("04", "渔业", "A"),
    IndustryDivision("05", "农、林、牧、渔专业及辅助性活动", "A"),
    IndustryDivision("06", "煤炭开采和洗选业", "B"),
    IndustryDivision("07", "石油和天然气开采业", "B"),
    IndustryDivision("08", "黑色金属矿采选业", "B"),
    IndustryDivision("09", "有色金属矿采选业", "B"),
    IndustryDivision("10", "非金属矿采选业", "B"),
    IndustryDivision("11", "开采专业及辅助性活动", "B"),
    IndustryDivision("12", "其他采矿业", "B"),
    IndustryDivision("13", "农副食品加工业", "C"),
    IndustryDivision("14", "食品制造业", "C"),
    IndustryDivision("15", "酒、饮料和精制茶制造业", "C"),
    IndustryDivision("16", "烟草制品业", "C"),
    IndustryDivision("17", "纺织业", "C"),
    IndustryDivision("18", "纺织服装、服饰业", "C"),
    IndustryDivision("19", "皮革、毛皮、羽毛及其制品和制鞋业", "C"),
    IndustryDivision("20", "木材加工和木、竹、藤、棕、草制品业", "C"),
    IndustryDivision("21", "家具制造业", "C"),
    IndustryDivision("22", "造纸和纸制品业", "C"),
    IndustryDivision("23", "印刷和记录媒介复制业", "C"),
    IndustryDivision("24", "文教、工美、体育和娱乐用品制造业", "C"),
    IndustryDivision("25", "石油、煤炭及其他燃料加工业", "C"),
    IndustryDivision("26", "化学原料和化学制品制造业", "C"),
    IndustryDivision("27", "医药制造业", "C"),
    IndustryDivision("28", "化学纤维制造业", "C"),
    IndustryDivision("29", "橡胶和塑料制品业", "C"),
    IndustryDivision("30", "非金属矿物制品业", "C"),
    IndustryDivision("31", "黑色金属冶炼和压延加工业", "C"),
    IndustryDivision("32", "有色金属冶炼和压延加工业", "C"),
    IndustryDivision("33", "金属制品业", "C"),
    IndustryDivision("34", "通用设备制造业", "C"),
    IndustryDivision("35", "专用设备制造业", "C"),
    IndustryDivision("36", "汽车制造业", "C"),
    IndustryDivision("37", "铁路、船舶、航空航天和其他运输设备制造业", "C"),
    IndustryDivision("38", "电气机械和器材制造业", "C"),
    IndustryDivision("39", "计算机、通信和其他电子设备制造业", "C"),
    IndustryDivision("40", "仪器仪表制造业", "C"),
    IndustryDivision("41", "其他制造业", "C"),
    IndustryDivision("42", "废弃资源综合利用业", "C"),
    IndustryDivision("43", "金属制品、机械和设备修理业", "C"),
    IndustryDivision("44", "电力、热力生产和供应业", "D"),
    IndustryDivision("45", "燃气生产和供应业", "D"),
    IndustryDivision("46", "水的生产和供应业", "D"),
    IndustryDivision("47", "房屋建筑业", "E"),
    IndustryDivision("48", "土木工程建筑业", "E"),
    IndustryDivision("49", "建筑安装业", "E"),
    IndustryDivision("50", "建筑装饰、装修和其他建筑业", "E"),
    IndustryDivision("51", "批发业", "F"),
    IndustryDivision("52", "零售业", "F"),
    IndustryDivision("53", "铁路运输业", "G"),
    IndustryDivision("54", "道路运输业", "G"),
    IndustryDivision("55", "水上运输业", "G"),
    IndustryDivision("56", "航空运输业", "G"),
    IndustryDivision("57", "管道运输业", "G"),
    IndustryDivision("58", "多式联运和运输代理业", "G"),
    IndustryDivision("59", "装卸搬运和仓储业", "G"),
    IndustryDivision("60", "邮政业", "G"),
    IndustryDivision("61", "住宿业", "H"),
    IndustryDivision("62", "餐饮业", "H"),
    IndustryDivision("63", "电信、广播电视和卫星传输服务", "I"),
    IndustryDivision("64", "互联网和相关服务", "I"),
    IndustryDivision("65", "软件和信息技术服务业", "I"),
    IndustryDivision("66", "货币金融服务", "J"),
    IndustryDivision("67", "资本市场服务", "J"),
    IndustryDivision("68", "保险业", "J"),
    IndustryDivision("69", "其他金融业", "J"),
    IndustryDivision("70", "房地产业", "K"),
    IndustryDivision("71", "租赁业", "L"),
    IndustryDivision("72", "商务服务业", "L"),
    IndustryDivision("73", "研究和试验发展", "M"),
    IndustryDivision("74", "专业技术服务业", "M"),
    IndustryDivision("75", "科技推广和应用服务业", "M"),
    IndustryDivision("76", "水利管理业", "N"),
    IndustryDivision("77", "生态保护和环境治理业", "N"),
    IndustryDivision("78", "公共设施管理业", "N"),
    IndustryDivision("79", "土地管理业", "N"),
    IndustryDivision("80", "居民服务业", "O"),
    IndustryDivision("81", "机动车、电子产品和日用产品修理业", "O"),
    IndustryDivision("82", "其他服务业", "O"),
    IndustryDivision("83", "教育", "P"),
    IndustryDivision("84", "卫生", "Q"),
    IndustryDivision("85", "社会工作", "Q"),
    IndustryDivision("86", "新闻和出版业", "R"),
    IndustryDivision("87", "广播、电视、电影和录音制作业", "R"),
    IndustryDivision("88", "文化艺术业", "R"),
    IndustryDivision("89", "体育", "R"),
    IndustryDivision("90", "娱乐业", "R"),
    IndustryDivision("91", "中国共产党机关", "S"),
    IndustryDivision("92", "国家机构", "S"),
    IndustryDivision("93", "人民政协、民主党派", "S"),
    IndustryDivision("94", "社会保障", "S"),
    IndustryDivision("95", "群众团体、社会团体和其他成员组织", "S"),
    IndustryDivision("96", "基层群众自治组织及其他组织", "S"),
    IndustryDivision("97", "国际组织", "T"),
)

SECTION_NAMES: Mapping[str, str] = MappingProxyType({s.code: s.name for s in INDUSTRY_SECTIONS})
DIVISIONS: Mapping[str, IndustryDivision] = MappingProxyType(
    {d.code: d for d in INDUSTRY_DIVISIONS}
)
# Exact Chinese name → code. Three names are both a 门类 and its only 大类 (房地产业, 教育,
# 国际组织); the 大类 wins there, since its 门类 follows from it.
_INDUSTRY_BY_NAME: Mapping[str, str] = MappingProxyType(
    {s.name: s.code for s in INDUSTRY_SECTIONS} | {d.name: d.code for d in INDUSTRY_DIVISIONS}
)
_INDUSTRY_CODE = re.compile(r"([A-T])?([0-9]{2,4})?")


def _split_industry_code(code: str) -> tuple[str, str] | None:
    """('C', '3911') for 'C3911', '3911' or 'c3911'; ('C', '') for 'C'; None if malformed."""
    match = _INDUSTRY_CODE.fullmatch(code.strip().upper())
    if match is None or not any(match.groups()):
        return None
    letter, digits = match.group(1) or "", match.group(2) or ""
    if digits:
        division = DIVISIONS.get(digits[:2])
        if division is None or (letter and letter != division.section):
            return None
        return division.section, digits
    return letter, ""


def canonical_industry_code(code: str) -> str | None:
    """Return the stored form of an industry code: letter plus digits ('3911' → 'C3911')."""
    parts = _split_industry_code(code)
    return parts[0] + parts[1] if parts else None


def industry_name(code: str) -> str | None:
    """Return the Chinese name of a 门类 ('C') or 大类 ('39', 'C39').

    For a deeper code ('C3911') this is the name of its 大类, the finest level held here.
    """
    parts = _split_industry_code(code)
    if parts is None:
        return None
    letter, digits = parts
    return DIVISIONS[digits[:2]].name if digits else SECTION_NAMES[letter]


def industry_code_from_name(name: str) -> str | None:
    """Return the code for an exact 门类 or 大类 name ('制造业' → 'C', '医药制造业' → '27')."""
    return _INDUSTRY_BY_NAME.get(name.strip())


# ---------------------------------------------------------------------------------------------
# 战略性新兴产业分类（2018）
# ---------------------------------------------------------------------------------------------

STRATEGIC_EMERGING_INDUSTRIES: Mapping[str, str] = MappingProxyType(
    {
        "1": "新一代信息技术产业",
        "2": "高端装备制造产业",
        "3": "新材料产业",
        "4": "生物产业",
        "5": "新能源汽车产业",
        "6": "新能源产业",
        "7": "节能环保产业",
        "8": "数字创意产业",
        "9": "相关服务业",
    }
)
_SEI_BY_NAME = {name: code for code, name in STRATEGIC_EMERGING_INDUSTRIES.items()}


def strategic_industry_name(code: str) -> str | None:
    """Return the name of a 战略性新兴产业 category ('1'..'9'; '1.2' style uses its first part)."""
    return STRATEGIC_EMERGING_INDUSTRIES.get(code.strip().split(".")[0])


def strategic_industry_code_from_name(name: str) -> str | None:
    """Return the category code ('1'..'9') for its exact Chinese name."""
    return _SEI_BY_NAME.get(name.strip())


# ---------------------------------------------------------------------------------------------
# Vocabularies
# ---------------------------------------------------------------------------------------------


class LabelledEnum(StrEnum):
    """A string enum whose members carry a Chinese label and optional alternative spellings.

    Members are declared as ``value = "value", "标签", *aliases``; the member's value is the
    English string, so it stores and serialises as plain text.
    """

    _label: str
    _aliases: tuple[str, ...]

    if TYPE_CHECKING:
        # After class creation a call looks a member up by value: ``Stage("seed")``.
        def __new__(cls, value: str) -> Self: ...

    else:

        def __new__(cls, value, label, *aliases):
            member = str.__new__(cls, value)
            member._value_ = value
            member._label = label
            member._aliases = aliases
            return member

    @property
    def label(self) -> str:
        """The Chinese label users see."""
        return self._label

    @property
    def aliases(self) -> tuple[str, ...]:
        """Other spellings :meth:`from_label` accepts ('债权' for 贷款, ASCII quotes …)."""
        return self._aliases

    @classmethod
    def from_label(cls, text: str) -> Self:
        """Return the member whose Chinese label, alias or English value is ``text``.

        Surrounding whitespace is ignored, and English values match case-insensitively.
        Raises ``ValueError`` for anything else.
        """
        wanted = text.strip()
        for member in cls:
            if wanted in (member._label, *member._aliases) or wanted.lower() == member.value:
                return member
        raise ValueError(f"{text!r} is not a {cls.__name__} label or value")

    @classmethod
    def labels(cls) -> dict[str, str]:
        """Value → Chinese label for every member, in declaration order."""
        return {member.value: member._label for member in cls}


class Stage(LabelledEnum):
    """发展阶段 of an enterprise."""

    seed = "seed", "种子期"
    startup = "startup", "初创期"
    growth = "growth", "成长期"
    expansion = "expansion", "扩张期"
    mature = "mature", "成熟期"
    pre_ipo = "pre_ipo", "拟上市", "Pre-IPO"


class FinancingType(LabelledEnum):
    """融资方式 a demand asks for or an institution offers."""

    loan = "loan", "贷款", "债权", "贷款/债权", "债权融资"
    equity = "equity", "股权", "股权融资"
    mixed = "mixed", "投贷联动"


class InstitutionKind(LabelledEnum):
    """Kind of institution settled at (入驻) the center."""

    bank = "bank", "银行"
    vc = "vc", "创业投资机构", "创投机构"
    pe = "pe", "私募股权", "私募股权投资机构"
    angel = "angel", "天使投资", "天使投资机构"
    guarantee = "guarantee", "担保机构"
    securities = "securities", "证券公司", "券商"
    law = "law", "律师事务所"
    accounting = "accounting", "会计师事务所"
    other = "other", "其他服务机构"


class Board(LabelledEnum):
    """资本市场板块 an enterprise lists or is quoted on."""

    main = "main", "主板"
    chinext = "chinext", "创业板"
    star = "star", "科创板"
    bse = "bse", "北交所", "北京证券交易所"
    neeq_innovation = "neeq_innovation", "新三板创新层"
    neeq_basic = "neeq_basic", "新三板基础层"
    regional = "regional", "区域性股权交易市场", "区域性股权市场"


class ListingTier(LabelledEnum):
    """上市培育梯队: the tier of an enterprise in the center's listing cultivation."""

    reserve = "reserve", "储备层"
    cultivation = "cultivation", "培育层"
    coaching = "coaching", "辅导层"
    filing = "filing", "申报层"
    listed = "listed", "上市/挂牌", "上市", "挂牌"


class ListingMilestoneKind(LabelledEnum):
    """A dated step on the road to listing."""

    shareholding_reform = "shareholding_reform", "股改", "股份制改造"
    coaching_filing = "coaching_filing", "辅导备案"
    application_accepted = "application_accepted", "申报受理"
    inquiry = "inquiry", "问询"
    committee_review = "committee_review", "上市委审议"
    registration = "registration", "注册"
    listed = "listed", "发行上市/挂牌", "发行上市", "上市", "挂牌"


class PipelineStage(LabelledEnum):
    """Stage of a match in the matchmaking pipeline."""

    recommended = "recommended", "已推荐"
    introduced = "introduced", "已引荐"
    meeting = "meeting", "已约见"
    due_diligence = "due_diligence", "尽职调查", "尽调"
    term_sheet = "term_sheet", "投资意向/授信审批", "投资意向", "授信审批"
    closed_won = "closed_won", "成交"
    closed_lost = "closed_lost", "未成交"

    @property
    def is_closed(self) -> bool:
        """True for the two terminal stages."""
        return self in CLOSED_STAGES


#: The path of a successful match, in order; ``closed_lost`` is a side exit from any open stage.
PIPELINE_ORDER: tuple[PipelineStage, ...] = (
    PipelineStage.recommended,
    PipelineStage.introduced,
    PipelineStage.meeting,
    PipelineStage.due_diligence,
    PipelineStage.term_sheet,
    PipelineStage.closed_won,
)
CLOSED_STAGES: frozenset[PipelineStage] = frozenset(
    {PipelineStage.closed_won, PipelineStage.closed_lost}
)


def _pipeline_transitions() -> dict[PipelineStage, frozenset[PipelineStage]]:
    moves: dict[PipelineStage, frozenset[PipelineStage]] = {}
    for i, stage in enumerate(PIPELINE_ORDER):
        if stage in CLOSED_STAGES:
            moves[stage] = frozenset()
        else:
            moves[stage] = frozenset(PIPELINE_ORDER[i + 1 :]) | {PipelineStage.closed_lost}
    moves[PipelineStage.closed_lost] = frozenset()
    return moves


#: Stage → stages it may move to: forward by one or more steps along :data:`PIPELINE_ORDER`, or
#: to ``closed_lost`` from any open stage; nothing leaves a closed stage.
ALLOWED_TRANSITIONS: Mapping[PipelineStage, frozenset[PipelineStage]] = MappingProxyType(
    _pipeline_transitions()
)


class DemandStatus(LabelledEnum):
    """Status of a financing demand: 待对接 until its first introduction, 对接中 after; closed as
    已融资 (full or partial, with the amount raised), 已撤回 or 已过期; or 暂停 for a while."""

    pending = "pending", "待对接"
    open = "open", "对接中"
    funded = "funded", "已融资"
    withdrawn = "withdrawn", "已撤回"
    expired = "expired", "已过期"
    paused = "paused", "暂停"

    @classmethod
    def open_for_matching(cls) -> frozenset[DemandStatus]:
        """The statuses of a demand that recommendations, teasers, digests and roadshow
        invitations may carry (SQL: `models.demand.open_for_matching`)."""
        return OPEN_FOR_MATCHING

    @classmethod
    def closed_statuses(cls) -> frozenset[DemandStatus]:
        """The statuses that end a demand (reopened only by a matchmaker)."""
        return CLOSED_DEMAND

    @property
    def is_open_for_matching(self) -> bool:
        """True for 待对接 and 对接中."""
        return self in OPEN_FOR_MATCHING


OPEN_FOR_MATCHING: frozenset[DemandStatus] = frozenset({DemandStatus.pending, DemandStatus.open})
CLOSED_DEMAND: frozenset[DemandStatus] = frozenset(
    {DemandStatus.funded, DemandStatus.withdrawn, DemandStatus.expired}
)


class Confidentiality(LabelledEnum):
    """How much of a demand institutions may see before the enterprise consents."""

    public = "public", "公开"
    teaser = "teaser", "脱敏"
    confidential = "confidential", "保密"


class Collateral(LabelledEnum):
    """担保方式 offered with a loan demand or accepted by a loan product."""

    none = "none", "信用/无抵押", "信用", "无抵押", "信用贷款"
    ip_pledge = "ip_pledge", "知识产权质押"
    equity_pledge = "equity_pledge", "股权质押"
    receivables = "receivables", "应收账款质押"
    real_estate = "real_estate", "房产抵押"
    equipment = "equipment", "设备抵押"
    guarantee = "guarantee", "担保", "第三方担保"


class Qualification(LabelledEnum):
    """企业资质 and honours, labelled as centers and the issuing bodies write them."""

    high_tech = "high_tech", "高新技术企业", "国家高新技术企业", "高企"
    tech_sme = "tech_sme", "科技型中小企业"
    specialized = "specialized", "专精特新中小企业", "专精特新", "专精特新企业"
    little_giant = (
        "little_giant",
        "专精特新“小巨人”企业",
        '专精特新"小巨人"企业',
        "专精特新小巨人企业",
        "专精特新“小巨人”",
        '专精特新"小巨人"',
        "小巨人",
    )
    innovative_sme = "innovative_sme", "创新型中小企业"
    gazelle = "gazelle", "瞪羚企业"
    unicorn = "unicorn", "独角兽企业"


#: Qualification ladders of practice: holding a key meets every requirement listed for it
#: (工信部梯度培育: 小巨人 ⊇ 专精特新 ⊇ 创新型中小企业; 科技部: a 高新技术企业 enters the
#: 科技型中小企业 list directly; the growth lists: 独角兽 ⊇ 瞪羚).
QUALIFICATION_MEETS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        Qualification.little_giant: frozenset(
            {Qualification.specialized, Qualification.innovative_sme}
        ),
        Qualification.specialized: frozenset({Qualification.innovative_sme}),
        Qualification.high_tech: frozenset({Qualification.tech_sme}),
        Qualification.unicorn: frozenset({Qualification.gazelle}),
    }
)


def qualifications_met(held: Iterable[str]) -> frozenset[str]:
    """Every qualification requirement ``held`` meets: each held one and all weaker ones."""
    out = set(held)
    for q in tuple(out):
        out |= QUALIFICATION_MEETS.get(q, frozenset())
    return frozenset(out)


#: Words that mark a mandate as control/M&A capital (并购、控股型收购), never a venture round's
#: minority investor.
BUYOUT_WORDS: tuple[str, ...] = ("并购", "收购", "控股型", "Buyout", "M&A")
#: Words that mark a loan product as following an equity decision (投贷联动、认股权贷款).
EQUITY_LINKED_WORDS: tuple[str, ...] = ("投贷联动", "认股权", "选择权", "投联贷")


class EventKind(LabelledEnum):
    """Kind of center event (the two Appendix A counts)."""

    roadshow = "roadshow", "投融资路演", "路演"
    training = "training", "科技金融培训", "培训"


class ConsentScope(LabelledEnum):
    """What an enterprise's consent lets an institution see."""

    details = "details", "企业详情"
    contacts = "contacts", "联系人"
    financials = "financials", "财务数据"


class UserRole(LabelledEnum):
    """Role of a console or API user."""

    admin = "admin", "管理员"
    matchmaker = "matchmaker", "撮合专员"
    institution = "institution", "入驻机构"
    evaluator = "evaluator", "评价人员"
    enterprise = "enterprise", "企业用户"


class ComplaintKind(LabelledEnum):
    """Kind of complaint or feedback record."""

    complaint = "complaint", "投诉"
    feedback = "feedback", "意见建议"
    survey = "survey", "满意度调查"


class ComplaintStatus(LabelledEnum):
    """Handling status of a complaint."""

    received = "received", "已受理"
    handling = "handling", "处理中"
    resolved = "resolved", "已办结"


class NoticeKind(LabelledEnum):
    """What an e-mail to an enterprise user is about (the enterprise portal)."""

    introduction = "introduction", "引荐通知"
    consent_request = "consent_request", "授权请求"
    survey = "survey", "满意度调查邀请"


class NoticeStatus(LabelledEnum):
    """Where one notice mail stands: queued, being sent, sent, or given up."""

    pending = "pending", "待发送"
    sending = "sending", "发送中"
    sent = "sent", "已发送"
    failed = "failed", "发送失败"


class ImportOutcome(LabelledEnum):
    """What an import did with one row."""

    inserted = "inserted", "新增"
    updated = "updated", "更新"
    unchanged = "unchanged", "未变"
    merged = "merged", "合并"
    quarantined = "quarantined", "隔离"
    review = "review", "待复核"


class ImportKind(LabelledEnum):
    """Kind of spreadsheet an import loads."""

    enterprises = "enterprises", "企业信息"
    demands = "demands", "融资需求"
    listing = "listing", "上市培育"
    institutions = "institutions", "入驻机构"
    products = "products", "金融产品"
    mandates = "mandates", "投资偏好"
    deals = "deals", "撮合成交"
    events = "events", "活动"


class DealType(LabelledEnum):
    """Kind of closed deal (Appendix A counts loans and investments apart)."""

    loan = "loan", "贷款"
    equity = "equity", "股权投资"


class DealStatus(LabelledEnum):
    """Whether a deal counts: an institution's report is a claim until a matchmaker confirms it."""

    claimed = "claimed", "待确认"
    confirmed = "confirmed", "已确认"
    rejected = "rejected", "已驳回"


class DealLink(LabelledEnum):
    """Whether a deal is tied to the introduction that brought it (only a linked deal is 撮合)."""

    linked = "linked", "已关联"
    unlinked = "unlinked", "待关联"
    rejected = "rejected", "不予关联"


class DeliveryStatus(LabelledEnum):
    """State of one digest or webhook delivery."""

    pending = "pending", "待发送"
    sending = "sending", "发送中"
    delivered = "delivered", "已送达"
    failed = "failed", "发送失败"
    dead = "dead", "已放弃"


class SlateRunStatus(LabelledEnum):
    """State of one queued roadshow scheduling run (`roadshow.schedule`)."""

    queued = "queued", "排队中"
    running = "running", "求解中"
    done = "done", "已完成"
    failed = "failed", "失败"


class Channel(LabelledEnum):
    """Delivery channel of a subscription."""

    email = "email", "电子邮件", "邮件"
    webhook = "webhook", "Webhook回调", "Webhook"


# ---------------------------------------------------------------------------------------------
# Appendix B (表B.1 科技金融服务中心评价定性指标)
# ---------------------------------------------------------------------------------------------


class AppendixBItem(NamedTuple):
    """One qualitative indicator: its 一级指标, a stable code, and its 二级指标 name."""

    group: str
    code: str
    name: str


APPENDIX_B: tuple[AppendixBItem, ...] = (
    AppendixBItem("整体运行管理", "b1_positioning", "总体定位和服务方向"),
    AppendixBItem("整体运行管理", "b1_team", "管理和服务团队情况"),
    AppendixBItem("整体运行管理", "b1_organization", "机构和制度建设情况"),
    AppendixBItem("整体运行管理", "b1_measures", "促进科技金融对接措施的制定与落实情况"),
    AppendixBItem("整体运行管理", "b1_finance", "财务管理状况"),
    AppendixBItem("服务能力建设", "b2_service_model", "创新服务模式情况"),
    AppendixBItem("服务能力建设", "b2_talent", "人才培养和引进情况"),
    AppendixBItem("服务能力建设", "b2_premises", "服务场地"),
    AppendixBItem("整体服务成效", "b3_financing_role", "对解决科技型中小企业融资难发挥的作用"),
    AppendixBItem("整体服务成效", "b3_satisfaction", "满意度评价"),
)
APPENDIX_B_BY_CODE: Mapping[str, AppendixBItem] = MappingProxyType(
    {item.code: item for item in APPENDIX_B}
)

# ---------------------------------------------------------------------------------------------
# GB/T 2260 行政区划代码
# ---------------------------------------------------------------------------------------------

PROVINCES: Mapping[str, str] = MappingProxyType(
    {
        "110000": "北京市",
        "120000": "天津市",
        "130000": "河北省",
        "140000": "山西省",
        "150000": "内蒙古自治区",
        "210000": "辽宁省",
        "220000": "吉林省",
        "230000": "黑龙江省",
        "310000": "上海市",
        "320000": "江苏省",
        "330000": "浙江省",
        "340000": "安徽省",
        "350000": "福建省",
        "360000": "江西省",
        "370000": "山东省",
        "410000": "河南省",
        "420000": "湖北省",
        "430000": "湖南省",
        "440000": "广东省",
        "450000": "广西壮族自治区",
        "460000": "海南省",
        "500000": "重庆市",
        "510000": "四川省",
        "520000": "贵州省",
        "530000": "云南省",
        "540000": "西藏自治区",
        "610000": "陕西省",
        "620000": "甘肃省",
        "630000": "青海省",
        "640000": "宁夏回族自治区",
        "650000": "新疆维吾尔自治区",
        "710000": "台湾省",
        "810000": "香港特别行政区",
        "820000": "澳门特别行政区",
    }
)
#: Provinces written without their suffix in addresses ('广东深圳…', '新疆乌鲁木齐…').
_PROVINCE_SHORT: Mapping[str, str] = MappingProxyType(
    {
        "110000": "北京", "120000": "天津", "130000": "河北", "140000": "山西",
        "150000": "内蒙古", "210000": "辽宁", "220000": "吉林", "230000": "黑龙江",
        "310000": "上海", "320000": "江苏", "330000": "浙江", "340000": "安徽",
        "350000": "福建", "360000": "江西", "370000": "山东", "410000": "河南",
        "420000": "湖北", "430000": "湖南", "440000": "广东", "450000": "广西",
        "460000": "海南", "500000": "重庆", "510000": "四川", "520000": "贵州",
        "530000": "云南", "540000": "西藏", "610000": "陕西", "620000": "甘肃",
        "630000": "青海", "640000": "宁夏", "650000": "新疆", "710000": "台湾",
        "810000": "香港", "820000": "澳门",
    }
)  # fmt: skip
#: 直辖市: their districts sit directly under the province-level code (1101xx is 市辖区).
MUNICIPALITIES: frozenset[str] = frozenset({"110000", "120000", "310000", "500000"})

CITIES: Mapping[str, str] = MappingProxyType(
    {
        "320500": "苏州市",
        "330100": "杭州市",
        "420100": "武汉市",
        "440100": "广州市",
        "440300": "深圳市",
        "510100": "成都市",
        "610100": "西安市",
    }
)

#: Current 市辖区 / 县 / 县级市 of the cities covered (codes in force since the 2021 changes).
DISTRICTS: Mapping[str, str] = MappingProxyType(
    {
        # 北京市
        "110101": "东城区", "110102": "西城区", "110105": "朝阳区", "110106": "丰台区",
        "110107": "石景山区", "110108": "海淀区", "110109": "门头沟区", "110111": "房山区",
        "110112": "通州区", "110113": "顺义区", "110114": "昌平区", "110115": "大兴区",
        "110116": "怀柔区", "110117": "平谷区", "110118": "密云区", "110119": "延庆区",
        # 上海市
        "310101": "黄浦区", "310104": "徐汇区", "310105": "长宁区", "310106": "静安区",
        "310107": "普陀区", "310109": "虹口区", "310110": "杨浦区", "310112": "闵行区",
        "310113": "宝山区", "310114": "嘉定区", "310115": "浦东新区", "310116": "金山区",
        "310117": "松江区", "310118": "青浦区", "310120": "奉贤区", "310151": "崇明区",
        # 苏州市
        "320505": "虎丘区", "320506": "吴中区", "320507": "相城区", "320508": "姑苏区",
        "320509": "吴江区", "320581": "常熟市", "320582": "张家港市", "320583": "昆山市",
        "320585": "太仓市",
        # 杭州市
        "330102": "上城区", "330105": "拱墅区", "330106": "西湖区", "330108": "滨江区",
        "330109": "萧山区", "330110": "余杭区", "330111": "富阳区", "330112": "临安区",
        "330113": "临平区", "330114": "钱塘区", "330122": "桐庐县", "330127": "淳安县",
        "330182": "建德市",
        # 武汉市
        "420102": "江岸区", "420103": "江汉区", "420104": "硚口区", "420105": "汉阳区",
        "420106": "武昌区", "420107": "青山区", "420111": "洪山区", "420112": "东西湖区",
        "420113": "汉南区", "420114": "蔡甸区", "420115": "江夏区", "420116": "黄陂区",
        "420117": "新洲区",
        # 广州市
        "440103": "荔湾区", "440104": "越秀区", "440105": "海珠区", "440106": "天河区",
        "440111": "白云区", "440112": "黄埔区", "440113": "番禺区", "440114": "花都区",
        "440115": "南沙区", "440117": "从化区", "440118": "增城区",
        # 深圳市
        "440303": "罗湖区", "440304": "福田区", "440305": "南山区", "440306": "宝安区",
        "440307": "龙岗区", "440308": "盐田区", "440309": "龙华区", "440310": "坪山区",
        "440311": "光明区",
        # 成都市
        "510104": "锦江区", "510105": "青羊区", "510106": "金牛区", "510107": "武侯区",
        "510108": "成华区", "510112": "龙泉驿区", "510113": "青白江区", "510114": "新都区",
        "510115": "温江区", "510116": "双流区", "510117": "郫都区", "510118": "新津区",
        "510121": "金堂县", "510129": "大邑县", "510131": "蒲江县", "510181": "都江堰市",
        "510182": "彭州市", "510183": "邛崃市", "510184": "崇州市", "510185": "简阳市",
        # 西安市
        "610102": "新城区", "610103": "碑林区", "610104": "莲湖区", "610111": "灞桥区",
        "610112": "未央区", "610113": "雁塔区", "610114": "阎良区", "610115": "临潼区",
        "610116": "长安区", "610117": "高陵区", "610118": "鄠邑区", "610122": "蓝田县",
        "610124": "周至县",
    }
)  # fmt: skip

REGIONS: Mapping[str, str] = MappingProxyType({**PROVINCES, **CITIES, **DISTRICTS})
_REGION_CODE = re.compile(r"[0-9]{6}")


def region_name(code: str) -> str | None:
    """Return the name of a province, city or district code held here ('440305' → '南山区')."""
    return REGIONS.get(code.strip())


def region_province(code: str) -> str | None:
    """Return the province-level name for any 6-digit code ('440305' → '广东省').

    Works for codes not held in the district table too, since it only reads the first two digits.
    """
    code = code.strip()
    if not _REGION_CODE.fullmatch(code):
        return None
    return PROVINCES.get(code[:2] + "0000")


def region_city(code: str) -> str | None:
    """Return the city a district code belongs to ('440305' → '深圳市').

    For a 直辖市 the city is the municipality itself ('110108' → '北京市'). None for a
    province-level code, or for a prefecture that is not in :data:`CITIES`.
    """
    code = code.strip()
    if not _REGION_CODE.fullmatch(code) or code.endswith("0000"):
        return None
    province = code[:2] + "0000"
    if province in MUNICIPALITIES:
        return PROVINCES[province]
    return CITIES.get(code[:4] + "00")


def _region_spellings() -> dict[str, frozenset[str]]:
    """Every way an address may start for each code: with or without province and city."""
    spellings: dict[str, set[str]] = {}
    for code, name in PROVINCES.items():
        spellings.setdefault(code, set()).update({name, _PROVINCE_SHORT[code]})
    for code, name in CITIES.items():
        provinces = spellings[code[:2] + "0000"]
        cities = {name, name.removesuffix("市")}
        spellings[code] = cities | {p + c for p in provinces for c in cities}
    for code, name in DISTRICTS.items():
        parent = code[:2] + "0000" if code[:2] + "0000" in MUNICIPALITIES else code[:4] + "00"
        spellings[code] = {name} | {prefix + name for prefix in spellings[parent]}
    return {code: frozenset(names) for code, names in spellings.items()}


_REGION_SPELLINGS = _region_spellings()


def region_code_from_name(text: str) -> str | None:
    """Return the code of the region an address or name starts with ('深圳市南山区…' → '440305').

    The longest matching name wins, so '广东省深圳市' gives the city and '深圳市南山区' the
    district. Province and city may be written with or without 省/市. A name held by two
    codes (none are at present) gives None rather than a guess.
    """
    text = re.sub(r"\s+", "", text)
    best_len = 0
    found: set[str] = set()
    for code, names in _REGION_SPELLINGS.items():
        for name in names:
            if len(name) >= best_len and text.startswith(name):
                if len(name) > best_len:
                    best_len, found = len(name), set()
                found.add(code)
    return found.pop() if len(found) == 1 else None
