"""Enterprises (科技型企业) with size consistent with their stage, and their contact persons."""

import math
from dataclasses import dataclass, field
from datetime import date, timedelta

from demo.generator.codes import UsccIssuer
from demo.generator.context import GenContext, new_row
from demo.generator.names import CompanyNamer, contact_title, mobile_phone, person_name
from demo.generator.vocab import (
    CITY_SHARES,
    GENERIC_SCOPE,
    HOME_CITY,
    HOME_DISTRICT_WEIGHTS,
    INDUSTRIES,
    STAGE_INDEX,
    STAGES,
    IndustryProfile,
    StageProfile,
)
from models.enterprise import ContactPerson, Enterprise
from models.reference import CITIES, DISTRICTS, MUNICIPALITIES, PROVINCES, Qualification

_MIN_AGE_FOR = {Qualification.high_tech: 1.0, Qualification.specialized: 2.0}


@dataclass
class Registrar:
    """Names and 统一社会信用代码 unique over the whole center, however many chunks it has."""

    namer: CompanyNamer
    issuer: UsccIssuer

    @classmethod
    def drawn(cls, ctx: GenContext) -> "Registrar":
        """A registrar whose names and codes derive from the run's RNG."""
        return cls(CompanyNamer(ctx.rng), UsccIssuer(ctx.rng))


@dataclass
class Population:
    """One chunk of generated enterprises, with what later steps need to know about them."""

    enterprises: list[Enterprise]
    strength: dict[int, float]
    contacts: dict[int, list[ContactPerson]] = field(default_factory=dict)
    by_id: dict[int, Enterprise] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_id = {_id(e): e for e in self.enterprises}

    def by_strength(self) -> list[Enterprise]:
        """Enterprises from strongest to weakest."""
        return sorted(self.enterprises, key=lambda e: -self.strength[_id(e)])


def _id(row: Enterprise) -> int:
    assert row.id is not None
    return row.id


def generate_enterprises(ctx: GenContext, count: int, registrar: Registrar) -> Population:
    """Insert `count` enterprises (a chunk of the center) and their 1–2 contact persons."""
    first = ctx.counts.get(str(Enterprise.__tablename__), 0)  # numbers e-mail addresses
    drafts = [_enterprise(ctx, registrar) for _ in range(count)]
    rows = [row for row, _ in drafts]
    _assign_qualifications(ctx, drafts)
    ctx.stream(rows)
    population = Population(rows, {_id(row): s for row, s in drafts})
    contacts = [c for i, row in enumerate(rows, first) for c in _contacts(ctx, row, i)]
    ctx.stream(contacts)
    for contact in contacts:
        population.contacts.setdefault(contact.enterprise_id, []).append(contact)
    return population


def _enterprise(ctx: GenContext, registrar: Registrar) -> tuple[Enterprise, float]:
    industry = ctx.weighted([(p, p.weight) for p in INDUSTRIES])
    stage = ctx.weighted([(p, p.share) for p in STAGES])
    region = _region(ctx)
    name = registrar.namer.draw(_city_name(region), industry.name_words)
    founded = ctx.today - timedelta(days=round(365.25 * ctx.rng.uniform(*stage.age_years)))
    row = new_row(
        Enterprise,
        uscc=registrar.issuer.issue(region),
        legal_name=name.legal_name,
        short_name=name.short_name,
        normalized_name=name.normalized_name,
        region_code=region,
        industry_code=industry.code,
        sei_category=ctx.weighted(list(industry.sei)),
        stage=stage.stage,
        founded_on=founded,
        business_scope=_business_scope(ctx, industry),
    )
    _fill_financials(ctx, row, stage)
    _stamp(ctx, row, founded)
    return row, _strength(ctx, row, stage)


def _region(ctx: GenContext) -> str:
    city = ctx.weighted(list(CITY_SHARES))
    if city == HOME_CITY:
        return ctx.weighted(list(HOME_DISTRICT_WEIGHTS.items()))
    prefix = city[:2] if city in MUNICIPALITIES else city[:4]
    return ctx.rng.choice([code for code in DISTRICTS if code.startswith(prefix)])


def _city_name(region: str) -> str:
    province = region[:2] + "0000"
    name = PROVINCES[province] if province in MUNICIPALITIES else CITIES[region[:4] + "00"]
    return name.removesuffix("市")


