"""Roadshow slate benchmark: CP-SAT against the greedy baseline on generated events.

60 enterprises × 40 investors × 4 sessions × 3 rooms × 5 slots, plus 1:1 meetings. Goal: CP-SAT
within 2 % of its proven bound in ≤ 30 s. Run: `.venv/bin/python benchmarks/slate.py [--seeds N]`.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import random
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path

import numpy as np
from ortools.linear_solver import pywraplp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from matching import slate as slate_module
from matching.slate import (
    SlateEnterprise,
    SlateInvestor,
    SlateProblem,
    SlateResult,
    SlateSession,
    SolverParams,
    greedy_slate,
    interest_fit,
    solve_slate,
)
from matching.slate_check import SlateMetrics, check_slate

SECTORS = ["C27", "C35", "C38", "C39", "I64", "I65", "M73", "N77"]
STAGES = ["seed", "startup", "growth", "expansion", "mature", "pre_ipo"]
DAY = datetime(2026, 7, 21, tzinfo=UTC)


def event_sessions() -> tuple[SlateSession, ...]:
    """Two days, a morning 09:30–12:00 and an afternoon 14:00–17:30 each (Beijing, in UTC)."""
    out = []
    for d in range(2):
        day = DAY + timedelta(days=d)
        out.append(SlateSession(2 * d + 1, day + timedelta(hours=1.5), day + timedelta(hours=4)))
        out.append(SlateSession(2 * d + 2, day + timedelta(hours=6), day + timedelta(hours=9.5)))
    return tuple(out)


def _available(rng: random.Random, low: int) -> frozenset[int]:
    return frozenset(rng.sample(range(1, 5), rng.randint(low, 4)))


def make_event(
    seed: int, enterprises: int = 60, investors: int = 40, tables: int = 8, min_contacts: int = 3
) -> SlateProblem:
    """A realistic event: sector/stage interests, partial availability, must-meet and no-thanks."""
    rng = random.Random(seed)
    ent_sector = [rng.choice(SECTORS) for _ in range(enterprises)]
    ent_stage = [rng.choice(STAGES) for _ in range(enterprises)]
    inv_sectors = [_interests(rng) for _ in range(investors)]
    inv_stages = [rng.sample(STAGES, rng.randint(1, 3)) for _ in range(investors)]
    fit = interest_fit(ent_sector, ent_stage, inv_sectors, inv_stages)
    fit = np.where(fit > 0, np.clip(fit + np.array(
        [[rng.uniform(-0.1, 0.1) for _ in range(enterprises)] for _ in range(investors)]), 0.01, 1.0
    ), 0.0)  # fmt: skip
    must, banned = _wishes(rng, fit)
    return SlateProblem(
        sessions=event_sessions(),
        rooms=("路演A厅", "路演B厅", "路演C厅"),
        slots_per_room=5,
        meeting_tables=tables,
        enterprises=tuple(SlateEnterprise(100 + e, _available(rng, 2)) for e in range(enterprises)),
        investors=tuple(SlateInvestor(500 + i, _available(rng, 2)) for i in range(investors)),
        fit=fit,
        must_meet=frozenset(must),
        no_thanks=frozenset(banned),
        min_contacts=min_contacts,
    )


def _interests(rng: random.Random) -> list[str]:
    picks = rng.sample(SECTORS, rng.randint(1, 3))
    return picks + (["C"] if rng.random() < 0.15 else [])


def _wishes(
    rng: random.Random, fit: np.ndarray
) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
    must, banned = set(), set()
    for i in range(fit.shape[0]):
        liked = [e for e in range(fit.shape[1]) if fit[i, e] >= 0.7]
        other = [e for e in range(fit.shape[1]) if fit[i, e] < 0.3]
        must |= {(500 + i, 100 + e) for e in rng.sample(liked, min(len(liked), rng.randint(0, 2)))}
        banned |= {
            (500 + i, 100 + e) for e in rng.sample(other, min(len(other), rng.randint(0, 2)))
        }
    return must, banned


# ─── an offline, independent upper bound (line-up columns), to judge the true gap ─────────────
def _subsets(n: int, cap: int) -> np.ndarray:
    """Every non-empty subset of range(n) of size ≤ cap, one a row, padded with n."""
    rows = []
    for k in range(1, cap + 1):
        c = np.array(list(itertools.combinations(range(n), k)), dtype=np.int16).reshape(-1, k)
        rows.append(np.hstack([c, np.full((len(c), cap - k), n, dtype=np.int16)]))
    return np.vstack(rows)


def hearing_bound(problem: SlateProblem, seconds: float) -> tuple[float, float, int]:
    """A valid upper bound on the hearing part of total fit (hear_weight 1), by column generation
    on line-ups: λ[s, L] (line-up L, |L| ≤ slots, is one room of session s), μ[i, s, L] ≤ λ
    (investor i sits there), Σ_L λ[s, ·] ≤ rooms, each enterprise in ≤ 1 line-up, Σ_L μ[i, s, ·]
    ≤ 1. Every slate is a 0/1 point of this LP. Pricing enumerates *every* line-up of every session
    (numpy), so each round's Lagrangian bound LP + rooms · Σ_s max(0, best reduced cost) is valid
    whenever the loop stops. Returns (bound, last LP value, columns)."""
    clock = time.monotonic()
    ctx = slate_module._context(problem, SolverParams())
    rooms, cap, n_e = len(problem.rooms), problem.slots_per_room, len(problem.enterprises)
    sess = range(len(problem.sessions))
    avail = {s: [e for e in range(n_e) if s in ctx.ent_sessions[e]] for s in sess}
    invs = {s: [i for i in range(len(problem.investors)) if s in ctx.inv_sessions[i]] for s in sess}
    fit = {s: np.hstack([ctx.fit[np.ix_(invs[s], avail[s])].astype(np.float64),
                         np.zeros((len(invs[s]), 1))]) for s in sess}  # fmt: skip
    every = {s: _subsets(len(avail[s]), cap) for s in sess}
    cols: set[tuple[int, tuple[int, ...]]] = set()
    for s in sess:  # start: each investor's favourite line-up
        for k in range(len(invs[s])):
            top = np.argsort(-fit[s][k, :-1], kind="stable")[:cap]
            cols.add((s, tuple(sorted(int(j) for j in top))))
    bound = float("inf")
    while True:
        value, alpha, pi, beta = _master(ctx, fit, invs, sorted(cols), rooms, n_e)
        gains, fresh = [], 0
        for s in sess:
            best, new = _price(every[s], fit[s], alpha[avail[s]], pi[s], beta[s])
            gains.append(max(best, 0.0))
            fresh += len({(s, c) for c in new} - cols)
            cols |= {(s, c) for c in new}
        bound = min(bound, value + rooms * sum(gains))
        if not fresh or sum(gains) < 1e-6 or time.monotonic() - clock > seconds:
            return bound, value, len(cols)


def _master(
    ctx: slate_module._Context,
    fit: dict[int, np.ndarray],
    invs: dict[int, list[int]],
    cols: list[tuple[int, tuple[int, ...]]],
    rooms: int,
    n_e: int,
) -> tuple[float, np.ndarray, dict[int, np.ndarray], dict[int, float]]:
    """Solve the restricted master LP (GLOP); its value and duals (α per enterprise, π per
    investor and session, β per session). Line-ups hold positions in the session's list."""
    lp = pywraplp.Solver.CreateSolver("GLOP")
    lam = [lp.NumVar(0, 1, "") for _ in cols]
    avail = {s: [e for e in range(n_e) if s in ctx.ent_sessions[e]] for s in invs}
    per_session = {s: lp.Add(sum(v for (t, _), v in zip(cols, lam, strict=True) if t == s) <= rooms)
                   for s in invs}  # fmt: skip
    holding: dict[int, list[pywraplp.Variable]] = {}
    seats: dict[tuple[int, int], list[pywraplp.Variable]] = {}
    terms = []
    for (s, lineup), v in zip(cols, lam, strict=True):
        for j in lineup:
            holding.setdefault(avail[s][j], []).append(v)
        values = fit[s][:, list(lineup)].sum(axis=1)
        for k, worth in enumerate(values):
            if worth > 0:
                mu = lp.NumVar(0, 1, "")
                lp.Add(mu <= v)
                terms.append(float(worth) * mu)
                seats.setdefault((s, k), []).append(mu)
    once = {e: lp.Add(sum(vs) <= 1) for e, vs in holding.items()}
    one_room = {key: lp.Add(sum(ms) <= 1) for key, ms in seats.items()}
    lp.Maximize(sum(terms))
    assert lp.Solve() == pywraplp.Solver.OPTIMAL
    alpha = np.zeros(n_e)
    for e, c in once.items():
        alpha[e] = c.dual_value()
    pi = {s: np.array([one_room[s, k].dual_value() if (s, k) in one_room else 0.0
                       for k in range(len(invs[s]))]) for s in invs}  # fmt: skip
    return lp.Objective().Value(), alpha, pi, {s: c.dual_value() for s, c in per_session.items()}


