"""Creating subscriptions and confirming their e-mail addresses. Services never commit.

Who may receive digests without a confirmation: an address a staff member entered, or the
institution's own registered address (`Institution.email`, kept by staff). Any other address
is a third party's until its owner confirms it: the worker mails it a confirmation code
(`services.digests.confirmations`), the subscriber posts that code back (`confirm_email`), and until
then no digest goes there. The code is stored as its SHA-256 only and expires.

An institution record has no domain of its own, and its registered address may be on a
public mail service, so "the same domain" would let anyone on that service subscribe;
the rule is therefore the exact registered address.
"""

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from models import Institution, Subscription
from models.crud import create
from models.errors import ConflictError, DomainError, NotFoundError
from models.reference import (
    REGIONS,
    STRATEGIC_EMERGING_INDUSTRIES,
    Channel,
    FinancingType,
    Stage,
    canonical_industry_code,
)
from services.audit.repository import append_audit
from services.digests import repository as repo
from services.digests.checks import WebhookPolicy, normalize_email

FREQUENCIES = {"daily": "每日", "weekly": "每周", "monthly": "每月"}
TOKEN_BYTES = 24  # 192 bits: guessing is hopeless, so no attempt counter is needed
SECRET_BYTES = 32  # the webhook signing key, 256 bits


def token_hash(token: str) -> str:
    """SHA-256 of a confirmation code (what the database keeps)."""
    return hashlib.sha256(token.encode()).hexdigest()


def _refuse(exc: ValueError, field: str) -> DomainError:
    return DomainError(str(exc), field=field)


def _checked_email(value: Any) -> str | None:
    if value is None or value == "":
        return None
    try:
        return normalize_email(str(value))
    except ValueError as exc:
        raise _refuse(exc, "email") from exc


def _checked_webhook(value: Any, policy: WebhookPolicy) -> str | None:
    if value is None or value == "":
        return None
    try:
        policy.target(str(value))
    except ValueError as exc:
        raise _refuse(exc, "webhook_url") from exc
    except OSError:
        pass  # not resolvable now: the delivery resolves and checks again before connecting
    return str(value)


def checked_destination(data: dict[str, Any], policy: WebhookPolicy) -> dict[str, Any]:
    """`data` with its address normalised and its webhook URL checked; DomainError naming the
    field when the channel's own field is missing or either one is refused."""
    try:
        channel = Channel(data.get("channel") or Channel.email)
    except ValueError as exc:
        raise DomainError("字段“channel”应为 email 或 webhook", field="channel") from exc
    email = _checked_email(data.get("email"))
    webhook_url = _checked_webhook(data.get("webhook_url"), policy)
    if channel == Channel.email and email is None:
        raise DomainError("推送方式为邮件时，字段“email”必须填写一个邮箱地址", field="email")
    if channel == Channel.webhook and webhook_url is None:
        raise DomainError("推送方式为 Webhook 时，字段“webhook_url”必须填写", field="webhook_url")
    return data | {"channel": channel, "email": email, "webhook_url": webhook_url}


def _one_of(data: dict[str, Any], name: str, label: str, allowed: dict[str, str]) -> list[str]:
    values = [str(v) for v in data.get(name) or []]
    wrong = [v for v in values if v not in allowed]
    if wrong:
        choices = "、".join(f"{k}（{v}）" for k, v in allowed.items())
        raise DomainError(
            f"字段“{name}”（{label}）的值“{wrong[0]}”无效，应为以下之一：{choices}", field=name
        )
    return list(dict.fromkeys(values))


def _sector_known(code: str) -> bool:
    return code in STRATEGIC_EMERGING_INDUSTRIES or canonical_industry_code(code) is not None


def _region_known(code: str) -> bool:
    return code.isdigit() and len(code) in (2, 4, 6) and code.ljust(6, "0") in REGIONS


def _codes(data: dict[str, Any], name: str, label: str, known: Any, example: str) -> list[str]:
    values = [str(v).strip() for v in data.get(name) or []]
    wrong = [v for v in values if not known(v)]
    if wrong:
        raise DomainError(
            f"字段“{name}”（{label}）的值“{wrong[0]}”无效，应填代码，如 {example}", field=name
        )
    return list(dict.fromkeys(values))


def _checked_amounts(data: dict[str, Any]) -> None:
    low, high = data.get("min_amount_wan"), data.get("max_amount_wan")
    for name, value in (("min_amount_wan", low), ("max_amount_wan", high)):
        if value is not None and value < 0:
            raise DomainError(f"字段“{name}”（金额，万元）不能为负数", field=name)
    if low is not None and high is not None and low > high:
        raise DomainError(
            f"字段“min_amount_wan”（金额下限 {low:g} 万元）不能大于上限（{high:g} 万元）",
            field="min_amount_wan",
        )


