"""Subscription addresses and webhooks through the API: one checked address, a third party's
address only once its owner confirms it, webhooks with a generated secret and no private target.
"""

import ipaddress
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from models import AuditLog, DigestDelivery, Institution, Subscription
from models.base import utcnow
from models.reference import DeliveryStatus
from services.digests.checks import IPAddress
from services.digests.confirmations import CONFIRM_TASK, send_confirmation
from services.digests.delivery import HttpxWebhookSender, verify_signature
from services.digests.service import DigestPolicy, deliver, run_digest_period
from services.digests.subscriptions import token_hash
from services.jobs import Job
from tests import factories
from tests.api.conftest import World, login
from tests.workers.helpers import FakeClock, FakeMailer

POLICY = DigestPolicy(rank_with_core=False)


@pytest.fixture
def jobs(monkeypatch: pytest.MonkeyPatch) -> list[Job]:
    """What the API publishes after its commits (instead of the Celery broker)."""
    published: list[Job] = []
    monkeypatch.setattr("services.jobs.celery_publisher", published.append)
    return published


def _snapshot(engine: Engine) -> tuple[Any, ...]:
    with Session(engine) as session:
        subs = session.exec(select(Subscription).order_by(col(Subscription.id))).all()
        audit = session.exec(select(func.count()).select_from(AuditLog)).one()
        return tuple(s.model_dump() for s in subs), audit


def _auth(client: TestClient, user: str) -> dict[str, str]:
    """`login` once per client and user: logins are audited, which a snapshot would count."""
    tokens: dict[str, dict[str, str]] = client.__dict__.setdefault("_test_tokens", {})
    if user not in tokens:
        tokens[user] = login(client, user)
    return tokens[user]


def _post(client: TestClient, user: str, **body: Any) -> Any:
    return client.post("/subscriptions", json=body, headers=_auth(client, user))


def _sub(engine: Engine, sub_id: int) -> Subscription:
    with Session(engine) as session:
        sub = session.get(Subscription, sub_id)
        assert sub is not None
        return sub


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "victim@example.com\r\nBcc: all@evil.example"}, "email"),
        ({"email": "victim@example.com\n"}, "email"),
        ({"email": "a@example.com,b@example.org"}, "email"),
        ({"email": "a@example.com; b@example.org"}, "email"),
        ({"email": "甲 <a@example.com>"}, "email"),
        ({"email": "not-an-address"}, "email"),
        ({"email": None}, "email"),  # the e-mail channel needs its address
        ({"channel": "webhook"}, "webhook_url"),
        ({"channel": "webhook", "webhook_url": "http://hooks.bank.example/x"}, "webhook_url"),
        ({"channel": "webhook", "webhook_url": "https://127.0.0.1/x"}, "webhook_url"),
        ({"channel": "webhook", "webhook_url": "https://localhost:8000/x"}, "webhook_url"),
        ({"channel": "webhook", "webhook_url": "https://10.0.0.8/x"}, "webhook_url"),
        ({"channel": "webhook", "webhook_url": "https://169.254.169.254/latest"}, "webhook_url"),
        ({"channel": "webhook", "webhook_url": "https://[::1]/x"}, "webhook_url"),
        ({"channel": "webhook", "webhook_url": "https://u:p@hooks.bank.example/x"}, "webhook_url"),
        ({"channel": "webhook", "webhook_url": "https://hooks.bank.example/x\r\nX: y"}, "webhook_url"),
        ({"channel": "webhook", "webhook_url": "ftp://hooks.bank.example/x"}, "webhook_url"),
        ({"frequency": "每周"}, "frequency"),
        ({"financing_types": ["贷款"]}, "financing_types"),
        ({"stages": ["成长期"]}, "stages"),
        ({"regions": ["深圳"]}, "regions"),
        ({"sectors": ["人工智能"]}, "sectors"),
        ({"min_amount_wan": 3000, "max_amount_wan": 500}, "min_amount_wan"),
    ],
)  # fmt: skip
def test_refused_destinations_name_the_field_and_change_nothing(
    client: TestClient, world_engine: tuple[Engine, World], body: dict[str, Any], field: str
) -> None:
    engine, world = world_engine
    _auth(client, "inst_a"), _auth(client, "admin")
    before = _snapshot(engine)
    for user, inst in (("inst_a", world.inst_a), ("admin", world.inst_a)):
        response = _post(client, user, institution_id=inst, name="推送", **body)
        assert response.status_code in (400, 422), response.text
        problem = response.json()
        assert problem["field"] == field and field in problem["detail"]
        assert any("\u4e00" <= c <= "\u9fff" for c in problem["detail"])  # a Chinese message
    assert _snapshot(engine) == before


