"""The transports of a digest: an SMTP mail (HTML + text, in Chinese) and a signed webhook (JSON).

Both are at-least-once: a crash after the receiver accepted a digest but before the database
recorded it makes the next attempt send it again. Every digest therefore carries its delivery id
as an idempotency key (the mail's Message-ID, the webhook's `Idempotency-Key` header), so a
receiver that remembers keys sees each digest once. See docs/workers.md.
"""

import hashlib
import hmac
import json
import smtplib
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from html import escape
from typing import Any, Protocol

import httpx

from models.settings import Settings
from services.digests.checks import WebhookPolicy, WebhookTarget

SIGNATURE_HEADER = "X-Matchmaker-Signature"
TIMESTAMP_HEADER = "X-Matchmaker-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"
DELIVERY_HEADER = "X-Matchmaker-Delivery"


class DeliveryError(Exception):
    """A digest could not be handed to its receiver; `message` is shown to admins."""

    transient = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TransientDeliveryError(DeliveryError):
    """Worth retrying later: timeouts, refused connections, SMTP 4xx, HTTP 408/429/5xx."""

    transient = True


class PermanentDeliveryError(DeliveryError):
    """Retrying will not help: SMTP 5xx, HTTP 4xx, a subscription without an address."""


@dataclass(frozen=True)
class Teaser:
    """One anonymised demand: nothing in it names or identifies the enterprise."""

    ref: int
    sector: str
    stage: str
    amount_band: str
    region: str
    financing_type: str
    updated_on: str


@dataclass(frozen=True)
class Digest:
    """What one delivery carries: its key, its addressee and the teasers, best first."""

    delivery_id: int
    subscription_id: int
    subscription_name: str
    period: str
    generated_at: datetime
    teasers: Sequence[Teaser]

    @property
    def idempotency_key(self) -> str:
        """The key a receiver dedupes on: stable across every attempt of this delivery."""
        return f"digest-{self.delivery_id}"


class Mailer(Protocol):
    """Sends one e-mail message or raises a DeliveryError."""

    def send(self, message: EmailMessage) -> None:
        """Hand `message` to the mail system."""


class WebhookSender(Protocol):
    """POSTs one signed JSON body or raises a DeliveryError."""

    def post(self, url: str, secret: str, payload: dict[str, Any], idempotency_key: str) -> None:
        """Deliver `payload` to `url`, signed with `secret`."""


# --- E-mail

_FOOTER = (
    "以上项目均已脱敏，不含企业名称、信用代码及联系方式。如对某个项目感兴趣，请回复需求编号，"
    "中心撮合专员将在征得企业同意后为您引荐。如需调整订阅条件或退订，请联系中心。"
)


def _teaser_line(t: Teaser) -> str:
    return (
        f"需求编号 {t.ref}｜{t.sector}｜{t.stage}｜{t.financing_type}｜{t.amount_band}｜"
        f"{t.region}｜更新于 {t.updated_on}"
    )


def digest_subject(digest: Digest) -> str:
    """The mail subject, in Chinese."""
    return f"【科技金融服务中心】项目推送（{digest.period}）：{len(digest.teasers)} 个融资需求"


def digest_text(digest: Digest) -> str:
    """The plain-text body."""
    lines = [f"您好！以下是订阅“{digest.subscription_name}”本期（{digest.period}）的融资需求：", ""]
    lines += [f"{i}. {_teaser_line(t)}" for i, t in enumerate(digest.teasers, 1)]
    return "\n".join([*lines, "", _FOOTER, ""])


_COLUMNS = ("需求编号", "行业", "阶段", "融资方式", "金额区间", "地区", "更新日期")


def _html_row(t: Teaser) -> str:
    cells = (t.ref, t.sector, t.stage, t.financing_type, t.amount_band, t.region, t.updated_on)
    return "<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in cells) + "</tr>"


def digest_html(digest: Digest) -> str:
    """The HTML body: a table of teasers; every value escaped."""
    head = "".join(f"<th>{c}</th>" for c in _COLUMNS)
    rows = "\n".join(_html_row(t) for t in digest.teasers)
    name, period = escape(digest.subscription_name), escape(digest.period)
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"></head><body>'
        f"<p>您好！以下是订阅“{name}”本期（{period}）的融资需求：</p>"
        f'<table border="1" cellpadding="4" cellspacing="0"><thead><tr>{head}</tr></thead>'
        f"<tbody>\n{rows}\n</tbody></table><p>{escape(_FOOTER)}</p></body></html>"
    )


def build_digest_mail(digest: Digest, *, to: str, mail_from: str, domain: str) -> EmailMessage:
    """The mail for `digest`; its Message-ID is derived from the delivery id (the dedupe key)."""
    message = EmailMessage()
    message["Subject"] = digest_subject(digest)
    message["From"] = mail_from
    message["To"] = to
    message["Date"] = format_datetime(digest.generated_at)
    message["Message-ID"] = f"<{digest.idempotency_key}@{domain}>"
    message[DELIVERY_HEADER] = str(digest.delivery_id)
    message.set_content(digest_text(digest))
    message.add_alternative(digest_html(digest), subtype="html")
    return message


