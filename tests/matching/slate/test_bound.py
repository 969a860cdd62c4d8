"""路演排程 line-up bound: exact pricing, and bounds that never fall below a true optimum."""

import math
import time
from dataclasses import replace
from itertools import combinations, product

import numpy as np
import pytest
from ortools.sat.python import cp_model

from matching import slate as slate_module
from matching.slate import SolverParams, core, solve, solve_slate
from matching.slate import bound as slate_bound
from matching.slate import model as slate_model
from matching.slate.bound import HearingInstance, hearing_bound, meeting_bound, price_lineups
from matching.slate.check import check_slate
from tests.matching.slate.test_solve import FAST, event


def brute_force_price(weights: np.ndarray, pi: np.ndarray, alpha: np.ndarray, cap: int) -> float:
    best = 0.0
    for k in range(1, cap + 1):
        for lineup in combinations(range(weights.shape[1]), k):
            cols = list(lineup)
            g = np.maximum(weights[:, cols].sum(axis=1) - pi, 0.0).sum() - alpha[cols].sum()
            best = max(best, float(g))
    return best


def reduced(
    weights: np.ndarray, pi: np.ndarray, alpha: np.ndarray, lineup: tuple[int, ...]
) -> float:
    cols = list(lineup)
    return float(np.maximum(weights[:, cols].sum(axis=1) - pi, 0.0).sum() - alpha[cols].sum())


@pytest.mark.parametrize("seed", range(25))
def test_branch_and_bound_pricing_matches_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_i, n_e, cap = int(rng.integers(1, 7)), int(rng.integers(1, 12)), int(rng.integers(1, 5))
    weights = rng.uniform(0, 100, (n_i, n_e)) * (rng.uniform(0, 1, (n_i, n_e)) < 0.7)
    pi = rng.uniform(0, 150, n_i) * (rng.uniform(0, 1, n_i) < 0.8)
    alpha = rng.uniform(0, 120, n_e) * (rng.uniform(0, 1, n_e) < 0.6)
    priced = price_lineups(weights, pi, alpha, cap, top=5)
    assert priced.best == pytest.approx(brute_force_price(weights, pi, alpha, cap), abs=1e-6)
    if priced.best > 1e-6:  # the line-ups it returns are real and the first is a best one
        assert priced.lineups and all(len(x) <= cap for x in priced.lineups)
        assert reduced(weights, pi, alpha, priced.lineups[0]) == pytest.approx(priced.best)
    else:
        assert priced.lineups == []
    wanted = float(rng.uniform(0, 80))  # only line-ups above it are returned; the max is exact
    some = price_lineups(weights, pi, alpha, cap, top=5, wanted=wanted)
    assert some.best == pytest.approx(priced.best)
    assert all(reduced(weights, pi, alpha, x) > wanted for x in some.lineups)


def test_pricing_finds_the_obvious_line_up_among_many() -> None:
    rng = np.random.default_rng(7)
    weights = rng.uniform(0, 10, (30, 50))
    weights[:, [3, 17, 41]] += 100.0  # three pitches everyone wants
    priced = price_lineups(weights, np.full(30, 250.0), np.zeros(50), cap=5)
    assert {3, 17, 41} <= set(priced.lineups[0])
    assert priced.best >= reduced(weights, np.full(30, 250.0), np.zeros(50), (3, 17, 41))


def exact_hearing(inst: HearingInstance) -> float:
    """Every placement of enterprises into (session, room) or nowhere; investors pick their
    best room per session."""
    n_i, n_e = inst.weights.shape
    places = [None, *product(range(inst.sessions), range(inst.rooms))]
    best = 0.0
    for assign in product(places, repeat=n_e):
        rooms: dict[tuple[int, int], list[int]] = {}
        ok = True
        for e, place in enumerate(assign):
            if place is None:
                continue
            if place[0] not in inst.ent_sessions[e]:
                ok = False
                break
            rooms.setdefault(place, []).append(e)
        if not ok or any(len(v) > inst.cap for v in rooms.values()):
            continue
        total = 0.0
        for s in range(inst.sessions):
            for i in range(n_i):
                if s in inst.inv_sessions[i]:
                    total += max((inst.weights[i, es].sum() for (t, _), es in rooms.items()
                                  if t == s), default=0.0)  # fmt: skip
        best = max(best, total)
    return best


