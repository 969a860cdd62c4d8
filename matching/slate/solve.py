"""路演排程 — `solve_slate` (CP-SAT phases, annealing, session-swap search, line-up bound) and
`greedy_slate`, the baseline and CP-SAT's first hint. The model is written up in docs/roadshow.md.
"""

from __future__ import annotations

import math
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from ortools.sat.python import cp_model

from matching.slate.anneal import HOT, REHEAT, Cooling, anneal
from matching.slate.bound import (
    LineupBound,
    bound_inputs,
    bound_of,
    whole_points_bound,
)
from matching.slate.check import check_slate, slate_metrics
from matching.slate.core import (
    Assignment,
    Context,
    build_context,
    count_moved,
    fill_seats,
    fit_of,
    free_sessions,
    greedy_from,
    higher_fit,
    locate,
    rebook,
    resplit_sessions,
    tiers_of,
)
from matching.slate.model import SOLVED, Runner, SlateModel
from matching.slate.problem import (
    Meeting,
    Pitch,
    Seat,
    Shortfall,
    SlateMetrics,
    SlateProblem,
    SlateResult,
    SolverParams,
    Unplaced,
)
from matching.slate.process import bound_beside
from matching.slate.search import iterated_search, swap_sessions


def solve_slate(problem: SlateProblem, params: SolverParams | None = None) -> SlateResult:
    """Draw the slate with CP-SAT.

    Phases, each held at its value before the next: (1) placed enterprises ≫ must-meets kept ≫
    fairness Σ min(relevant contacts, min_contacts); (2) on a re-solve, fewest moved previous
    items; (3) total fit. `objective` is the slate's total fit; `bound` is the smaller of CP-SAT's
    phase-3 bound and the line-up bound (valid for every slate whose tiers reach phase 1's value:
    see `bound_inputs`). Confirmed items are hard constraints.
    """
    params = params or SolverParams()
    clock = time.monotonic()
    ctx = build_context(problem, params)
    fixed, lost = locate(ctx, problem.confirmed)
    previous, _ = locate(ctx, problem.previous)
    model = SlateModel(ctx)
    lost += model.fix(fixed)
    free = free_sessions(ctx, fixed, previous)
    start = greedy_from(ctx, fixed, previous)  # keeps what it can of the previous slate
    reserve = min(1.5, 0.05 * params.time_limit_s)  # for reading out, checking, overruns
    deadline = clock + params.time_limit_s - reserve
    runner = Runner(model, params, {**previous.pitch, **fixed.pitch}, deadline)
    ok = runner.phase("placement/must-meet/fairness", model.tiers(), True, 0.4, start)
    fresh = not (previous.pitch or previous.seat or previous.meet)
    if ok and not fresh:
        ok = runner.phase("moves", model.moves(previous), False, 0.35, start)
    lineups: LineupBound | None = None
    if ok:
        pinned = (fixed, previous, free, fresh and not lost)
        lineups = _fit_phases(ctx, runner, model, start, pinned, deadline)
    elif runner.phases[0].status == cp_model.UNKNOWN and not lost:
        fallback = _greedy_fallback(ctx, runner, start, fixed, previous, time.monotonic() - clock)
        if fallback is not None:
            return fallback
    result = _finish_cp(ctx, runner, fixed, previous, lost, time.monotonic() - clock)
    return _with_lineup_bound(result, lineups)


