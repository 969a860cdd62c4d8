"""What resident (fictional) institutions offer: loan products, mandate styles, commitments."""

from dataclasses import dataclass

from models.reference import Collateral, InstitutionKind, Qualification, Stage


@dataclass(frozen=True, slots=True)
class LoanTemplate:
    """A kind of 科技信贷 product; each bank's version jitters amounts and rates."""

    name: str
    amount_wan: tuple[float, float]
    term_months: tuple[int, int]
    rate_pct: tuple[float, float]
    collateral: tuple[Collateral, ...]
    qualifications: tuple[Qualification, ...]
    min_years: float
    min_revenue_wan: float | None
    sectors: tuple[str, ...] = ()


LOAN_TEMPLATES: tuple[LoanTemplate, ...] = (
    LoanTemplate("科技贷", (100, 1000), (12, 36), (3.2, 4.5),
                 (Collateral.none, Collateral.guarantee), (Qualification.high_tech,), 1, 200),
    LoanTemplate("知识产权质押贷", (50, 1000), (12, 36), (3.5, 5.0),
                 (Collateral.ip_pledge,), (), 1, 100),
    LoanTemplate("人才贷", (30, 500), (12, 36), (3.8, 5.5), (Collateral.none,), (), 0, None),
    LoanTemplate("订单贷", (100, 2000), (3, 12), (3.5, 5.0),
                 (Collateral.receivables, Collateral.guarantee), (), 2, 1000),
    LoanTemplate("投贷联动贷", (200, 3000), (12, 36), (3.2, 4.8),
                 (Collateral.equity_pledge, Collateral.none), (), 2, 500),
    LoanTemplate("专精特新贷", (200, 3000), (12, 36), (3.0, 4.2),
                 (Collateral.none, Collateral.guarantee), (Qualification.specialized,), 3, 2000),
    LoanTemplate("设备更新贷", (200, 5000), (12, 60), (3.3, 4.5),
                 (Collateral.equipment, Collateral.real_estate), (), 3, 3000, ("C",)),
    LoanTemplate("研发贷", (100, 1500), (12, 36), (3.4, 4.6),
                 (Collateral.none, Collateral.ip_pledge), (), 2, 500, ("C", "I", "M")),
)  # fmt: skip

# Fictional bank brands; a branch name adds the city and the district.
BANK_BRANDS: tuple[str, ...] = (
    "鹏城科创银行", "南岭商业银行", "海湾发展银行", "粤通商业银行", "前湾农村商业银行",
    "滨海信合银行", "珠江汇丰源银行", "深湾科技银行", "华岭商业银行", "东湖联合银行",
    "启航村镇银行", "蓝海民生银行",
)  # fmt: skip
BANK_BRANCH_KINDS: tuple[str, ...] = ("科技支行", "科技金融中心支行", "高新区支行", "科创支行")


@dataclass(frozen=True, slots=True)
class InvestorStyle:
    """How one kind of equity investor invests: stages, ticket sizes, fund size (万元)."""

    kind: InstitutionKind
    stages: tuple[tuple[Stage, ...], ...]
    ticket_wan: tuple[float, float]
    fund_wan: tuple[float, float]
    name_words: tuple[str, ...]
    fund_words: tuple[str, ...]


INVESTOR_STYLES: dict[InstitutionKind, InvestorStyle] = {
    InstitutionKind.angel: InvestorStyle(
        InstitutionKind.angel, ((Stage.seed, Stage.startup), (Stage.seed,)),
        (50, 800), (10000, 50000), ("天使投资",), ("天使基金", "种子基金"),
    ),
    InstitutionKind.vc: InvestorStyle(
        InstitutionKind.vc,
        ((Stage.startup, Stage.growth), (Stage.growth, Stage.expansion),
         (Stage.startup, Stage.growth, Stage.expansion)),
        (500, 6000), (50000, 300000), ("创业投资", "创投", "资本"),
        ("创业投资基金", "硬科技基金", "成长基金"),
    ),
    InstitutionKind.pe: InvestorStyle(
        InstitutionKind.pe,
        ((Stage.expansion, Stage.mature, Stage.pre_ipo), (Stage.mature, Stage.pre_ipo),
         (Stage.growth, Stage.expansion, Stage.pre_ipo)),
        (3000, 30000), (200000, 1000000), ("股权投资", "私募股权投资", "产业投资"),
        ("产业投资基金", "并购基金", "Pre-IPO基金"),
    ),
}  # fmt: skip

COMMITMENTS: dict[InstitutionKind, tuple[tuple[str, float, str], ...]] = {
    InstitutionKind.bank: (
        ("年度为中心推荐的科技型企业发放贷款", 30000, "万元"),
        ("为中心推荐企业开通授信审批绿色通道，审批时限不超过", 15, "个工作日"),
        ("年度参加中心组织的银企对接活动", 6, "场"),
    ),
    InstitutionKind.vc: (
        ("年度参加中心投融资路演活动", 4, "场"),
        ("年度投资中心推荐项目", 3, "项"),
    ),
    InstitutionKind.guarantee: (
        ("年度为中心推荐企业提供融资担保", 20000, "万元"),
        ("担保费率不高于", 1.5, "%"),
    ),
    InstitutionKind.securities: (
        ("年度为中心培育库企业提供上市辅导", 5, "家"),
        ("年度举办资本市场专题培训", 4, "场"),
    ),
    InstitutionKind.law: (("年度为中心企业提供免费法律咨询", 40, "小时"),),
    InstitutionKind.accounting: (("年度为中心企业提供财务规范辅导", 10, "家"),),
}

# How many institutions of each kind settle at the center.
INSTITUTION_MIX: tuple[tuple[InstitutionKind, int], ...] = (
    (InstitutionKind.bank, 18), (InstitutionKind.vc, 13), (InstitutionKind.pe, 6),
    (InstitutionKind.angel, 6), (InstitutionKind.guarantee, 6), (InstitutionKind.securities, 5),
    (InstitutionKind.law, 3), (InstitutionKind.accounting, 3),
)  # fmt: skip
