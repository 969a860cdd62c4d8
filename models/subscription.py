"""Deal-flow digest subscriptions and their deliveries (one per subscription and period)."""

from datetime import datetime

from sqlalchemy import UniqueConstraint, true
from sqlmodel import Field, SQLModel

from models.base import created_at_field, enum_column, json_column, ts_column
from models.reference import Channel, DeliveryStatus


class SubscriptionBase(SQLModel):
    """Criteria and delivery settings an institution chooses."""

    institution_id: int = Field(foreign_key="institution.id", index=True)
    name: str = Field(max_length=100)
    sectors: list[str] = Field(default_factory=list, sa_column=json_column())
    stages: list[str] = Field(default_factory=list, sa_column=json_column())
    financing_types: list[str] = Field(default_factory=list, sa_column=json_column())
    regions: list[str] = Field(default_factory=list, sa_column=json_column())
    min_amount_wan: float | None = Field(default=None, ge=0)
    max_amount_wan: float | None = Field(default=None, ge=0)
    frequency: str = Field(default="weekly", max_length=10, description="daily | weekly | monthly")
    channel: Channel = Field(default=Channel.email, sa_column=enum_column(Channel))
    email: str | None = Field(default=None, max_length=120)
    webhook_url: str | None = Field(default=None, max_length=300)
    active: bool = True


class Subscription(SubscriptionBase, table=True):
    """A subscription; `webhook_secret` signs webhook bodies and is never exported.

    `email_confirmed` is False while an address outside the institution's registered one waits
    for its owner to confirm it (services/digests/subscriptions.py): no digest goes there until
    then. Rows written by trusted code (staff, the generator, rows older than the check) are
    confirmed; `email_token_hash` is the SHA-256 of the pending confirmation code.
    """

    __tablename__ = "subscription"

    id: int | None = Field(default=None, primary_key=True)
    webhook_secret: str | None = Field(default=None, max_length=128)
    email_confirmed: bool = Field(default=True, sa_column_kwargs={"server_default": true()})
    email_token_hash: str | None = Field(default=None, max_length=64)
    email_token_expires_at: datetime | None = Field(
        default=None, sa_column=ts_column(nullable=True)
    )
    paused_reason: str | None = Field(
        default=None, max_length=200, description="暂停推送的原因（如入驻协议已到期）；空：未暂停"
    )
    created_at: datetime = created_at_field()


class DigestDelivery(SQLModel, table=True):
    """A digest for one subscription and period; the unique key makes delivery idempotent."""

    __tablename__ = "digest_delivery"
    __table_args__ = (UniqueConstraint("subscription_id", "period"),)

    id: int | None = Field(default=None, primary_key=True)
    subscription_id: int = Field(foreign_key="subscription.id", index=True)
    period: str = Field(max_length=20, description="e.g. 2024-W09, 2024-03-01, 2024-03")
    channel: Channel = Field(sa_column=enum_column(Channel))
    status: DeliveryStatus = Field(
        default=DeliveryStatus.pending, sa_column=enum_column(DeliveryStatus, index=True)
    )
    item_count: int = Field(default=0, ge=0)
    demand_ids: list[int] = Field(default_factory=list, sa_column=json_column())
    attempts: int = Field(default=0, ge=0)
    last_error: str | None = Field(default=None, max_length=500)
    model_version: str | None = Field(
        default=None, max_length=40, description="排序所用模型版本（rules-1 或 gbm-…）"
    )
    delivered_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    created_at: datetime = created_at_field()
