"""路演排程 — simulated annealing over pitch rooms, for hearing fit.

The state is where each enterprise pitches (session, room); every investor sits in its best
room, so hearing fit is `Σ_s Σ_i max(0, max_r V[s, r, i])`, `V[s, r, i]` investor *i*'s fit
summed over room *r*'s line-up (no-thanks pitches −∞). A move changes at most two rooms and is
scored on vectors of investors. Moves keep every must-meet reachable; the slate is kept only if
the phase-1 value holds its floor and total fit rises.
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from matching.slate.core import (
    Assignment,
    Context,
    Greedy,
    fill_seats,
    higher_fit,
    resplit_sessions,
    slots_for,
    tiers_of,
)
from matching.slate.problem import FIT_SCALE, HEAR_WEIGHT

HOT, COLD = 2.0, 0.02  # start and end temperature, in fit points of one investor-pitch (× 100)
REHEAT = 0.5  # start temperature of a second annealing from the best slate so far
CHECK_EVERY = 256  # moves between looks at the clock (and updates of the temperature)
UNWELCOME = -1e9  # a no-thanks pitch in a room: that investor never sits there


@dataclass(frozen=True, slots=True)
class _Move:
    """Enterprise `e` goes from room `src` to room `dst` ((session, room)); `f` (if any) the
    other way. `delta` is the change in hearing fit."""

    delta: float
    e: int
    f: int | None
    src: tuple[int, int]
    dst: tuple[int, int]


class _Rooms:
    """The annealing state: each movable enterprise's (session, room) and every session's room
    values `V[s]` (rooms × investors), with each investor's best room and, per room, the best of
    the others (so a change to one room is scored in a few vector operations)."""

    def __init__(
        self,
        ctx: Context,
        a: Assignment,
        where: tuple[set[int], frozenset[int]],
    ) -> None:
        """The rooms of `a` in the free sessions of `where`, its pinned enterprises staying."""
        (sessions, pinned), slots = where, ctx.table.slots
        self.ctx, self.n_r = ctx, len(ctx.problem.rooms)
        self.weights = _weights(ctx, sessions)
        self.cap = Counter((s, r) for s, r, _ in ctx.slot_at)
        pos = {e: (slots[q].session, slots[q].room) for e, q in sorted(a.pitch.items())
               if slots[q].session in sessions}  # fmt: skip
        movable = sorted(e for e in pos if e not in pinned)
        rule = _MustRule(ctx, sessions)
        self.allowed = {e: rule.sessions_for(e) | {pos[e][0]} for e in movable}
        self.movable = [e for e in movable if len(self.allowed[e]) * self.n_r > 1]
        self.targets = {
            e: [(s, r) for s in sorted(self.allowed[e]) for r in range(self.n_r)]
            for e in self.movable
        }
        self.sessions = sorted(sessions)
        self._load(pos)

    def _load(self, pos: dict[int, tuple[int, int]]) -> None:
        self.pos = dict(pos)
        self.members: dict[tuple[int, int], list[int]] = {
            (s, r): [] for s in self.sessions for r in range(self.n_r)
        }
        for e, at in sorted(pos.items()):
            self.members[at].append(e)
        self.value_of = {
            s: np.array([self.weights[s][self.members[s, r]].sum(axis=0) for r in range(self.n_r)])
            for s in self.sessions
        }
        self.others: dict[int, np.ndarray] = {}
        self.total: dict[int, float] = {}
        for s in self.sessions:
            self._refresh(s)

    @property
    def value(self) -> float:
        return sum(self.total.values())

    def _refresh(self, s: int) -> None:
        v = self.value_of[s]
        self.total[s] = float(np.maximum(v.max(axis=0), 0.0).sum())
        others = np.zeros_like(v)
        for r in range(self.n_r):
            rest = np.delete(v, r, axis=0)
            if len(rest):
                np.maximum(rest.max(axis=0), 0.0, out=others[r])
        self.others[s] = others

    def propose(self, rng: random.Random) -> _Move | None:
        """A random move of a random enterprise: into a free place of another room, or a trade
        with an enterprise of that room that may pitch in the first one's session."""
        e = self.movable[int(rng.random() * len(self.movable))]
        src = self.pos[e]
        targets = self.targets[e]
        dst = targets[int(rng.random() * len(targets))]
        if dst == src:
            return None
        room = self.members[dst]
        free = len(room) < self.cap[dst]
        f = None
        if not free or (room and rng.random() < 0.5):
            partners = [g for g in room if src[0] in self.allowed.get(g, ())]
            if partners:
                f = partners[int(rng.random() * len(partners))]
            elif not free:
                return None
        return _Move(self._delta(e, f, src, dst), e, f, src, dst)

    def _delta(self, e: int, f: int | None, src: tuple[int, int], dst: tuple[int, int]) -> float:
        (s1, r1), (s2, r2) = src, dst
        w1, w2 = self.weights[s1], self.weights[s2]
        out = -w1[e] if f is None else w1[f] - w1[e]  # what room src gains
        into = w2[e] if f is None else w2[e] - w2[f]  # what room dst gains
        if s1 == s2:
            return self._two(s1, (r1, out), (r2, into))
        return self._one(s1, r1, out) + self._one(s2, r2, into)

    def _one(self, s: int, r: int, change: np.ndarray) -> float:
        after = np.maximum(self.others[s][r], self.value_of[s][r] + change)
        return float(after.sum()) - self.total[s]

    def _two(self, s: int, one: tuple[int, np.ndarray], two: tuple[int, np.ndarray]) -> float:
        v = self.value_of[s]
        rest = [r for r in range(self.n_r) if r not in (one[0], two[0])]
        base = np.maximum(v[rest].max(axis=0), 0.0) if rest else np.zeros(v.shape[1])
        after = np.maximum(np.maximum(base, v[one[0]] + one[1]), v[two[0]] + two[1])
        return float(after.sum()) - self.total[s]

    def apply(self, move: _Move) -> None:
        self._place(move.e, move.src, move.dst)
        if move.f is not None:
            self._place(move.f, move.dst, move.src)
        for s in {move.src[0], move.dst[0]}:
            self._refresh(s)

    def _place(self, e: int, src: tuple[int, int], dst: tuple[int, int]) -> None:
        self.members[src].remove(e)
        self.members[dst].append(e)
        self.value_of[src[0]][src[1]] -= self.weights[src[0]][e]
        self.value_of[dst[0]][dst[1]] += self.weights[dst[0]][e]
        self.pos[e] = dst