def _price(
    every: np.ndarray,
    fit: np.ndarray,
    alpha: np.ndarray,
    pi: np.ndarray,
    beta: float,
    top: int = 30,
) -> tuple[float, list[tuple[int, ...]]]:
    """Exact pricing: the best reduced cost Σ_i max(0, v_i(L) − π_i) − α(L) − β over all line-ups,
    and the `top` line-ups with positive reduced cost."""
    a = np.append(alpha, 0.0)
    reduced = np.empty(len(every))
    for lo in range(0, len(every), 100_000):
        chunk = every[lo : lo + 100_000].astype(np.int64)
        heard = fit[:, chunk].sum(axis=2)
        reduced[lo : lo + len(chunk)] = np.maximum(heard - pi[:, None], 0).sum(axis=0)
        reduced[lo : lo + len(chunk)] -= a[chunk].sum(axis=1) + beta
    pick = np.argpartition(-reduced, min(top, len(reduced) - 1))[:top]
    n = fit.shape[1] - 1
    new = [tuple(int(j) for j in every[r] if j < n) for r in pick if reduced[r] > 1e-6]
    return float(reduced.max()), new


def meeting_bound(problem: SlateProblem) -> float:
    """A valid upper bound on the 1:1 part of total fit: the LP of the model's meetings (candidate
    pairs, rounds both attend after some session the enterprise could pitch in; tables per round;
    one meeting a round per person; a pair meets once), pitch placement relaxed."""
    params = SolverParams()
    ctx = slate_module._context(problem, params)
    lp = pywraplp.Solver.CreateSolver("GLOP")
    blocks, rounds = ctx.table.blocks, ctx.table.rounds
    meet: dict[tuple[int, int, int], pywraplp.Variable] = {}
    for i, e in ctx.candidates:
        for t, rnd in enumerate(rounds):
            after = any(blocks[s][1] <= rnd.start for s in ctx.ent_sessions[e])
            if rnd.session in ctx.inv_sessions[i] and rnd.session in ctx.ent_sessions[e] and after:
                meet[i, e, t] = lp.NumVar(0, 1, "")
    groups: dict[tuple[str, int, int], list[pywraplp.Variable]] = {}
    for (i, e, t), v in meet.items():
        for key in (("t", t, 0), ("i", i, t), ("e", e, t), ("p", i, e)):
            groups.setdefault(key, []).append(v)
    for (kind, _, _), vs in groups.items():
        lp.Add(sum(vs) <= (problem.meeting_tables if kind == "t" else 1))
    lp.Maximize(
        sum(float(ctx.fit[i, e] * params.meeting_weight) * v for (i, e, _), v in meet.items())
    )
    assert lp.Solve() == pywraplp.Solver.OPTIMAL
    return float(lp.Objective().Value())