def test_a_third_party_address_waits_for_its_owner_to_confirm(
    client: TestClient, world_engine: tuple[Engine, World], jobs: list[Job]
) -> None:
    engine, world = world_engine
    response = _post(client, "inst_a", institution_id=world.inst_a, name="第三方",
                     email="Someone@Elsewhere.example.org", frequency="daily")  # fmt: skip
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["email"] == "Someone@elsewhere.example.org"
    assert created["email_confirmed"] is False and created["webhook_secret"] is None
    assert jobs == [Job(CONFIRM_TASK, (created["id"],))]
    with Session(engine) as session:
        factories.demand(session, factories.enterprise(session))
        report = run_digest_period(session, "2030-01-01", utcnow() + timedelta(hours=1), POLICY)
        assert created["id"] not in {
            d.subscription_id for d in session.exec(select(DigestDelivery))
        }, report
        mailer = FakeMailer()
        assert send_confirmation(session, created["id"], mailer, utcnow(), hours=48,
                                 mail_from="mm@center.example", domain="center.example")  # fmt: skip
        session.commit()
    [mail] = mailer.sent
    assert mail["To"] == "Someone@elsewhere.example.org"
    assert "“甲科创银行”" in mail.get_content()  # the owner learns who asks for the code
    token = mail.get_content().split("\n\n")[2].strip()
    stored = _sub(engine, created["id"])
    assert stored.email_token_hash == token_hash(token) and token not in str(stored.model_dump())

    url = f"/subscriptions/{created['id']}/confirm-email"
    _auth(client, "inst_b")
    before = _snapshot(engine)
    for wrong in ("0" * 32, token[:-1], ""):
        refused = client.post(url, json={"token": wrong}, headers=_auth(client, "inst_a"))
        assert refused.status_code in (400, 422) and refused.json()["field"] == "token"
    other = client.post(url, json={"token": token}, headers=_auth(client, "inst_b"))
    assert other.status_code == 404
    assert _snapshot(engine) == before

    done = client.post(url, json={"token": token}, headers=_auth(client, "inst_a"))
    assert done.status_code == 200 and done.json()["email_confirmed"] is True
    assert _sub(engine, created["id"]).email_token_hash is None


def test_an_expired_code_is_refused(
    client: TestClient, world_engine: tuple[Engine, World], jobs: list[Job]
) -> None:
    engine, world = world_engine
    sub_id = _post(client, "inst_a", institution_id=world.inst_a, name="过期",
                   email="late@example.org").json()["id"]  # fmt: skip
    with Session(engine) as session:
        mailer = FakeMailer()
        send_confirmation(session, sub_id, mailer, utcnow() - timedelta(hours=49), hours=48,
                          mail_from="mm@center.example", domain="center.example")  # fmt: skip
        session.commit()
    token = mailer.sent[0].get_content().split("\n\n")[2].strip()
    before = _snapshot(engine)
    response = client.post(f"/subscriptions/{sub_id}/confirm-email", json={"token": token},
                           headers=_auth(client, "inst_a"))  # fmt: skip
    assert response.status_code == 400 and "过期" in response.json()["detail"]
    assert _snapshot(engine) == before


def test_the_registered_address_and_staff_entries_need_no_confirmation(
    client: TestClient, world_engine: tuple[Engine, World], jobs: list[Job]
) -> None:
    engine, world = world_engine
    with Session(engine) as session:
        inst = session.get(Institution, world.inst_a)
        assert inst is not None
        inst.email = "dealflow@bank-a.example.com"
        session.add(inst)
        session.commit()
    own = _post(client, "inst_a", institution_id=world.inst_a, name="本机构",
                email="DealFlow@bank-a.example.com")  # fmt: skip
    same_domain = _post(client, "inst_a", institution_id=world.inst_a, name="同域",
                        email="analyst@bank-a.example.com")  # fmt: skip
    by_admin = _post(client, "admin", institution_id=world.inst_a, name="管理员录入",
                     email="partner@elsewhere.example.org")  # fmt: skip
    assert [r.json()["email_confirmed"] for r in (own, same_domain, by_admin)] == [
        True, False, True
    ]  # fmt: skip
    assert jobs == [Job(CONFIRM_TASK, (same_domain.json()["id"],))]


