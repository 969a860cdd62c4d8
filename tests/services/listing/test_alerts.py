"""Stalled-enterprise alerts with an injected clock: thresholds from the plan data, or --days."""

from collections.abc import Callable
from datetime import date, timedelta

from sqlmodel import Session

from models.reference import ListingMilestoneKind, ListingTier
from services.listing import find_stalled, move_tier, record_milestone, sync_alerts
from services.listing import repository as repo
from tests.services.listing.rows import cultivated

ENTERED = date(2025, 1, 1)


def at(day: date) -> Callable[[], date]:
    return lambda: day


def test_tier_stall_starts_the_day_after_the_threshold(session: Session) -> None:
    record = cultivated(session, tier=ListingTier.coaching, since=ENTERED)
    limit = 365  # 辅导层 in listing_tiers.json
    assert [
        a
        for a in find_stalled(session, clock=at(ENTERED + timedelta(days=limit)))
        if a.record_id == record.id
    ] == []
    late = [
        a
        for a in find_stalled(session, clock=at(ENTERED + timedelta(days=limit + 1)))
        if a.record_id == record.id
    ]
    assert [(a.kind, a.subject, a.days, a.threshold_days) for a in late] == [
        ("tier", "coaching", limit + 1, limit)
    ]
    assert "辅导层" in late[0].message and "366 天" in late[0].message


def test_days_option_overrides_every_threshold(session: Session) -> None:
    record = cultivated(session, tier=ListingTier.reserve, since=ENTERED)
    today = ENTERED + timedelta(days=31)
    assert not [a for a in find_stalled(session, clock=at(today)) if a.record_id == record.id]
    hits = [a for a in find_stalled(session, clock=at(today), days=30) if a.record_id == record.id]
    assert [a.subject for a in hits] == ["reserve"]


def test_milestone_stall_names_the_next_step(session: Session) -> None:
    record = cultivated(session, tier=ListingTier.filing, since=date(2026, 1, 1))
    assert record.id is not None
    record_milestone(
        session,
        record.id,
        ListingMilestoneKind.application_accepted,
        date(2026, 1, 10),
        clock=at(date(2026, 1, 10)),
    )
    today = date(2026, 1, 10) + timedelta(days=121)  # 申报受理 → 问询: 120 days
    hits = [a for a in find_stalled(session, clock=at(today)) if a.record_id == record.id]
    assert [(a.kind, a.subject, a.next_step) for a in hits] == [
        ("milestone", "application_accepted", "问询")
    ]


def test_listed_records_never_stall(session: Session) -> None:
    record = cultivated(session, tier=ListingTier.listed, since=date(2020, 1, 1))
    assert not [
        a for a in find_stalled(session, clock=at(date(2026, 6, 30))) if a.record_id == record.id
    ]


def test_alerts_are_persisted_once_and_resolved_when_the_enterprise_moves(session: Session) -> None:
    record = cultivated(
        session, tier=ListingTier.reserve, since=ENTERED, qualifications=["high_tech"]
    )
    assert record.id is not None
    late = at(ENTERED + timedelta(days=600))
    first = sync_alerts(session, clock=late)
    again = sync_alerts(session, clock=late)
    mine = [a for a in first.raised if a.listing_record_id == record.id]
    assert len(mine) == 1 and not [a for a in again.raised if a.listing_record_id == record.id]
    move_tier(
        session, record.id, ListingTier.cultivation, on=ENTERED + timedelta(days=600), clock=late
    )
    later = sync_alerts(session, clock=at(ENTERED + timedelta(days=601)))
    assert [a.id for a in later.resolved] == [mine[0].id]
    assert all(a.listing_record_id != record.id for a in repo.alerts(session))