def _smtp_error(exc: smtplib.SMTPException) -> DeliveryError:
    code = getattr(exc, "smtp_code", None)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [c for c, _ in exc.recipients.values()]
        code = min(codes) if codes else None
    text = f"SMTP 错误 {code}：{exc}" if code else f"SMTP 错误：{exc}"
    if isinstance(code, int) and 500 <= code < 600:
        return PermanentDeliveryError(text[:480])
    return TransientDeliveryError(text[:480])


class SmtpMailer:
    """Sends through an SMTP server with smtplib, one connection per message."""

    def __init__(self, host: str, port: int, timeout: float = 20.0) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout

    def send(self, message: EmailMessage) -> None:
        """Send `message`; 5xx replies are permanent, everything else transient."""
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                smtp.send_message(message)
        except smtplib.SMTPException as exc:
            raise _smtp_error(exc) from exc
        except OSError as exc:  # includes TimeoutError and refused connections
            raise TransientDeliveryError(
                f"无法连接邮件服务器 {self.host}:{self.port}：{exc}"
            ) from exc


# --- Webhook


def digest_payload(digest: Digest) -> dict[str, Any]:
    """The webhook JSON body (keys in English, values as users read them)."""
    return {
        "event": "digest",
        "delivery_id": digest.delivery_id,
        "subscription_id": digest.subscription_id,
        "period": digest.period,
        "generated_at": digest.generated_at.isoformat(),
        "items": [asdict(t) for t in digest.teasers],
    }


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=` + HMAC-SHA256 over `timestamp.body`, so a replayed body with a new time fails."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(
    secret: str, timestamp: str, body: bytes, signature: str, now: float, tolerance: float = 300
) -> bool:
    """What a receiver checks: the signature matches and the timestamp is recent."""
    try:
        fresh = abs(now - float(timestamp)) <= tolerance
    except ValueError:
        return False
    return fresh and hmac.compare_digest(sign(secret, timestamp, body), signature)


_TRANSIENT_STATUSES = frozenset({408, 425, 429})


class HttpxWebhookSender:
    """POSTs digests with httpx; inject a client with a MockTransport in tests.

    Every post resolves the URL's host, checks each address against `policy` (no private,
    loopback, link-local, multicast or reserved target unless allowed) and connects to the
    checked address itself, with the original name in `Host` and TLS (SNI and certificate):
    a DNS answer that changes after the check (rebinding) is never used. Redirects are not
    followed, and a connection is not reused for another name.
    """

    def __init__(
        self,
        client: httpx.Client,
        clock: Callable[[], float],
        policy: WebhookPolicy | None = None,
    ) -> None:
        self.client = client
        self.clock = clock
        self.policy = policy or WebhookPolicy()

    def _target(self, url: str) -> WebhookTarget:
        try:
            return self.policy.target(url)
        except ValueError as exc:
            raise PermanentDeliveryError(f"Webhook 地址被拒绝：{exc}"[:480]) from exc
        except OSError as exc:
            raise TransientDeliveryError(f"Webhook 主机无法解析：{exc}"[:480]) from exc

    def post(self, url: str, secret: str, payload: dict[str, Any], idempotency_key: str) -> None:
        """Sign and send; 2xx succeeds, 408/425/429/5xx and network errors are transient."""
        target = self._target(url)
        body = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()
        timestamp = str(int(self.clock()))
        headers = {
            "Host": target.host_header,
            "Connection": "close",
            "Content-Type": "application/json; charset=utf-8",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(secret, timestamp, body),
            IDEMPOTENCY_HEADER: idempotency_key,
        }
        try:
            response = self.client.post(
                target.pinned_url,
                content=body,
                headers=headers,
                extensions={"sni_hostname": target.hostname},
                follow_redirects=False,
            )
        except httpx.HTTPError as exc:
            raise TransientDeliveryError(f"Webhook 请求失败：{exc!r}"[:480]) from exc
        _check_status(response)


def _check_status(response: httpx.Response) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    text = f"Webhook 返回 HTTP {status}"
    if status >= 500 or status in _TRANSIENT_STATUSES:
        raise TransientDeliveryError(text)
    raise PermanentDeliveryError(text)


def mailer_from_settings(settings: Settings) -> SmtpMailer:
    """The SMTP mailer the settings describe."""
    return SmtpMailer(settings.smtp_host, settings.smtp_port, settings.digest_send_timeout)


def webhook_sender_from_settings(settings: Settings) -> HttpxWebhookSender:
    """A webhook sender with its own connection pool, the wall clock and the target policy."""
    return HttpxWebhookSender(
        httpx.Client(timeout=settings.digest_send_timeout),
        time.time,
        WebhookPolicy.from_settings(settings),
    )
