"""Tier entry rules (as data), tier history, milestones, and Appendix A's listing fields."""

from datetime import date

import pytest
from sqlmodel import Session

from models.errors import ConflictError, DomainError
from models.reference import Board, ListingMilestoneKind, ListingTier
from services.listing import (
    check_entry,
    move_tier,
    record_milestone,
    repository,
    tier_history,
)
from tests import factories
from tests.services.listing.rows import cultivated, strong_financials

TODAY = date(2026, 6, 30)


def clock() -> date:
    return TODAY


def test_entering_cultivation_needs_revenue_or_a_qualification(session: Session) -> None:
    record = cultivated(session, qualifications=[], revenue_wan=1500.0)
    assert record.id is not None
    check = check_entry(session, record.id, ListingTier.cultivation, clock=clock)
    assert not check.allowed
    with pytest.raises(DomainError, match="不满足培育层准入条件"):
        move_tier(session, record.id, ListingTier.cultivation, clock=clock)
    qualified = cultivated(session, qualifications=["专精特新"], revenue_wan=1500.0)
    assert qualified.id is not None
    move_tier(session, qualified.id, ListingTier.cultivation, clock=clock)
    assert qualified.tier is ListingTier.cultivation


def test_entering_coaching_needs_share_reform_sponsor_and_a_board_in_reach(
    session: Session,
) -> None:
    record = cultivated(session, tier=ListingTier.cultivation, net_profit_wan=-500.0)
    assert record.id is not None
    failing = {
        r.label
        for r in check_entry(session, record.id, ListingTier.coaching, clock=clock).failing()
    }
    assert failing == {"完成股份制改造", "已确定辅导/主办券商", "目标板块财务指标基本具备"}
    strong_financials(session, record.enterprise_id)
    record.sponsor_institution_id = factories.institution(session, kind="securities").id
    record_milestone(
        session, record.id, ListingMilestoneKind.shareholding_reform, date(2026, 3, 1), clock=clock
    )
    change = move_tier(session, record.id, ListingTier.coaching, on=date(2026, 4, 1), clock=clock)
    assert change.tier is ListingTier.coaching and record.tier is ListingTier.coaching


def test_a_tier_cannot_be_skipped_without_force_and_a_note(session: Session) -> None:
    record = cultivated(session)
    assert record.id is not None
    with pytest.raises(DomainError, match="越级"):
        move_tier(session, record.id, ListingTier.filing, clock=clock)
    with pytest.raises(DomainError, match="注明原因"):
        move_tier(session, record.id, ListingTier.filing, force=True, clock=clock)
    move_tier(
        session, record.id, ListingTier.filing, force=True, note="跨区域转入，已在申报", clock=clock
    )
    assert record.tier is ListingTier.filing


def test_moving_down_needs_a_reason_and_history_keeps_every_stay(session: Session) -> None:
    record = cultivated(session, tier=ListingTier.cultivation, since=date(2025, 1, 1))
    assert record.id is not None
    with pytest.raises(DomainError, match="须注明原因"):
        move_tier(session, record.id, ListingTier.reserve, on=date(2025, 6, 1), clock=clock)
    move_tier(
        session, record.id, ListingTier.reserve, on=date(2025, 6, 1), note="业绩下滑", clock=clock
    )
    stays = tier_history(session, record.id, clock=clock)
    assert [(s.tier, s.days) for s in stays] == [
        (ListingTier.cultivation, 151),
        (ListingTier.reserve, (TODAY - date(2025, 6, 1)).days),
    ]


def test_listing_milestone_marks_the_record_listed_for_appendix_a(session: Session) -> None:
    record = cultivated(session, tier=ListingTier.filing, board=Board.chinext)
    assert record.id is not None
    record_milestone(
        session, record.id, ListingMilestoneKind.listed, date(2026, 5, 20), clock=clock
    )
    assert (record.listed_board, record.listed_on, record.tier) == (
        Board.chinext,
        date(2026, 5, 20),
        ListingTier.listed,
    )
    history = repository.tier_changes(session, [record.id])[record.id]
    assert history[-1].tier is ListingTier.listed
    with pytest.raises(ConflictError):
        record_milestone(
            session, record.id, ListingMilestoneKind.listed, date(2026, 5, 21), clock=clock
        )


def test_a_milestone_cannot_be_in_the_future(session: Session) -> None:
    record = cultivated(session)
    assert record.id is not None
    with pytest.raises(DomainError, match="不能晚于今天"):
        record_milestone(
            session,
            record.id,
            ListingMilestoneKind.shareholding_reform,
            date(2026, 7, 1),
            clock=clock,
        )