def _resolving(monkeypatch: pytest.MonkeyPatch, *answers: list[str]) -> None:
    """The system resolver answers each call with the next list (the last one repeats)."""
    calls = list(answers)

    def resolve(host: str, port: int) -> list[IPAddress]:
        now = calls.pop(0) if len(calls) > 1 else calls[0]
        return [ipaddress.ip_address(a) for a in now]

    monkeypatch.setattr("services.digests.checks.resolve_host", resolve)


def test_a_webhook_gets_a_secret_once_and_digests_signed_with_it(
    client: TestClient, world_engine: tuple[Engine, World], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, world = world_engine
    _resolving(monkeypatch, ["93.184.215.14"])
    response = _post(client, "inst_a", institution_id=world.inst_a, name="钩子",
                     channel="webhook", webhook_url="https://hooks.bank-a.example.com/dealflow",
                     frequency="daily")  # fmt: skip
    assert response.status_code == 201, response.text
    secret = response.json()["webhook_secret"]
    assert isinstance(secret, str) and len(secret) == 64
    listed = client.get("/subscriptions", headers=_auth(client, "inst_a")).text
    assert secret not in listed and "webhook_secret" not in listed

    seen: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda r: seen.append(r) or httpx.Response(204))  # type: ignore[func-returns-value]
    sender = HttpxWebhookSender(httpx.Client(transport=transport), lambda: 1_741_000_000.0)
    with Session(engine) as session:
        factories.demand(session, factories.enterprise(session))
        report = run_digest_period(session, "2030-01-01", utcnow() + timedelta(hours=1), POLICY)
        for delivery_id in report.delivery_ids:
            deliver(session, delivery_id, FakeMailer(), sender, FakeClock(utcnow()), POLICY)
        session.commit()
    [request] = seen
    assert request.url.host == "93.184.215.14"
    assert request.headers["Host"] == "hooks.bank-a.example.com"
    assert verify_signature(secret, "1741000000", request.content,
                            request.headers["X-Matchmaker-Signature"], now=1_741_000_000)  # fmt: skip


def test_a_host_that_rebinds_to_a_private_address_is_refused_at_delivery(
    client: TestClient, world_engine: tuple[Engine, World], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, world = world_engine
    _resolving(monkeypatch, ["93.184.215.14"], ["169.254.169.254"])
    response = _post(client, "inst_a", institution_id=world.inst_a, name="重绑定",
                     channel="webhook", webhook_url="https://rebind.example.com/x",
                     frequency="daily")  # fmt: skip
    assert response.status_code == 201, response.text
    seen: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda r: seen.append(r) or httpx.Response(204))  # type: ignore[func-returns-value]
    sender = HttpxWebhookSender(httpx.Client(transport=transport), lambda: 1.0)
    with Session(engine) as session:
        factories.demand(session, factories.enterprise(session))
        report = run_digest_period(session, "2030-01-01", utcnow() + timedelta(hours=1), POLICY)
        outcomes = [
            deliver(session, i, FakeMailer(), sender, FakeClock(utcnow()), POLICY)
            for i in report.delivery_ids
        ]
        session.commit()
    hook = next(o for o in outcomes if "Webhook" in o.message)
    assert hook.status == DeliveryStatus.dead and "内网" in hook.message
    assert seen == []


def test_confirmation_mails_per_institution_are_bounded(
    client: TestClient, world_engine: tuple[Engine, World], jobs: list[Job]
) -> None:
    engine, world = world_engine
    headers = _auth(client, "inst_a")
    for n in range(10):
        body = {"institution_id": world.inst_a, "name": f"批量{n}", "email": "victim@example.org"}
        assert client.post("/subscriptions", json=body, headers=headers).status_code == 201
    before = _snapshot(engine)
    body = {"institution_id": world.inst_a, "name": "第十一个", "email": "victim@example.org"}
    refused = client.post("/subscriptions", json=body, headers=headers)
    assert refused.status_code == 409 and refused.json()["field"] == "email"
    assert "上限" in refused.json()["detail"]
    assert _snapshot(engine) == before and len(jobs) == 10
    by_admin = _post(client, "admin", **body)  # staff entries need no confirmation mail
    assert by_admin.status_code == 201 and by_admin.json()["email_confirmed"] is True
