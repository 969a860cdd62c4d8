"""Deal-flow subscriptions and their digest deliveries: an institution sees only its own."""

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.deps import (
    CurrentPrincipal,
    PageDep,
    PathId,
    SessionDep,
    SettingsDep,
    StaffOrInstitution,
    confined_to,
)
from api.schemas import ListOf, StrictIn
from models import DigestDelivery, Subscription
from models.base import utcnow
from models.errors import DomainError
from models.paging import page_of
from models.reference import Channel, DeliveryStatus, UserRole
from models.subscription import SubscriptionBase
from services.accounts.service import Principal
from services.digests import subscriptions as service
from services.digests.checks import WebhookPolicy, normalize_email, parse_webhook_url
from services.digests.confirmations import CONFIRM_TASK
from services.jobs import enqueue

router = APIRouter(tags=["subscriptions"])


class SubscriptionIn(StrictIn, SubscriptionBase):  # type: ignore[misc]  # both configs are dicts
    """A new subscription (an institution user subscribes for its own institution).

    `email` is one plain address; an address other than the institution's registered one
    receives a confirmation code first. `webhook_url` is https and must not point into a
    private network; the signing secret is generated and returned once."""

    @field_validator("email")
    @classmethod
    def _one_address(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return normalize_email(value)
        except ValueError as exc:
            raise DomainError(str(exc), field="email") from exc

    @field_validator("webhook_url")
    @classmethod
    def _well_formed_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            parse_webhook_url(value)
        except ValueError as exc:
            raise DomainError(str(exc), field="webhook_url") from exc
        return value


class SubscriptionOut(SubscriptionBase):
    """A subscription (the webhook secret is never shown)."""

    id: int
    email_confirmed: bool = Field(description="接收邮箱是否已确认（未确认前不发送推送）")
    paused_reason: str | None = Field(
        default=None, description="暂停推送的原因（如入驻协议已到期）；新协议生效后自动恢复"
    )


class SubscriptionCreated(SubscriptionOut):
    """A new subscription, with its webhook signing secret: shown this once, never again."""

    webhook_secret: str | None = Field(
        default=None, description="Webhook 签名密钥（HMAC-SHA256），仅在创建时返回一次"
    )


class EmailConfirmationIn(StrictIn):
    """The confirmation code mailed to the subscription's address."""

    token: str = Field(min_length=1, max_length=200)


class DeliveryOut(BaseModel):
    """One digest delivery."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    subscription_id: int
    period: str
    channel: Channel
    status: DeliveryStatus
    item_count: int
    attempts: int
    model_version: str | None = Field(default=None, description="排序所用模型版本")


def _owned(session: SessionDep, principal: Principal, subscription_id: int) -> Subscription:
    sub = session.get(Subscription, subscription_id)
    mine = principal.role != UserRole.institution or (
        sub and sub.institution_id == principal.institution_id
    )
    if sub is None or not mine:
        raise HTTPException(status_code=404, detail=f"订阅 {subscription_id} 不存在")
    return sub


@router.get("/subscriptions", response_model=ListOf[SubscriptionOut])
def list_subscriptions(
    session: SessionDep, principal: StaffOrInstitution, page: PageDep
) -> ListOf[SubscriptionOut]:
    """Subscriptions (an institution sees its own)."""
    own = confined_to(principal)
    rows, count = page_of(session, Subscription, page.offset, page.limit, "id", institution_id=own)
    return ListOf(
        data=[SubscriptionOut.model_validate(r, from_attributes=True) for r in rows], count=count
    )


@router.post("/subscriptions", response_model=SubscriptionCreated, status_code=201)
def subscribe(
    body: SubscriptionIn, session: SessionDep, principal: CurrentPrincipal, settings: SettingsDep
) -> SubscriptionCreated:
    """Subscribe to deal-flow digests (a third party's address is confirmed by mail first)."""
    own = principal.role == UserRole.institution and principal.institution_id == body.institution_id
    if principal.role != UserRole.admin and not own:
        raise HTTPException(status_code=404, detail=f"入驻机构 {body.institution_id} 不存在")
    sub, secret = service.create_subscription(
        session,
        body.model_dump(),
        actor=principal.username,
        by_staff=principal.role == UserRole.admin,
        policy=WebhookPolicy.from_settings(settings),
        now=utcnow(),
        daily_limit=settings.subscription_confirm_daily_limit,
    )
    if not sub.email_confirmed:
        enqueue(session, CONFIRM_TASK, sub.id)
    out = SubscriptionOut.model_validate(sub, from_attributes=True)
    return SubscriptionCreated(**out.model_dump(), webhook_secret=secret)


@router.post("/subscriptions/{subscription_id}/confirm-email", response_model=SubscriptionOut)
def confirm_email(
    subscription_id: PathId,
    body: EmailConfirmationIn,
    session: SessionDep,
    principal: StaffOrInstitution,
) -> SubscriptionOut:
    """Confirm the subscription's address with the code mailed to it."""
    sub = _owned(session, principal, subscription_id)
    service.confirm_email(session, sub, body.token, utcnow(), actor=principal.username)
    return SubscriptionOut.model_validate(sub, from_attributes=True)


@router.delete("/subscriptions/{subscription_id}", response_model=SubscriptionOut)
def unsubscribe(
    subscription_id: PathId, session: SessionDep, principal: StaffOrInstitution
) -> SubscriptionOut:
    """Stop a subscription (kept for the delivery history)."""
    sub = service.deactivate(
        session, _owned(session, principal, subscription_id), principal.username
    )
    return SubscriptionOut.model_validate(sub, from_attributes=True)


@router.get("/subscriptions/{subscription_id}/deliveries", response_model=ListOf[DeliveryOut])
def deliveries(
    subscription_id: PathId, session: SessionDep, principal: StaffOrInstitution, page: PageDep
) -> ListOf[DeliveryOut]:
    """The digests delivered for one subscription, newest first."""
    _owned(session, principal, subscription_id)
    rows, count = page_of(session, DigestDelivery, page.offset, page.limit,
                          subscription_id=subscription_id)  # fmt: skip
    return ListOf(data=[DeliveryOut.model_validate(r) for r in rows], count=count)
