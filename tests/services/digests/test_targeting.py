"""Digests that target: the financing type, closed and already funded demands, institutions
without a resident agreement in force (paused, then resumed), and what a period held."""

from datetime import date, timedelta

import pytest
from sqlmodel import Session, select

from models import AuditLog, DigestDelivery, Institution, Subscription
from models.errors import DomainError
from models.reference import DealStatus, DeliveryStatus, DemandStatus, FinancingType
from services.digests.checks import WebhookPolicy
from services.digests.service import DigestPolicy, deliver, digest_items, run_digest_period
from services.digests.subscriptions import create_subscription
from tests import factories
from tests.workers.helpers import T0, FakeClock, FakeMailer, FakeWebhooks, demand, subscription

POLICY = DigestPolicy(max_items=50, rank_with_core=False)
DAY = "2025-03-03"
AN_HOUR_AGO = T0 - timedelta(hours=1)


def _ids(session: Session, sub: Subscription, period: str = DAY) -> list[int]:
    query = select(DigestDelivery).where(DigestDelivery.subscription_id == sub.id)
    row = session.exec(query.where(DigestDelivery.period == period)).first()
    return list(row.demand_ids) if row else []


def _typed(session: Session) -> dict[FinancingType, int]:
    return {t: demand(session, financing_type=t, updated_at=AN_HOUR_AGO).id or 0
            for t in FinancingType}  # fmt: skip


def test_a_loan_only_subscription_receives_no_pure_equity_demand(session: Session) -> None:
    bank, vc = factories.institution(session, kind="bank"), factories.institution(session)
    loan = subscription(session, bank, financing_types=["loan"])
    loan_and_mixed = subscription(session, bank, financing_types=["loan", "mixed"])
    equity = subscription(session, vc, financing_types=["equity"])
    mixed_only = subscription(session, vc, financing_types=["mixed"])
    ids = _typed(session)
    run_digest_period(session, DAY, T0, POLICY)
    by_type = {v: k for k, v in ids.items()}
    got = {name: {by_type[i] for i in _ids(session, sub)} for name, sub in
           [("loan", loan), ("loan+mixed", loan_and_mixed), ("equity", equity),
            ("mixed", mixed_only)]}  # fmt: skip
    L, E, M = FinancingType.loan, FinancingType.equity, FinancingType.mixed
    assert got == {"loan": {L, M}, "loan+mixed": {L, M}, "equity": {E, M}, "mixed": {M}}


def test_a_closed_demand_appears_in_no_digest(session: Session) -> None:
    inst = factories.institution(session)
    subs = [subscription(session, inst), subscription(session, inst, financing_types=["loan"])]
    shown = demand(session, updated_at=AN_HOUR_AGO)
    for status in (DemandStatus.withdrawn, DemandStatus.funded, DemandStatus.expired,
                   DemandStatus.paused):  # fmt: skip
        demand(session, updated_at=AN_HOUR_AGO, status=status)
    closing = demand(session, updated_at=AN_HOUR_AGO)
    report = run_digest_period(session, DAY, T0, POLICY)
    assert all(_ids(session, s) == [shown.id, closing.id] for s in subs)
    closing.status = DemandStatus.withdrawn  # closed after the digest was built, before sending
    session.add(closing)
    session.flush()
    assert {i.demand_id for i in digest_items(session, DAY, T0, POLICY)} == {shown.id}
    for delivery_id in report.delivery_ids:
        deliver(session, delivery_id, FakeMailer(), FakeWebhooks(), FakeClock(T0), POLICY)
    assert all(_ids(session, s) == [shown.id] for s in subs)
    assert {i.demand_id for i in digest_items(session, DAY, T0, POLICY)} == {shown.id}


