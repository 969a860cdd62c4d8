"""The transports: SMTP against a local aiosmtpd server, webhooks through httpx.MockTransport."""

import ipaddress
import json
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.message import EmailMessage

import httpx
import pytest

from services.digests.checks import IPAddress, WebhookPolicy, is_public
from services.digests.delivery import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Digest,
    HttpxWebhookSender,
    PermanentDeliveryError,
    SmtpMailer,
    Teaser,
    TransientDeliveryError,
    build_digest_mail,
    digest_payload,
    verify_signature,
)
from tests.workers.receivers import WebhookEndpoint, free_port, smtp_server, webhook_server

TEASER = Teaser(7, "软件和信息技术服务业", "成长期", "500–1000万元", "深圳市", "股权", "2025-03-02")
DIGEST = Digest(42, 3, "<成长基金>推送", "2025-W10", datetime(2025, 3, 3, tzinfo=UTC), [TEASER])


def _mail() -> EmailMessage:
    return build_digest_mail(
        DIGEST, to="vc@example.com", mail_from="mm@center.example", domain="center.example"
    )


def test_mail_is_multipart_chinese_and_escaped() -> None:
    message = build_digest_mail(
        DIGEST, to="vc@example.com", mail_from="mm@c.example", domain="c.example"
    )
    assert message["Message-ID"] == "<digest-42@c.example>"
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "&lt;成长基金&gt;推送" in html and "<成长基金>" not in html
    assert "需求编号 7" in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_smtp_mailer_delivers_to_a_real_server() -> None:
    with smtp_server() as (port, inbox):
        SmtpMailer("127.0.0.1", port, timeout=5).send(_mail())
    assert inbox.unique() == {"<digest-42@center.example>"}
    subject = str(make_header(decode_header(str(inbox.messages[0]["Subject"]))))
    assert subject == "【科技金融服务中心】项目推送（2025-W10）：1 个融资需求"


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        ("550 mailbox unavailable", PermanentDeliveryError),
        ("451 try later", TransientDeliveryError),
    ],
)
def test_smtp_replies_map_to_permanent_or_transient(reply: str, error: type[Exception]) -> None:
    with smtp_server(reply=reply) as (port, _), pytest.raises(error):
        SmtpMailer("127.0.0.1", port, timeout=5).send(_mail())


def test_smtp_connection_refused_is_transient() -> None:
    with pytest.raises(TransientDeliveryError):
        SmtpMailer("127.0.0.1", free_port(), timeout=2).send(_mail())


PUBLIC = "93.184.215.14"


def _resolving_to(*answers: str) -> WebhookPolicy:
    def resolve(host: str, port: int) -> list[IPAddress]:
        return [ipaddress.ip_address(a) for a in answers]

    return WebhookPolicy(resolver=resolve)


def _sender(
    handler: httpx.MockTransport, policy: WebhookPolicy | None = None
) -> HttpxWebhookSender:
    return HttpxWebhookSender(
        httpx.Client(transport=handler),
        clock=lambda: 1_741_000_000.0,
        policy=policy or _resolving_to(PUBLIC),
    )


def test_webhook_is_signed_with_timestamp_and_keyed() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    _sender(httpx.MockTransport(handler)).post(
        "https://h/x", "k", digest_payload(DIGEST), "digest-42"
    )

    [request] = seen
    body, ts, sig = (
        request.content,
        request.headers[TIMESTAMP_HEADER],
        request.headers[SIGNATURE_HEADER],
    )
    assert request.headers[IDEMPOTENCY_HEADER] == "digest-42" and ts == "1741000000"
    assert verify_signature("k", ts, body, sig, now=1_741_000_100)
    assert not verify_signature("k", ts, body + b" ", sig, now=1_741_000_100)
    assert not verify_signature("k", ts, body, sig, now=1_741_000_000 + 3600)  # replayed later
    assert not verify_signature("other", ts, body, sig, now=1_741_000_100)
    assert json.loads(body)["items"][0]["sector"] == "软件和信息技术服务业"


