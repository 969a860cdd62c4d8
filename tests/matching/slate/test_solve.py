"""路演排程 solver: every slate passes the independent checker; wishes, fairness, re-solve, seeds."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import product

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.slate import (
    Meeting,
    Pitch,
    SlateEnterprise,
    SlateInvestor,
    SlateItem,
    SlateProblem,
    SlateResult,
    SlateSession,
    SolverParams,
    core,
    greedy_slate,
    solve_slate,
)
from matching.slate import bound as slate_bound
from matching.slate import model as slate_model
from matching.slate import solve as slate_solve
from matching.slate.check import check_slate

DAY = datetime(2026, 7, 21, 1, 30, tzinfo=UTC)
# Deterministic: the limit is CP-SAT work, not wall-clock time, so a loaded machine (a full,
# parallel test run) cannot cut a phase short and change what these tests see.
FAST = SolverParams(time_limit_s=1.0, num_workers=1, deterministic=True)


def sessions(n: int) -> tuple[SlateSession, ...]:
    """n sessions of 2 h 10 min: 3 pitches of 15 min, then 4 meeting rounds of 20 min."""
    return tuple(
        SlateSession(
            10 + k, DAY + timedelta(hours=3 * k), DAY + timedelta(hours=3 * k, minutes=130)
        )
        for k in range(n)
    )


def event(
    n_ent: int = 8, n_inv: int = 6, seed: int = 0, n_sessions: int = 2, **over: object
) -> SlateProblem:
    rng = np.random.default_rng(seed)
    base = SlateProblem(
        sessions=sessions(n_sessions),
        rooms=("A厅", "B厅"),
        slots_per_room=3,
        meeting_tables=2,
        enterprises=tuple(SlateEnterprise(100 + e) for e in range(n_ent)),
        investors=tuple(SlateInvestor(500 + i) for i in range(n_inv)),
        fit=rng.uniform(0, 1, (n_inv, n_ent)).round(2),
        min_contacts=2,
    )
    return replace(base, **over)  # type: ignore[arg-type]


def assert_valid(problem: SlateProblem, result: SlateResult) -> None:
    assert result.status in ("optimal", "feasible"), result.notes
    assert check_slate(problem, result) == []


def test_cp_slate_on_a_fixed_event_is_valid_and_beats_or_ties_greedy() -> None:
    problem = event(must_meet=frozenset({(500, 101)}), no_thanks=frozenset({(501, 102)}))
    cp, greedy = solve_slate(problem, FAST), greedy_slate(problem)
    assert_valid(problem, cp)
    assert_valid(problem, greedy)
    assert cp.metrics is not None and greedy.metrics is not None
    tiers = lambda m: (m.placed, len(m.must_meets_met), m.fairness)  # noqa: E731
    assert tiers(cp.metrics) >= tiers(greedy.metrics)
    assert cp.bound is not None and cp.objective <= cp.bound + 1e-6
    assert {p.enterprise_id for p in cp.pitches} == {e.id for e in problem.enterprises}


def test_must_meets_come_first_and_no_thanks_never_meet() -> None:
    fit = np.full((6, 8), 0.9)
    fit[0, 3] = 0.0  # an unattractive pair that investor 500 must nevertheless meet
    problem = event(fit=fit, must_meet=frozenset({(500, 103), (502, 104)}),
                    no_thanks=frozenset({(501, 100), (501, 101), (503, 105)}))  # fmt: skip
    result = solve_slate(problem, FAST)
    assert_valid(problem, result)
    met = {(m.investor_id, m.enterprise_id) for m in result.meetings}
    assert {(500, 103), (502, 104)} <= met and result.unmet_must_meets == []
    assert not met & problem.no_thanks


def test_each_meeting_follows_the_enterprise_pitch() -> None:
    problem = event(n_ent=12, n_inv=6)
    result = solve_slate(problem, FAST)
    pitch = {p.enterprise_id: p for p in result.pitches}
    assert result.meetings and all(m.start >= pitch[m.enterprise_id].end for m in result.meetings)


def test_too_many_enterprises_get_a_reason_each() -> None:
    problem = event(n_ent=14, n_inv=4)  # 2 sessions × 2 rooms × 3 slots = 12 slots
    result = solve_slate(problem, FAST)
    assert_valid(problem, result)
    assert len(result.pitches) == 12 and len(result.unplaced) == 2
    assert all("已全部排满" in u.reason for u in result.unplaced)


def test_unavailable_enterprise_is_unplaced_with_its_reason() -> None:
    ents = (SlateEnterprise(100, frozenset({99})), *event().enterprises[1:])
    problem = event(enterprises=ents)
    result = solve_slate(problem, FAST)
    assert [(u.enterprise_id, u.reason) for u in result.unplaced] == [
        (100, "所填可参加场次均不在本次路演的场次内")
    ]


def test_infeasible_fairness_is_reported_with_reasons() -> None:
    fit = np.zeros((6, 8))
    fit[:, :4] = 0.9  # enterprises 104–107 have no relevant investor at all
    problem = event(fit=fit, min_contacts=3)
    result = solve_slate(problem, FAST)
    assert_valid(problem, result)
    short = {s.enterprise_id: s for s in result.shortfalls}
    assert set(short) == {104, 105, 106, 107}
    assert all(s.contacts == 0 and "仅 0 家" in s.reason for s in short.values())
    assert result.metrics is not None
    assert all(result.metrics.contacts[e] >= 3 for e in (100, 101, 102, 103))


def test_resolve_after_cancellation_keeps_confirmed_items_and_moves_few() -> None:
    problem = event(n_ent=10, n_inv=6)
    first = solve_slate(problem, FAST)
    gone = first.pitches[0].enterprise_id
    everything: list[SlateItem] = [*first.pitches, *first.attendance, *first.meetings]
    confirmed: tuple[SlateItem, ...] = (
        *first.pitches[1:3],
        *[m for m in first.meetings if m.enterprise_id != gone][:2],
    )
    rest = [x for x in everything
            if x not in confirmed and getattr(x, "enterprise_id", None) != gone]  # fmt: skip
    again = replace(problem, enterprises=tuple(e for e in problem.enterprises if e.id != gone),
                    fit=np.delete(problem.fit, [e.id for e in problem.enterprises].index(gone), 1),
                    confirmed=confirmed, previous=tuple(rest))  # fmt: skip
    second = solve_slate(again, FAST)
    assert_valid(again, second)
    kept = {*second.pitches, *second.attendance, *second.meetings}
    assert set(confirmed) <= kept
    assert second.moved <= 2
    assert second.metrics is not None and second.metrics.placed == 9


def test_conflicting_confirmed_items_make_the_run_infeasible_with_reasons() -> None:
    p = event()
    a, b = p.enterprises[0].id, p.enterprises[1].id
    clash = (Pitch(a, 10, "A厅", 0, DAY, DAY + timedelta(minutes=15)),
             Pitch(b, 10, "A厅", 0, DAY, DAY + timedelta(minutes=15)),
             Pitch(p.enterprises[2].id, 10, "A厅", 1, DAY, DAY),
             Pitch(p.enterprises[3].id, 10, "A厅", 2, DAY, DAY),
             Pitch(p.enterprises[4].id, 10, "A厅", 2, DAY, DAY))  # fmt: skip
    result = solve_slate(replace(p, confirmed=clash), FAST)
    assert result.status == "infeasible"
    assert len(result.unplaced) == len(p.enterprises) and result.unplaced[0].reason


def test_same_seed_same_slate() -> None:
    problem = event(n_ent=10, n_inv=8, seed=3)
    params = SolverParams(time_limit_s=0.3, random_seed=7, num_workers=2, deterministic=True)
    one, two = solve_slate(problem, params), solve_slate(problem, params)
    assert (one.pitches, one.attendance, one.meetings) == (
        two.pitches,
        two.attendance,
        two.meetings,
    )
    assert one.objective == two.objective


def test_the_checker_catches_planted_violations() -> None:
    problem = event(no_thanks=frozenset({(500, 100)}), must_meet=frozenset({(501, 101)}))
    good = solve_slate(problem, FAST)
    p0 = next(p for p in good.pitches if p.enterprise_id == 100)
    early = Meeting(500, 100, 9, p0.start - timedelta(minutes=5), p0.start + timedelta(minutes=15))
    x, y = [p for p in good.pitches if p.enterprise_id != 100][:2]
    double = replace(y, enterprise_id=x.enterprise_id)
    bad = replace(good, meetings=[*good.meetings, early], pitches=[*good.pitches, double],
                  unmet_must_meets=[])  # fmt: skip
    messages = " ".join(check_slate(problem, bad))
    for needle in ("桌号越界", "路演 2 次", "时间重叠", "不愿会见", "早于其路演"):
        assert needle in messages, needle


@st.composite
def events(draw: st.DrawFn) -> SlateProblem:
    n_s = draw(st.integers(1, 3))
    n_e, n_i = draw(st.integers(1, 12)), draw(st.integers(1, 6))
    ids = list(range(10, 10 + n_s))
    avail = st.frozensets(st.sampled_from(ids), max_size=n_s)
    ents = tuple(SlateEnterprise(100 + e, draw(avail)) for e in range(n_e))
    invs = tuple(SlateInvestor(500 + i, draw(avail)) for i in range(n_i))
    pairs = st.frozensets(st.tuples(st.sampled_from([i.id for i in invs]),
                                    st.sampled_from([e.id for e in ents])), max_size=4)  # fmt: skip
    fit = draw(st.lists(st.floats(0, 1), min_size=n_i * n_e, max_size=n_i * n_e))
    return SlateProblem(
        sessions=sessions(n_s), rooms=("A厅", "B厅")[: draw(st.integers(1, 2))],
        slots_per_room=draw(st.integers(1, 3)), meeting_tables=draw(st.integers(0, 2)),
        enterprises=ents, investors=invs, fit=np.array(fit).reshape(n_i, n_e),
        must_meet=draw(pairs), no_thanks=draw(pairs), min_contacts=draw(st.integers(0, 3)),
        room_seats=draw(st.one_of(st.none(), st.integers(1, 4))),
    )  # fmt: skip


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events())
def test_generated_events_give_valid_slates(problem: SlateProblem) -> None:
    cp = solve_slate(problem, SolverParams(time_limit_s=0.3, num_workers=1))
    assert_valid(problem, cp)
    assert_valid(problem, greedy_slate(problem))
    assert cp.metrics is not None
    assert cp.bound is None or cp.objective <= cp.bound  # CP-SAT's or the line-up bound
    placed = {p.enterprise_id for p in cp.pitches}
    assert {u.enterprise_id for u in cp.unplaced} == {e.id for e in problem.enterprises} - placed


@pytest.mark.parametrize("bad_shape", [(2, 3), (6, 7)])
def test_a_fit_matrix_of_the_wrong_shape_is_refused(bad_shape: tuple[int, int]) -> None:
    with pytest.raises(ValueError, match="fit has shape"):
        solve_slate(event(fit=np.zeros(bad_shape)), FAST)


def test_splits_of_fifteen_pitches_into_three_rooms_of_five_are_all_enumerated() -> None:
    parts = core.partitions(15, 3, 5, 200_000)
    assert parts is not None and len(parts) == 126126  # 15! / (5!³ · 3!)
    assert all(len(p) == 3 and sum(bin(m).count("1") for m in p) == 15 for p in parts[:100])
    assert core.partitions(15, 3, 5, 1000) is None  # over the limit: refused


def test_the_polish_and_searches_keep_the_tiers_and_never_lower_fit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    problem = event(n_ent=12, n_inv=8, seed=5, must_meet=frozenset({(500, 101)}))
    params = replace(FAST, time_limit_s=0.5)
    tuned = solve_slate(problem, params)
    for step in ("resplit_sessions", "_improve", "rebook"):  # CP-SAT's phases alone
        monkeypatch.setattr(slate_solve, step, lambda _ctx, a, *_args: a)
    base = solve_slate(problem, params)
    for result in (base, tuned):
        assert_valid(problem, result)
    assert base.metrics is not None and tuned.metrics is not None
    tiers = lambda m: (m.placed, len(m.must_meets_met), m.fairness)  # noqa: E731
    assert tiers(tuned.metrics) == tiers(base.metrics)
    assert tuned.bound is not None and tuned.objective <= tuned.bound + 1e-6


def test_a_run_without_a_cp_solution_in_time_falls_back_to_the_checked_greedy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What a loaded machine did to 0.3 s runs: CP-SAT returned UNKNOWN before any solution."""

    def no_solution(self: slate_model.Runner, name: str, *_: object, **__: object) -> bool:
        self.phases.append(slate_model.Phase(name, slate_model.cp_model.UNKNOWN, 0.0, 0.0))
        return False

    monkeypatch.setattr(slate_model.Runner, "phase", no_solution)
    problem = event(n_ent=12, n_inv=8, seed=2)
    result = solve_slate(problem, FAST)
    assert_valid(problem, result)
    assert result.bound is None and result.notes == [
        "CP-SAT 在时限内未找到解，返回贪心排程（未证明界）"
    ]
    assert result.objective == greedy_slate(problem).objective


