"""Deal-flow subscriptions and their digest deliveries: an institution sees only its own."""

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict
from sqlmodel import col, select

from api.deps import CurrentPrincipal, PageDep, PathId, SessionDep, StaffOrInstitution
from api.routing import OffloadedRoute
from api.schemas import ListOf
from api.strict import StrictJSON
from models import DigestDelivery, Subscription
from models.reference import Channel, DeliveryStatus, UserRole
from models.repositories.audit import append_audit
from models.repositories.base import create
from models.repositories.listing_queries import paginate
from models.services.accounts import Principal
from models.subscription import SubscriptionBase

router = APIRouter(route_class=OffloadedRoute, tags=["subscriptions"])


class SubscriptionIn(StrictJSON, SubscriptionBase):  # type: ignore[misc]  # both configs are dicts
    """A new subscription (an institution user subscribes for its own institution)."""


class SubscriptionOut(SubscriptionBase):
    """A subscription (the webhook secret is never shown)."""

    id: int


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
    query = select(Subscription).order_by(col(Subscription.id))
    if principal.role == UserRole.institution:
        query = query.where(Subscription.institution_id == principal.institution_id)
    rows, count = paginate(session, query, page.offset, page.limit)
    return ListOf(
        data=[SubscriptionOut.model_validate(r, from_attributes=True) for r in rows], count=count
    )


@router.post("/subscriptions", response_model=SubscriptionOut, status_code=201)
def subscribe(
    body: SubscriptionIn, session: SessionDep, principal: CurrentPrincipal
) -> SubscriptionOut:
    """Subscribe to deal-flow digests."""
    own = principal.role == UserRole.institution and principal.institution_id == body.institution_id
    if principal.role != UserRole.admin and not own:
        raise HTTPException(status_code=404, detail=f"入驻机构 {body.institution_id} 不存在")
    sub = create(session, Subscription, body.model_dump())
    append_audit(
        session, actor=principal.username, action="create", entity="subscription", entity_id=sub.id
    )
    return SubscriptionOut.model_validate(sub, from_attributes=True)


@router.delete("/subscriptions/{subscription_id}", response_model=SubscriptionOut)
def unsubscribe(
    subscription_id: PathId, session: SessionDep, principal: StaffOrInstitution
) -> SubscriptionOut:
    """Stop a subscription (kept for the delivery history)."""
    sub = _owned(session, principal, subscription_id)
    sub.active = False
    session.add(sub)
    append_audit(session, actor=principal.username, action="deactivate", entity="subscription",
                 entity_id=subscription_id)  # fmt: skip
    return SubscriptionOut.model_validate(sub, from_attributes=True)


@router.get("/subscriptions/{subscription_id}/deliveries", response_model=ListOf[DeliveryOut])
def deliveries(
    subscription_id: PathId, session: SessionDep, principal: StaffOrInstitution, page: PageDep
) -> ListOf[DeliveryOut]:
    """The digests delivered for one subscription, newest first."""
    _owned(session, principal, subscription_id)
    query = select(DigestDelivery).where(DigestDelivery.subscription_id == subscription_id)
    rows, count = paginate(
        session, query.order_by(col(DigestDelivery.id).desc()), page.offset, page.limit
    )
    return ListOf(data=[DeliveryOut.model_validate(r) for r in rows], count=count)