@dataclass
class Row:
    """One seed's outcome for both methods (and, if asked, the offline line-up bound)."""

    seed: int
    cp: SlateResult
    greedy: SlateResult
    dw_bound: float | None = None


def run(seeds: list[int], time_limit: float, workers: int, dw_seconds: float = 0.0) -> list[Row]:
    """Solve each seed's event with CP-SAT and with the greedy; both must pass the checker.
    With `dw_seconds`, also the offline line-up bound (hearing) + meeting LP bound."""
    rows = []
    for seed in seeds:
        problem = make_event(seed)
        greedy = greedy_slate(problem)
        cp = solve_slate(problem, SolverParams(time_limit, random_seed=seed, num_workers=workers))
        for name, res in (("cp", cp), ("greedy", greedy)):
            problems = check_slate(problem, res)
            assert not problems, (name, seed, problems[:5])
        rows.append(Row(seed, cp, greedy))
        if dw_seconds > 0:
            hear, _, _ = hearing_bound(problem, dw_seconds)
            rows[-1].dw_bound = min(hear + meeting_bound(problem), cp.bound or float("inf"))
        print(_line(rows[-1]), flush=True)
    return rows


def _line(row: Row) -> str:
    cp, gr = row.cp, row.greedy
    assert cp.metrics is not None and gr.metrics is not None
    return (
        f"seed {row.seed}: cp {cp.status} obj {cp.objective:.0f} bound {cp.bound} "
        f"gap {100 * (cp.gap or 0):.2f}% {cp.wall_time_s:.1f}s placed {cp.metrics.placed} "
        f"fair {cp.metrics.fairness} must {len(cp.metrics.must_meets_met)} | greedy obj "
        f"{gr.objective:.0f} placed {gr.metrics.placed} fair {gr.metrics.fairness} "
        f"must {len(gr.metrics.must_meets_met)} {gr.wall_time_s:.2f}s"
    )