@pytest.mark.parametrize("seed", range(8))
def test_hearing_bound_is_never_below_the_exact_optimum(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_i, n_e = int(rng.integers(1, 5)), int(rng.integers(2, 7))
    n_s = int(rng.integers(1, 3))
    sessions = lambda: {s for s in range(n_s) if rng.uniform() < 0.7} or {0}  # noqa: E731
    inst = HearingInstance(
        weights=np.round(rng.uniform(0, 100, (n_i, n_e)) * (rng.uniform(0, 1, (n_i, n_e)) < 0.8)),
        ent_sessions=[sessions() for _ in range(n_e)],
        inv_sessions=[sessions() for _ in range(n_i)],
        sessions=n_s, rooms=2, cap=2,
    )  # fmt: skip
    exact = exact_hearing(inst)
    full = hearing_bound(inst, time.monotonic() + 30)
    assert full is not None and full.converged
    assert full.bound >= exact - 1e-6
    assert full.bound == pytest.approx(full.lp_value, abs=1e-4)  # converged: the LP's value
    one = hearing_bound(inst, time.monotonic() + 30, max_rounds=1)  # stopped early: still valid
    assert one is not None and one.bound >= exact - 1e-6


def test_meeting_bound_is_never_below_the_best_schedule() -> None:
    rng = np.random.default_rng(3)
    for _ in range(10):
        pairs = [(i, e) for i in range(3) for e in range(3) if rng.uniform() < 0.7]
        options = {p: sorted({int(t) for t in rng.integers(0, 3, 2)}) for p in pairs}
        weight = {p: float(rng.integers(1, 100)) for p in pairs}
        tables = int(rng.integers(1, 3))
        m = cp_model.CpModel()
        x = {(p, t): m.new_bool_var("") for p, ts in options.items() for t in ts}
        for t in range(3):
            m.add(sum(v for (_, k), v in x.items() if k == t) <= tables)
            for who in range(3):
                m.add(sum(v for ((i, _), k), v in x.items() if k == t and i == who) <= 1)
                m.add(sum(v for ((_, e), k), v in x.items() if k == t and e == who) <= 1)
        for p in pairs:
            m.add(sum(v for (q, _), v in x.items() if q == p) <= 1)
        m.maximize(sum(weight[p] * v for (p, _), v in x.items()))
        solver = cp_model.CpSolver()
        assert solver.solve(m) == cp_model.OPTIMAL
        assert meeting_bound(options, weight, tables) >= solver.objective_value - 1e-6


@pytest.mark.parametrize("seed", range(20))
def test_meeting_bound_with_required_must_meets_is_never_below_the_best_schedule(
    seed: int,
) -> None:
    rng = np.random.default_rng(100 + seed)
    pairs = [(i, e) for i in range(3) for e in range(3) if rng.uniform() < 0.7]
    options = {p: sorted({int(t) for t in rng.integers(0, 3, 2)}) for p in pairs}
    weight = {p: float(rng.integers(1, 100)) for p in pairs}
    tables = int(rng.integers(1, 3))
    must = frozenset(p for p in pairs if rng.uniform() < 0.5)
    k = int(rng.integers(0, len(must) + 2))
    m = cp_model.CpModel()
    x = {(p, t): m.new_bool_var("") for p, ts in options.items() for t in ts}
    for t in range(3):
        m.add(sum(v for (_, k_), v in x.items() if k_ == t) <= tables)
        for who in range(3):
            m.add(sum(v for ((i, _), k_), v in x.items() if k_ == t and i == who) <= 1)
            m.add(sum(v for ((_, e), k_), v in x.items() if k_ == t and e == who) <= 1)
    for p in pairs:
        m.add(sum(v for (q, _), v in x.items() if q == p) <= 1)
    m.add(sum(v for (p, _), v in x.items() if p in must) >= k)
    m.maximize(sum(weight[p] * v for (p, _), v in x.items()))
    solver = cp_model.CpSolver()
    status = solver.solve(m)
    bound = meeting_bound(options, weight, tables, (must, k))
    if status != cp_model.INFEASIBLE:  # (then the LP may be infeasible too: inf)
        assert status == cp_model.OPTIMAL
        assert solver.objective_value - 1e-6 <= bound
        assert bound <= meeting_bound(options, weight, tables) + 1e-6  # never looser


def fit_optimum(problem: slate_module.SlateProblem) -> float:
    """The best total fit any slate of the model reaches, tiers ignored (CP-SAT, proven)."""
    ctx = core.build_context(problem, FAST)
    model = slate_model.SlateModel(ctx)
    model.m.maximize(model.total_fit())
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 60
    assert solver.solve(model.m) == cp_model.OPTIMAL
    return solver.objective_value


@pytest.mark.parametrize("seed", range(4))
def test_lineup_bound_is_at_least_the_proven_best_fit_of_tiny_events(seed: int) -> None:
    problem = event(n_ent=5, n_inv=3, seed=seed, n_sessions=2,
                    no_thanks=frozenset({(500, 100 + seed)}))  # fmt: skip
    problem = replace(problem, slots_per_room=2)
    ctx = core.build_context(problem, FAST)
    bound = slate_bound.bound_of(slate_bound.bound_inputs(ctx, [], 0), time.monotonic() + 30)
    assert bound is not None and bound.converged
    assert bound.value >= fit_optimum(problem)
    result = solve_slate(problem, FAST)
    assert check_slate(problem, result) == []
    assert result.bound is not None and result.objective <= result.bound <= bound.value


def test_the_benchmark_sized_bound_is_reported_and_not_below_the_slate() -> None:
    from benchmarks.slate import make_event

    problem = make_event(1)
    result = solve_slate(problem, SolverParams(time_limit_s=15, num_workers=2))
    assert check_slate(problem, result) == []
    assert result.bound is not None and result.gap is not None
    assert result.objective <= result.bound
    assert math.isclose(result.gap, (result.bound - result.objective) / result.bound)
    assert result.lineup_bound is not None  # CP-SAT's phase 3 may find nothing in 15 s
    assert result.bound == min(result.lineup_bound, result.cp_bound or math.inf)


@pytest.mark.parametrize("seed", range(4))
def test_lineup_bound_with_the_must_floor_is_at_least_the_best_fit_holding_the_tiers(
    seed: int,
) -> None:
    """`musts=must_floor(ctx, T)` bounds every slate whose tiers reach the optimum T."""
    rng = np.random.default_rng(seed)
    must = {(500 + int(rng.integers(3)), 100 + int(rng.integers(5))) for _ in range(3)}
    fit = rng.uniform(0, 1, (3, 5)).round(2)
    fit[0, 0] = 0.0  # a must-meet that earns nothing when met
    must.add((500, 100))
    problem = event(n_ent=5, n_inv=3, seed=seed, n_sessions=2, fit=fit,
                    must_meet=frozenset(must), min_contacts=1)  # fmt: skip
    problem = replace(problem, slots_per_room=2, meeting_tables=1)
    ctx = core.build_context(problem, FAST)
    model = slate_model.SlateModel(ctx)
    model.m.maximize(model.tiers())
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    assert solver.solve(model.m) == cp_model.OPTIMAL
    tiers = round(solver.objective_value)
    musts = solve.must_floor(ctx, tiers)
    assert musts > 0  # every enterprise placed: the must-meets count
    model.m.add(model.tiers() >= tiers)
    model.m.maximize(model.total_fit())
    assert solver.solve(model.m) == cp_model.OPTIMAL
    bound = slate_bound.bound_of(slate_bound.bound_inputs(ctx, [], musts), time.monotonic() + 30)
    assert bound is not None and bound.converged
    assert bound.value >= solver.objective_value
    loose = slate_bound.bound_of(slate_bound.bound_inputs(ctx, [], 0), time.monotonic() + 30)
    assert loose is not None and bound.value <= loose.value


def one_room_event(seed: int) -> HearingInstance:
    rng = np.random.default_rng(seed)
    n_i, n_e = int(rng.integers(3, 6)), int(rng.integers(5, 8))
    weights = np.round(rng.uniform(0, 100, (n_i, n_e)) * (rng.uniform(0, 1, (n_i, n_e)) < 0.6))
    return HearingInstance(weights, [{0}] * n_e, [{0}] * n_i, sessions=1, rooms=2, cap=3)


@pytest.mark.parametrize("seed", range(12))
def test_a_pool_too_small_for_the_lp_grows_instead_of_going_round_in_circles(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With room for only 2 columns beside those the LP uses, pruning drops the columns the next
    pricing adds back; the pool must grow until column generation converges, to the same value
    as with the default pool."""
    inst = one_room_event(seed)
    roomy = hearing_bound(inst, time.monotonic() + 30)
    monkeypatch.setattr(slate_bound, "POOL", 2)
    tight = hearing_bound(inst, time.monotonic() + 30, max_rounds=300)
    assert roomy is not None and tight is not None and roomy.converged
    assert tight.converged
    assert tight.bound == pytest.approx(roomy.bound, abs=1e-4)
