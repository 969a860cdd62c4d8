"""Reference data: classification tables, vocabularies, pipeline transitions, regions."""

from __future__ import annotations

import re
from itertools import product

import pytest

from models.reference import (
    ALLOWED_TRANSITIONS,
    APPENDIX_B,
    CITIES,
    DISTRICTS,
    INDUSTRY_DIVISIONS,
    INDUSTRY_SECTIONS,
    MUNICIPALITIES,
    PIPELINE_ORDER,
    PROVINCES,
    REGIONS,
    SECTION_NAMES,
    STRATEGIC_EMERGING_INDUSTRIES,
    Board,
    Channel,
    Collateral,
    ComplaintKind,
    ComplaintStatus,
    Confidentiality,
    ConsentScope,
    DealType,
    DeliveryStatus,
    DemandStatus,
    EventKind,
    FinancingType,
    ImportKind,
    ImportOutcome,
    InstitutionKind,
    LabelledEnum,
    ListingMilestoneKind,
    ListingTier,
    NoticeKind,
    NoticeStatus,
    PipelineStage,
    Qualification,
    Stage,
    UserRole,
    canonical_industry_code,
    industry_code_from_name,
    industry_name,
    qualifications_met,
    region_city,
    region_code_from_name,
    region_name,
    region_province,
    strategic_industry_code_from_name,
    strategic_industry_name,
)

# --- GB/T 4754-2017 -------------------------------------------------------------------------


def test_twenty_sections_a_to_t() -> None:
    assert [s.code for s in INDUSTRY_SECTIONS] == list("ABCDEFGHIJKLMNOPQRST")
    assert len({s.name for s in INDUSTRY_SECTIONS}) == 20


def test_ninety_seven_divisions_01_to_97() -> None:
    assert [d.code for d in INDUSTRY_DIVISIONS] == [f"{i:02d}" for i in range(1, 98)]
    assert len({d.name for d in INDUSTRY_DIVISIONS}) == 97


def test_each_division_maps_to_an_existing_section_in_order() -> None:
    assert all(d.section in SECTION_NAMES for d in INDUSTRY_DIVISIONS)
    sections = [d.section for d in INDUSTRY_DIVISIONS]
    assert sections == sorted(sections)  # 大类 codes run through the 门类 in order
    assert set(sections) == set(SECTION_NAMES)  # and every 门类 has at least one 大类


@pytest.mark.parametrize(
    ("section", "first", "last"),
    [("A", 1, 5), ("B", 6, 12), ("C", 13, 43), ("D", 44, 46), ("E", 47, 50), ("F", 51, 52),
     ("G", 53, 60), ("H", 61, 62), ("I", 63, 65), ("J", 66, 69), ("K", 70, 70), ("L", 71, 72),
     ("M", 73, 75), ("N", 76, 79), ("O", 80, 82), ("P", 83, 83), ("Q", 84, 85), ("R", 86, 90),
     ("S", 91, 96), ("T", 97, 97)],
)  # fmt: skip
def test_division_ranges_per_section(section: str, first: int, last: int) -> None:
    codes = [int(d.code) for d in INDUSTRY_DIVISIONS if d.section == section]
    assert codes == list(range(first, last + 1))


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("A", "农、林、牧、渔业"),
        ("D", "电力、热力、燃气及水生产和供应业"),
        ("I", "信息传输、软件和信息技术服务业"),
        ("05", "农、林、牧、渔专业及辅助性活动"),
        ("11", "开采专业及辅助性活动"),
        ("C27", "医药制造业"),
        ("39", "计算机、通信和其他电子设备制造业"),
        ("I65", "软件和信息技术服务业"),
        ("M73", "研究和试验发展"),
        ("87", "广播、电视、电影和录音制作业"),
        ("96", "基层群众自治组织及其他组织"),
        ("C3911", "计算机、通信和其他电子设备制造业"),
    ],
)
def test_industry_names(code: str, name: str) -> None:
    assert industry_name(code) == name


