"""路演排程 annealing over pitch rooms: exact move deltas, the optimum of small events, must-meets,
pinned pitches, and slates that stay valid and never fall below the phase-1 value."""

import itertools
import math
import random
from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest

from matching import slate as slate_module
from matching.slate import SlateEnterprise, SlateInvestor, SlateSession, core, solve
from matching.slate.anneal import Cooling, _cool, _Rooms, _slate, anneal
from matching.slate.check import check_slate
from matching.slate.core import Assignment
from tests.matching.slate.test_solve import DAY, FAST, event


def _heard(ctx: core.Context, where: dict[int, tuple[int, int]]) -> int:
    """Hearing fit from scratch: every attending investor in its best room without a no-thanks
    pitch (or nowhere, 0)."""
    n_r, total = len(ctx.problem.rooms), 0
    for s in {s for s, _ in where.values()}:
        for i in range(len(ctx.problem.investors)):
            if s not in ctx.inv_sessions[i]:
                continue
            rooms = [[e for e, at in where.items() if at == (s, r)] for r in range(n_r)]
            open_ = [room for room in rooms if not any((i, e) in ctx.banned for e in room)]
            total += max([sum(int(ctx.fit[i, e]) for e in room) for room in open_], default=0)
    return total


def _problem(seed: int) -> slate_module.SlateProblem:
    rng = np.random.default_rng(seed)
    base = event(n_ent=14, n_inv=8, seed=seed, n_sessions=3)
    ents = tuple(SlateEnterprise(e.id, frozenset(int(s) for s in rng.choice([10, 11, 12], 2)))
                 for e in base.enterprises)  # fmt: skip
    invs = tuple(SlateInvestor(i.id, frozenset({10 + seed % 3, 11})) for i in base.investors)
    return replace(base, enterprises=ents, investors=invs,
                   must_meet=frozenset({(500, 100), (501, 102)}),
                   no_thanks=frozenset({(502, 103), (503, 104), (502, 105)}))  # fmt: skip


@pytest.mark.parametrize("seed", range(4))
def test_every_move_changes_hearing_fit_by_its_delta_and_respects_rooms(seed: int) -> None:
    problem = _problem(seed)
    ctx = core.build_context(problem, FAST)
    start = core.greedy_from(ctx, Assignment(), Assignment())
    rooms, rng = _Rooms(ctx, start, ({0, 1, 2}, frozenset())), random.Random(seed)
    assert rooms.value == _heard(ctx, rooms.pos)
    applied = trades = 0
    while applied < 150:
        move = rooms.propose(rng)
        if move is None:
            continue
        before = _heard(ctx, rooms.pos)
        rooms.apply(move)
        applied, trades = applied + 1, trades + (move.f is not None)
        assert _heard(ctx, rooms.pos) - before == pytest.approx(move.delta)
        assert rooms.value == pytest.approx(_heard(ctx, rooms.pos))
        for (s, r), members in rooms.members.items():
            assert len(members) <= problem.slots_per_room
            assert all(s in ctx.ent_sessions[e] and rooms.pos[e] == (s, r) for e in members)
    assert 0 < trades < applied  # both kinds of move were made


def _best_by_brute_force(ctx: core.Context, ents: list[int]) -> int:
    n_s, n_r, cap = len(ctx.problem.sessions), len(ctx.problem.rooms), ctx.problem.slots_per_room
    places = [(s, r) for s in range(n_s) for r in range(n_r)]
    best = 0
    for choice in itertools.product(places, repeat=len(ents)):
        if max(choice.count(p) for p in places) <= cap and all(
            s in ctx.ent_sessions[e] for e, (s, _) in zip(ents, choice, strict=True)
        ):
            best = max(best, _heard(ctx, dict(zip(ents, choice, strict=True))))
    return best


