"""Fakes at the edges of the digest service (clock, mailer, webhook) and subscription factories."""

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

from sqlmodel import Session

from models import Enterprise, FinancingDemand, Institution, Subscription
from models.crud import create
from models.reference import Channel
from services.digests.delivery import DeliveryError
from tests import factories

_seq = itertools.count(1)


class FakeClock:
    """A clock a test moves by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class FakeMailer:
    """Records messages; raises the queued errors first, one per call."""

    def __init__(self, failures: Sequence[DeliveryError] = ()) -> None:
        self.sent: list[EmailMessage] = []
        self.failures = list(failures)

    def send(self, message: EmailMessage) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(message)


class FakeWebhooks:
    """Records posts; raises the queued errors first, one per call."""

    def __init__(self, failures: Sequence[DeliveryError] = ()) -> None:
        self.posts: list[tuple[str, str, dict[str, Any], str]] = []
        self.failures = list(failures)

    def post(self, url: str, secret: str, payload: dict[str, Any], idempotency_key: str) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.posts.append((url, secret, payload, idempotency_key))


def subscription(session: Session, inst: Institution, **over: Any) -> Subscription:
    """An active daily e-mail subscription with no criteria (everything fits) unless overridden."""
    n = next(_seq)
    data: dict[str, Any] = {
        "institution_id": inst.id,
        "name": f"测试订阅{n}",
        "frequency": "daily",
        "channel": Channel.email,
        "email": f"dealflow{n}@example.com",
    }
    return create(session, Subscription, data | over)


def demand(
    session: Session, ent: Enterprise | None = None, updated_at: datetime | None = None, **over: Any
) -> FinancingDemand:
    """A demand of a (new) enterprise, changed at `updated_at`."""
    ent = ent or factories.enterprise(session)
    row = factories.demand(session, ent, **over)
    if updated_at is not None:
        row.updated_at = updated_at
        session.add(row)
        session.flush()
    return row


T0 = datetime(2025, 3, 3, 0, 0, tzinfo=UTC)  # Monday 08:00 in Beijing