@pytest.mark.parametrize(
    ("code", "section", "division", "canonical"),
    [
        ("39", "C", "39", "C39"),
        ("C39", "C", "39", "C39"),
        ("C3911", "C", "39", "C3911"),
        ("3911", "C", "39", "C3911"),
        (" c39 ", "C", "39", "C39"),
        ("C", "C", None, "C"),
        ("65", "I", "65", "I65"),
        ("A39", None, None, None),  # letter contradicts the digits
        ("98", None, None, None),
        ("U", None, None, None),
        ("3", None, None, None),
        ("C391111", None, None, None),
        ("", None, None, None),
    ],
)
def test_industry_code_forms(
    code: str, section: str | None, division: str | None, canonical: str | None
) -> None:
    assert canonical_industry_code(code) == canonical


def test_lookup_by_exact_name_round_trips() -> None:
    for d in INDUSTRY_DIVISIONS:
        assert industry_code_from_name(d.name) == d.code
    for s in INDUSTRY_SECTIONS:
        code = industry_code_from_name(s.name)
        assert code is not None and (canonical_industry_code(code) or "")[0] == s.code
    assert industry_code_from_name("制造业") == "C"
    assert industry_code_from_name("房地产业") == "70"  # 门类 K's only 大类 shares its name
    assert industry_code_from_name("制造") is None


# --- 战略性新兴产业分类（2018） ---------------------------------------------------------------


