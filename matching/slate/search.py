"""路演排程 — session-swap local search around the exact line-ups (`resplit_sessions`): moves or
swaps of enterprises between sessions, ranked by a cheap estimate, kept if (hearing fit, total
fit) rises and the phase-1 value holds; `iterated_search` restarts it from random kicks."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

import numpy as np

from matching.slate.core import (
    Assignment,
    Context,
    Greedy,
    fill_seats,
    fit_of,
    resplit_sessions,
    tiers_of,
)
from matching.slate.problem import HEAR_WEIGHT, MEETING_WEIGHT


@dataclass(frozen=True, slots=True)
class _Swap:
    """Enterprise `out` (session `s1`) goes to session `s2`; `back` (if any) comes to `s1`."""

    gain: float
    out: int
    back: int | None
    s2: int


def swap_sessions(
    ctx: Context,
    a: Assignment,
    sessions: set[int],
    floor: int,
    deadline: float,
    max_trials: int = 400,
    pinned: frozenset[int] = frozenset(),
) -> Assignment:
    """Improve `a` by moving or swapping enterprises between `sessions` (free sessions: nothing
    confirmed or previous in them), never enterprises in `pinned` (e.g. with confirmed meetings).

    The score is (hearing fit, total fit): meetings are rebooked for the final line-ups
    afterwards (`rebook`). Each ranked candidate is tried as is (the pitch takes the other's
    slot); an improvement is kept and both sessions are then re-split exactly. Stops after
    `max_trials` trials, at `deadline` (time.monotonic()) or when no candidate improves. Never
    lowers the score, nor the phase-1 value below `floor`."""
    score = _score
    best, fit, trials = a, score(ctx, a), 0
    failed: set[tuple[int, int | None, int]] = set()  # tried since the last improvement
    while trials < max_trials and time.monotonic() < deadline:
        improved = False
        for swap in _ranked(ctx, best, sessions, pinned):
            key = (swap.out, swap.back, swap.s2)
            if key in failed:
                continue
            if trials >= max_trials or time.monotonic() >= deadline:
                break
            trials += 1
            trial = _try(ctx, best, swap)
            value = (-1, -1) if trial is None else score(ctx, trial)
            if trial is not None and value > fit and tiers_of(ctx, trial) >= floor:
                s1 = ctx.table.slots[best.pitch[swap.out]].session
                best = resplit_sessions(ctx, trial, {s1, swap.s2}, floor)
                fit, improved = score(ctx, best), True
                failed.clear()
                break
            failed.add(key)
        if not improved:
            break
    return best


def _score(ctx: Context, a: Assignment) -> tuple[int, int]:
    """(hearing fit, total fit)."""
    total = fit_of(ctx, a)
    met = sum(ctx.fit_rows[i][e] for i, e in a.meet) * MEETING_WEIGHT
    return total - met, total


KICK = 8  # random moves per restart of the iterated search
STALE_STEP = 10  # restarts without a gain before a kick grows by one move ...
MAX_KICK = 20  # ... up to this many


def iterated_search(
    ctx: Context,
    a: Assignment,
    sessions: set[int],
    floor: int,
    deadline: float,
    restarts: int,
    pinned: frozenset[int] = frozenset(),
    max_trials: int = 400,
) -> Assignment:
    """Iterated local search: from the best slate so far, `_kick` random moves or swaps (each kept
    only if the phase-1 value holds), then `swap_sessions`; the outcome
    replaces the best slate if it scores higher. At most `restarts` restarts, until `deadline`;
    random choices follow `ctx.params.random_seed`."""
    rng = random.Random(ctx.params.random_seed)
    best, top, stale = a, _score(ctx, a), 0
    for _ in range(restarts):
        if time.monotonic() >= deadline:
            break
        trial = best
        for _ in range(_kick(stale)):
            swap = _random_swap(ctx, trial, sessions, pinned, rng)
            moved = None if swap is None else _try(ctx, trial, swap)
            if moved is not None and tiers_of(ctx, moved) >= floor:
                trial = moved
        trial = swap_sessions(ctx, trial, sessions, floor, deadline, max_trials, pinned)
        if _score(ctx, trial) > top and tiers_of(ctx, trial) >= floor:
            best, top, stale = trial, _score(ctx, trial), 0
        else:
            stale += 1
    return best


def _kick(stale: int) -> int:
    """Random moves for the next restart: `KICK`, one more for every `STALE_STEP` restarts in a
    row that found nothing, up to `MAX_KICK` (a stuck search reaches further)."""
    return min(KICK + stale // STALE_STEP, MAX_KICK)


def _random_swap(
    ctx: Context,
    a: Assignment,
    sessions: set[int],
    pinned: frozenset[int],
    rng: random.Random,
) -> _Swap | None:
    slots = ctx.table.slots
    where = {e: slots[q].session for e, q in a.pitch.items()}
    movable = sorted(e for e, s in where.items() if s in sessions and e not in pinned)
    if not movable:
        return None
    e = rng.choice(movable)
    targets = sorted(ctx.ent_sessions[e] & sessions - {where[e]})
    if not targets:
        return None
    s2 = rng.choice(targets)
    back = [f for f in movable if where[f] == s2 and where[e] in ctx.ent_sessions[f]]
    if _free_slot(ctx, a, s2) is not None and (not back or rng.random() < 0.5):
        return _Swap(0.0, e, None, s2)
    return _Swap(0.0, e, rng.choice(back), s2) if back else None


def _try(ctx: Context, a: Assignment, swap: _Swap) -> Assignment | None:
    """The slate after the move: pitches exchanged slot for slot (or into a free slot), both
    sessions' seats redrawn, meetings that now come too early rebooked. None if there is no
    free slot."""
    slots = ctx.table.slots
    s1 = slots[a.pitch[swap.out]].session
    trial = Assignment(dict(a.pitch), dict(a.seat), dict(a.meet), dict(a.tables))
    if swap.back is None:
        free = _free_slot(ctx, a, swap.s2)
        if free is None:
            return None
        trial.pitch[swap.out] = free
    else:
        trial.pitch[swap.out], trial.pitch[swap.back] = a.pitch[swap.back], a.pitch[swap.out]
    trial.seat = {key: r for key, r in trial.seat.items() if key[1] not in (s1, swap.s2)}
    moved = {swap.out} | ({swap.back} if swap.back is not None else set())
    lost = [(i, e) for (i, e), t in trial.meet.items()
            if e in moved and ctx.table.rounds[t].start < slots[trial.pitch[e]].end]  # fmt: skip
    for pair in lost:
        del trial.meet[pair]
    fill_seats(ctx, trial)
    greedy = Greedy(ctx, trial)
    must = set(ctx.must)
    for pair in sorted(lost, key=lambda p: (p not in must, -ctx.fit[p], p)):
        greedy.book(*pair)
    return trial


def _free_slot(ctx: Context, a: Assignment, s: int) -> int | None:
    used = set(a.pitch.values())
    return next((q for q, x in enumerate(ctx.table.slots) if x.session == s and q not in used),
                None)  # fmt: skip


def _ranked(ctx: Context, a: Assignment, sessions: set[int], pinned: frozenset[int]) -> list[_Swap]:
    """Every move and swap between `sessions`, with a positive estimated hearing gain, best
    first. The estimate keeps each room's line-up but for the exchanged pitch, and lets every
    investor of both sessions take its best room (no-thanks and seat caps ignored). Scored a
    session pair at a time, every enterprise (and swap partner) at once."""
    slots, w = ctx.table.slots, (ctx.fit * HEAR_WEIGHT).astype(np.float64)
    where = {e: (slots[q].session, slots[q].room) for e, q in a.pitch.items()}
    movable: dict[int, list[int]] = {s: [] for s in sessions}
    for e in sorted(where):
        if where[e][0] in sessions and e not in pinned:
            movable[where[e][0]].append(e)
    rooms = {s: _Rooms(ctx, a, s, w) for s in sessions}
    open_ = {s for s in sessions if _free_slot(ctx, a, s) is not None}
    out: list[_Swap] = []
    for s1, s2 in ((s1, s2) for s1 in sorted(sessions) for s2 in sorted(sessions) if s1 != s2):
        es = [e for e in movable[s1] if s2 in ctx.ent_sessions[e]]
        if not es:
            continue
        r1 = np.array([where[e][1] for e in es])
        if s2 in open_:
            out += _moves(rooms[s1], rooms[s2], w, es, r1, s2)
        fs = [f for f in movable[s2] if s1 in ctx.ent_sessions[f]]
        if fs:
            r2 = np.array([where[f][1] for f in fs])
            out += _swaps(rooms[s1], rooms[s2], w, (es, r1), (fs, r2), s2)
    return sorted((x for x in out if x.gain > 0), key=lambda x: (-x.gain, x.out, x.s2))


def _moves(
    one: _Rooms, two: _Rooms, w: np.ndarray, es: list[int], r1: np.ndarray, s2: int
) -> list[_Swap]:
    """Each of `es` (in rooms `r1` of its session) into the best room of session `s2`."""
    leave = one.change(r1, -w[:, es])
    enter = np.max([two.change(r, w[:, es]) for r in range(two.value.shape[1])], axis=0)
    return [_Swap(float(g), e, None, s2) for e, g in zip(es, leave + enter, strict=True)]


def _swaps(
    one: _Rooms,
    two: _Rooms,
    w: np.ndarray,
    outs: tuple[list[int], np.ndarray],
    backs: tuple[list[int], np.ndarray],
    s2: int,
) -> list[_Swap]:
    """Each e of `outs` (session one, rooms r1) swapped with each f > e of `backs` (session two,
    rooms r2), positive gains only: `_Rooms.change` for all pairs at once (investors × e × f)."""
    (es, r1), (fs, r2) = outs, backs
    trade = w[:, None, fs] - w[:, es, None]  # f's weights in for e's
    gains = one.change_pairs(r1[:, None], trade) + two.change_pairs(r2[None, :], -trade)
    keep = (gains > 0) & (np.array(es)[:, None] < np.array(fs)[None, :])
    return [
        _Swap(float(gains[j, k]), es[j], fs[k], s2) for j, k in zip(*np.nonzero(keep), strict=True)
    ]


class _Rooms:
    """One session's rooms for the estimate: value[i, r] = investor i's fit summed over room r's
    line-up (investors who do not attend: 0), each investor's best room value, and the best
    value among the other rooms."""

    def __init__(self, ctx: Context, a: Assignment, s: int, w: np.ndarray) -> None:
        n_i, n_r = len(ctx.problem.investors), len(ctx.problem.rooms)
        self.attend = np.array([s in ctx.inv_sessions[i] for i in range(n_i)], dtype=np.float64)
        self.value = np.zeros((n_i, n_r))
        for e, q in a.pitch.items():
            if ctx.table.slots[q].session == s:
                self.value[:, ctx.table.slots[q].room] += w[:, e]
        self.value *= self.attend[:, None]
        self.best = self.value.max(axis=1)
        self.others = np.stack(
            [np.delete(self.value, r, axis=1).max(axis=1, initial=0.0) for r in range(n_r)],
            axis=1,
        )

    def change_pairs(self, r: np.ndarray, delta: np.ndarray) -> np.ndarray:
        """`change` for a grid of candidates: `r` broadcasts against `delta`'s last two axes
        (investors × e × f); one sum per (e, f)."""
        after = np.maximum(self.others[:, r], self.value[:, r] + delta * self.attend[:, None, None])
        return (after - self.best[:, None, None]).sum(axis=0)

    def change(self, r: int | np.ndarray, delta: np.ndarray) -> np.ndarray:
        """Change in Σ_i best room value when room `r` (one per column of `delta`, or the same
        for all) changes by `delta` (investors × candidates); one sum per candidate."""
        cols = [r] if isinstance(r, int) else r
        after = np.maximum(self.others[:, cols], self.value[:, cols] + delta * self.attend[:, None])
        return (after - self.best[:, None]).sum(axis=0)
