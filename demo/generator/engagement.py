"""Deal-flow subscriptions, consents, complaints and surveys, and the evaluation period."""

from datetime import date, timedelta

from demo.generator.context import GenContext, new_row, utc
from demo.generator.enterprises import Population
from demo.generator.institutions import EQUITY_KINDS, INSTITUTION_GROWTH, Registry
from demo.generator.names import person_name
from demo.generator.vocab import STAGES
from models.consent import Consent
from models.demand import FinancingDemand
from models.evaluation import EvaluationPeriod
from models.feedback import Complaint, ImprovementMeasure
from models.institution import Institution
from models.match import Match
from models.reference import (
    Channel,
    ComplaintKind,
    ComplaintStatus,
    ConsentScope,
    FinancingType,
    InstitutionKind,
)
from models.subscription import Subscription

_COMPLAINTS = (
    "引荐后机构长时间未反馈，希望中心督促", "路演报名后未收到场次通知", "贷款审批周期过长",
    "希望增加生物医药领域的投资机构", "培训课程内容偏理论，希望增加案例", "融资需求信息更新不及时",
)  # fmt: skip
_MEASURES = (
    "建立引荐后 10 个工作日回访机制", "路演场次确定后 3 日内短信及邮件通知",
    "与入驻银行约定授信审批时限并按月通报", "新增两家生物医药专业投资机构入驻",
    "培训增设案例研讨环节", "融资需求每季度集中复核更新",
)  # fmt: skip
_STAFF = ("服务部-刘洋", "服务部-周婷", "综合部-孙浩", "撮合专员-张敏")


def generate_engagement(ctx: GenContext, population: Population, registry: Registry) -> None:
    """Insert subscriptions, complaints with measures (from `population`, a sample of the
    center), and last year's period."""
    _subscriptions(ctx, registry)
    _complaints(ctx, population, registry)
    year = ctx.today.year - 1
    ctx.insert(
        [
            EvaluationPeriod(
                name=f"{year}年度",
                starts_on=date(year, 1, 1),
                ends_on=date(year, 12, 31),
                evaluator="市科学技术局",
                created_at=utc(date(year + 1, 1, 15), 2),
            )
        ]
    )


def _subscriptions(ctx: GenContext, registry: Registry) -> None:
    """About 30 institutions subscribe (more in a bigger center); a few by webhook, the rest
    by e-mail."""
    kinds = (*EQUITY_KINDS, InstitutionKind.bank)
    subscribers = [i for i in registry.of_kind(*kinds) if i.is_resident_on(ctx.today)]
    chosen = ctx.rng.sample(subscribers, min(ctx.scaled(30, INSTITUTION_GROWTH), len(subscribers)))
    webhooks = {id(i) for i in chosen[:4]}
    rows = []
    for k, inst in enumerate(chosen):
        assert inst.id is not None
        mandates = registry.mandates.get(inst.id, [])
        rows.append(_subscription(ctx, inst, k, mandates[0].sectors if mandates else []))
        if id(inst) in webhooks:
            rows[-1].channel, rows[-1].email = Channel.webhook, None
            rows[-1].webhook_url = f"http://127.0.0.1:9/hooks/{k + 1}"
            rows[-1].webhook_secret = f"{ctx.rng.getrandbits(256):064x}"
    ctx.insert(rows)


def _subscription(ctx: GenContext, inst: Institution, k: int, sectors: list[str]) -> Subscription:
    assert inst.id is not None
    is_bank = inst.kind == InstitutionKind.bank
    types = [FinancingType.loan, FinancingType.mixed] if is_bank else [
        FinancingType.equity, FinancingType.mixed]  # fmt: skip
    stages = [p.stage.value for p in STAGES]
    start = ctx.rng.randint(0, 2) if not is_bank else 1
    return Subscription(
        institution_id=inst.id,
        name=f"{inst.short_name}项目推送",
        sectors=list(sectors),
        stages=stages[start : start + ctx.rng.randint(2, 4)],
        financing_types=[t.value for t in types],
        regions=list(inst.regions_served),
        min_amount_wan=ctx.rng.choice((None, 100.0, 500.0)),
        max_amount_wan=ctx.rng.choice((None, 5000.0, 30000.0)),
        frequency=ctx.weighted([("weekly", 0.7), ("daily", 0.15), ("monthly", 0.15)]),
        channel=Channel.email,
        email=f"dealflow{k + 1:02d}@example.com",
        created_at=ctx.at(ctx.day_between(ctx.history_start, ctx.today - timedelta(days=7))),
    )