def _fit_phases(
    ctx: Context,
    runner: Runner,
    model: SlateModel,
    start: Assignment,
    pinned: tuple[Assignment, Assignment, set[int], bool],
    deadline: float,
) -> LineupBound | None:
    """Everything after phases 1–2 (docs/roadshow.md, "Order of a fresh draw"): exact line-ups,
    annealing and session-swap search, line-up bound, phase 3, reheated annealing and iterated
    search, meetings phase. `pinned`: the confirmed and previous items, the sessions free of them
    and whether the run is `safe` — a fresh draw whose confirmed items all fit the model, so that
    every slate built around the phases is one the model can express (the searches run only
    then). Leaves the best slate in `runner.best`; returns the line-up bound (None if not
    reached)."""
    (fixed, previous, free, safe), params = pinned, ctx.params
    floor = round(runner.phases[0].value)
    assert runner.best is not None
    runner.best = resplit_sessions(ctx, runner.best, free, floor)
    greedy = resplit_sessions(ctx, start, free, min(floor, tiers_of(ctx, start)))
    alt = _if_as_good(ctx, runner, greedy, previous)
    if safe and alt is not None:
        runner.best = alt
    with ThreadPoolExecutor(1, thread_name_prefix="lineup-bound") as pool:
        # beside the searches and phase 3: a child process for long runs, else this thread
        run = bound_of if params.time_limit_s < params.bound_process_min_s else bound_beside
        stop = min(time.monotonic() + BOUND_SHARE * params.time_limit_s,
                   _search_stop(params, deadline))  # fmt: skip
        pending = pool.submit(run, bound_inputs(ctx, [runner.best], must_floor(ctx, floor)), stop)
        if safe:  # most of the fit is won here; phase 3 then starts from it
            runner.best = _improve(ctx, runner.best, free, fixed, floor, deadline)
        hint = runner.best if safe else alt or runner.best
        runner.phase("total fit", model.total_fit(), True, 0.05 if safe else 1.0, hint)
        if safe:
            runner.best = higher_fit(ctx, runner.best, hint)
        runner.best = resplit_sessions(ctx, runner.best, free, floor)
        if safe:
            stop = _search_stop(params, deadline)  # most to the iterated search, some to meetings
            restarts = DETERMINISTIC_RESTARTS if params.deterministic else RESTARTS
            runner.best = _improve(ctx, runner.best, free, fixed, floor, stop, restarts)
        lineups = pending.result()  # it stops by `stop` at latest
        if safe:
            runner.best = _best_meetings(runner, model, deadline)
        elif not (previous.pitch or previous.seat or previous.meet):
            runner.best = rebook(ctx, runner.best, fixed, floor)
    return lineups


def must_floor(ctx: Context, floor: int) -> int:
    """Must-meets that every slate holding the phase-1 value `floor` meets: floor's own count when
    it places every enterprise (no slate places more, so holding the value needs as many
    must-meets: placed ≫ must-meets ≫ fairness), else 0."""
    k, n_e = ctx.problem.min_contacts, len(ctx.problem.enterprises)
    w_must = n_e * k + 1
    w_place = w_must * (len(ctx.must) + 1)
    if floor // w_place < n_e:
        return 0
    return (floor - w_place * n_e) // w_must


def _search_stop(params: SolverParams, deadline: float) -> float:
    """When the iterated search stops: `MEETINGS_SHARE` of the time left (at least 6 % of the
    limit) is kept for the meetings phase."""
    left = max(deadline - time.monotonic(), 0.0)
    return deadline - max(MEETINGS_SHARE * left, 0.06 * params.time_limit_s)