@pytest.mark.parametrize("seed", range(3))
def test_annealing_reaches_the_optimum_of_a_small_event(seed: int) -> None:
    rng = np.random.default_rng(seed)
    problem = replace(
        event(n_ent=6, n_inv=5, seed=seed, n_sessions=2),
        slots_per_room=2, meeting_tables=0, min_contacts=0,
        investors=tuple(SlateInvestor(500 + i, frozenset({10 + int(rng.integers(2))}))
                        for i in range(5)),
        no_thanks=frozenset({(500, 101)}),
    )  # fmt: skip
    ctx = core.build_context(problem, FAST)
    start = core.greedy_from(ctx, Assignment(), Assignment())
    optimum = _best_by_brute_force(ctx, list(range(6)))
    rooms = _Rooms(ctx, start, ({0, 1}, frozenset()))
    assert _heard(ctx, _cool(rooms, random.Random(seed), Cooling(math.inf, 20_000))) == optimum
    found = anneal(ctx, start, {0, 1}, 0, Assignment(), frozenset(), Cooling(math.inf, 20_000))
    assert core.fit_of(ctx, found) == max(optimum, core.fit_of(ctx, start))
    result = solve.to_result(ctx, found, Assignment(), Assignment(), "feasible")
    assert check_slate(problem, result) == []


def test_a_must_meet_keeps_its_enterprise_where_a_round_follows_the_pitch() -> None:
    fit = np.array([[0.1, 0.1], [0.9, 0.9]])  # investor 501 (second session only) wants both
    problem = replace(
        event(n_ent=2, n_inv=2, n_sessions=2),
        rooms=("A厅",), slots_per_room=2, meeting_tables=1, min_contacts=0, fit=fit,
        must_meet=frozenset({(500, 100)}),
        investors=(SlateInvestor(500, frozenset({10})), SlateInvestor(501, frozenset({11}))),
    )  # fmt: skip
    ctx = core.build_context(problem, FAST)
    start = Assignment(pitch={0: ctx.slot_at[0, 0, 0], 1: ctx.slot_at[0, 0, 1]})
    core.Greedy(ctx, start).run()
    assert (0, 0) in start.meet
    floor = core.tiers_of(ctx, start)
    found = anneal(ctx, start, {0, 1}, floor, Assignment(), frozenset(), Cooling(math.inf, 5_000))
    session_of = lambda a, e: ctx.table.slots[a.pitch[e]].session  # noqa: E731
    assert session_of(found, 1) == 1  # to its audience, while 100 stays for its must-meet:
    assert session_of(found, 0) == 0 and (0, 0) in found.meet  # no round of 500 after session 1
    assert core.tiers_of(ctx, found) >= floor
    ctx = core.build_context(replace(problem, must_meet=frozenset()), FAST)
    found = anneal(ctx, start, {0, 1}, 0, Assignment(), frozenset(), Cooling(math.inf, 5_000))
    assert session_of(found, 0) == session_of(found, 1) == 1  # without it, both go


@pytest.mark.parametrize("seed", range(4))
def test_anneal_never_lowers_fit_or_the_tiers_nor_moves_pinned_pitches_to_other_sessions(
    seed: int,
) -> None:
    problem = _problem(seed)
    ctx = core.build_context(problem, FAST)
    start = core.greedy_from(ctx, Assignment(), Assignment())
    floor = core.tiers_of(ctx, start)
    session_of = lambda a, e: ctx.table.slots[a.pitch[e]].session  # noqa: E731
    pinned = frozenset(sorted(e for e in start.pitch if session_of(start, e) < 2)[::5])
    stay = {e: q for e, q in start.pitch.items() if session_of(start, e) == 2}
    found = anneal(ctx, start, {0, 1}, floor, Assignment(), pinned, Cooling(math.inf, 20_000))
    assert core.fit_of(ctx, found) >= core.fit_of(ctx, start)
    assert core.tiers_of(ctx, found) >= floor
    assert len(pinned) >= 2 and all(session_of(found, e) == session_of(start, e) for e in pinned)
    assert all(found.pitch[e] == q for e, q in stay.items())  # session 2 was not annealed
    result = solve.to_result(ctx, found, Assignment(), Assignment(), "feasible")
    assert check_slate(problem, result) == []