@pytest.mark.parametrize(
    ("status", "error"),
    [(503, TransientDeliveryError), (429, TransientDeliveryError), (404, PermanentDeliveryError)],
)
def test_webhook_statuses_map_to_permanent_or_transient(
    status: int, error: type[Exception]
) -> None:
    sender = _sender(httpx.MockTransport(lambda _: httpx.Response(status)))
    with pytest.raises(error):
        sender.post("https://h/x", "k", {}, "digest-1")


def test_webhook_network_error_is_transient() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(TransientDeliveryError):
        _sender(httpx.MockTransport(handler)).post("https://h/x", "k", {}, "digest-1")


def test_webhook_connects_to_the_checked_address_under_its_own_name() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    _sender(httpx.MockTransport(handler)).post("https://hooks.bank.example:8443/x", "k", {}, "d-1")

    [request] = seen
    assert (request.url.host, request.url.port) == (PUBLIC, 8443)
    assert request.headers["Host"] == "hooks.bank.example:8443"
    assert request.extensions["sni_hostname"] == "hooks.bank.example"


@pytest.mark.parametrize(
    "answers",
    [
        ["127.0.0.1"], ["10.1.2.3"], ["172.16.0.1"], ["192.168.1.1"], ["169.254.169.254"],
        ["100.64.0.1"], ["0.0.0.0"], ["224.0.1.1"], ["::1"], ["fe80::1"], ["fd00::1"],
        ["::ffff:127.0.0.1"], [PUBLIC, "10.0.0.1"],  # one private answer is enough to refuse
        ["64:ff9b::a9fe:a9fe"], ["64:ff9b:1::a00:1"], ["2002:a9fe:a9fe::1"],  # NAT64, 6to4
    ],
)  # fmt: skip
def test_webhook_to_a_private_address_is_refused_before_connecting(answers: list[str]) -> None:
    seen: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda r: seen.append(r) or httpx.Response(200))  # type: ignore[func-returns-value]
    with pytest.raises(PermanentDeliveryError, match="内网、回环"):
        _sender(transport, _resolving_to(*answers)).post("https://h/x", "k", {}, "d-1")
    assert seen == []


def test_webhook_over_http_and_redirects_are_refused() -> None:
    transport = httpx.MockTransport(lambda _: httpx.Response(302, headers={"Location": "/x"}))
    with pytest.raises(PermanentDeliveryError, match="https"):
        _sender(transport).post("http://h/x", "k", {}, "d-1")
    with pytest.raises(PermanentDeliveryError, match="302"):
        _sender(transport).post("https://h/x", "k", {}, "d-1")


def test_an_unresolvable_webhook_host_is_transient() -> None:
    transport = httpx.MockTransport(lambda _: httpx.Response(200))
    with pytest.raises(TransientDeliveryError, match="无法解析"):
        _sender(transport, WebhookPolicy()).post("https://unknown.invalid/x", "k", {}, "d-1")


def test_a_loopback_receiver_is_reached_only_when_configured() -> None:
    endpoint = WebhookEndpoint()
    with webhook_server(endpoint) as url:
        client = httpx.Client(timeout=5)
        for refusing in (WebhookPolicy(), WebhookPolicy(allow_http=True)):
            with pytest.raises(PermanentDeliveryError):
                HttpxWebhookSender(client, lambda: 1.0, refusing).post(url, "k", {"a": 1}, "d-1")
        assert len(endpoint.inbox) == 0
        allowed = WebhookPolicy(allow_http=True, allowed_hosts=("127.0.0.1",))
        HttpxWebhookSender(client, lambda: 1.0, allowed).post(url, "k", {"a": 1}, "d-2")
    assert endpoint.inbox.unique() == {"d-2"}
    body, timestamp, signature = endpoint.bodies["d-2"]
    assert verify_signature("k", timestamp, body, signature, now=1.0)


@pytest.mark.parametrize("address", ["64:ff9b::808:808", "2002:808:808::1", "::ffff:8.8.8.8"])
def test_ipv6_forms_of_a_public_ipv4_address_stay_public(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))
