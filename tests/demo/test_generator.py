"""Invariants of the generated center: identifiers, pipeline order, deals, events, determinism."""

import hashlib
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, func, select

import models
from demo.generator import generate_center
from ingestion.uscc import is_valid_uscc
from models import (
    Attendance,
    ContactPerson,
    Deal,
    Enterprise,
    Event,
    EventParticipant,
    EventSession,
    FinancingDemand,
    InvestmentMandate,
    ListingMilestone,
    ListingRecord,
    ListingTierChange,
    LoanProduct,
    Match,
    MatchTransition,
)
from models.db import make_engine
from models.reference import (
    ALLOWED_TRANSITIONS,
    PIPELINE_ORDER,
    DealType,
    EventKind,
    ListingMilestoneKind,
    PipelineStage,
)

TODAY = date(2026, 6, 30)
SMALL = 300


def _build(
    path: Path, *, seed: int = 42, enterprises: int = SMALL
) -> tuple[Engine, dict[str, int]]:
    engine = make_engine(f"sqlite:///{path}")
    models.metadata.create_all(engine)
    with Session(engine) as session:
        counts = generate_center(session, seed=seed, enterprises=enterprises, today=TODAY)
        session.commit()
    return engine, counts


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Engine, dict[str, int]]:
    return _build(tmp_path_factory.mktemp("gen") / "center.sqlite")


@pytest.fixture
def session(built: tuple[Engine, dict[str, int]]) -> Iterator[Session]:
    with Session(built[0]) as s:
        yield s


def _all(session: Session, model: type[SQLModel]) -> list[Any]:
    """Every row of `model`, in id order."""
    return list(session.exec(select(model).order_by(model.id)).all())  # type: ignore[attr-defined]


def _aware(at: datetime) -> datetime:
    # SQLite hands timestamps back naive; they were stored as UTC.
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _digest(engine: Engine) -> str:
    columns = [
        (Enterprise, ("uscc", "legal_name", "revenue_wan", "qualifications", "stage")),
        (FinancingDemand, ("enterprise_id", "amount_min_wan", "amount_max_wan", "status")),
        (Match, ("demand_id", "institution_id", "stage", "introduced_at")),
        (MatchTransition, ("match_id", "to_stage", "at", "actor")),
        (Deal, ("deal_type", "amount_wan", "closed_on", "match_id")),
        (ListingMilestone, ("listing_record_id", "kind", "occurred_on")),
        (Attendance, ("event_id", "person_key")),
        (EventParticipant, ("event_id", "enterprise_id", "institution_id", "must_meet")),
    ]
    h = hashlib.sha256()
    with Session(engine) as s:
        for model, names in columns:
            for row in _all(s, model):
                h.update(repr([getattr(row, n) for n in names]).encode())
    return h.hexdigest()


def test_counts_are_the_rows_inserted(built: tuple[Engine, dict[str, int]]) -> None:
    engine, counts = built
    with Session(engine) as s:
        for table, n in counts.items():
            rows = s.exec(select(func.count()).select_from(models.metadata.tables[table])).one()
            assert rows == n, table
    assert counts["enterprise"] == SMALL and counts["institution"] >= 50


def test_usccs_are_valid_and_unique(session: Session) -> None:
    codes = [e.uscc for e in _all(session, Enterprise)]
    assert all(c is not None and is_valid_uscc(c) for c in codes)
    assert len(set(codes)) == len(codes)


def test_names_are_unique_and_normalised(session: Session) -> None:
    enterprises = _all(session, Enterprise)
    assert len({e.legal_name for e in enterprises}) == len(enterprises)
    for e in enterprises:
        assert e.normalized_name in e.legal_name
        assert not e.normalized_name.endswith("公司") and not e.normalized_name.startswith("深圳")


def test_enterprise_figures_fit_their_stage(session: Session) -> None:
    ages: dict[str, list[float]] = defaultdict(list)
    for e in _all(session, Enterprise):
        ages[e.stage].append((TODAY - e.founded_on).days / 365.25)
        assert e.rd_staff <= e.employees and e.revenue_wan >= 0 and e.rd_expense_wan > 0
        assert e.sei_category in {str(i) for i in range(1, 10)}
    assert max(ages["seed"]) < 2 and min(ages["mature"]) > 10