def _business_scope(ctx: GenContext, industry: IndustryProfile) -> str:
    phrases = ctx.rng.sample(industry.scope, ctx.rng.randint(4, min(7, len(industry.scope))))
    phrases += ctx.rng.sample(GENERIC_SCOPE, 2)
    general = "；".join(phrases)
    return f"一般经营项目是：{general}。（依法须经批准的项目，经相关部门批准后方可开展经营活动）"


def _lognormal(ctx: GenContext, median: float, sigma: float) -> float:
    return ctx.rng.lognormvariate(math.log(median), sigma)


def _fill_financials(ctx: GenContext, row: Enterprise, stage: StageProfile) -> None:
    employees = max(2, round(_lognormal(ctx, stage.employees, 0.55)))
    revenue = _lognormal(ctx, stage.revenue_wan, 0.8)
    if stage.stage == "seed" and ctx.chance(0.3):
        revenue = 0.0
    rd_staff = max(1, round(employees * ctx.rng.uniform(0.15, 0.6)))
    rd_expense = max(revenue * ctx.rng.uniform(0.04, 0.2), rd_staff * ctx.rng.uniform(12, 30))
    margin = min(0.45, ctx.rng.gauss(*stage.margin))
    row.employees, row.rd_staff = employees, rd_staff
    row.revenue_wan = round(revenue, 2)
    row.rd_expense_wan = round(rd_expense, 2)
    row.net_profit_wan = round(revenue * margin if revenue else -rd_expense * 1.2, 2)
    row.patents = int(_lognormal(ctx, stage.patents, 0.9))
    row.registered_capital_wan = round(_lognormal(ctx, stage.capital_wan, 0.7), -1) or 10.0


def _stamp(ctx: GenContext, row: Enterprise, founded: date) -> None:
    # When the enterprise joined the center's database: up to four years back.
    first = max(founded, ctx.today - timedelta(days=4 * 365))
    joined = ctx.day_between(first, ctx.today - timedelta(days=20))
    row.created_at = ctx.at(joined)
    row.updated_at = ctx.at(ctx.day_between(joined, ctx.today - timedelta(days=1)))


def _strength(ctx: GenContext, row: Enterprise, stage: StageProfile) -> float:
    size = math.log1p(row.revenue_wan or 0.0) + 0.5 * math.log1p(row.patents or 0)
    return size + 0.3 * STAGE_INDEX[stage.stage] + ctx.rng.gauss(0, 0.8)


def _age(row: Enterprise, today: date) -> float:
    assert row.founded_on is not None
    return (today - row.founded_on).days / 365.25


def _assign_qualifications(ctx: GenContext, drafts: list[tuple[Enterprise, float]]) -> None:
    """Honours go to the strongest (by rank, with noise); 科技型中小企业 to about half the SMEs."""
    n = len(drafts)
    noisy = sorted(drafts, key=lambda d: -(d[1] + ctx.rng.gauss(0, 0.6)))
    for quota, qual in ((0.40, Qualification.high_tech), (0.10, Qualification.specialized)):
        eligible = [r for r, _ in noisy if _age(r, ctx.today) >= _MIN_AGE_FOR[qual]]
        for row in eligible[: round(n * quota)]:
            row.qualifications = [*row.qualifications, qual.value]
    specialized = [r for r, _ in noisy if Qualification.specialized in r.qualifications]
    for row in specialized[: round(n * 0.02)]:
        row.qualifications = [*row.qualifications, Qualification.little_giant.value]
    for row, _ in drafts:
        _maybe_small_honours(ctx, row)


def _maybe_small_honours(ctx: GenContext, row: Enterprise) -> None:
    small = (row.employees or 0) < 500 and (row.revenue_wan or 0) < 20000
    if small and ctx.chance(0.62):
        row.qualifications = [*row.qualifications, Qualification.tech_sme.value]
    if row.stage in ("growth", "expansion") and ctx.chance(0.1):
        row.qualifications = [*row.qualifications, Qualification.gazelle.value]


def _contacts(ctx: GenContext, row: Enterprise, index: int) -> list[ContactPerson]:
    assert row.id is not None
    count = 2 if ctx.chance(0.35) else 1
    return [
        new_row(
            ContactPerson,
            enterprise_id=row.id,
            name=person_name(ctx.rng),
            title=contact_title(ctx.rng, primary=k == 0),
            phone=mobile_phone(ctx.rng),
            email=f"e{index:05d}.{k + 1}@example.com",
            is_primary=k == 0,
            created_at=row.created_at,
        )
        for k in range(count)
    ]