def checked_criteria(data: dict[str, Any]) -> dict[str, Any]:
    """`data` with its criteria checked and de-duplicated; DomainError (Chinese, naming the
    field) for an unknown frequency, financing type, stage, sector or region code, an empty
    name, or an amount range upside down."""
    name = str(data.get("name") or "").strip()
    if not name:
        raise DomainError("字段“name”（订阅名称）不能为空", field="name")
    frequency = str(data.get("frequency") or "weekly")
    if frequency not in FREQUENCIES:
        choices = "、".join(f"{k}（{v}）" for k, v in FREQUENCIES.items())
        raise DomainError(
            f"字段“frequency”（推送频率）的值“{frequency}”无效，应为 {choices}", field="frequency"
        )
    _checked_amounts(data)
    return data | {
        "name": name,
        "frequency": frequency,
        "financing_types": _one_of(data, "financing_types", "融资方式", FinancingType.labels()),
        "stages": _one_of(data, "stages", "发展阶段", Stage.labels()),
        "sectors": _codes(data, "sectors", "行业", _sector_known, "C39、I65 或战略性新兴产业 1"),
        "regions": _codes(data, "regions", "地区", _region_known, "44（广东省）、4403（深圳市）"),
    }


def _trusted_address(session: Session, institution_id: int, email: str | None) -> bool:
    inst = session.get(Institution, institution_id)
    if inst is None:
        raise NotFoundError(f"入驻机构 {institution_id} 不存在", field="institution_id")
    if email is None:
        return True
    try:
        registered = normalize_email(inst.email) if inst.email else None
    except ValueError:
        registered = None
    return registered is not None and registered.lower() == email.lower()


def _within_daily_limit(session: Session, institution_id: int, now: datetime, limit: int) -> None:
    """At most `limit` unconfirmed addresses per institution in 24 h: the confirmation mails
    must not become a way to flood a stranger's mailbox."""
    if repo.unconfirmed_since(session, institution_id, now - timedelta(hours=24)) >= limit:
        raise ConflictError(
            f"本机构 24 小时内待确认的订阅邮箱已达上限（{limit} 个），请先确认已有邮箱或稍后再试",
            field="email",
        )


def create_subscription(
    session: Session,
    data: dict[str, Any],
    *,
    actor: str,
    by_staff: bool,
    policy: WebhookPolicy,
    now: datetime,
    daily_limit: int,
) -> tuple[Subscription, str | None]:
    """Check and insert a subscription (audited); returns it and, for a webhook, its new
    signing secret (shown to the caller once). Check `email_confirmed`: when False, the
    caller queues the confirmation mail (`services.digests.confirmations`)."""
    row = checked_destination(checked_criteria(data), policy)
    trusted = _trusted_address(session, int(row["institution_id"]), row["email"])
    if not (by_staff or trusted):
        _within_daily_limit(session, int(row["institution_id"]), now, daily_limit)
    secret = secrets.token_hex(SECRET_BYTES) if row["webhook_url"] else None
    row |= {"webhook_secret": secret, "email_confirmed": by_staff or trusted}
    sub = create(session, Subscription, row)
    append_audit(session, actor=actor, action="create", entity="subscription", entity_id=sub.id,
                 detail={"email_confirmed": sub.email_confirmed})  # fmt: skip
    return sub, secret


def issue_confirmation(session: Session, sub: Subscription, now: datetime, hours: int) -> str:
    """A new confirmation code for the subscription's address (the previous one stops
    working); only its hash is stored."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    sub.email_token_hash = token_hash(token)
    sub.email_token_expires_at = now + timedelta(hours=hours)
    session.add(sub)
    session.flush()
    return token


def confirm_email(
    session: Session, sub: Subscription, token: str, now: datetime, actor: str
) -> Subscription:
    """Mark the address confirmed when `token` is its current, unexpired code (audited).

    A wrong or expired code changes nothing."""
    if sub.email_confirmed:
        return sub
    expires = sub.email_token_expires_at
    if expires is not None and expires.tzinfo is None:  # SQLite hands timestamps back naive
        expires = expires.replace(tzinfo=now.tzinfo)
    valid = (
        sub.email_token_hash is not None
        and expires is not None
        and now < expires
        and hmac.compare_digest(sub.email_token_hash, token_hash(token))
    )
    if not valid:
        raise DomainError("确认码无效或已过期", field="token")
    sub.email_confirmed = True
    sub.email_token_hash = None
    sub.email_token_expires_at = None
    session.add(sub)
    append_audit(session, actor=actor, action="confirm_email", entity="subscription",
                 entity_id=sub.id)  # fmt: skip
    session.flush()
    return sub


def deactivate(session: Session, sub: Subscription, actor: str) -> Subscription:
    """Stop a subscription (kept for the delivery history; audited)."""
    sub.active = False
    session.add(sub)
    append_audit(session, actor=actor, action="deactivate", entity="subscription",
                 entity_id=sub.id)  # fmt: skip
    return sub
