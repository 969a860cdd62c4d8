"""The digest service with injected clock, mailer and webhook sender, on SQLite and PostgreSQL."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, col, select

from models import AuditLog, DigestDelivery
from models.errors import ConflictError
from models.reference import Channel, Confidentiality, DeliveryStatus, DemandStatus, Stage
from services.digests.delivery import PermanentDeliveryError, TransientDeliveryError
from services.digests.service import (
    DigestPolicy,
    criteria_fit,
    dead_letters,
    deliver,
    frequency_of,
    period_key,
    replay,
    requeue_unfinished,
    run_digest_period,
)
from services.disclosure.service import amount_band
from services.jobs import PUBLISHER_KEY, QUEUE_KEY, Job
from tests import factories
from tests.workers.helpers import T0, FakeClock, FakeMailer, FakeWebhooks, demand, subscription

POLICY = DigestPolicy(max_items=5, max_attempts=3, retry_base_seconds=10, rank_with_core=False)
DAY = "2025-03-03"


def _delivery(session: Session, sub_id: int | None, period: str = DAY) -> DigestDelivery:
    query = select(DigestDelivery).where(DigestDelivery.subscription_id == sub_id)
    return session.exec(query.where(DigestDelivery.period == period)).one()


def _run(session: Session, period: str = DAY, now: datetime = T0) -> list[int]:
    report = run_digest_period(session, period, now, POLICY)
    return report.delivery_ids


def test_period_keys_follow_beijing_calendar() -> None:
    assert period_key("daily", T0) == "2025-03-03"
    assert period_key("weekly", T0) == "2025-W10"
    assert period_key("monthly", T0) == "2025-03"
    late_sunday_utc = datetime(2025, 3, 2, 16, 30, tzinfo=UTC)  # Monday 00:30 in Beijing
    assert period_key("daily", late_sunday_utc) == "2025-03-03"
    assert [frequency_of(p) for p in ("2025-03-03", "2025-W10", "2025-03")] == [
        "daily",
        "weekly",
        "monthly",
    ]
    with pytest.raises(ConflictError):
        frequency_of("2025-13")


@pytest.mark.parametrize(
    ("low", "high", "band"),
    [
        (300, 500, "100–500万元"),
        (500, 1000, "500–1000万元"),
        (800, 1200, "500–3000万元"),
        (50, 80, "100万元以下"),
        (12000, 20000, "1亿元以上"),
    ],
)
def test_amount_band_hides_the_exact_amount(low: float, high: float, band: str) -> None:
    assert amount_band(low, high) == band


def test_criteria_fit_filters_hard_and_counts_soft(session: Session) -> None:
    inst = factories.institution(session)
    ent = factories.enterprise(session, industry_code="C3911", region_code="440305")
    dem = demand(session, ent, amount_min_wan=800, amount_max_wan=1200, round_stage=Stage.growth)
    fits = {
        "any": subscription(session, inst),
        "sector": subscription(session, inst, sectors=["C39"], regions=["4403"]),
        "section": subscription(session, inst, sectors=["C"]),
        "other sector": subscription(session, inst, sectors=["I65"]),
        "stage": subscription(session, inst, stages=["seed"]),
        "region": subscription(session, inst, regions=["11"]),
        "amount": subscription(session, inst, min_amount_wan=2000),
        "type": subscription(session, inst, financing_types=["equity"]),
        "mixed": subscription(session, inst, financing_types=["mixed"]),
    }
    got = {k: criteria_fit(s, dem, ent) for k, s in fits.items()}
    assert got == {
        "any": 0.0,
        "sector": 2.0,
        "section": 0.5,
        "other sector": None,
        "stage": None,
        "region": None,
        "amount": None,
        "type": None,
        "mixed": None,  # a 投贷联动 subscription asks for mixed demands, not pure loans
    }


def test_one_delivery_per_fitting_subscription_and_a_rerun_adds_none(session: Session) -> None:
    inst = factories.institution(session)
    everything = subscription(session, inst)
    software = subscription(session, inst, sectors=["I65"])
    unmatched = subscription(session, inst, sectors=["C39"])
    subscription(session, inst, active=False)
    subscription(session, inst, frequency="weekly")
    ids = [demand(session, updated_at=T0 - timedelta(hours=h)).id for h in (3, 1, 2)]

    report = run_digest_period(session, DAY, T0, POLICY)
    assert (report.subscriptions, report.created, report.empty) == (3, 2, 1)
    rows = {s.id: _delivery(session, s.id) for s in (everything, software)}
    assert [r.demand_ids for r in rows.values()] == [[ids[1], ids[2], ids[0]]] * 2
    assert all(r.status == DeliveryStatus.pending and r.item_count == 3 for r in rows.values())
    assert [j.args[0] for j in session.info[QUEUE_KEY]] == report.delivery_ids
    assert not session.exec(
        select(DigestDelivery).where(DigestDelivery.subscription_id == unmatched.id)
    ).all()

    again = run_digest_period(session, DAY, T0 + timedelta(hours=1), POLICY)
    assert (again.created, again.already_existing) == (0, 2)


def test_teasers_are_anonymous_and_the_mail_is_chinese(session: Session) -> None:
    inst = factories.institution(session)
    sub = subscription(session, inst, name="成长基金项目推送")
    ent = factories.enterprise(session, industry_code="I65", region_code="440305")
    demand(session, ent, amount_min_wan=300, amount_max_wan=500, updated_at=T0 - timedelta(hours=1))
    [delivery_id] = _run(session)
    mailer = FakeMailer()

    outcome = deliver(session, delivery_id, mailer, FakeWebhooks(), FakeClock(T0), POLICY)

    assert outcome.status == DeliveryStatus.delivered and outcome.claimed
    [message] = mailer.sent
    assert message["Message-ID"] == f"<digest-{delivery_id}@center.example>"
    assert message["To"] == sub.email and "项目推送" in message["Subject"]
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    for body in (text, html):
        assert "软件和信息技术服务业" in body and "深圳市" in body and "100–500万元" in body
        assert "成长期" in body and "贷款" in body and "成长基金项目推送" in body
        for secret in (ent.legal_name, ent.normalized_name, ent.uscc or "?"):
            assert secret not in body


def test_a_delivered_digest_is_never_sent_again(session: Session) -> None:
    inst = factories.institution(session)
    sub = subscription(session, inst)
    demand(session, updated_at=T0 - timedelta(hours=1))
    [delivery_id] = _run(session)
    mailer, clock = FakeMailer(), FakeClock(T0)

    first = deliver(session, delivery_id, mailer, FakeWebhooks(), clock, POLICY)
    second = deliver(session, delivery_id, mailer, FakeWebhooks(), clock, POLICY)

    assert first.claimed and not second.claimed
    assert second.status == DeliveryStatus.delivered
    assert len(mailer.sent) == 1
    row = _delivery(session, sub.id)
    assert (row.attempts, row.status) == (1, DeliveryStatus.delivered)


def test_next_period_holds_only_what_changed_since_the_last_delivered(session: Session) -> None:
    inst = factories.institution(session)
    sub = subscription(session, inst)
    old = demand(session, updated_at=T0 - timedelta(days=2))
    [first] = _run(session)
    deliver(session, first, FakeMailer(), FakeWebhooks(), FakeClock(T0), POLICY)
    changed = demand(session, updated_at=T0 + timedelta(hours=5))
    quiet = _run(session, "2025-03-04", T0 + timedelta(hours=2))
    assert quiet == []  # nothing changed in between: no empty digest
    _run(session, "2025-03-05", T0 + timedelta(days=2))
    assert _delivery(session, sub.id, "2025-03-05").demand_ids == [changed.id]
    assert old.id not in _delivery(session, sub.id, "2025-03-05").demand_ids


def test_confidential_and_closed_demands_never_appear(session: Session) -> None:
    inst = factories.institution(session)
    sub = subscription(session, inst)
    at = T0 - timedelta(hours=1)
    shown = demand(session, updated_at=at)
    demand(session, updated_at=at, confidentiality=Confidentiality.confidential)
    demand(session, updated_at=at, status=DemandStatus.withdrawn)
    later_withdrawn = demand(session, updated_at=at - timedelta(minutes=1))
    [delivery_id] = _run(session)
    assert _delivery(session, sub.id).demand_ids == [shown.id, later_withdrawn.id]
    later_withdrawn.status = DemandStatus.withdrawn
    session.add(later_withdrawn)
    session.flush()

    deliver(session, delivery_id, FakeMailer(), FakeWebhooks(), FakeClock(T0), POLICY)

    row = _delivery(session, sub.id)
    assert (row.item_count, row.demand_ids) == (1, [shown.id])


def test_transient_failures_back_off_then_die_and_a_replay_delivers(session: Session) -> None:
    inst = factories.institution(session)
    sub = subscription(session, inst)
    demand(session, updated_at=T0 - timedelta(hours=1))
    [delivery_id] = _run(session)
    mailer = FakeMailer([TransientDeliveryError("SMTP 错误 451")] * 3)
    clock = FakeClock(T0)

    outcomes = [
        deliver(session, delivery_id, mailer, FakeWebhooks(), clock, POLICY) for _ in range(3)
    ]

    assert [o.status for o in outcomes] == [DeliveryStatus.failed] * 2 + [DeliveryStatus.dead]
    assert [o.retry_in for o in outcomes] == [10.0, 20.0, None]
    assert [d.id for d in dead_letters(session)] == [delivery_id]
    replayed = replay(session, delivery_id, actor="admin")
    assert (replayed.status, replayed.attempts) == (DeliveryStatus.pending, 0)
    assert session.info[QUEUE_KEY][-1] == Job("digests.deliver", (delivery_id,))
    audit = session.exec(select(AuditLog).order_by(col(AuditLog.id).desc())).first()
    assert audit is not None and audit.action == "digest.replay"
    assert deliver(session, delivery_id, mailer, FakeWebhooks(), clock, POLICY).status == (
        DeliveryStatus.delivered
    )
    assert len(mailer.sent) == 1 and _delivery(session, sub.id).last_error is None


def test_replay_refuses_a_delivery_that_is_not_dead(session: Session) -> None:
    inst = factories.institution(session)
    subscription(session, inst)
    demand(session, updated_at=T0 - timedelta(hours=1))
    [delivery_id] = _run(session)
    with pytest.raises(ConflictError):
        replay(session, delivery_id, actor="admin")


@pytest.mark.parametrize(
    ("sub_over", "error"),
    [
        ({}, PermanentDeliveryError("SMTP 错误 550")),
        ({"email": None}, None),
        ({"channel": Channel.webhook, "email": None, "webhook_url": "http://h/x"}, None),
    ],
)
def test_permanent_failures_are_dead_at_once(
    session: Session, sub_over: dict[str, object], error: PermanentDeliveryError | None
) -> None:
    inst = factories.institution(session)
    subscription(session, inst, **sub_over)
    demand(session, updated_at=T0 - timedelta(hours=1))
    [delivery_id] = _run(session)
    mailer = FakeMailer([error] if error else [])

    outcome = deliver(session, delivery_id, mailer, FakeWebhooks(), FakeClock(T0), POLICY)

    assert (outcome.status, outcome.retry_in) == (DeliveryStatus.dead, None)
    assert mailer.sent == []


def test_webhook_digest_carries_teasers_and_the_idempotency_key(session: Session) -> None:
    inst = factories.institution(session)
    sub = subscription(
        session,
        inst,
        channel=Channel.webhook,
        email=None,
        webhook_url="https://bank.example/hooks/dealflow",
        webhook_secret="s3cret",
    )
    dem = demand(session, updated_at=T0 - timedelta(hours=1))
    [delivery_id] = _run(session)
    hooks = FakeWebhooks()

    deliver(session, delivery_id, FakeMailer(), hooks, FakeClock(T0), POLICY)

    [(url, secret, payload, key)] = hooks.posts
    assert (url, secret, key) == (sub.webhook_url, "s3cret", f"digest-{delivery_id}")
    assert payload["period"] == DAY and payload["subscription_id"] == sub.id
    assert [i["ref"] for i in payload["items"]] == [dem.id]
    assert payload["items"][0]["financing_type"] == "贷款"


def test_sweeper_requeues_only_old_unfinished_deliveries(session: Session) -> None:
    inst = factories.institution(session)
    stuck, done = subscription(session, inst), subscription(session, inst)
    demand(session, updated_at=T0 - timedelta(hours=1))
    _run(session)
    deliver(
        session,
        _delivery(session, done.id).id or 0,
        FakeMailer(),
        FakeWebhooks(),
        FakeClock(T0),
        POLICY,
    )
    stuck_id = _delivery(session, stuck.id).id

    assert requeue_unfinished(session, T0 + timedelta(seconds=30), 60) == []
    assert requeue_unfinished(session, T0 + timedelta(minutes=5), 60) == [stuck_id]


def test_the_matching_core_orders_digests_when_present(session: Session) -> None:
    inst = factories.institution(session)
    factories.mandate(session, inst)
    subscription(session, inst)
    ids = {demand(session, updated_at=T0 - timedelta(hours=h)).id for h in (1, 2, 3)}
    policy = DigestPolicy(rank_with_core=True)

    report = run_digest_period(session, DAY, T0, policy)

    [row] = session.exec(
        select(DigestDelivery).where(col(DigestDelivery.id).in_(report.delivery_ids))
    )
    assert set(row.demand_ids) == ids  # reordered perhaps, never dropped


def test_queued_deliveries_publish_after_commit_only(session: Session) -> None:
    published: list[Job] = []
    session.info[PUBLISHER_KEY] = published.append
    inst = factories.institution(session)
    subscription(session, inst)
    demand(session, updated_at=T0 - timedelta(hours=1))
    ids = _run(session)
    assert published == []
    session.commit()
    assert published == [Job("digests.deliver", (ids[0],))]


def test_a_legacy_address_with_crlf_is_dead_and_the_others_are_delivered(session: Session) -> None:
    inst = factories.institution(session)
    first = subscription(session, inst)
    injected = "victim@example.com\r\nBcc: everyone@evil.example"
    bad = subscription(session, inst, email=injected)  # written before the checks existed
    last = subscription(session, inst)
    demand(session, updated_at=T0 - timedelta(hours=1))
    ids = _run(session)
    mailer = FakeMailer()

    outcomes = [deliver(session, i, mailer, FakeWebhooks(), FakeClock(T0), POLICY) for i in ids]

    status = {o.delivery_id: o.status for o in outcomes}
    assert status == {
        _delivery(session, first.id).id: DeliveryStatus.delivered,
        _delivery(session, bad.id).id: DeliveryStatus.dead,
        _delivery(session, last.id).id: DeliveryStatus.delivered,
    }
    assert "接收邮箱无效" in (_delivery(session, bad.id).last_error or "")
    assert [m["To"] for m in mailer.sent] == [first.email, last.email]
    assert all("evil" not in str(m) for m in mailer.sent)


def test_an_unconfirmed_address_gets_no_digest(session: Session) -> None:
    inst = factories.institution(session)
    waiting = subscription(session, inst, email_confirmed=False)
    confirmed = subscription(session, inst)
    demand(session, updated_at=T0 - timedelta(hours=1))

    report = run_digest_period(session, DAY, T0, POLICY)

    assert report.subscriptions == 1
    assert _delivery(session, confirmed.id).status == DeliveryStatus.pending
    assert not session.exec(
        select(DigestDelivery).where(DigestDelivery.subscription_id == waiting.id)
    ).all()
    [delivery_id] = report.delivery_ids  # an address unconfirmed after the build: not sent
    confirmed.email_confirmed = False
    session.add(confirmed)
    mailer = FakeMailer()
    outcome = deliver(session, delivery_id, mailer, FakeWebhooks(), FakeClock(T0), POLICY)
    assert (outcome.status, mailer.sent) == (DeliveryStatus.dead, [])
