"""The transports: SMTP against a local aiosmtpd server, webhooks through httpx.MockTransport."""

import json
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.message import EmailMessage

import httpx
import pytest

from tests.workers.receivers import free_port, smtp_server
from workers.delivery import (
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


def _sender(handler: httpx.MockTransport) -> HttpxWebhookSender:
    return HttpxWebhookSender(httpx.Client(transport=handler), clock=lambda: 1_741_000_000.0)


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
