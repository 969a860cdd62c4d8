"""Coaching sessions as training events, plan progress, readiness through the DB, and providers."""

from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session

from models import Event, ListingRecord
from models.errors import ConflictError, DomainError
from models.reference import Board, EventKind, InstitutionKind, ListingTier
from services.listing import (
    BoardStatus,
    evaluate_readiness,
    plan_progress,
    rank_providers,
    record_attendance,
    schedule_session,
)
from tests import factories
from tests.services.listing.rows import cultivated, strong_financials

TODAY = date(2026, 6, 30)


def clock() -> date:
    return TODAY


def _at(day: int) -> datetime:
    return datetime(2026, 5, day, 2, 0, tzinfo=UTC)


def test_a_coaching_session_is_a_training_event_and_counts_as_progress(session: Session) -> None:
    record = cultivated(session, tier=ListingTier.coaching, board=Board.bse)
    assert record.id is not None
    held = schedule_session(
        session,
        tier=ListingTier.coaching,
        plan_item="listing_path",
        board=Board.bse,
        starts_at=_at(5),
        ends_at=_at(6),
    )
    event = session.get(Event, held.event_id)
    assert event is not None and event.kind is EventKind.training and "北交所" in event.title
    record_attendance(
        session, event_id=held.event_id, enterprise_id=record.enterprise_id, person_name="张三"
    )
    with pytest.raises(ConflictError):
        record_attendance(
            session, event_id=held.event_id, enterprise_id=record.enterprise_id, person_name="张三"
        )
    steps = {(s.key, s.board): s.attended_on for s in plan_progress(session, record.id)}
    assert steps[("listing_path", Board.bse)] == date(2026, 5, 5)
    assert steps[("share_reform", None)] is None  # an earlier tier's item not yet attended


def test_per_board_items_need_a_board_and_unknown_items_are_refused(session: Session) -> None:
    with pytest.raises(DomainError, match="须指定板块"):
        schedule_session(
            session,
            tier=ListingTier.coaching,
            plan_item="listing_path",
            starts_at=_at(5),
            ends_at=_at(6),
        )
    with pytest.raises(DomainError, match="没有"):
        schedule_session(
            session, tier=ListingTier.reserve, plan_item="nope", starts_at=_at(5), ends_at=_at(6)
        )


def test_readiness_reads_the_multi_year_rows(session: Session) -> None:
    record = cultivated(session)
    strong_financials(session, record.enterprise_id)
    readiness = evaluate_readiness(session, record.enterprise_id, clock=clock)
    assert readiness.fiscal_years == (2023, 2024, 2025)
    assert readiness.board(Board.star).status is BoardStatus.ready
    assert readiness.recommendation.board is Board.star
    data = readiness.to_dict()
    assert data["recommended_board_label"] == "科创板"
    assert {b["board"] for b in data["boards"]} == {b.value for b in Board}


def test_an_enterprise_with_no_figures_is_unknown_not_unmet(session: Session) -> None:
    e = factories.enterprise(session, revenue_wan=None, founded_on=None)
    assert e.id is not None
    readiness = evaluate_readiness(session, e.id, clock=clock)
    assert readiness.recommendation.board is None
    assert all(b.status is not BoardStatus.ready for b in readiness.boards)
    assert all(
        c.verdict.value != "unmet" for b in readiness.boards for s in b.sets for c in s.criteria
    )


def _securities(session: Session, name: str, regions: list[str], focus: str) -> int:
    inst = factories.institution(
        session, name=name, kind=InstitutionKind.securities, regions_served=regions, focus=focus
    )
    assert inst.id is not None
    return inst.id


def test_a_securities_firm_serving_the_region_and_board_ranks_first(session: Session) -> None:
    local = _securities(session, "南山证券股份有限公司", ["4403"], "科创板、创业板保荐承销")
    remote = _securities(session, "北方证券股份有限公司", ["1101"], "债券承销与资产管理")
    record = cultivated(session, board=Board.star)
    track = factories.enterprise(session)
    assert track.id is not None
    session.add(
        ListingRecord(
            enterprise_id=track.id,
            target_board=Board.star,
            tier=ListingTier.listed,
            coaching_started_on=date(2023, 1, 1),
            sponsor_institution_id=local,
            listed_board=Board.star,
            listed_on=date(2025, 1, 1),
        )
    )
    session.flush()
    ranked = rank_providers(session, record.enterprise_id, clock=clock)[InstitutionKind.securities]
    ids = [m.institution_id for m in ranked]
    assert ids.index(local) < ids.index(remote)
    best = next(m for m in ranked if m.institution_id == local)
    assert any("科创板" in r for r in best.reasons) and any("区域" in r for r in best.reasons)


def test_providers_outside_their_resident_agreement_are_not_ranked(session: Session) -> None:
    gone = factories.institution(session, kind=InstitutionKind.law, agreement_end=date(2025, 1, 1))
    record = cultivated(session)
    ranked = rank_providers(session, record.enterprise_id, clock=clock)
    assert gone.id not in [m.institution_id for m in ranked[InstitutionKind.law]]