def _heard(ctx: core.Context, invs: list[int], rooms: list[list[int]]) -> int:
    """Σ over investors of their best allowed room (a room with a no-thanks pitch: 0)."""
    total = 0
    for i in invs:
        total += max(
            0 if any((i, e) in ctx.banned for e in room) else int(sum(ctx.fit[i, e] for e in room))
            for room in rooms
        )
    return total


@pytest.mark.parametrize("seed", range(6))
def test_the_exact_split_of_a_session_matches_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    banned = frozenset((500 + int(rng.integers(5)), 100 + int(rng.integers(7))) for _ in range(4))
    problem = replace(event(n_ent=7, n_inv=5, seed=seed, n_sessions=1, no_thanks=banned),
                      rooms=("A厅", "B厅", "C厅"), slots_per_room=3)  # fmt: skip
    ctx = core.build_context(problem, FAST)
    none = core.Assignment({}, {}, {}, {})
    a = core.greedy_from(ctx, none, none)
    assert len(a.pitch) == 7
    lineups = core.best_lineups(ctx, a, 0)
    assert lineups is not None and sorted(e for room in lineups for e in room) == list(range(7))
    invs = list(range(5))
    best = max(
        _heard(ctx, invs, [[e for e in range(7) if labels[e] == r] for r in range(3)])
        for labels in product(range(3), repeat=7)
        if max(labels.count(r) for r in range(3)) <= 3
    )
    assert _heard(ctx, invs, lineups) == best