def test_contacts_are_fictional(session: Session) -> None:
    for c in _all(session, ContactPerson):
        assert c.phone.startswith("139") and len(c.phone) == 11
        assert c.email.endswith("@example.com")


def test_transitions_follow_the_pipeline(session: Session) -> None:
    by_match: dict[int, list[MatchTransition]] = defaultdict(list)
    for t in _all(session, MatchTransition):
        by_match[t.match_id].append(t)
    for match in _all(session, Match):
        moves = by_match[match.id]
        assert moves[0].from_stage is None and moves[0].to_stage == PipelineStage.recommended
        for before, after in pairwise(moves):
            assert after.from_stage == before.to_stage
            assert after.to_stage in ALLOWED_TRANSITIONS[before.to_stage]
            assert _aware(after.at) > _aware(before.at)
        assert moves[-1].to_stage == match.stage
        assert _aware(moves[-1].at) < datetime(2026, 6, 30, tzinfo=UTC)
        introduced = [t.at for t in moves if t.to_stage == PipelineStage.introduced]
        assert match.introduced_at == (introduced[0] if introduced else None)


def test_deals_are_consistent(session: Session) -> None:
    deals = _all(session, Deal)
    matches = {m.id: m for m in _all(session, Match)}
    demands = {d.id: d for d in _all(session, FinancingDemand)}
    assert {d.deal_type for d in deals} == {DealType.loan, DealType.equity}
    for deal in deals:
        assert deal.amount_wan > 0 and deal.closed_on <= TODAY
        if deal.match_id is None:
            continue
        match = matches[deal.match_id]
        demand = demands[match.demand_id]
        assert match.stage == PipelineStage.closed_won
        assert demand.amount_min_wan <= deal.amount_wan <= demand.amount_max_wan
        assert demand.enterprise_id == deal.enterprise_id


def test_deals_stay_within_the_product_or_mandate(session: Session) -> None:
    products = {p.id: p for p in _all(session, LoanProduct)}
    mandates = {m.id: m for m in _all(session, InvestmentMandate)}
    matches = {m.id: m for m in _all(session, Match)}
    for deal in _all(session, Deal):
        match = matches.get(deal.match_id)
        if match is not None and deal.deal_type == DealType.loan:
            product = products[match.loan_product_id]
            assert product.min_amount_wan <= deal.amount_wan <= product.max_amount_wan
        elif match is not None:
            mandate = mandates[match.mandate_id]
            assert mandate.min_ticket_wan <= deal.amount_wan <= mandate.max_ticket_wan


def test_brokered_and_unbrokered_deals_both_exist(session: Session) -> None:
    """Full-path deals close after the introduction; a few deals the center cannot claim."""
    matches = {m.id: m for m in _all(session, Match)}
    steps = {m: len(ts) for m, ts in _transitions_by_match(session).items()}
    kinds: dict[str, int] = defaultdict(int)
    for deal in _all(session, Deal):
        match = matches.get(deal.match_id)
        if match is None:
            kinds["no_match"] += 1
        elif match.introduced_at is None:
            kinds["never_introduced"] += 1
        elif match.introduced_at.date() > deal.closed_on:
            kinds["closed_before_introduction"] += 1
        else:
            kinds["brokered"] += 1
            assert steps[match.id] == len(PIPELINE_ORDER)
            assert deal.closed_on >= match.introduced_at.date()
    assert min(kinds.values()) >= 2 and len(kinds) == 4
    assert kinds["brokered"] > 2 * (sum(kinds.values()) - kinds["brokered"])


def _transitions_by_match(session: Session) -> dict[int, list[MatchTransition]]:
    out: dict[int, list[MatchTransition]] = defaultdict(list)
    for t in _all(session, MatchTransition):
        out[t.match_id].append(t)
    return out


