"""Resident institutions (入驻机构): agreements, commitments, loan products and mandates."""

import math
import random
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from demo.generator.catalog import (
    BANK_BRANCH_KINDS,
    BANK_BRANDS,
    COMMITMENTS,
    INSTITUTION_MIX,
    INVESTOR_STYLES,
    LOAN_TEMPLATES,
    LoanTemplate,
)
from demo.generator.context import GenContext
from demo.generator.names import CompanyNamer, mobile_phone, person_name
from demo.generator.vocab import HOME_DISTRICT_WEIGHTS, INDUSTRIES
from ingestion.uscc import make_uscc
from models.institution import Institution, InvestmentMandate, LoanProduct, ServiceCommitment
from models.reference import DISTRICTS, DIVISIONS, InstitutionKind, Stage

EQUITY_KINDS = (InstitutionKind.vc, InstitutionKind.pe, InstitutionKind.angel)
#: How the registry grows with the center (`GenContext.scaled`): ~60 institutions and ~90
#: products and mandates at 2,000 enterprises, ~600 and ~2,000 at a million.
INSTITUTION_GROWTH, OFFER_GROWTH = 0.37, 0.14
_NAME_PATTERNS: dict[InstitutionKind, tuple[str, tuple[str, ...]]] = {
    InstitutionKind.vc: ("深圳市{core}管理有限公司", ("创业投资", "创投", "资本")),
    InstitutionKind.pe: ("深圳市{core}基金管理有限公司", ("股权投资", "私募股权投资", "产业投资")),
    InstitutionKind.angel: ("深圳市{core}管理有限公司", ("天使投资",)),
    InstitutionKind.guarantee: ("深圳市{core}有限公司", ("融资担保",)),
    InstitutionKind.securities: ("{core}股份有限公司", ("证券",)),
    InstitutionKind.law: ("广东{core}", ("律师事务所",)),
    InstitutionKind.accounting: ("{core}（特殊普通合伙）", ("会计师事务所",)),
}


@dataclass
class Registry:
    """The institution registry, with each institution's products, mandates and staff."""

    institutions: list[Institution]
    products: dict[int, list[LoanProduct]] = field(default_factory=dict)
    mandates: dict[int, list[InvestmentMandate]] = field(default_factory=dict)
    staff: dict[int, list[tuple[str, str]]] = field(default_factory=dict)

    def of_kind(self, *kinds: InstitutionKind) -> list[Institution]:
        """Institutions of the given kinds, in id order."""
        return [i for i in self.institutions if i.kind in kinds]

    def shortlist(self, rng: random.Random) -> "Registry":
        """The registry, or in a bigger center as many of its institutions (drawn, in id order)
        as the default center has: what one demand is weighed against, so each demand costs
        the same and draws about as many matches whatever the registry's size."""
        size = sum(n for _, n in INSTITUTION_MIX)
        if len(self.institutions) <= size:
            return self
        drawn = sorted(rng.sample(range(len(self.institutions)), size))
        return replace(self, institutions=[self.institutions[k] for k in drawn])


def generate_institutions(ctx: GenContext) -> Registry:
    """Insert ~60 institutions (more in a bigger center) with commitments, loan products
    (banks) and mandates (investors)."""
    namer = CompanyNamer(ctx.rng)
    kinds = [kind for kind, n in INSTITUTION_MIX for _ in range(ctx.scaled(n, INSTITUTION_GROWTH))]
    rows = [_institution(ctx, namer, kind, i) for i, kind in enumerate(kinds)]
    ctx.insert(rows)
    registry = Registry(rows)
    ctx.insert([c for row in rows for c in _commitments(ctx, row)])
    products = [p for row in registry.of_kind(InstitutionKind.bank) for p in _products(ctx, row)]
    ctx.insert(products)
    mandates = [m for row in registry.of_kind(*EQUITY_KINDS) for m in _mandates(ctx, row)]
    ctx.insert(mandates)
    ctx.insert([_guarantee(row) for row in registry.of_kind(InstitutionKind.guarantee)])
    for product in products:
        registry.products.setdefault(product.institution_id, []).append(product)
    for mandate in mandates:
        registry.mandates.setdefault(mandate.institution_id, []).append(mandate)
    for row in rows:
        assert row.id is not None
        staff = [
            (person_name(ctx.rng), mobile_phone(ctx.rng)) for _ in range(ctx.rng.randint(2, 4))
        ]
        registry.staff[row.id] = staff
    return registry