def test_bounds_on_whole_points_round_down_past_float_noise() -> None:
    """CP-SAT reported 937.9999999999999 for a proven optimum of 938 (a hypothesis example):
    taken as is, the bound sat below the objective. Total fit is whole points."""
    assert slate_bound.whole_points_bound(937.9999999999999) == 938
    assert slate_bound.whole_points_bound(938.0) == 938
    assert slate_bound.whole_points_bound(938.7) == 938
    assert slate_bound.whole_points_bound(937.99) == 937  # real fractions still round down
    assert slate_bound.whole_points_bound(0.0) == 0


def test_the_greedy_books_the_must_meet_with_fewest_rounds_first() -> None:
    """Investor 500 comes to the short middle session (one round) and the last one. Taken in
    pair order, 100's must-meet (pitch in the first session) would spend the middle round, the
    only one 101 (middle session only) has."""
    hour = timedelta(hours=1)
    problem = replace(
        event(n_ent=2, n_inv=1), rooms=("A厅",), meeting_tables=1, min_contacts=0,
        sessions=(SlateSession(10, DAY, DAY + timedelta(minutes=130)),
                  SlateSession(11, DAY + 3 * hour, DAY + 3 * hour + timedelta(minutes=65)),
                  SlateSession(12, DAY + 6 * hour, DAY + 6 * hour + timedelta(minutes=130))),
        enterprises=(SlateEnterprise(100), SlateEnterprise(101, frozenset({11}))),
        investors=(SlateInvestor(500, frozenset({11, 12})),),
        must_meet=frozenset({(500, 100), (500, 101)}),
    )  # fmt: skip
    ctx = core.build_context(problem, FAST)
    a = core.Assignment(pitch={0: ctx.slot_at[0, 0, 0], 1: ctx.slot_at[1, 0, 0]})
    core.Greedy(ctx, a).run()
    assert set(a.meet) == {(0, 0), (0, 1)}
    assert ctx.table.rounds[a.meet[0, 1]].session == 1  # the middle round went to 101
    assert ctx.table.rounds[a.meet[0, 0]].session == 2