def _weights(ctx: Context, sessions: set[int]) -> dict[int, np.ndarray]:
    """Per session, (enterprises × investors): hearing fit points, 0 for investors who do not
    attend the session, `UNWELCOME` for no-thanks pairs."""
    n_i = len(ctx.problem.investors)
    w = ctx.fit.astype(np.float64) * HEAR_WEIGHT
    for i, e in ctx.banned:
        w[i, e] = UNWELCOME
    out = {}
    for s in sessions:
        attends = np.array([s in ctx.inv_sessions[i] for i in range(n_i)], dtype=np.float64)
        out[s] = np.ascontiguousarray((w * attends[:, None]).T)
    return out


class _MustRule:
    """Where an enterprise may pitch so that its must-meets stay within reach."""

    def __init__(self, ctx: Context, sessions: set[int]) -> None:
        self.ctx, self.sessions = ctx, sessions
        self.block_end: dict[int, datetime] = {}
        for q in ctx.table.slots:
            self.block_end[q.session] = max(self.block_end.get(q.session, q.end), q.end)

    def sessions_for(self, e: int) -> set[int]:
        """The sessions of `sessions` that `e` attends and whose pitch block ends before some
        round of a session both attend, for each must-meet of `e` that some such session leaves
        a round (one that none does is out of reach wherever `e` pitches)."""
        places, open_ = self.ctx.ent_sessions[e] & self.sessions, []
        for i, f in self.ctx.must:
            both = self.ctx.inv_sessions[i] & self.ctx.ent_sessions[e]
            if f == e and any(self._after(s, both) for s in places):
                open_.append(both)
        return {s for s in places if all(self._after(s, both) for both in open_)}

    def _after(self, s: int, both: set[int]) -> bool:
        """A meeting round of a session in `both` after session `s`'s pitch block."""
        return self.ctx.problem.meeting_tables > 0 and any(
            r.session in both and r.start >= self.block_end[s] for r in self.ctx.table.rounds
        )