def _improve(
    ctx: Context,
    a: Assignment,
    sessions: set[int],
    fixed: Assignment,
    floor: int,
    deadline: float,
    restarts: int = 0,
) -> Assignment:
    """Annealing over pitch rooms (`ANNEAL_SHARE` of the time), then either the session-swap
    search (all this for at most `SEARCH_SHARE` of the time limit) or, with `restarts`, a
    reheated annealing from `a` and the iterated search until `deadline`; then the meetings
    rebooked for the new line-ups; `a` itself if that does not raise total fit."""
    if not a.pitch:  # nothing to move (e.g. an event without rooms)
        return a
    params, now = ctx.params, time.monotonic()
    pinned = frozenset(e for _, e in fixed.meet)  # confirmed meetings stay where they are
    stop = math.inf if params.deterministic else deadline  # deterministic: counts only
    if not (restarts or params.deterministic):
        stop = min(stop, now + SEARCH_SHARE * params.time_limit_s)
    per_pitch = DETERMINISTIC_MOVES if params.deterministic else ANNEAL_MOVES
    cooling = Cooling(now + ANNEAL_SHARE * (stop - now), per_pitch * len(a.pitch),
                      REHEAT if restarts else HOT)  # fmt: skip
    b = anneal(ctx, a, sessions, floor, fixed, pinned, cooling)
    if restarts:
        b = iterated_search(ctx, b, sessions, floor, stop, restarts, pinned, SEARCH_TRIALS)
    else:
        b = swap_sessions(ctx, b, sessions, floor, stop, SEARCH_TRIALS, pinned)
    return higher_fit(ctx, rebook(ctx, b, fixed, floor), a)


def _best_meetings(runner: Runner, model: SlateModel, deadline: float) -> Assignment:
    """The last phase: pitches and seats held as they are in the best slate, CP-SAT re-draws the
    1:1 meetings for total fit (the tiers stay held). Kept if it raises total fit."""
    best = runner.best
    assert best is not None
    model.hold_rooms(best)
    share = 0.1 if runner.params.deterministic else 1.0  # deterministic: of the limit
    runner.phase("meetings", model.total_fit(), True, share, best)
    return higher_fit(model.ctx, runner.best, best)


BOUND_SHARE = 0.7  # of the limit, at most, for the line-up bound
SEARCH_SHARE = 0.25  # of the limit, at most, for the first annealing and session-swap search
RESTARTS = 100_000  # random restarts of the iterated search at most (its time runs out first)
DETERMINISTIC_RESTARTS = 3  # deterministic runs stop by count, not by the clock
MEETINGS_SHARE = 0.08  # of the time left after phase 3 (≥ 6 % of the limit): the meetings phase
SEARCH_TRIALS = 3_000  # trials at most in one session-swap search (most are quick rejections)
ANNEAL_SHARE = 0.8  # of the first search's time, to annealing (matching/slate/anneal.py)
ANNEAL_MOVES = 20_000  # moves per pitch at most in one annealing
DETERMINISTIC_MOVES = 1_000  # per pitch: deterministic runs anneal by count, not by the clock


def _with_lineup_bound(result: SlateResult, lineups: LineupBound | None) -> SlateResult:
    """Report the smaller of CP-SAT's bound and the line-up bound (both valid upper bounds on
    the slate's total fit), with the gap to it."""
    if lineups is None or result.status not in ("optimal", "feasible"):
        return result
    bound = lineups.value if result.bound is None else min(result.bound, lineups.value)
    gap = max(0.0, bound - result.objective) / max(abs(bound), 1.0)
    return replace(result, bound=float(bound), gap=gap, lineup_bound=float(lineups.value))


def _greedy_fallback(
    ctx: Context,
    runner: Runner,
    start: Assignment,
    fixed: Assignment,
    previous: Assignment,
    elapsed: float,
) -> SlateResult | None:
    """CP-SAT found no solution in time (a loaded machine, a tiny limit): return the greedy
    slate it was started from, if the independent checker accepts it (status `feasible`, no
    bound); None otherwise (e.g. confirmed items that clash)."""
    result = to_result(ctx, start, fixed, previous, "feasible")
    if check_slate(ctx.problem, result):
        return None
    note = "CP-SAT 在时限内未找到解，返回贪心排程（未证明界）"
    return replace(result, notes=[note], wall_time_s=elapsed)