def test_listing_roads_are_in_order(session: Session) -> None:
    order = list(ListingMilestoneKind)
    milestones: dict[int, list[ListingMilestone]] = defaultdict(list)
    for m in _all(session, ListingMilestone):
        milestones[m.listing_record_id].append(m)
    tiers: dict[int, list[ListingTierChange]] = defaultdict(list)
    for t in _all(session, ListingTierChange):
        tiers[t.listing_record_id].append(t)
    records = _all(session, ListingRecord)
    assert any(r.listed_on for r in records) and any(r.listed_on is None for r in records)
    for record in records:
        steps = sorted(milestones[record.id], key=lambda m: m.occurred_on)
        assert [order.index(m.kind) for m in steps] == sorted(order.index(m.kind) for m in steps)
        assert len({m.occurred_on for m in steps}) == len(steps)
        entered = [t.entered_on for t in tiers[record.id]]
        assert entered == sorted(entered) and entered[0] == record.coaching_started_on
        assert tiers[record.id][-1].tier == record.tier
        assert (record.listed_on is None) == (record.listed_board is None)
        if record.listed_on is not None:
            assert steps[-1].kind == ListingMilestoneKind.listed
            assert steps[-1].occurred_on == record.listed_on <= TODAY


def test_past_events_have_attendance_and_repeat_visitors(session: Session) -> None:
    events = _all(session, Event)
    past = [e for e in events if _aware(e.starts_at) < datetime(2026, 6, 30, tzinfo=UTC)]
    assert sum(e.kind == EventKind.roadshow for e in past) >= 20
    assert sum(e.kind == EventKind.training for e in past) >= 25
    training_ids = {e.id for e in past if e.kind == EventKind.training}
    visits: dict[str, int] = defaultdict(int)
    for a in _all(session, Attendance):
        if a.event_id in training_ids:
            visits[a.person_key] += 1
    assert max(visits.values()) >= 3


def test_upcoming_roadshow_is_ready_for_a_slate(session: Session) -> None:
    upcoming = [
        e
        for e in _all(session, Event)
        if e.kind == EventKind.roadshow and _aware(e.starts_at) > datetime(2026, 6, 30, tzinfo=UTC)
    ]
    assert len(upcoming) == 1
    event = upcoming[0]
    assert len(event.rooms) == 3 and event.slots_per_room == 5 and event.meeting_tables > 0
    sessions = {s.id for s in _all(session, EventSession) if s.event_id == event.id}
    assert len(sessions) == 4
    people = [p for p in _all(session, EventParticipant) if p.event_id == event.id]
    presenters = {p.enterprise_id for p in people if p.role == "presenter"}
    investors = [p for p in people if p.role == "investor"]
    assert len(presenters) >= 30 and len(investors) >= 20
    for p in people:
        assert p.available_session_ids and set(p.available_session_ids) <= sessions
    for inv in investors:
        assert inv.interests and set(inv.must_meet) | set(inv.no_thanks) <= presenters
        assert not set(inv.must_meet) & set(inv.no_thanks)
    assert any(inv.must_meet for inv in investors) and any(inv.no_thanks for inv in investors)


def test_same_seed_same_center_other_seed_other_center(
    built: tuple[Engine, dict[str, int]], tmp_path: Path
) -> None:
    again, _ = _build(tmp_path / "again.sqlite")
    other, _ = _build(tmp_path / "other.sqlite", seed=7)
    assert _digest(again) == _digest(built[0])
    assert _digest(other) != _digest(built[0])


@pytest.mark.slow
def test_full_size_center(tmp_path: Path) -> None:
    engine, counts = _build(tmp_path / "full.sqlite", enterprises=2000)
    assert counts["enterprise"] >= 2000
    assert counts["institution"] >= 50
    assert counts["financing_demand"] >= 1000
    with Session(engine) as s:
        deal_types = [d.deal_type for d in s.exec(select(Deal)).all()]
    assert deal_types.count(DealType.loan) >= 100 and deal_types.count(DealType.equity) >= 40