def test_nine_strategic_emerging_industries() -> None:
    assert dict(STRATEGIC_EMERGING_INDUSTRIES) == {
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
    assert strategic_industry_name("4") == "生物产业"
    assert strategic_industry_name("1.2") == "新一代信息技术产业"
    assert strategic_industry_name("10") is None
    assert strategic_industry_code_from_name("数字创意产业") == "8"


# --- Vocabularies ---------------------------------------------------------------------------

EXPECTED_VOCABULARIES: dict[type[LabelledEnum], dict[str, str]] = {
    Stage: {"seed": "种子期", "startup": "初创期", "growth": "成长期", "expansion": "扩张期",
            "mature": "成熟期", "pre_ipo": "拟上市"},
    FinancingType: {"loan": "贷款", "equity": "股权", "mixed": "投贷联动"},
    InstitutionKind: {"bank": "银行", "vc": "创业投资机构", "pe": "私募股权", "angel": "天使投资",
                      "guarantee": "担保机构", "securities": "证券公司", "law": "律师事务所",
                      "accounting": "会计师事务所", "other": "其他服务机构"},
    Board: {"main": "主板", "chinext": "创业板", "star": "科创板", "bse": "北交所",
            "neeq_innovation": "新三板创新层", "neeq_basic": "新三板基础层",
            "regional": "区域性股权交易市场"},
    ListingTier: {"reserve": "储备层", "cultivation": "培育层", "coaching": "辅导层",
                  "filing": "申报层", "listed": "上市/挂牌"},
    ListingMilestoneKind: {"shareholding_reform": "股改", "coaching_filing": "辅导备案",
                           "application_accepted": "申报受理", "inquiry": "问询",
                           "committee_review": "上市委审议", "registration": "注册",
                           "listed": "发行上市/挂牌"},
    PipelineStage: {"recommended": "已推荐", "introduced": "已引荐", "meeting": "已约见",
                    "due_diligence": "尽职调查", "term_sheet": "投资意向/授信审批",
                    "closed_won": "成交", "closed_lost": "未成交"},
    DemandStatus: {"pending": "待对接", "open": "对接中", "funded": "已融资",
                   "withdrawn": "已撤回", "expired": "已过期", "paused": "暂停"},
    Confidentiality: {"public": "公开", "teaser": "脱敏", "confidential": "保密"},
    Collateral: {"none": "信用/无抵押", "ip_pledge": "知识产权质押", "equity_pledge": "股权质押",
                 "receivables": "应收账款质押", "real_estate": "房产抵押",
                 "equipment": "设备抵押", "guarantee": "担保"},
    Qualification: {"high_tech": "高新技术企业", "tech_sme": "科技型中小企业",
                    "specialized": "专精特新中小企业", "little_giant": "专精特新“小巨人”企业",
                    "innovative_sme": "创新型中小企业", "gazelle": "瞪羚企业",
                    "unicorn": "独角兽企业"},
    EventKind: {"roadshow": "投融资路演", "training": "科技金融培训"},
    ConsentScope: {"details": "企业详情", "contacts": "联系人", "financials": "财务数据"},
    UserRole: {"admin": "管理员", "matchmaker": "撮合专员", "institution": "入驻机构",
               "evaluator": "评价人员", "enterprise": "企业用户"},
    ComplaintKind: {"complaint": "投诉", "feedback": "意见建议", "survey": "满意度调查"},
    ComplaintStatus: {"received": "已受理", "handling": "处理中", "resolved": "已办结"},
    ImportOutcome: {"inserted": "新增", "updated": "更新", "unchanged": "未变", "merged": "合并",
                    "quarantined": "隔离", "review": "待复核"},
    DealType: {"loan": "贷款", "equity": "股权投资"},
    NoticeKind: {"introduction": "引荐通知", "consent_request": "授权请求",
                 "survey": "满意度调查邀请"},
}  # fmt: skip
EXPECTED_VALUES_ONLY: dict[type[LabelledEnum], list[str]] = {
    ImportKind: ["enterprises", "demands", "listing", "institutions", "products", "mandates",
                 "deals", "events"],
    DeliveryStatus: ["pending", "sending", "delivered", "failed", "dead"],
    Channel: ["email", "webhook"],
    NoticeStatus: ["pending", "sending", "sent", "failed"],
}  # fmt: skip
ALL_VOCABULARIES = [*EXPECTED_VOCABULARIES, *EXPECTED_VALUES_ONLY]


@pytest.mark.parametrize("enum_cls", list(EXPECTED_VOCABULARIES), ids=lambda c: c.__name__)
def test_values_and_labels_as_specified(enum_cls: type[LabelledEnum]) -> None:
    assert enum_cls.labels() == EXPECTED_VOCABULARIES[enum_cls]


@pytest.mark.parametrize("enum_cls", list(EXPECTED_VALUES_ONLY), ids=lambda c: c.__name__)
def test_values_as_specified(enum_cls: type[LabelledEnum]) -> None:
    assert [m.value for m in enum_cls] == EXPECTED_VALUES_ONLY[enum_cls]


@pytest.mark.parametrize("enum_cls", ALL_VOCABULARIES, ids=lambda c: c.__name__)
def test_label_round_trips(enum_cls: type[LabelledEnum]) -> None:
    labels = [m.label for m in enum_cls]
    assert len(set(labels)) == len(labels)
    for member in enum_cls:
        assert member.name == member.value  # code reads Stage.seed, the database stores 'seed'
        assert re.fullmatch(r"[a-z_]+", member.value)
        assert re.search(r"[\u4e00-\u9fff]", member.label)
        assert enum_cls.from_label(member.label) is member
        assert enum_cls.from_label(f" {member.label} ") is member
        assert enum_cls.from_label(member.value) is member
        assert enum_cls.from_label(member.value.upper()) is member
        assert enum_cls(member.value) is member
        assert member == member.value and str(member) == member.value
    with pytest.raises(ValueError):
        enum_cls.from_label("不存在的标签")


def test_aliases_do_not_collide_within_an_enum() -> None:
    for enum_cls in ALL_VOCABULARIES:
        spellings = [s for m in enum_cls for s in (m.label, *m.aliases, m.value)]
        assert len(spellings) == len(set(spellings)), enum_cls.__name__


def test_common_alternative_spellings() -> None:
    assert Qualification.from_label('专精特新"小巨人"企业') is Qualification.little_giant
    assert Qualification.from_label("专精特新") is Qualification.specialized
    assert FinancingType.from_label("债权") is FinancingType.loan
    assert ListingTier.from_label("挂牌") is ListingTier.listed
    assert PipelineStage.from_label("授信审批") is PipelineStage.term_sheet
    assert Collateral.from_label("信用") is Collateral.none


# --- Pipeline transitions -------------------------------------------------------------------


def test_pipeline_order() -> None:
    assert PIPELINE_ORDER[0] is PipelineStage.recommended
    assert PIPELINE_ORDER[-1] is PipelineStage.closed_won
    assert PipelineStage.closed_lost not in PIPELINE_ORDER
    assert set(ALLOWED_TRANSITIONS) == set(PipelineStage)


def _expected_move(src: PipelineStage, dst: PipelineStage) -> bool:
    if src.is_closed:
        return False
    if dst is PipelineStage.closed_lost:
        return True
    return PIPELINE_ORDER.index(dst) > PIPELINE_ORDER.index(src)


@pytest.mark.parametrize(
    ("src", "dst"), list(product(PipelineStage, PipelineStage)), ids=lambda s: s.value
)
def test_transitions(src: PipelineStage, dst: PipelineStage) -> None:
    assert (dst in ALLOWED_TRANSITIONS[src]) is _expected_move(src, dst)


def test_transition_examples() -> None:
    assert PipelineStage.introduced in ALLOWED_TRANSITIONS[PipelineStage.recommended]
    assert (
        PipelineStage.closed_won in ALLOWED_TRANSITIONS[PipelineStage.recommended]
    )  # skipping steps
    assert PipelineStage.closed_lost in ALLOWED_TRANSITIONS[PipelineStage.meeting]
    assert PipelineStage.introduced not in ALLOWED_TRANSITIONS[PipelineStage.meeting]
    assert PipelineStage.meeting not in ALLOWED_TRANSITIONS[PipelineStage.meeting]
    assert ALLOWED_TRANSITIONS[PipelineStage.closed_won] == frozenset()
    assert ALLOWED_TRANSITIONS[PipelineStage.closed_lost] == frozenset()


# --- Appendix B -----------------------------------------------------------------------------


def test_appendix_b_items() -> None:
    assert [(item.group, item.name) for item in APPENDIX_B] == [
        ("整体运行管理", "总体定位和服务方向"),
        ("整体运行管理", "管理和服务团队情况"),
        ("整体运行管理", "机构和制度建设情况"),
        ("整体运行管理", "促进科技金融对接措施的制定与落实情况"),
        ("整体运行管理", "财务管理状况"),
        ("服务能力建设", "创新服务模式情况"),
        ("服务能力建设", "人才培养和引进情况"),
        ("服务能力建设", "服务场地"),
        ("整体服务成效", "对解决科技型中小企业融资难发挥的作用"),
        ("整体服务成效", "满意度评价"),
    ]
    codes = [item.code for item in APPENDIX_B]
    assert len(set(codes)) == 10
    assert all(re.fullmatch(r"b[1-3]_[a-z_]+", c) for c in codes)
    assert codes[0] == "b1_positioning"
    group, code, name = APPENDIX_B[-1]  # plain tuple unpacking works
    assert (group, code, name) == ("整体服务成效", "b3_satisfaction", "满意度评价")


# --- GB/T 2260 regions ----------------------------------------------------------------------


def test_region_tables_are_consistent() -> None:
    assert len(PROVINCES) == 34
    assert all(re.fullmatch(r"\d{6}", code) for code in REGIONS)
    for code in CITIES:
        assert code[:2] + "0000" in PROVINCES and code.endswith("00")
    for code, name in DISTRICTS.items():
        assert name[-1] in "区县市"
        parent = code[:2] + "0000"
        assert parent in MUNICIPALITIES or code[:4] + "00" in CITIES
    assert len([c for c in DISTRICTS if c.startswith("4403")]) == 9  # 深圳 has 9 districts


def _full_name(code: str) -> str | None:
    """Province + city + district of a code held here ('440305' → '广东省深圳市南山区')."""
    name = region_name(code)
    if name is None:
        return None
    parts = [region_province(code) or ""]
    city = region_city(code)
    if city is not None and city != parts[0]:
        parts.append(city)
    if name not in parts:
        parts.append(name)
    return "".join(parts)


@pytest.mark.parametrize(
    ("code", "name", "province", "city", "full"),
    [
        ("440303", "罗湖区", "广东省", "深圳市", "广东省深圳市罗湖区"),
        ("440305", "南山区", "广东省", "深圳市", "广东省深圳市南山区"),
        ("440106", "天河区", "广东省", "广州市", "广东省广州市天河区"),
        ("110108", "海淀区", "北京市", "北京市", "北京市海淀区"),
        ("310115", "浦东新区", "上海市", "上海市", "上海市浦东新区"),
        ("330108", "滨江区", "浙江省", "杭州市", "浙江省杭州市滨江区"),
        ("320583", "昆山市", "江苏省", "苏州市", "江苏省苏州市昆山市"),
        ("420111", "洪山区", "湖北省", "武汉市", "湖北省武汉市洪山区"),
        ("510107", "武侯区", "四川省", "成都市", "四川省成都市武侯区"),
        ("610113", "雁塔区", "陕西省", "西安市", "陕西省西安市雁塔区"),
        ("440300", "深圳市", "广东省", "深圳市", "广东省深圳市"),
        ("440000", "广东省", "广东省", None, "广东省"),
    ],
)
def test_region_helpers(code: str, name: str, province: str, city: str | None, full: str) -> None:
    assert region_name(code) == name
    assert region_province(code) == province
    assert region_city(code) == city
    assert _full_name(code) == full


def test_region_helpers_outside_the_table() -> None:
    assert region_name("650104") is None
    assert region_province("650104") == "新疆维吾尔自治区"  # province from the first two digits
    assert region_city("650104") is None
    assert region_province("99") is None
    assert region_province("990000") is None


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("深圳市南山区", "440305"),
        ("深圳市南山区西丽街道高新区北区新西路7号", "440305"),
        ("广东省深圳市南山区", "440305"),
        ("广东深圳南山区", "440305"),
        ("北京市海淀区知春路1号1202室", "110108"),
        ("北京海淀区", "110108"),
        ("上海市浦东新区张江", "310115"),
        ("杭州市余杭区文一西路969号", "330110"),
        ("深圳市", "440300"),
        ("广东省广州市", "440100"),
        ("新疆乌鲁木齐经济技术开发区", "650000"),
        ("  深圳市 南山区 ", "440305"),
        ("纽约", None),
        ("", None),
    ],
)
def test_region_code_from_name(text: str, code: str | None) -> None:
    assert region_code_from_name(text) == code


def test_every_region_full_name_resolves_back_to_its_code() -> None:
    for code in REGIONS:
        full = _full_name(code)
        assert full is not None
        assert region_code_from_name(full) == code


def test_qualification_ladders() -> None:
    """小巨人 ⊇ 专精特新 ⊇ 创新型中小企业; 高新 meets 科技型中小企业; 独角兽 meets 瞪羚; never upward."""
    assert qualifications_met(["little_giant"]) == {"little_giant", "specialized", "innovative_sme"}
    assert qualifications_met(["specialized"]) == {"specialized", "innovative_sme"}
    assert qualifications_met(["high_tech", "unicorn"]) == {"high_tech", "tech_sme", "unicorn",
                                                            "gazelle"}  # fmt: skip
    assert qualifications_met(["tech_sme", "innovative_sme"]) == {"tech_sme", "innovative_sme"}