def generate_consents(
    ctx: GenContext, matches: list[Match], demands: list[FinancingDemand]
) -> None:
    """Enterprises consented before most introductions (standard 6.1.2.3); a few revoked later.

    `matches` are those of `demands`: one chunk of the center."""
    enterprise_of = {d.id: d.enterprise_id for d in demands}
    rows, seen = [], set()
    for match in matches:
        if match.introduced_at is None or not ctx.chance(0.85):
            continue
        pair = (enterprise_of[match.demand_id], match.institution_id)
        if pair not in seen:
            seen.add(pair)
            rows.append(_consent(ctx, match, pair[0]))
    ctx.stream(rows)


def _consent(ctx: GenContext, match: Match, enterprise_id: int) -> Consent:
    assert match.introduced_at is not None
    granted = match.introduced_at - timedelta(
        days=ctx.rng.randint(1, 5), hours=ctx.rng.randint(0, 5)
    )
    scopes = [ConsentScope.details.value, ConsentScope.contacts.value]
    if ctx.chance(0.6):
        scopes.append(ConsentScope.financials.value)
    revoked = granted + timedelta(days=ctx.rng.randint(30, 200))
    return new_row(
        Consent,
        enterprise_id=enterprise_id,
        institution_id=match.institution_id,
        scopes=scopes,
        granted_at=granted,
        expires_at=granted + timedelta(days=365),
        revoked_at=revoked if ctx.chance(0.05) and revoked < utc(ctx.today) else None,
        recorded_by=ctx.rng.choice(_STAFF),
        evidence=f"授权书{granted:%Y%m%d}-{match.id:05d}",
        created_at=granted,
    )


def _complaints(ctx: GenContext, population: Population, registry: Registry) -> None:
    """A dozen complaints and suggestions, ~60 satisfaction surveys; measures for the bad news."""
    rows = [_complaint(ctx, population, k) for k in range(12)]
    rows += [_survey(ctx, population, registry) for _ in range(60)]
    ctx.insert(rows)
    measures = [
        _measure(ctx, c, k)
        for k, c in enumerate(rows)
        if c.kind == ComplaintKind.complaint or (c.satisfaction or 5) <= 2
    ]
    ctx.insert(measures)


def _complaint(ctx: GenContext, population: Population, k: int) -> Complaint:
    enterprise = ctx.rng.choice(population.enterprises)
    received = ctx.at(ctx.day_between(ctx.history_start, ctx.today - timedelta(days=3)))
    resolved = received + timedelta(days=ctx.rng.randint(2, 30))
    done = resolved < utc(ctx.today) and ctx.chance(0.85)
    return Complaint(
        kind=ComplaintKind.complaint if k % 2 == 0 else ComplaintKind.feedback,
        content=_COMPLAINTS[k % len(_COMPLAINTS)],
        submitter=person_name(ctx.rng),
        enterprise_id=enterprise.id,
        status=ComplaintStatus.resolved if done else ComplaintStatus.handling,
        root_cause="服务流程缺少时限要求" if done else None,
        received_at=received,
        resolved_at=resolved if done else None,
    )


def _survey(ctx: GenContext, population: Population, registry: Registry) -> Complaint:
    from_institution = ctx.chance(0.3)
    received = ctx.at(ctx.day_between(ctx.history_start, ctx.today - timedelta(days=1)))
    score = ctx.weighted([(5, 0.45), (4, 0.35), (3, 0.12), (2, 0.05), (1, 0.03)])
    return Complaint(
        kind=ComplaintKind.survey,
        content=f"年度服务满意度调查：{score} 分",
        submitter=person_name(ctx.rng),
        enterprise_id=None if from_institution else ctx.rng.choice(population.enterprises).id,
        institution_id=ctx.rng.choice(registry.institutions).id if from_institution else None,
        satisfaction=score,
        status=ComplaintStatus.resolved,
        received_at=received,
        resolved_at=received + timedelta(days=1),
    )


def _measure(ctx: GenContext, complaint: Complaint, k: int) -> ImprovementMeasure:
    assert complaint.id is not None
    due = complaint.received_at.date() + timedelta(days=ctx.rng.randint(15, 60))
    done = due - timedelta(days=ctx.rng.randint(0, 10))
    return ImprovementMeasure(
        complaint_id=complaint.id,
        description=_MEASURES[k % len(_MEASURES)],
        owner=ctx.rng.choice(_STAFF),
        due_on=due,
        done_on=done if done < ctx.today and complaint.status == ComplaintStatus.resolved else None,
    )