def _short_event() -> tuple[core.Context, Assignment]:
    """Two sessions, the second with one meeting round; investor 500 must meet 100–103, who all
    pitch in the first session (and meet 500 in its four rounds); 501 comes to the second only
    and wants 100, 101 and 104."""
    short = (
        SlateSession(10, DAY, DAY + timedelta(minutes=130)),  # 3 pitches + 4 rounds
        SlateSession(11, DAY + timedelta(hours=3), DAY + timedelta(hours=3, minutes=65)),
    )
    fit = np.array([[0.1] * 6, [0.9, 0.9, 0.0, 0.0, 0.6, 0.0]])
    problem = replace(
        event(n_ent=6, n_inv=2), sessions=short, meeting_tables=1, min_contacts=0, fit=fit,
        must_meet=frozenset({(500, 100 + k) for k in range(4)}),
        investors=(SlateInvestor(500), SlateInvestor(501, frozenset({11}))),
    )  # fmt: skip
    ctx = core.build_context(problem, FAST)
    start = Assignment(pitch={e: ctx.slot_at[0, e // 3, e % 3] for e in range(6)})
    core.Greedy(ctx, start).run()
    assert all((0, e) in start.meet for e in range(4))
    return ctx, start


def test_when_rebooking_would_lose_a_must_meet_the_annealed_slate_is_not_taken() -> None:
    ctx, start = _short_event()
    floor = core.tiers_of(ctx, start)
    free = _cool(_Rooms(ctx, start, ({0, 1}, frozenset())), random.Random(0),
                 Cooling(math.inf, 20_000))  # fmt: skip
    assert free[0][0] == free[1][0] == 1  # both go, and one round cannot hold both must-meets:
    lost = _slate(ctx, start, free, Assignment(), ({0, 1}, floor))
    assert core.tiers_of(ctx, lost) < floor
    found = anneal(ctx, start, {0, 1}, floor, Assignment(), frozenset(), Cooling(math.inf, 20_000))
    assert found is start


def test_a_must_meet_out_of_reach_anywhere_does_not_hold_its_enterprise_in_place() -> None:
    def allowed(investor_sessions: frozenset[int], tables: int = 2) -> set[int]:
        problem = replace(
            event(n_ent=4, n_inv=2, n_sessions=3), meeting_tables=tables,
            enterprises=tuple(SlateEnterprise(100 + e, frozenset({10, 11})) for e in range(4)),
            investors=(SlateInvestor(500, investor_sessions), SlateInvestor(501)),
            must_meet=frozenset({(500, 101)}),
        )  # fmt: skip
        ctx = core.build_context(problem, FAST)
        start = core.greedy_from(ctx, Assignment(), Assignment())
        assert ctx.table.slots[start.pitch[1]].session == 0
        return _Rooms(ctx, start, ({0, 1, 2}, frozenset())).allowed[1]

    assert allowed(frozenset({10})) == {0}  # 500's only rounds follow the first session
    assert allowed(frozenset({12})) == {0, 1}  # 500 shares no session with 101
    assert allowed(frozenset({10}), tables=0) == {0, 1}  # no tables: no meeting anywhere


@pytest.mark.parametrize("seed", range(3))
def test_confirmed_meetings_stay_and_pin_their_enterprise_to_its_session(seed: int) -> None:
    problem = _problem(seed)
    ctx = core.build_context(problem, FAST)
    start = core.greedy_from(ctx, Assignment(), Assignment())
    (i, e), t = next((pair, t) for pair, t in start.meet.items() if pair not in ctx.must)
    fixed = Assignment(meet={(i, e): t})
    floor = core.tiers_of(ctx, start)
    found = anneal(ctx, start, {0, 1, 2}, floor, fixed, frozenset({e}), Cooling(math.inf, 20_000))
    assert found.meet[i, e] == t
    assert ctx.table.slots[found.pitch[e]].session == ctx.table.slots[start.pitch[e]].session
    assert core.tiers_of(ctx, found) >= floor


def test_an_event_without_rooms_leaves_everyone_unplaced_with_a_reason() -> None:
    problem = event(rooms=())
    result = slate_module.solve_slate(problem, FAST)
    assert result.pitches == () or not result.pitches
    assert [u.enterprise_id for u in result.unplaced] == [e.id for e in problem.enterprises]
    assert all(u.reason for u in result.unplaced)