def _if_as_good(
    ctx: Context, runner: Runner, start: Assignment, previous: Assignment
) -> Assignment | None:
    """`start` when it holds the values fixed so far (then the fit phase starts from the better
    of the two by fit), else None (keep the last phase's solution as the hint)."""
    tiers = runner.phases[0].value
    value = tiers_of(ctx, start)
    moves = runner.phases[1].value if len(runner.phases) > 1 else None
    if value < tiers or (moves is not None and count_moved(start, previous) > moves):
        return None
    best = runner.best
    assert best is not None
    return start if fit_of(ctx, start) > fit_of(ctx, best) else None


def _finish_cp(
    ctx: Context,
    runner: Runner,
    fixed: Assignment,
    previous: Assignment,
    lost: list[str],
    elapsed: float,
) -> SlateResult:
    notes = [f"已确认项无法保留：{x}" for x in lost]
    if runner.best is None:
        status = "infeasible" if runner.phases[0].status == cp_model.INFEASIBLE else "unknown"
        return _empty(ctx, status, [*notes, "求解失败：已确认的安排相互冲突或时限过短"])
    fit = next((p for p in runner.phases if p.name == "total fit"), None)
    fit_done = fit is not None and fit.status in SOLVED
    main = [p for p in runner.phases if p.name != "meetings"]  # its bound holds rooms fixed
    all_optimal = all(p.status == cp_model.OPTIMAL for p in main) and fit_done
    bound = float(whole_points_bound(fit.bound)) if fit is not None and fit_done else None
    result = to_result(ctx, runner.best, fixed, previous, "optimal" if all_optimal else "feasible")
    gap = None if bound is None else max(0.0, bound - result.objective) / max(abs(bound), 1.0)
    return replace(result, bound=bound, gap=gap, notes=notes, wall_time_s=elapsed, cp_bound=bound)


def greedy_slate(problem: SlateProblem) -> SlateResult:
    """The baseline: keep confirmed (then previous) items, earliest free slot per enterprise,
    each investor in its best allowed room, then meetings: must-meets, then enterprises short of
    contacts, then by fit. No bound is proven."""
    clock = time.monotonic()
    ctx = build_context(problem, SolverParams())
    fixed, lost = locate(ctx, problem.confirmed)
    previous, _ = locate(ctx, problem.previous)
    a = greedy_from(ctx, fixed, previous)
    result = to_result(ctx, a, fixed, previous, "feasible")
    notes = [f"已确认项无法保留：{x}" for x in lost]
    return replace(result, notes=notes, wall_time_s=time.monotonic() - clock)


# ─── from an assignment to a result ────────────────────────────────────────────────────────────
def to_result(
    ctx: Context, a: Assignment, fixed: Assignment, previous: Assignment, status: str
) -> SlateResult:
    fill_seats(ctx, a)
    tables = _number_tables(ctx, a, {**previous.tables, **fixed.tables})
    pitches, seats, meetings = _items(ctx, a, tables)
    p = ctx.problem
    metrics = slate_metrics(p, pitches, seats, meetings)
    ent_ids = [e.id for e in p.enterprises]
    return SlateResult(
        status=status,
        objective=float(metrics.total_fit),
        bound=None,
        gap=None,
        pitches=pitches,
        attendance=seats,
        meetings=meetings,
        unplaced=[_unplaced(ctx, a, e) for e in range(len(ent_ids)) if e not in a.pitch],
        shortfalls=_shortfalls(ctx, a, metrics),
        unmet_must_meets=sorted(set(p.must_meet) - metrics.must_meets_met),
        moved=count_moved(a, previous),
        metrics=metrics,
    )


def _number_tables(
    ctx: Context, a: Assignment, pinned: dict[tuple[int, int], int]
) -> dict[tuple[int, int], int]:
    """Keep pinned table numbers where they are free; give the rest the lowest free numbers."""
    out: dict[tuple[int, int], int] = {}
    taken: set[tuple[int, int]] = set()
    for pair, t in sorted(a.meet.items(), key=lambda x: (x[0] not in pinned, x[0])):
        want = pinned.get(pair)
        if want is None or (t, want) in taken or not 1 <= want <= ctx.problem.meeting_tables:
            want = next(k for k in range(1, ctx.problem.meeting_tables + 1) if (t, k) not in taken)
        out[pair] = want
        taken.add((t, want))
    return out