def _median(values: list[float]) -> float:
    return float(statistics.median(values))


def _machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "?")  # fmt: skip
    return f"{cpu}, {os.cpu_count()} logical CPUs, Python {platform.python_version()}"


def report(rows: list[Row], time_limit: float, workers: int) -> str:
    """The `## Roadshow slate` section for docs/benchmarks.md."""
    ortools_version = version("ortools")
    lines = [
        "## Roadshow slate",
        "",
        f"`benchmarks/slate.py`: 60 enterprises × 40 investors × 4 sessions × 3 rooms × 5 slots,"
        f" 8 meeting tables × 18 rounds, min 3 relevant contacts; CP-SAT (OR-Tools {ortools_version},"
        f" {workers} workers, {time_limit:g} s limit) against the greedy baseline on the same events.",
        f"Machine: {_machine()} (shared with other jobs). Run {time.strftime('%Y-%m-%d')}.",
        "",
        "| seed | CP-SAT fit | bound | gap | time s | greedy fit | CP vs greedy |"
        " offline bound | gap to it | CP placed / must / fairness | greedy placed / must / fairness |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    lines += [_table_row(r) for r in rows]
    gaps = [100 * (r.cp.gap or 0.0) for r in rows]
    lift = [100 * (r.cp.objective / r.greedy.objective - 1) for r in rows]
    lines += [
        "",
        f"Medians: gap {_median(gaps):.1f} %, CP-SAT time {_median([r.cp.wall_time_s for r in rows]):.1f} s,"
        f" fit vs greedy {_median(lift):+.1f} %.",
    ]
    offline = [100 * (r.dw_bound - r.cp.objective) / r.dw_bound for r in rows if r.dw_bound]
    if offline:
        lines += [
            f"Offline bound (`--dw-seconds`, not part of the 30 s run): median gap to it"
            f" {_median(offline):.1f} %. It is the line-up column-generation bound on hearing"
            " (exact enumeration pricing, valid at every round) plus the LP bound of the meetings"
            " alone, ignoring the tiers, so it bounds the whole problem; the smaller of it and the"
            " CP-SAT bound is shown.",
        ]
    lines.append(
        "Goal: within 2 % of the proven bound in ≤ 30 s. Met only if the median gap above is ≤ 2 %;"
        " why it is not, and what was tried, is in `docs/roadshow.md` (Known limits)."
    )
    return "\n".join(lines) + "\n"


def _table_row(r: Row) -> str:
    cp, gr = r.cp, r.greedy
    assert cp.metrics is not None and gr.metrics is not None

    def tiers(m: SlateMetrics) -> str:
        return f"{m.placed} / {len(m.must_meets_met)} / {m.fairness}"

    bound = "—" if cp.bound is None else f"{cp.bound:.0f}"
    gap = "—" if cp.gap is None else f"{100 * cp.gap:.1f} %"
    lift = f"{100 * (cp.objective / gr.objective - 1):+.1f} %"
    dw = "—" if r.dw_bound is None else f"{r.dw_bound:.0f}"
    dw_gap = (
        "—" if r.dw_bound is None else f"{100 * (r.dw_bound - cp.objective) / r.dw_bound:.1f} %"
    )
    return (f"| {r.seed} | {cp.objective:.0f} | {bound} | {gap} | {cp.wall_time_s:.1f} |"
            f" {gr.objective:.0f} | {lift} | {dw} | {dw_gap} | {tiers(cp.metrics)} |"
            f" {tiers(gr.metrics)} |")  # fmt: skip


def write_section(
    text: str, path: Path = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
) -> None:
    """Replace (or append) the `## Roadshow slate` section; other sections are left alone."""
    old = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    start = old.find("## Roadshow slate")
    if start < 0:
        new = old.rstrip("\n") + "\n\n" + text
    else:
        end = old.find("\n## ", start + 1)
        new = old[:start] + text + ("" if end < 0 else old[end:])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(new, encoding="utf-8")


def main() -> None:
    """Parse arguments, run, print and (with --write) update docs/benchmarks.md."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--time-limit", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--dw-seconds", type=float, default=0.0,
                        help="also compute the offline line-up bound, about this long per seed")  # fmt: skip
    args = parser.parse_args()
    rows = run(list(range(1, args.seeds + 1)), args.time_limit, args.workers, args.dw_seconds)
    text = report(rows, args.time_limit, args.workers)
    print(text)
    if args.write:
        write_section(text)


if __name__ == "__main__":
    main()
