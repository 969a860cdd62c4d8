"""路演排程 session-swap search: never lowers fit or the phase-1 value; finds the obvious swap."""

import math
from dataclasses import replace

import numpy as np
import pytest

from matching.slate import SlateEnterprise, SlateInvestor, core, search, solve
from matching.slate.check import check_slate
from matching.slate.core import Assignment
from matching.slate.search import swap_sessions
from tests.matching.slate.test_solve import FAST, event


@pytest.mark.parametrize("seed", range(6))
def test_search_never_lowers_fit_or_the_tiers_and_keeps_the_slate_valid(seed: int) -> None:
    rng = np.random.default_rng(seed)
    base = event(n_ent=14, n_inv=8, seed=seed, n_sessions=3)
    ents = tuple(SlateEnterprise(e.id, frozenset(int(s) for s in rng.choice([10, 11, 12], 2)))
                 for e in base.enterprises)  # fmt: skip
    invs = tuple(SlateInvestor(i.id, frozenset({10 + seed % 3, 11})) for i in base.investors)
    problem = replace(base, enterprises=ents, investors=invs,
                      must_meet=frozenset({(500, 100), (501, 102)}),
                      no_thanks=frozenset({(502, 103), (503, 104)}))  # fmt: skip
    ctx = core.build_context(problem, FAST)
    start = core.greedy_from(ctx, Assignment(), Assignment())
    floor = core.tiers_of(ctx, start)
    found = swap_sessions(ctx, start, {0, 1, 2}, floor, math.inf)
    assert core.fit_of(ctx, found) >= core.fit_of(ctx, start)
    assert core.tiers_of(ctx, found) >= floor
    result = solve.to_result(ctx, found, Assignment(), Assignment(), "feasible")
    assert check_slate(problem, result) == []


def test_search_swaps_pitches_into_the_sessions_their_audience_attends() -> None:
    fit = np.array([[0.1, 0.9], [0.9, 0.1]])  # investor 500 wants 101, investor 501 wants 100
    problem = replace(
        event(n_ent=2, n_inv=2, n_sessions=2),
        rooms=("A厅",), slots_per_room=1, meeting_tables=0, min_contacts=0, fit=fit,
        investors=(SlateInvestor(500, frozenset({10})), SlateInvestor(501, frozenset({11}))),
    )  # fmt: skip
    ctx = core.build_context(problem, FAST)
    wrong = Assignment(pitch={0: ctx.slot_at[0, 0, 0], 1: ctx.slot_at[1, 0, 0]})
    core.fill_seats(ctx, wrong)
    found = swap_sessions(ctx, wrong, {0, 1}, core.tiers_of(ctx, wrong), math.inf)
    assert found.pitch == {1: ctx.slot_at[0, 0, 0], 0: ctx.slot_at[1, 0, 0]}
    assert core.fit_of(ctx, found) == 180
    assert swap_sessions(ctx, wrong, {0}, 0, math.inf) is wrong  # session 1 is pinned: no move


def test_search_moves_a_pitch_into_a_free_slot_and_keeps_its_must_meet() -> None:
    fit = np.array([[0.9, 0.2], [0.8, 0.2]])
    problem = replace(
        event(n_ent=2, n_inv=2, n_sessions=2),
        rooms=("A厅",), slots_per_room=2, meeting_tables=1, min_contacts=0, fit=fit,
        must_meet=frozenset({(501, 100)}),
        investors=(SlateInvestor(500, frozenset({10})), SlateInvestor(501)),
    )  # fmt: skip
    ctx = core.build_context(problem, FAST)
    late = Assignment(pitch={0: ctx.slot_at[1, 0, 0], 1: ctx.slot_at[0, 0, 0]})
    core.Greedy(ctx, late).run()
    assert (1, 0) in late.meet and ctx.table.slots[late.pitch[1]].session == 0
    found = swap_sessions(ctx, late, {0, 1}, core.tiers_of(ctx, late), math.inf)
    assert ctx.table.slots[found.pitch[0]].session == 0  # heard by investor 500 now
    assert (1, 0) in found.meet  # the must-meet is kept, after the (earlier) pitch
    result = solve.to_result(ctx, found, Assignment(), Assignment(), "feasible")
    assert check_slate(problem, result) == []


def test_the_ranking_estimate_is_the_exact_change_of_best_room_values() -> None:
    problem = replace(event(n_ent=10, n_inv=6, seed=4, n_sessions=3), slots_per_room=2)
    ctx = core.build_context(problem, FAST)  # 3 sessions × 2 rooms × 2 slots: 2 free slots
    a = core.greedy_from(ctx, Assignment(), Assignment())
    slots, w = ctx.table.slots, ctx.fit.astype(float)

    def heard(pitch: dict[int, int], s: int) -> float:
        value = np.zeros((len(problem.investors), len(problem.rooms)))
        for e, q in pitch.items():
            if slots[q].session == s:
                value[:, slots[q].room] += w[:, e]
        attend = [s in ctx.inv_sessions[i] for i in range(len(problem.investors))]
        return float(value[attend].max(axis=1).sum())

    ranked = search._ranked(ctx, a, {0, 1, 2}, frozenset())
    assert any(x.back is None for x in ranked) and any(x.back is not None for x in ranked)
    for x in ranked:
        s1 = slots[a.pitch[x.out]].session
        if x.back is None:  # into the best room of the other session (capacity ignored)
            trials = []
            for r in range(len(problem.rooms)):
                moved = dict(a.pitch)
                moved[x.out] = next(
                    q for q, y in enumerate(slots) if (y.session, y.room) == (x.s2, r)
                )
                trials.append(heard(moved, s1) + heard(moved, x.s2))
            after = max(trials)
        else:
            moved = dict(a.pitch)
            moved[x.out], moved[x.back] = a.pitch[x.back], a.pitch[x.out]
            after = heard(moved, s1) + heard(moved, x.s2)
        assert x.gain == pytest.approx(after - heard(a.pitch, s1) - heard(a.pitch, x.s2))


def test_the_kick_grows_while_restarts_find_nothing_and_is_capped() -> None:
    from matching.slate.search import KICK, MAX_KICK, STALE_STEP, _kick

    assert _kick(0) == KICK and _kick(STALE_STEP - 1) == KICK
    assert _kick(STALE_STEP) == KICK + 1 and _kick(5 * STALE_STEP) == KICK + 5
    assert _kick(10**6) == MAX_KICK