def _institution(
    ctx: GenContext, namer: CompanyNamer, kind: InstitutionKind, i: int
) -> Institution:
    name, short = _bank_name(ctx, i) if kind == InstitutionKind.bank else _firm_name(namer, kind)
    start, end = _agreement(ctx)
    authority = "3" if kind == InstitutionKind.law else "9"
    return Institution(
        name=name,
        short_name=short,
        kind=kind,
        uscc=make_uscc(ctx.rng, _home_district(ctx), registration_authority=authority),
        regions_served=_regions(ctx, kind),
        focus=_service_focus(kind),
        agreement_start=start,
        agreement_end=end,
        email=f"contact.inst{i + 1:02d}@example.com",
        created_at=ctx.at(start),
    )


def _home_district(ctx: GenContext) -> str:
    return ctx.weighted(list(HOME_DISTRICT_WEIGHTS.items()))


def _bank_name(ctx: GenContext, i: int) -> tuple[str, str]:
    """Distinct for the first 12 × 9 × 4 banks: brand, district and branch kind by `i`."""
    cycle = math.lcm(len(BANK_BRANDS), len(HOME_DISTRICT_WEIGHTS), len(BANK_BRANCH_KINDS))
    brand = BANK_BRANDS[(i + i // cycle) % len(BANK_BRANDS)]
    district = DISTRICTS[list(HOME_DISTRICT_WEIGHTS)[i % len(HOME_DISTRICT_WEIGHTS)]]
    branch = district.removesuffix("区") + BANK_BRANCH_KINDS[i % len(BANK_BRANCH_KINDS)]
    return f"{brand}深圳{branch}", f"{brand.removesuffix('银行')}{branch}"


def _firm_name(namer: CompanyNamer, kind: InstitutionKind) -> tuple[str, str]:
    pattern, words = _NAME_PATTERNS[kind]
    brand, core = namer.core(words)
    return pattern.format(core=core), core if kind in EQUITY_KINDS else brand + kind.label[:2]


def _agreement(ctx: GenContext) -> tuple[date, date]:
    """Most agreements are current; some expired in the last two years; some began in them."""
    today, roll = ctx.today, ctx.rng.random()
    if roll < 0.1:
        end = today - timedelta(days=ctx.rng.randint(60, 500))
        return end - timedelta(days=3 * 365), end
    if roll < 0.22:
        start = today - timedelta(days=ctx.rng.randint(90, 600))
        return start, start + timedelta(days=3 * 365)
    start = today - timedelta(days=ctx.rng.randint(760, 1500))
    return start, today + timedelta(days=ctx.rng.randint(60, 900))


def _regions(ctx: GenContext, kind: InstitutionKind) -> list[str]:
    """Region-code prefixes served: 4403 深圳, 44 广东, 11 北京, 31 上海; empty is nationwide."""
    if kind in EQUITY_KINDS:
        return ctx.rng.choice([[], [], ["44"], ["4403", "11", "31"], ["44", "33", "32"]])
    if kind in (InstitutionKind.bank, InstitutionKind.guarantee):
        return ["4403"] if ctx.chance(0.8) else ["44"]
    return ["4403"]


def _service_focus(kind: InstitutionKind) -> str | None:
    return {
        InstitutionKind.bank: "为科技型中小企业提供信用贷款、知识产权质押融资等科技信贷服务",
        InstitutionKind.guarantee: "为轻资产科技型企业提供融资担保，与合作银行实行风险分担",
        InstitutionKind.securities: "为拟上市企业提供上市辅导、保荐承销及新三板挂牌推荐服务",
        InstitutionKind.law: "提供股改、股权激励、知识产权及投融资交易法律服务",
        InstitutionKind.accounting: "提供财务规范、审计及上市申报财务辅导服务",
    }.get(kind)


def _commitments(ctx: GenContext, row: Institution) -> list[ServiceCommitment]:
    assert row.id is not None
    kind = InstitutionKind.vc if row.kind in EQUITY_KINDS else row.kind
    return [
        ServiceCommitment(
            institution_id=row.id,
            description=text,
            target_value=round(target * ctx.rng.choice((0.5, 1.0, 1.0, 1.5)), 1),
            unit=unit,
            year=year,
        )
        for year in (ctx.today.year - 1, ctx.today.year)
        for text, target, unit in COMMITMENTS[kind]
    ]


def _products(ctx: GenContext, bank: Institution) -> list[LoanProduct]:
    count = ctx.scaled(ctx.rng.randint(2, 4), OFFER_GROWTH)
    templates = ctx.rng.sample(LOAN_TEMPLATES, min(count, len(LOAN_TEMPLATES)))
    return [_product(ctx, bank, t) for t in templates]


def _product(ctx: GenContext, bank: Institution, t: LoanTemplate) -> LoanProduct:
    assert bank.id is not None
    scale = ctx.rng.choice((0.5, 1.0, 1.0, 1.5, 2.0))
    low, high = t.rate_pct
    shift = ctx.rng.uniform(-0.3, 0.3)
    return LoanProduct(
        institution_id=bank.id,
        name=f"{bank.name.split('深圳')[0].removesuffix('银行')}·{t.name}",
        min_amount_wan=t.amount_wan[0],
        max_amount_wan=t.amount_wan[1] * scale,
        min_term_months=t.term_months[0],
        max_term_months=t.term_months[1],
        rate_min_pct=round(low + shift, 2),
        rate_max_pct=round(high + shift, 2),
        collateral_accepted=[c.value for c in t.collateral],
        required_qualifications=[q.value for q in t.qualifications],
        min_years_operating=t.min_years,
        min_revenue_wan=t.min_revenue_wan,
        sectors=list(t.sectors),
        regions=list(bank.regions_served),
    )


def _guarantee(row: Institution) -> LoanProduct:
    """A guarantor's registered offer (担保产品): tickets and its annual fee range (费率).

    Its own random stream, so the rest of the demo data do not move.
    """
    assert row.id is not None
    rng = random.Random(f"guarantee-{row.id}")
    fee = round(rng.uniform(0.8, 1.5), 2)
    return LoanProduct(
        institution_id=row.id,
        name=f"{row.short_name}·科技融资担保",
        min_amount_wan=50,
        max_amount_wan=rng.choice((1000, 2000, 3000, 5000)),
        min_term_months=6,
        max_term_months=36,
        rate_min_pct=fee,
        rate_max_pct=round(fee + rng.uniform(0.3, 0.8), 2),
        collateral_accepted=[],
        regions=list(row.regions_served),
    )


def _mandates(ctx: GenContext, row: Institution) -> list[InvestmentMandate]:
    count = ctx.scaled(2 if ctx.chance(0.4) else 1, OFFER_GROWTH)
    mandates = [_mandate(ctx, row, k) for k in range(count)]
    row.focus = "；".join(_mandate_focus(m) for m in mandates)
    return mandates


def _mandate(ctx: GenContext, row: Institution, k: int) -> InvestmentMandate:
    assert row.id is not None
    style = INVESTOR_STYLES[row.kind]
    industries = ctx.rng.sample(INDUSTRIES, ctx.rng.randint(2, 4))
    low, high = style.ticket_wan
    min_ticket = round(low * ctx.rng.choice((1.0, 1.0, 2.0)), -1)
    fund = round(ctx.rng.uniform(*style.fund_wan), -3)
    return InvestmentMandate(
        institution_id=row.id,
        name=f"{row.short_name}{'一二三四五六七八九十'[k]}期{ctx.rng.choice(style.fund_words)}",
        stages=[s.value for s in ctx.rng.choice(style.stages)],
        sectors=sorted(p.code for p in industries),
        sei_categories=sorted({code for p in industries for code, _ in p.sei[:1]}),
        min_ticket_wan=min_ticket,
        max_ticket_wan=round(max(min_ticket * 2, high * ctx.rng.uniform(0.5, 1.2)), -1),
        regions=list(row.regions_served),
        fund_size_wan=fund,
        remaining_capacity_wan=round(fund * ctx.rng.uniform(0.05, 0.6), -1),
    )


def _mandate_focus(m: InvestmentMandate) -> str:
    sectors = "、".join(DIVISIONS[code[1:]].name for code in m.sectors)
    stages = "、".join(Stage(s).label for s in m.stages)
    return (
        f"{m.name}重点投资{sectors}等领域处于{stages}的科技型企业，"
        f"单笔投资{m.min_ticket_wan:.0f}–{m.max_ticket_wan:.0f}万元"
    )