@dataclass(frozen=True, slots=True)
class Cooling:
    """How long and from how hot: until `deadline` (time.monotonic()) or after `moves` proposed
    moves, whichever comes first (the temperature follows whichever is nearer its end), from
    `hot` down to `COLD` (in points of one investor-pitch, × 100 × hear weight)."""

    deadline: float
    moves: int
    hot: float = HOT


def anneal(
    ctx: Context,
    a: Assignment,
    sessions: set[int],
    floor: int,
    fixed: Assignment,
    pinned: frozenset[int],
    cooling: Cooling,
) -> Assignment:
    """Anneal the rooms of `sessions` (nothing confirmed or previous in them) from `a`;
    enterprises in `pinned` stay. Returns the best state as a slate — seats redrawn, meetings
    booked again greedily around `fixed`'s, sessions re-split exactly — if its phase-1 value is
    at least `floor` and its total fit beats `a`'s; else `a`. Random choices follow
    `ctx.params.random_seed` (and the starting temperature, so a reheat walks elsewhere)."""
    rng = random.Random(hash((ctx.params.random_seed, cooling.hot)))
    rooms = _Rooms(ctx, a, (sessions, pinned))
    if not rooms.movable:
        return a
    trial = _slate(ctx, a, _cool(rooms, rng, cooling), fixed, (sessions, floor))
    return higher_fit(ctx, trial, a) if tiers_of(ctx, trial) >= floor else a


def _cool(rooms: _Rooms, rng: random.Random, cooling: Cooling) -> dict[int, tuple[int, int]]:
    """Metropolis moves on a geometric schedule from `cooling.hot` to `COLD`; the best state
    seen."""
    scale = FIT_SCALE * HEAR_WEIGHT
    start, moves = time.monotonic(), cooling.moves
    span = max(cooling.deadline - start, 1e-9)
    best_value, best = rooms.value, dict(rooms.pos)
    temperature = cooling.hot * scale
    for k in range(moves):
        if k % CHECK_EVERY == 0:
            done = max((time.monotonic() - start) / span, k / moves)
            if done >= 1.0:
                break
            temperature = scale * cooling.hot * (COLD / cooling.hot) ** done
        move = rooms.propose(rng)
        if move is None:
            continue
        if move.delta >= 0 or rng.random() < math.exp(move.delta / temperature):
            rooms.apply(move)
            if rooms.value > best_value + 0.5:  # values are whole points
                best_value, best = rooms.value, dict(rooms.pos)
    return best


def _slate(
    ctx: Context,
    a: Assignment,
    pos: dict[int, tuple[int, int]],
    fixed: Assignment,
    where: tuple[set[int], int],
) -> Assignment:
    """`a` with the pitches of `pos` (`slots_for`: its old slot where still free in its room,
    else the room's lowest free one), seats of `sessions` redrawn, meetings booked again around
    the confirmed ones and `a`'s must-meets that still follow their pitch, then `sessions`
    re-split exactly (each split kept if it holds `floor`)."""
    sessions, floor = where
    pitch = {e: q for e, q in a.pitch.items() if e not in pos}
    pitch.update(slots_for(ctx, pos, a.pitch))
    seat = {key: r for key, r in a.seat.items() if key[1] not in sessions}
    trial = Assignment(
        pitch, seat, {**_musts_kept(ctx, a, pitch), **fixed.meet}, dict(fixed.tables)
    )
    fill_seats(ctx, trial)
    Greedy(ctx, trial).book_meetings()
    return resplit_sessions(ctx, trial, sessions, min(floor, tiers_of(ctx, trial)))


def _musts_kept(ctx: Context, a: Assignment, pitch: dict[int, int]) -> dict[tuple[int, int], int]:
    """`a`'s must-meet meetings that still come after their enterprise's (new) pitch (all of
    them, as `_MustRule` allows no other pitch): kept as they are."""
    slots, rounds = ctx.table.slots, ctx.table.rounds
    return {(i, e): t for (i, e), t in a.meet.items()
            if (i, e) in ctx.must and e in pitch and rounds[t].start >= slots[pitch[e]].end}  # fmt: skip