def _items(
    ctx: Context, a: Assignment, tables: dict[tuple[int, int], int]
) -> tuple[list[Pitch], list[Seat], list[Meeting]]:
    p, tt = ctx.problem, ctx.table
    pitches = sorted(
        (Pitch(p.enterprises[e].id, p.sessions[tt.slots[q].session].id, p.rooms[tt.slots[q].room],
               tt.slots[q].slot, tt.slots[q].start, tt.slots[q].end) for e, q in a.pitch.items()),
        key=lambda x: (x.start, x.room),
    )  # fmt: skip
    seats = sorted(
        (Seat(p.investors[i].id, p.sessions[s].id, p.rooms[r], *tt.blocks[s])
         for (i, s), r in a.seat.items()),
        key=lambda x: (x.start, x.room, x.investor_id),
    )  # fmt: skip
    meetings = sorted(
        (Meeting(p.investors[i].id, p.enterprises[e].id, tables[i, e], tt.rounds[t].start,
                 tt.rounds[t].end) for (i, e), t in a.meet.items()),
        key=lambda x: (x.start, x.table),
    )  # fmt: skip
    return pitches, seats, meetings


def _unplaced(ctx: Context, a: Assignment, e: int) -> Unplaced:
    ent = ctx.problem.enterprises[e]
    sessions = ctx.ent_sessions[e]
    if not sessions:
        return Unplaced(ent.id, "所填可参加场次均不在本次路演的场次内")
    if ctx.problem.slots_per_room == 0 or not ctx.problem.rooms:
        return Unplaced(ent.id, "本次活动未设置路演时段")
    open_ = [q for q, s in enumerate(ctx.table.slots) if s.session in sessions]
    if all(q in set(a.pitch.values()) for q in open_):
        return Unplaced(
            ent.id, f"可参加的 {len(sessions)} 个场次的 {len(open_)} 个路演时段已全部排满"
        )
    return Unplaced(ent.id, "求解时限内未能安排，请延长求解时限后重试")


def _shortfalls(ctx: Context, a: Assignment, metrics: SlateMetrics) -> list[Shortfall]:
    k, out = ctx.problem.min_contacts, []
    for e, ent in enumerate(ctx.problem.enterprises):
        got = metrics.contacts.get(ent.id, 0)
        if e in a.pitch and got < k:
            out.append(Shortfall(ent.id, got, k, _shortfall_reason(ctx, a, e, got)))
    return out


def _shortfall_reason(ctx: Context, a: Assignment, e: int, got: int) -> str:
    k = ctx.problem.min_contacts
    pitch = ctx.table.slots[a.pitch[e]]
    later = {r.session for r in ctx.table.rounds if r.start >= pitch.end} & ctx.ent_sessions[e]
    reachable = [i for i in ctx.relevant[e]
                 if pitch.session in ctx.inv_sessions[i] or later & ctx.inv_sessions[i]]  # fmt: skip
    if len(reachable) < k:
        return (
            f"能在其路演场次或之后与之接触的相关投资机构仅 {len(reachable)} 家，少于要求的 {k} 家"
        )
    return f"路演厅与会谈桌位有限，仅安排 {got} 家相关投资机构接触（要求 {k} 家）"


def _empty(ctx: Context, status: str, notes: list[str]) -> SlateResult:
    reason = "求解失败，未能生成排程" if status == "unknown" else "已确认的安排相互冲突，无法排程"
    return SlateResult(
        status=status, objective=0.0, bound=None, gap=None, pitches=[], attendance=[],
        meetings=[], unplaced=[Unplaced(e.id, reason) for e in ctx.problem.enterprises],
        notes=notes,
    )  # fmt: skip