def test_a_demand_the_institution_funded_is_not_pushed_to_it_again(session: Session) -> None:
    bank, other = factories.institution(session, kind="bank"), factories.institution(session)
    mine, theirs = subscription(session, bank), subscription(session, other)
    funded = demand(session, updated_at=AN_HOUR_AGO)
    claimed_only = demand(session, updated_at=AN_HOUR_AGO)
    linked = factories.match(session, funded, bank)
    factories.deal(session, enterprise_id=funded.enterprise_id, institution_id=bank.id,
                   match_id=linked.id, closed_on=date(2025, 3, 1))  # fmt: skip
    factories.deal(session, enterprise_id=claimed_only.enterprise_id, institution_id=bank.id,
                   status=DealStatus.claimed, closed_on=date(2025, 3, 1))  # fmt: skip
    run_digest_period(session, DAY, T0, POLICY)
    assert _ids(session, mine) == [claimed_only.id]  # a claim is not a confirmed deal yet
    assert sorted(_ids(session, theirs)) == sorted([funded.id, claimed_only.id])


def test_an_institution_whose_agreement_ended_receives_nothing_until_a_new_one(
    session: Session,
) -> None:
    gone = factories.institution(session, agreement_end=date(2025, 2, 28))
    never = factories.institution(session, agreement_start=None, agreement_end=None)
    active = factories.institution(session)
    paused, unsigned, served = (subscription(session, i) for i in (gone, never, active))
    shown = demand(session, updated_at=AN_HOUR_AGO)

    report = run_digest_period(session, DAY, T0, POLICY)
    assert (report.created, report.paused) == (1, 2)
    assert _ids(session, paused) == _ids(session, unsigned) == [] and _ids(session, served)
    assert paused.paused_reason == "入驻协议已于 2025-02-28 到期，暂停推送"
    assert unsigned.paused_reason == "未登记入驻协议，暂停推送"
    assert {i.subscription_id for i in digest_items(session, DAY, T0, POLICY)} == {served.id}

    gone.agreement_start, gone.agreement_end = date(2025, 3, 3), date(2027, 12, 31)
    session.add(gone)
    session.flush()
    run_digest_period(session, "2025-03-04", T0 + timedelta(days=1), POLICY)
    assert paused.paused_reason is None and _ids(session, paused, "2025-03-04") == [shown.id]
    actions = session.exec(select(AuditLog.action).where(AuditLog.entity == "subscription"))
    assert sorted(actions.all()) == ["pause", "pause", "resume"]


def test_a_digest_built_before_the_agreement_ended_is_not_sent(session: Session) -> None:
    inst = factories.institution(session, agreement_end=date(2025, 3, 3))
    subscription(session, inst)
    demand(session, updated_at=AN_HOUR_AGO)
    [delivery_id] = run_digest_period(session, DAY, T0, POLICY).delivery_ids
    mailer = FakeMailer()
    outcome = deliver(session, delivery_id, mailer, FakeWebhooks(),
                      FakeClock(T0 + timedelta(days=1)), POLICY)  # fmt: skip
    assert outcome.status == DeliveryStatus.dead and mailer.sent == []
    assert "入驻协议已于 2025-03-03 到期" in outcome.message


@pytest.mark.parametrize(
    ("over", "field", "words"),
    [
        ({"frequency": "每周"}, "frequency", "weekly（每周）"),
        ({"email": None}, "email", "必须填写"),
        ({"financing_types": ["loan", "贷款"]}, "financing_types", "loan（贷款）"),
        ({"stages": ["成长期"]}, "stages", "growth（成长期）"),
        ({"regions": ["深圳市"]}, "regions", "4403（深圳市）"),
        ({"sectors": ["X99"]}, "sectors", "C39"),
        ({"min_amount_wan": 800, "max_amount_wan": 300}, "min_amount_wan", "不能大于上限"),
        ({"name": " "}, "name", "不能为空"),
    ],
)  # fmt: skip
def test_subscriptions_are_refused_in_chinese_and_nothing_is_written(
    session: Session, over: dict[str, object], field: str, words: str
) -> None:
    inst = factories.institution(session)
    data = {"institution_id": inst.id, "name": "科技贷推送", "frequency": "weekly",
            "email": "dealflow@bank.example"} | over  # fmt: skip
    with pytest.raises(DomainError) as refused:
        create_subscription(session, data, actor="tester", by_staff=True, policy=WebhookPolicy(),
                            now=T0, daily_limit=10)  # fmt: skip
    assert refused.value.field == field and words in refused.value.message
    assert session.exec(select(Subscription)).all() == []
    assert session.get(Institution, inst.id) is not None
