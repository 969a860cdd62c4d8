"""路演排程 — an upper bound on total fit from room line-ups (column generation).

Pure core: arrays in, a number out. `bound_of` bounds the *whole* slate problem (every slate
that keeps the event's rules, tiers relaxed but for an optional must-meet count) by a hearing
part and a meeting part:

- Hearing: a Lagrangian bound of the line-up formulation. A line-up *L* (≤ `cap` enterprises
  that attend session *s*) fills one room of *s*; each enterprise pitches once; each investor sits
  in at most one room a session. For any multipliers α_e ≥ 0 (enterprise pitches once) and
  π_{s,i} ≥ 0 (one room a session), every slate hears at most

      Σ_e α_e + Σ_{s,i} π_{s,i} + rooms · Σ_s max(0, max_L g_s(L)),
      g_s(L) = Σ_i max(0, W_i(L) − π_{s,i}) − Σ_{e∈L} α_e,

  where W_i(L) is investor *i*'s fit summed over *L* (no-thanks pairs count 0). The multipliers
  come from the duals of a restricted master LP over the line-ups found so far (column
  generation); pricing finds max_L g_s(L) *exactly* by branch and bound (`price_lineups`), so the
  bound is valid after every round whatever the LP solver's accuracy, and the best round is kept.
- Meetings: the same kind of bound for the LP of the 1:1 meetings alone (any pair that may meet,
  each round's tables, one meeting a round per person, a pair meets once; optionally, at least
  k must-meets met), from its duals.

See docs/roadshow.md (Known limits) for why this is tighter than the CP-SAT bound.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import csr_matrix

from matching.slate.core import Assignment, Context, pitching_in
from matching.slate.problem import HEAR_WEIGHT, MEETING_WEIGHT

TOL = 1e-9
CHUNK = 100_000  # partial line-ups expanded at once (memory: CHUNK × investors floats)


# ─── pricing: the best line-up of one session for given multipliers ────────────────────────────
@dataclass(frozen=True, slots=True)
class Priced:
    """The exact best reduced value (≥ 0: the empty room) and some line-ups with positive value,
    best first (positions in the session's enterprise list)."""

    best: float
    lineups: list[tuple[int, ...]]


def price_lineups(
    weights: np.ndarray,
    pi: np.ndarray,
    alpha: np.ndarray,
    cap: int,
    top: int = 30,
    wanted: float = 0.0,
) -> Priced:
    """max(0, max over line-ups L, |L| ≤ cap, of Σ_i max(0, W_i(L) − π_i) − Σ_{e∈L} α_e), exactly.

    `weights` is (investors × enterprises), ≥ 0. Branch and bound, level by level (numpy): an
    enterprise whose total weight does not exceed α_e never raises g (each hinge grows by at most
    its weight), so it is dropped; the rest are sorted by that margin, and a partial line-up P
    (next items after its last one) is cut when neither bound beats the best value found:
    Σ_i max(0, W_i(P) + (best j weights of i left) − π_i) − α(P), or g(P) + (best j margins left),
    j = items still allowed (each item's α spread over investors in proportion to their weight).
    Only line-ups worth more than `wanted` (e.g. the session's dual in the master LP) are
    returned; `best` is the maximum all the same.
    """
    margin = weights.sum(axis=0) - alpha
    keep = np.flatnonzero(margin > TOL)
    keep = keep[np.argsort(-margin[keep], kind="stable")]
    n = len(keep)
    if n == 0 or cap <= 0:
        return Priced(0.0, [])
    w = np.ascontiguousarray(weights[:, keep].T)  # (n, investors)
    a, u = alpha[keep], margin[keep]
    # α_e split over investors in proportion to their weight: W_i(Q) − α(Q) ≤ Σ_i of the
    # reduced weights w_ie · margin_e / total_e, and max(0, x) − z ≤ max(0, x − z) for z ≥ 0.
    tops, utop = _suffix_tops(w * (u / np.maximum(w.sum(axis=1), TOL))[:, None], u, cap)
    best, found = 0.0, []
    index_type = np.int16 if n < 2**15 else np.int64  # narrow rows: less to copy per node
    first = np.arange(n, dtype=index_type).reshape(-1, 1)
    level = [(first, w.copy(), a.copy())]
    while level:
        items, sums, cost = level.pop()
        size = items.shape[1]
        value = _hinge_sums(sums, pi) - cost
        best = max(best, float(value.max(initial=0.0)))
        good = np.flatnonzero(value > wanted + TOL)
        if len(good):
            pick = good[np.argsort(-value[good], kind="stable")[:top]]
            found += [(float(value[k]), tuple(int(keep[j]) for j in items[k])) for k in pick]
        left = cap - size
        if left == 0:
            continue
        nxt = items[:, -1].astype(np.int64) + 1
        ahead = np.take(tops[left], nxt, axis=0)
        ahead += sums
        ub = _hinge_sums(ahead, pi, owned=True) - cost
        ub = np.minimum(ub, value + utop[left][nxt])
        alive = np.flatnonzero((ub > best + TOL) & (nxt < n))
        for chunk in _chunks(n - nxt[alive], CHUNK):
            rows = alive[chunk]
            level.append(_children(items[rows], sums[rows], cost[rows], w, a, n))
    found.sort(key=lambda x: -x[0])
    return Priced(best, _distinct([lineup for _, lineup in found], top))


def _hinge_sums(x: np.ndarray, pi: np.ndarray, owned: bool = False) -> np.ndarray:
    """Σ_i max(0, x_ki − π_i) per row k, overwriting `x` if `owned` (a temporary of the
    caller's). einsum sums the short rows ~3× faster than `.sum(axis=1)`."""
    t = x if owned else x.copy()
    t -= pi
    np.maximum(t, 0.0, out=t)
    return np.einsum("ij->i", t)


def _suffix_tops(
    w: np.ndarray, u: np.ndarray, cap: int
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """tops[j][k] (investors,): each investor's best j weights among items k..n-1 (0 past the end);
    utop[j][k]: the best j positive margins among them (margins are sorted, so the next j)."""
    n, m = w.shape
    ordered = np.zeros((n + 1, m, cap + 1))
    for k in range(n):
        part = -np.sort(-w[k:], axis=0)[:cap]  # (≤cap, investors)
        ordered[k, :, 1 : len(part) + 1] = np.cumsum(part, axis=0).T
        ordered[k, :, len(part) + 1 :] = ordered[k, :, len(part) : len(part) + 1]
    pos = np.concatenate([np.maximum(u, 0.0), np.zeros(cap)])
    tops = [ordered[:, :, j] for j in range(cap + 1)]
    utop = [np.array([pos[k : k + j].sum() for k in range(n + 1)]) for j in range(cap + 1)]
    return tops, utop


def _chunks(counts: np.ndarray, size: int) -> list[slice]:
    """Consecutive slices of rows whose children number about `size` at most (≥ 1 row each)."""
    out, lo, total = [], 0, 0
    for k, c in enumerate(counts.tolist()):
        if total + c > size and k > lo:
            out.append(slice(lo, k))
            lo, total = k, 0
        total += c
    if lo < len(counts):
        out.append(slice(lo, len(counts)))
    return out


def _children(
    items: np.ndarray, sums: np.ndarray, cost: np.ndarray, w: np.ndarray, a: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every extension of each partial line-up by one later item."""
    last = items[:, -1]
    counts = n - 1 - last
    parent = np.repeat(np.arange(len(items)), counts)
    start = np.repeat(np.cumsum(counts) - counts, counts)
    child = np.arange(len(parent)) - start + np.repeat(last + 1, counts)
    grown = np.empty((len(parent), items.shape[1] + 1), dtype=items.dtype)
    np.take(items, parent, axis=0, out=grown[:, :-1])
    grown[:, -1] = child
    total = np.take(sums, parent, axis=0)
    total += np.take(w, child, axis=0)
    return grown, total, cost[parent] + a[child]


def _distinct(lineups: list[tuple[int, ...]], top: int) -> list[tuple[int, ...]]:
    out: list[tuple[int, ...]] = []
    for lineup in lineups:
        key = tuple(sorted(lineup))
        if key not in out:
            out.append(key)
    return out[:top]


# ─── column generation for the hearing part ────────────────────────────────────────────────────
@dataclass(frozen=True)
class HearingInstance:
    """`weights` (investors × enterprises): hearing points per pair, ≥ 0, no-thanks pairs 0;
    which sessions each enterprise and investor attends; rooms and pitches per room."""

    weights: np.ndarray
    ent_sessions: Sequence[set[int]]
    inv_sessions: Sequence[set[int]]
    sessions: int
    rooms: int
    cap: int


@dataclass(frozen=True, slots=True)
class HearingBound:
    """The best (lowest) valid bound seen, the last master LP value, and whether column
    generation converged (then the bound equals the LP value)."""

    bound: float
    lp_value: float
    converged: bool


@dataclass(frozen=True, slots=True)
class _Duals:
    value: float
    alpha: np.ndarray
    pi: dict[tuple[int, int], float]
    beta: list[float]


@dataclass(frozen=True, slots=True)
class _Column:
    session: int
    lineup: tuple[int, ...]
    seats: np.ndarray  # seat rows (session, investor) of the investors who gain from it
    worth: np.ndarray  # what each of them hears there


class _Master:
    """The restricted master LP: λ_L ≥ 0 per line-up column, μ_{L,i} ≤ λ_L per investor who
    gains from it; per session Σ λ ≤ rooms, per enterprise Σ λ ≤ 1, per (session, investor)
    Σ μ ≤ 1; maximise Σ W_i(L) μ_{L,i}. (λ, μ ≤ 1 follow from the rows; no variable upper
    bounds, so every dual is a row dual and, once converged, the Lagrangian bound equals the LP
    value.) Solved from scratch each round by HiGHS (scipy); beyond `POOL` columns, unused
    columns of the lowest reduced value are dropped (they may be priced in again)."""

    def __init__(self, inst: HearingInstance) -> None:
        self.inst = inst
        n_i = inst.weights.shape[0]
        self.seat_row = {(s, i): k for k, (s, i) in enumerate(
            (s, i) for i in range(n_i) for s in sorted(inst.inv_sessions[i]))}  # fmt: skip
        self.columns: list[_Column] = []
        self.known: set[tuple[int, tuple[int, ...]]] = set()
        self.used = np.zeros(0)  # λ of the last solve

    def add(self, s: int, lineup: tuple[int, ...]) -> bool:
        """Add line-up `lineup` (enterprise positions, sorted) of session `s`; False if known."""
        if not lineup or (s, lineup) in self.known:
            return False
        worth = self.inst.weights[:, list(lineup)].sum(axis=1)
        invs = [i for i in np.flatnonzero(worth > 0).tolist() if (s, i) in self.seat_row]
        seats = np.array([self.seat_row[s, i] for i in invs], dtype=np.int64)
        self.known.add((s, lineup))
        self.columns.append(_Column(s, lineup, seats, worth[invs].astype(np.float64)))
        return True

    def prune(self, duals: _Duals, pool: int) -> None:
        """Keep at most `pool` columns: those the last LP used, then the highest reduced value."""
        if len(self.columns) <= pool:
            return
        pi = np.zeros(len(self.seat_row))
        for key, k in self.seat_row.items():
            pi[k] = duals.pi[key]
        value = np.array([np.maximum(c.worth - pi[c.seats], 0.0).sum()
                          - duals.alpha[list(c.lineup)].sum() - duals.beta[c.session]
                          for c in self.columns])  # fmt: skip
        used = np.zeros(len(self.columns))
        used[: len(self.used)] = self.used
        order = np.lexsort((-value, -(used > 1e-9).astype(np.float64)))
        kept = sorted(order[:pool].tolist())
        self.columns = [self.columns[k] for k in kept]
        self.known = {(c.session, c.lineup) for c in self.columns}
        self.used = used[kept]

    def solve(self, seconds: float) -> _Duals | None:
        """LP value, α per enterprise and π per (session, investor), clipped at 0 (any
        non-negative multipliers give a valid bound), β per session; None if HiGHS fails."""
        n_s, n_e, n_seat = self.inst.sessions, self.inst.weights.shape[1], len(self.seat_row)
        n_c = len(self.columns)
        n_m = sum(len(c.seats) for c in self.columns)
        if n_m == 0:  # nothing to hear: zero multipliers are valid (and optimal)
            pi0 = dict.fromkeys(self.seat_row, 0.0)
            return _Duals(0.0, np.zeros(n_e), pi0, [0.0] * n_s)
        rows, cols = [], []
        for k, c in enumerate(self.columns):
            rows += [c.session, *(n_s + e for e in c.lineup)]
            cols += [k] * (1 + len(c.lineup))
        lam_of = np.concatenate([np.full(len(c.seats), k) for k, c in enumerate(self.columns)])
        seat_of = np.concatenate([c.seats for c in self.columns])
        worth = np.concatenate([c.worth for c in self.columns])
        mu = np.arange(n_m)
        base = n_s + n_e
        all_rows = np.concatenate([rows, base + seat_of, base + n_seat + mu, base + n_seat + mu])
        all_cols = np.concatenate([cols, n_c + mu, n_c + mu, lam_of])
        all_vals = np.concatenate([np.ones(len(rows)), np.ones(n_m), np.ones(n_m), -np.ones(n_m)])
        a_ub = csr_matrix((all_vals, (all_rows, all_cols)), shape=(base + n_seat + n_m, n_c + n_m))
        b_ub = np.concatenate([np.full(n_s, float(self.inst.rooms)), np.ones(n_e + n_seat),
                               np.zeros(n_m)])  # fmt: skip
        cost = np.concatenate([np.zeros(n_c), -worth])
        res = linprog(cost, A_ub=a_ub, b_ub=b_ub, bounds=(0, None), method="highs",
                      options={"time_limit": max(seconds, 0.01)})  # fmt: skip
        if res.status != 0:
            return None
        self.used = np.asarray(res.x[:n_c])
        dual = np.maximum(-np.asarray(res.ineqlin.marginals), 0.0)
        pi = {key: float(dual[base + k]) for key, k in self.seat_row.items()}
        return _Duals(-float(res.fun), dual[n_s:base], pi, dual[:n_s].tolist())


POOL = 150  # columns kept in the master LP (a small LP re-solves fast; more rounds fit)


def hearing_bound(
    inst: HearingInstance,
    deadline: float,
    start: Sequence[tuple[int, tuple[int, ...]]] = (),
    top: int = 10,
    max_rounds: int = 1_000,
) -> HearingBound | None:
    """Column generation until no line-up has positive reduced value (converged), `deadline`
    (time.monotonic()) passes or `max_rounds` rounds are done; the best bound found (None if no
    round finished). Pricing is stabilised (Wentges): line-ups are first priced at a mix of the
    best multipliers so far and the LP duals, then, if that finds no column that improves the
    LP, at the LP duals; every pricing is exact, so each gives a valid bound.
    `start`: (session, enterprises) line-ups to begin with, e.g. those of a known slate."""
    master = _Master(inst)
    n_i, n_e = inst.weights.shape
    ents = [[e for e in range(n_e) if s in inst.ent_sessions[e]] for s in range(inst.sessions)]
    invs = [[i for i in range(n_i) if s in inst.inv_sessions[i]] for s in range(inst.sessions)]
    for s, lineup in start:
        master.add(s, tuple(sorted(e for e in lineup if e in set(ents[s]))))
    for s in range(inst.sessions):  # each investor's favourite line-up
        for i in invs[s]:
            row = inst.weights[i, ents[s]]
            top_k = np.argsort(-row, kind="stable")[: inst.cap]
            master.add(s, tuple(sorted(ents[s][j] for j in top_k)))
    best: HearingBound | None = None
    center: _Duals | None = None  # the multipliers of the best bound so far
    rounds, pool, stall = 0, POOL, _Stall()
    while time.monotonic() < deadline and rounds < max_rounds:
        duals = master.solve(deadline - time.monotonic())
        if duals is None:
            break
        if stall.stuck(duals.value):
            pool = min(pool + POOL, MAX_POOL)
        master.prune(duals, pool)
        rounds += 1
        fresh = 0
        for weight in (SMOOTHING, 0.0) if center is not None else (0.0,):
            point = duals if weight == 0.0 or center is None else _mix(center, duals, weight)
            priced = _price_all(inst, ents, invs, point, top, deadline)
            if priced is None:
                return best
            value, lineups = priced
            if best is None or value < best.bound:
                best = HearingBound(value, duals.value, False)
                center = point
            for s, lineup in lineups:  # only columns that would improve the LP
                if _reduced(inst, invs[s], lineup, duals, s) > TOL:
                    fresh += master.add(s, lineup)
            if fresh:
                break
        if fresh == 0:  # no column improves the LP
            assert best is not None
            return replace(best, lp_value=duals.value, converged=True)
    return best


class _Stall:
    """Notices column generation going round in circles (a full pool, a degenerate LP, pruning
    dropping the columns the next pricing adds back): `stuck` is True after every `STALL_ROUNDS`
    solves in a row that do not lift the LP above its best value so far; the pool then grows."""

    def __init__(self) -> None:
        self.value, self.flat = -math.inf, 0

    def stuck(self, value: float) -> bool:
        rose = value > self.value + 1e-9 * max(1.0, abs(value))
        self.value, self.flat = max(self.value, value), 0 if rose else self.flat + 1
        if self.flat < STALL_ROUNDS:
            return False
        self.flat = 0
        return True


STALL_ROUNDS = 3  # LP solves without a rise before the pool grows by `POOL` ...
MAX_POOL = 4 * POOL  # ... up to this many columns (the LP's solve time grows with them)

SMOOTHING = 0.5  # Wentges: price at 0.5 · best multipliers + 0.5 · LP duals


def _mix(center: _Duals, duals: _Duals, weight: float) -> _Duals:
    """weight · center + (1 − weight) · duals."""
    return _Duals(
        duals.value,
        weight * center.alpha + (1 - weight) * duals.alpha,
        {k: weight * center.pi[k] + (1 - weight) * v for k, v in duals.pi.items()},
        [weight * c + (1 - weight) * d for c, d in zip(center.beta, duals.beta, strict=True)],
    )


def _price_all(
    inst: HearingInstance,
    ents: list[list[int]],
    invs: list[list[int]],
    point: _Duals,
    top: int,
    deadline: float,
) -> tuple[float, list[tuple[int, tuple[int, ...]]]] | None:
    """The Lagrangian bound at `point` (Σα + Σπ + rooms · Σ_s best g_s) and the line-ups found;
    None if `deadline` passed first."""
    total = float(point.alpha.sum() + sum(point.pi.values()))
    found: list[tuple[int, tuple[int, ...]]] = []
    for s in range(inst.sessions):
        if time.monotonic() >= deadline:
            return None
        pi = np.array([point.pi[s, i] for i in invs[s]])
        priced = price_lineups(inst.weights[np.ix_(invs[s], ents[s])], pi, point.alpha[ents[s]],
                               inst.cap, top)  # fmt: skip
        total += inst.rooms * priced.best
        found += [(s, tuple(sorted(ents[s][j] for j in x))) for x in priced.lineups]
    return total, found


def _reduced(
    inst: HearingInstance,
    invs: list[int],
    lineup: tuple[int, ...],
    duals: _Duals,
    s: int,
) -> float:
    """The column's reduced value at the LP duals: Σ_i max(0, W_i(L) − π_i) − α(L) − β_s."""
    worth = inst.weights[np.ix_(invs, list(lineup))].sum(axis=1)
    pi = np.array([duals.pi[s, i] for i in invs])
    return float(
        np.maximum(worth - pi, 0.0).sum() - duals.alpha[list(lineup)].sum() - duals.beta[s]
    )


# ─── the meetings' LP bound ────────────────────────────────────────────────────────────────────
def meeting_bound(
    options: dict[tuple[int, int], list[int]],
    weight: dict[tuple[int, int], float],
    tables: int,
    required: tuple[frozenset[tuple[int, int]], int] = (frozenset(), 0),
) -> float:
    """An upper bound on Σ weight over 1:1 meetings: `options` maps each pair that may meet to the
    rounds it may meet in. Constraints: ≤ `tables` a round, one meeting a round per investor and
    per enterprise, a pair meets once; with `required` = (pairs, k), at least k of those pairs
    meet (Σ x ≥ k: bounds the slates that meet at least k must-meets among `options`). The LP's
    duals y ≥ 0 give the valid bound Σ b·y + Σ_x max(0, c_x − (A^T y)_x) for variables in
    [0, 1] (any A, b), so HiGHS's accuracy does not matter; inf if the LP is infeasible."""
    row: dict[tuple[str, int, int], int] = {}
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    cost: list[float] = []
    for (i, e), rounds in options.items():
        for t in rounds:
            keys = [(("t", t, 0), 1.0), (("i", i, t), 1.0), (("e", e, t), 1.0), (("p", i, e), 1.0)]
            if required[1] > 0 and (i, e) in required[0]:
                keys.append((("m", 0, 0), -1.0))
            rows += [row.setdefault(key, len(row)) for key, _ in keys]
            cols += [len(cost)] * len(keys)
            vals += [coef for _, coef in keys]
            cost.append(weight[i, e])
    if not cost:
        return 0.0 if required[1] <= 0 else math.inf
    b = np.array(
        [tables if k[0] == "t" else -required[1] if k[0] == "m" else 1 for k in row], float
    )
    a, c = csr_matrix((vals, (rows, cols)), shape=(len(row), len(cost))), np.array(cost)
    res = linprog(-c, A_ub=a, b_ub=b, bounds=(0, 1), method="highs")
    if res.status != 0:  # (infeasible: no slate meets `required`)
        return math.inf
    y = np.maximum(-np.asarray(res.ineqlin.marginals), 0.0)
    return float(b @ y + np.maximum(c - a.T @ y, 0.0).sum())


# ─── the line-up bound of a slate problem: hearing + meetings ─────────────────────────────────────
@dataclass(frozen=True, slots=True)
class LineupBound:
    """An upper bound on total fit valid for every slate of the event (confirmed items, seat caps
    and the tiers relaxed, but for an optional must-meet floor): line-up column generation for
    hearing + the meetings' LP bound."""

    value: int
    hearing: float
    meetings: float
    converged: bool


@dataclass(frozen=True)
class BoundInputs:
    """What the line-up bound needs, as plain data (it may run in another process): the hearing
    instance and its first columns, and the meetings' options, weights, tables and must-meets."""

    hearing: HearingInstance
    start: list[tuple[int, tuple[int, ...]]]
    options: dict[tuple[int, int], list[int]]
    weight: dict[tuple[int, int], float]
    tables: int
    required: tuple[frozenset[tuple[int, int]], int]


def bound_inputs(ctx: Context, slates: Sequence[Assignment], musts: int = 0) -> BoundInputs:
    """What `bound_of` needs for `ctx`, column generation starting from the rooms of `slates`.
    Total fit is hear_weight · heard fit + meeting_weight · met fit: the hearing part is bounded
    with pair weights fit · hear_weight (no-thanks pairs 0), the meetings with fit ·
    meeting_weight over every pair that may meet (not only the model's candidates). `musts` > 0:
    bound only slates that meet at least that many must-meets (`must_floor`); the tiers are
    otherwise relaxed."""
    p, slots = ctx.problem, ctx.table.slots
    weights = ctx.fit.astype(np.float64) * HEAR_WEIGHT
    for i, e in ctx.banned:
        weights[i, e] = 0.0
    inst = HearingInstance(weights, ctx.ent_sessions, ctx.inv_sessions, len(p.sessions),
                           len(p.rooms), p.slots_per_room)  # fmt: skip
    start = sorted({(slots[q].session, tuple(sorted(pitching_in(ctx, a, slots[q].session,
                                                                slots[q].room))))
                    for a in slates for q in a.pitch.values()})  # fmt: skip
    options, weight = meeting_options(ctx)
    outside = sum(1 for pair in ctx.must if pair not in options)  # met, but earn nothing
    required = (frozenset(ctx.must), musts - outside)
    return BoundInputs(inst, start, options, weight, p.meeting_tables, required)


def whole_points_bound(bound: float) -> int:
    """A bound on total fit, which is a whole number of points, rounded down to one.

    Float sums (the LPs) and CP-SAT's scaled objective can land a hair below the whole number
    they stand for (937.9999999999999 for an optimum of 938): 10⁻⁶ relative slack covers that.
    """
    return math.floor(bound + 1e-6 * max(1.0, abs(bound)))


def bound_of(inputs: BoundInputs, deadline: float, max_rounds: int = 1_000) -> LineupBound | None:
    """The line-up bound, stopping at `deadline` (time.monotonic()), rounded down to whole points;
    None if not even one round finished (a module-level function: a child process can run it)."""
    hearing = hearing_bound(inputs.hearing, deadline, inputs.start, max_rounds=max_rounds)
    if hearing is None:
        return None
    meetings = meeting_bound(inputs.options, inputs.weight, inputs.tables, inputs.required)
    if not math.isfinite(meetings):  # cannot happen for a slate that exists; stay safe
        meetings = meeting_bound(inputs.options, inputs.weight, inputs.tables)
    value = whole_points_bound(hearing.bound + meetings)
    return LineupBound(value, hearing.bound, meetings, hearing.converged)


def meeting_options(
    ctx: Context,
) -> tuple[dict[tuple[int, int], list[int]], dict[tuple[int, int], float]]:
    """Every pair that may meet (not no-thanks, positive fit) with the rounds it may meet in:
    both attend the round's session, and some session the enterprise attends ends before it."""
    blocks, rounds = ctx.table.blocks, ctx.table.rounds
    options: dict[tuple[int, int], list[int]] = {}
    weight: dict[tuple[int, int], float] = {}
    n_i, n_e = ctx.fit.shape
    for i in range(n_i):
        for e in range(n_e):
            if (i, e) in ctx.banned or ctx.fit[i, e] <= 0:
                continue
            ok = [t for t, rnd in enumerate(rounds)
                  if rnd.session in ctx.inv_sessions[i] and rnd.session in ctx.ent_sessions[e]
                  and any(blocks[s][1] <= rnd.start for s in ctx.ent_sessions[e])]  # fmt: skip
            if ok:
                options[i, e] = ok
                weight[i, e] = float(ctx.fit[i, e] * MEETING_WEIGHT)
    return options, weight
