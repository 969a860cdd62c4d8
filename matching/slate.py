"""路演排程: draw a roadshow slate — pitches, investor seating and 1:1 follow-up meetings.

Pure core: plain dataclasses and a fit matrix in, a plain `SlateResult` out; no DB, HTTP or
environment. `solve_slate` uses OR-Tools CP-SAT in lexicographic phases (placement, must-meets
and fairness first; then, on a re-solve, fewest moves; then total fit), improves the slate with
annealing over pitch rooms (matching/slate_anneal.py), exact room line-ups and a session-swap
search (matching/slate_search.py), and reports status, objective, proven bound (the smaller of
CP-SAT's and the line-up bound of matching/slate_bound.py) and gap. `greedy_slate` is the
baseline it is compared with, and the hint CP-SAT starts from. The model is written up in
docs/roadshow.md.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import lru_cache

import numpy as np
from ortools.sat.python import cp_model

from matching.slate_bound import (
    HearingInstance,
    hearing_bound,
    meeting_bound,
)
from matching.slate_check import SlateMetrics, check_slate, slate_metrics

FIT_SCALE = 100  # the objective counts fit in points: fit 0.73 → 73
_log = logging.getLogger(__name__)
SOLVED = (cp_model.OPTIMAL, cp_model.FEASIBLE)


# ─── inputs ────────────────────────────────────────────────────────────────────────────────────
@dataclass(frozen=True, slots=True)
class SlateSession:
    """A time block of the event: a block of pitches, then rounds of 1:1 meetings."""

    id: int
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class SlateEnterprise:
    """An accepted enterprise; `sessions` are the session ids it can attend (empty: all)."""

    id: int
    sessions: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class SlateInvestor:
    """A registered investor; `sessions` are the session ids it attends (empty: all)."""

    id: int
    sessions: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class Pitch:
    """An enterprise pitching in one slot of one room."""

    enterprise_id: int
    session_id: int
    room: str
    slot: int
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Seat:
    """An investor sitting in one room for the pitch block of one session."""

    investor_id: int
    session_id: int
    room: str
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Meeting:
    """A 1:1 follow-up meeting at a table (tables are numbered from 1)."""

    investor_id: int
    enterprise_id: int
    table: int
    start: datetime
    end: datetime


SlateItem = Pitch | Seat | Meeting


@dataclass(frozen=True, eq=False)
class SlateProblem:
    """One event to schedule.

    `fit` has shape ``(len(investors), len(enterprises))`` with values in [0, 1]. Pairs in
    `must_meet` and `no_thanks` are ``(investor_id, enterprise_id)``. A pair is *relevant* (counts
    toward `min_contacts`) when its fit reaches `relevance` or it is a must-meet, never when it is
    a no-thanks. `confirmed` items are kept as they are; `previous` items (an earlier, unconfirmed
    slate) are kept where possible. `room_seats` caps investors per room (None: no cap).
    """

    sessions: tuple[SlateSession, ...]
    rooms: tuple[str, ...]
    slots_per_room: int
    meeting_tables: int
    enterprises: tuple[SlateEnterprise, ...]
    investors: tuple[SlateInvestor, ...]
    fit: np.ndarray
    must_meet: frozenset[tuple[int, int]] = frozenset()
    no_thanks: frozenset[tuple[int, int]] = frozenset()
    min_contacts: int = 0
    pitch_minutes: int = 15
    meeting_minutes: int = 20
    relevance: float = 0.5
    room_seats: int | None = None
    confirmed: tuple[SlateItem, ...] = ()
    previous: tuple[SlateItem, ...] = ()


@dataclass(frozen=True, slots=True)
class SolverParams:
    """How to solve: wall-clock limit, seed and workers (deterministic: limit in CP-SAT time units).

    `lineup_bound`: compute the line-up bound in the run, beside the searches, for at most
    `bound_share` of the limit; in a child process (a core of its own) when the limit is at
    least `bound_process_min_s`, else on a thread;
    `search_share`: the first session-swap search's share of the limit (0: no search).
    """

    time_limit_s: float = 10.0
    random_seed: int = 0
    num_workers: int = 2
    deterministic: bool = False
    hear_weight: int = 1
    meeting_weight: int = 2
    meeting_candidates: int = 12
    break_symmetry: bool = True
    polish: bool = True
    linearization_level: int = 1
    lineup_bound: bool = True
    bound_share: float = 0.7
    bound_process_min_s: float = 10.0
    search_share: float = 0.25


# ─── outputs ───────────────────────────────────────────────────────────────────────────────────
@dataclass(frozen=True, slots=True)
class Unplaced:
    """An enterprise that got no pitch slot, and why (Chinese, for the matchmaker)."""

    enterprise_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class Shortfall:
    """An enterprise with fewer relevant investor contacts than required, and why."""

    enterprise_id: int
    contacts: int
    required: int
    reason: str


@dataclass(frozen=True)
class SlateResult:
    """A drawn slate with its quality: `objective` and `bound` are fit points (see FIT_SCALE)."""

    status: str
    objective: float
    bound: float | None
    gap: float | None
    pitches: list[Pitch]
    attendance: list[Seat]
    meetings: list[Meeting]
    unplaced: list[Unplaced]
    shortfalls: list[Shortfall] = field(default_factory=list)
    unmet_must_meets: list[tuple[int, int]] = field(default_factory=list)
    moved: int = 0
    metrics: SlateMetrics | None = None
    wall_time_s: float = 0.0
    phases: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    cp_bound: float | None = None  # CP-SAT's own phase-3 bound (given the tiers)
    lineup_bound: float | None = None  # the line-up bound (phase-1 tiers held); `bound`: the min


# ─── the timetable: where pitches and meeting rounds sit in time ───────────────────────────────
@dataclass(frozen=True, slots=True)
class PitchSlot:
    """One pitch slot: session position, room position, slot number and times."""

    session: int
    room: int
    slot: int
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class MeetingRound:
    """One round of 1:1 meetings (all tables at once) inside a session."""

    session: int
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Timetable:
    """Pitch slots, meeting rounds and each session's seating window (its pitch block)."""

    slots: tuple[PitchSlot, ...]
    rounds: tuple[MeetingRound, ...]
    blocks: tuple[tuple[datetime, datetime], ...]


def build_timetable(problem: SlateProblem) -> Timetable:
    """Lay each session out as a pitch block (`slots_per_room` pitches) then meeting rounds.

    A pitch lasts `pitch_minutes`, shortened if the session is too short to hold the block.
    Meeting rounds of `meeting_minutes` fill the rest of the session (none without tables).
    """
    slots: list[PitchSlot] = []
    rounds: list[MeetingRound] = []
    blocks: list[tuple[datetime, datetime]] = []
    for s, sess in enumerate(problem.sessions):
        minutes = (sess.end - sess.start) // timedelta(minutes=1)
        pitch = min(problem.pitch_minutes, minutes // max(problem.slots_per_room, 1))
        length = timedelta(minutes=pitch)
        for r in range(len(problem.rooms)):
            for k in range(problem.slots_per_room):
                start = sess.start + k * length
                slots.append(PitchSlot(s, r, k, start, start + length))
        block_end = sess.start + problem.slots_per_room * length
        blocks.append((sess.start, block_end))
        rounds += _rounds(s, block_end, sess.end, problem)
    return Timetable(tuple(slots), tuple(rounds), tuple(blocks))


def _rounds(s: int, start: datetime, end: datetime, problem: SlateProblem) -> list[MeetingRound]:
    length = timedelta(minutes=problem.meeting_minutes)
    out: list[MeetingRound] = []
    while problem.meeting_tables > 0 and length > timedelta(0) and start + length <= end:
        out.append(MeetingRound(s, start, start + length))
        start += length
    return out


def _overlaps(a: tuple[datetime, datetime], b: tuple[datetime, datetime]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


# ─── precomputed context shared by the model and the greedy ────────────────────────────────────
@dataclass
class _Context:
    problem: SlateProblem
    table: Timetable
    params: SolverParams
    fit: np.ndarray  # int points, (I, E)
    ent_sessions: list[set[int]]
    inv_sessions: list[set[int]]
    relevant: list[set[int]]  # per enterprise: investor positions that count as contacts
    credit: list[tuple[int, int]]  # (i, e) pairs whose hearing earns fit or a contact
    candidates: list[tuple[int, int]]  # (i, e) pairs that may have a 1:1 meeting
    must: list[tuple[int, int]]
    banned: set[tuple[int, int]]
    slot_at: dict[tuple[int, int, int], int]  # (session, room, slot) → slot index
    round_at: dict[tuple[int, datetime], int]
    round_blocks: list[list[int]]  # per round: sessions whose seating window overlaps it
    fit_rows: list[list[int]]  # `fit` as lists: reading one pair is ~5× faster than from numpy


def _positions(wanted: frozenset[int], all_: dict[int, int]) -> set[int]:
    if not wanted:
        return set(all_.values())
    return {all_[sid] for sid in wanted if sid in all_}


def _context(problem: SlateProblem, params: SolverParams) -> _Context:
    n_i, n_e = len(problem.investors), len(problem.enterprises)
    if problem.fit.shape != (n_i, n_e):
        raise ValueError(f"fit has shape {problem.fit.shape}, expected {(n_i, n_e)}")
    table = build_timetable(problem)
    sess = {s.id: k for k, s in enumerate(problem.sessions)}
    ent_pos = {e.id: k for k, e in enumerate(problem.enterprises)}
    inv_pos = {i.id: k for k, i in enumerate(problem.investors)}
    banned = _pairs(problem.no_thanks, inv_pos, ent_pos)
    must = sorted(_pairs(problem.must_meet, inv_pos, ent_pos) - banned)
    fit = np.rint(np.clip(problem.fit, 0.0, 1.0) * FIT_SCALE).astype(np.int64)
    relevant = _relevant(problem, fit, set(must), banned)
    return _Context(
        problem, table, params, fit,
        ent_sessions=[_positions(e.sessions, sess) for e in problem.enterprises],
        inv_sessions=[_positions(i.sessions, sess) for i in problem.investors],
        relevant=relevant,
        credit=[(i, e) for i in range(n_i) for e in range(n_e)
                if (i, e) not in banned and (fit[i, e] > 0 or i in relevant[e])],
        candidates=_candidates(relevant, fit, must, params.meeting_candidates),
        must=must, banned=banned,
        slot_at={(q.session, q.room, q.slot): k for k, q in enumerate(table.slots)},
        round_at={(r.session, r.start): k for k, r in enumerate(table.rounds)},
        round_blocks=[[s for s, b in enumerate(table.blocks) if _overlaps(b, (r.start, r.end))]
                      for r in table.rounds],
        fit_rows=fit.tolist(),
    )  # fmt: skip


def _pairs(
    pairs: frozenset[tuple[int, int]], inv_pos: dict[int, int], ent_pos: dict[int, int]
) -> set[tuple[int, int]]:
    return {(inv_pos[i], ent_pos[e]) for i, e in pairs if i in inv_pos and e in ent_pos}


def _relevant(
    problem: SlateProblem, fit: np.ndarray, must: set[tuple[int, int]], banned: set[tuple[int, int]]
) -> list[set[int]]:
    threshold = round(problem.relevance * FIT_SCALE)
    n_i, n_e = fit.shape
    return [
        {
            i
            for i in range(n_i)
            if (i, e) not in banned and (fit[i, e] >= threshold or (i, e) in must)
        }
        for e in range(n_e)
    ]


def _candidates(
    relevant: list[set[int]], fit: np.ndarray, must: list[tuple[int, int]], per_enterprise: int
) -> list[tuple[int, int]]:
    """Relevant pairs that may meet 1:1: each enterprise's best `per_enterprise`, plus must-meets."""
    out = set(must)
    for e, investors in enumerate(relevant):
        best = sorted(investors, key=lambda i: (-fit[i, e], i))[:per_enterprise]
        out.update((i, e) for i in best)
    return sorted(out)


# ─── an assignment in index space ──────────────────────────────────────────────────────────────
@dataclass
class _Assignment:
    pitch: dict[int, int] = field(default_factory=dict)  # enterprise → slot
    seat: dict[tuple[int, int], int] = field(default_factory=dict)  # (investor, session) → room
    meet: dict[tuple[int, int], int] = field(default_factory=dict)  # (investor, enterprise) → round
    tables: dict[tuple[int, int], int] = field(default_factory=dict)  # pinned table numbers


def _locate(ctx: _Context, items: Iterable[SlateItem]) -> tuple[_Assignment, list[str]]:
    """Map items (confirmed or previous) onto the timetable; report those that no longer fit."""
    p = ctx.problem
    sess = {s.id: k for k, s in enumerate(p.sessions)}
    rooms = {r: k for k, r in enumerate(p.rooms)}
    ents = {e.id: k for k, e in enumerate(p.enterprises)}
    invs = {i.id: k for k, i in enumerate(p.investors)}
    out, lost = _Assignment(), []
    for item in items:
        if not _place_item(ctx, out, item, sess, rooms, ents, invs):
            lost.append(_describe(item))
    return out, lost


def _place_item(
    ctx: _Context,
    out: _Assignment,
    item: SlateItem,
    sess: dict[int, int],
    rooms: dict[str, int],
    ents: dict[int, int],
    invs: dict[int, int],
) -> bool:
    if isinstance(item, Pitch):
        q = ctx.slot_at.get((sess.get(item.session_id, -1), rooms.get(item.room, -1), item.slot))
        if q is None or item.enterprise_id not in ents:
            return False
        out.pitch[ents[item.enterprise_id]] = q
    elif isinstance(item, Seat):
        if item.session_id not in sess or item.room not in rooms or item.investor_id not in invs:
            return False
        out.seat[invs[item.investor_id], sess[item.session_id]] = rooms[item.room]
    else:
        t = next((k for (s, start), k in ctx.round_at.items() if start == item.start), None)
        if t is None or item.investor_id not in invs or item.enterprise_id not in ents:
            return False
        pair = (invs[item.investor_id], ents[item.enterprise_id])
        out.meet[pair] = t
        out.tables[pair] = item.table
    return True


def _describe(item: SlateItem) -> str:
    if isinstance(item, Pitch):
        return f"企业 {item.enterprise_id} 的路演（{item.room} {item.start:%m-%d %H:%M}）"
    if isinstance(item, Seat):
        return f"机构 {item.investor_id} 的座位（{item.room} {item.start:%m-%d %H:%M}）"
    return f"机构 {item.investor_id} 与企业 {item.enterprise_id} 的会谈（{item.start:%m-%d %H:%M}）"


# ─── greedy baseline ───────────────────────────────────────────────────────────────────────────
class _Greedy:
    """Earliest free slot per enterprise, best room per investor, then meetings by priority."""

    def __init__(self, ctx: _Context, start: _Assignment) -> None:
        self.ctx, self.a = ctx, start
        self.used_slots = set(start.pitch.values())
        self.busy_inv = {(i, t) for (i, _), t in start.meet.items()}
        self.busy_ent = {(e, t) for (_, e), t in start.meet.items()}
        self.at_table = [0] * len(ctx.table.rounds)
        for t in start.meet.values():
            self.at_table[t] += 1

    def run(self) -> _Assignment:
        self._pitches()
        _fill_seats(self.ctx, self.a)
        self._meetings()
        return self.a

    def _pitches(self) -> None:
        ctx = self.ctx
        order = sorted(
            (e for e in range(len(ctx.problem.enterprises)) if e not in self.a.pitch),
            key=lambda e: (len(ctx.ent_sessions[e]), -len(ctx.relevant[e]), e),
        )
        for e in order:
            free = [q for q, s in enumerate(ctx.table.slots)
                    if q not in self.used_slots and s.session in ctx.ent_sessions[e]
                    and not _unwelcome(ctx, self.a, e, q)]  # fmt: skip
            if free:
                q = min(free, key=lambda q: (ctx.table.slots[q].start, self._room_load(q)))
                self.a.pitch[e] = q
                self.used_slots.add(q)

    def _room_load(self, q: int) -> int:
        s = self.ctx.table.slots[q]
        return sum(1 for k in self.used_slots if self.ctx.table.slots[k].room == s.room)

    def _meetings(self) -> None:
        """Must-meets (fewest free rounds first: taken in pair order, one could spend the only
        round another has), then contacts for enterprises short of `min_contacts`, then by fit."""
        ctx = self.ctx
        for pair in sorted(ctx.must, key=lambda p: (self._open_rounds(*p), p)):
            self._book(*pair)
        contacts = _contacts(ctx, self.a)
        allowed = set(ctx.candidates)
        for e in sorted(range(len(contacts)), key=lambda e: (contacts[e], e)):
            need = ctx.problem.min_contacts - contacts[e]
            for i in sorted(ctx.relevant[e], key=lambda i: (-ctx.fit[i, e], i)):
                fresh = (i, e) in allowed and not _hears(ctx, self.a, i, e)
                if need > 0 and fresh and self._book(i, e):
                    need -= 1
        for i, e in sorted(ctx.candidates, key=lambda p: (-ctx.fit[p], p)):
            self._book(i, e)

    def _open_rounds(self, i: int, e: int) -> int:
        """Rounds after `e`'s pitch where `i` and `e` could meet now (0 if `e` has no pitch)."""
        if e not in self.a.pitch:
            return 0
        after = self.ctx.table.slots[self.a.pitch[e]].end
        rounds = self.ctx.table.rounds
        return sum(1 for t, rnd in enumerate(rounds) if rnd.start >= after and self._free(i, e, t))

    def _book(self, i: int, e: int) -> bool:
        ctx = self.ctx
        if e not in self.a.pitch or (i, e) in self.a.meet:
            return False
        after = ctx.table.slots[self.a.pitch[e]].end
        for t, rnd in enumerate(ctx.table.rounds):
            if rnd.start >= after and self._free(i, e, t):
                self.a.meet[i, e] = t
                self.busy_inv.add((i, t))
                self.busy_ent.add((e, t))
                self.at_table[t] += 1
                return True
        return False

    def _free(self, i: int, e: int, t: int) -> bool:
        ctx, rnd = self.ctx, self.ctx.table.rounds[t]
        return (
            rnd.session in ctx.inv_sessions[i]
            and rnd.session in ctx.ent_sessions[e]
            and (i, t) not in self.busy_inv
            and (e, t) not in self.busy_ent
            and self.at_table[t] < ctx.problem.meeting_tables
            and not any((i, s) in self.a.seat for s in ctx.round_blocks[t])
        )


def _hears(ctx: _Context, a: _Assignment, i: int, e: int) -> bool:
    if e not in a.pitch:
        return False
    slot = ctx.table.slots[a.pitch[e]]
    return a.seat.get((i, slot.session)) == slot.room


def _seated(a: _Assignment) -> dict[tuple[int, int], list[int]]:
    """(session, room) → the investors seated there."""
    out: dict[tuple[int, int], list[int]] = {}
    for (i, s), r in a.seat.items():
        out.setdefault((s, r), []).append(i)
    return out


def _contacts(ctx: _Context, a: _Assignment) -> list[int]:
    """Per enterprise: relevant investors who hear its pitch or meet it 1:1."""
    seated, slots = _seated(a), ctx.table.slots
    reached: list[set[int]] = [set() for _ in ctx.problem.enterprises]
    for i, e in a.meet:
        reached[e].add(i)
    for e, q in a.pitch.items():
        reached[e].update(seated.get((slots[q].session, slots[q].room), ()))
    return [len(ctx.relevant[e] & reached[e]) for e in range(len(reached))]


def _fill_seats(ctx: _Context, a: _Assignment) -> None:
    """Seat every investor still unseated in a session it attends, in its best allowed room."""
    p = ctx.problem
    busy: dict[int, set[int]] = {}  # investor → sessions a meeting of theirs overlaps
    for (i, _), t in a.meet.items():
        busy.setdefault(i, set()).update(ctx.round_blocks[t])
    n_r, seats = len(p.rooms), p.room_seats
    for s in range(len(p.sessions)):
        lineups = [_pitching_in(ctx, a, s, r) for r in range(n_r)]
        load = [0] * n_r
        for (_, t), r in a.seat.items():
            if t == s:
                load[r] += 1
        room_of = {e: r for r, lineup in enumerate(lineups) for e in lineup}
        closed = {(i, room_of[e]) for i, e in ctx.banned if e in room_of}  # a no-thanks pitch
        value: list[list[int]] | None = None  # (investors × rooms), when first needed
        for i in range(len(p.investors)):
            if s not in ctx.inv_sessions[i] or (i, s) in a.seat or s in busy.get(i, ()):
                continue
            rooms = [r for r in range(n_r)
                     if (i, r) not in closed and (seats is None or load[r] < seats)]  # fmt: skip
            if rooms:
                if value is None:
                    value = _room_values(ctx, lineups)
                row = value[i]
                best = max(rooms, key=lambda r: (row[r], -load[r], -r))
                a.seat[i, s] = best
                load[best] += 1


def _room_values(ctx: _Context, lineups: list[list[int]]) -> list[list[int]]:
    """Per investor, per room: the fit summed over the room's line-up."""
    columns = [ctx.fit[:, lineup].sum(axis=1) for lineup in lineups]
    return np.stack(columns, axis=1).tolist()


def _pitching_in(ctx: _Context, a: _Assignment, s: int, r: int) -> list[int]:
    slots = ctx.table.slots
    return [e for e, q in a.pitch.items() if slots[q].session == s and slots[q].room == r]


def _may_sit(ctx: _Context, a: _Assignment, i: int, s: int, r: int, load: int) -> bool:
    return _room_open(ctx, i, _pitching_in(ctx, a, s, r), load)


def _room_open(ctx: _Context, i: int, lineup: list[int], load: int) -> bool:
    """Investor i may take a seat in a room with `load` seated, where `lineup` pitches."""
    seats = ctx.problem.room_seats
    if seats is not None and load >= seats:
        return False
    return not any((i, e) in ctx.banned for e in lineup)


def _unwelcome(ctx: _Context, a: _Assignment, e: int, q: int) -> bool:
    """Someone seated in that room and session marked this enterprise no-thanks."""
    slot = ctx.table.slots[q]
    return any(a.seat.get((i, slot.session)) == slot.room for i, f in ctx.banned if f == e)


# ─── the CP-SAT model ──────────────────────────────────────────────────────────────────────────
Var = cp_model.IntVar


class _SlateModel:
    """Decisions: group[e, session, room] (the pitch's room and session; the slot inside the
    block is assigned afterwards, as every meeting round of a session follows its whole pitch
    block), seat[i, session, room] and meet[i, e, round]. Auxiliaries: hear credits
    z[i, e, session, room] ≤ group ∧ seat, contacts c[i, e] and fairness f[e] = min(contacts, K)."""

    def __init__(self, ctx: _Context) -> None:
        self.ctx, self.m = ctx, cp_model.CpModel()
        self.group: dict[tuple[int, int, int], Var] = {}
        self._groups_of: dict[int, list[tuple[int, Var]]] = {}  # e → (session, group var)
        self.seat: dict[tuple[int, int, int], Var] = {}
        self.meet: dict[tuple[int, int, int], Var] = {}
        self.hear: dict[tuple[int, int, int, int], Var] = {}
        self.contact: dict[tuple[int, int], Var] = {}
        self.fair: dict[int, Var] = {}
        self.symmetric: set[int] = set()  # sessions whose rooms are ordered (see below)
        self._groups()
        self._seats()
        self._hearing()
        self._meetings()
        self._fairness()

    def _groups(self) -> None:
        ctx, m, p = self.ctx, self.m, self.ctx.problem
        for e in range(len(p.enterprises)):
            row = [m.new_bool_var(f"g{e}_{s}_{r}")
                   for s in sorted(ctx.ent_sessions[e]) for r in range(len(p.rooms))]  # fmt: skip
            keys = [(e, s, r) for s in sorted(ctx.ent_sessions[e]) for r in range(len(p.rooms))]
            self.group.update(zip(keys, row, strict=True))
            self._groups_of[e] = [(s, g) for (_, s, _), g in zip(keys, row, strict=True)]
            m.add_at_most_one(row)
        for s in range(len(p.sessions)):
            for r in range(len(p.rooms)):
                here = [v for (_, t, k), v in self.group.items() if (t, k) == (s, r)]
                m.add(sum(here) <= p.slots_per_room)

    def _seats(self) -> None:
        ctx, m, p = self.ctx, self.m, self.ctx.problem
        for i in range(len(p.investors)):
            for s in sorted(ctx.inv_sessions[i]):
                row = [m.new_bool_var(f"a{i}_{s}_{r}") for r in range(len(p.rooms))]
                self.seat.update({(i, s, r): v for r, v in enumerate(row)})
                m.add_at_most_one(row)
        for s in range(len(p.sessions) if p.room_seats is not None else 0):
            for r in range(len(p.rooms)):
                here = [v for (_, t, k), v in self.seat.items() if (t, k) == (s, r)]
                m.add(sum(here) <= (p.room_seats or 0))
        for i, e in ctx.banned:  # no-thanks: never in the room while that enterprise pitches
            for (f, s, r), g in self.group.items():
                if f == e and (i, s, r) in self.seat:
                    m.add_bool_or([g.negated(), self.seat[i, s, r].negated()])

    def _hearing(self) -> None:
        """z ≤ group, z ≤ seat, and an investor hears at most `slots_per_room` pitches a session."""
        ctx, m = self.ctx, self.m
        rooms = range(len(ctx.problem.rooms))
        for i, e in ctx.credit:
            for s in ctx.ent_sessions[e] & ctx.inv_sessions[i]:
                for r in rooms:
                    z = self.hear[i, e, s, r] = m.new_bool_var(f"z{i}_{e}_{s}_{r}")
                    m.add_implication(z, self.group[e, s, r])
                    m.add_implication(z, self.seat[i, s, r])
        by_seat: dict[tuple[int, int, int], list[Var]] = {}
        for (i, _, s, r), z in self.hear.items():
            by_seat.setdefault((i, s, r), []).append(z)
        for key, zs in by_seat.items():
            if len(zs) > ctx.problem.slots_per_room:
                m.add(sum(zs) <= ctx.problem.slots_per_room * self.seat[key])

    def _meetings(self) -> None:
        ctx, m = self.ctx, self.m
        for i, e in ctx.candidates:
            for t, rnd in enumerate(ctx.table.rounds):
                both = rnd.session in ctx.inv_sessions[i] and rnd.session in ctx.ent_sessions[e]
                if both and self._pitched_before(e, t):
                    self.meet[i, e, t] = m.new_bool_var(f"m{i}_{e}_{t}")
        for t in range(len(ctx.table.rounds)):
            here = [v for (_, _, k), v in self.meet.items() if k == t]
            m.add(sum(here) <= ctx.problem.meeting_tables)
        for vs in self.met_by_pair().values():
            m.add_at_most_one(vs)
        self._meeting_people()

    def _pitched_before(self, e: int, t: int) -> list[Var]:
        start, blocks = self.ctx.table.rounds[t].start, self.ctx.table.blocks
        return [g for s, g in self._groups_of.get(e, []) if blocks[s][1] <= start]

    def _meeting_people(self) -> None:
        """One place at a time, and an enterprise meets only after its pitch block has ended."""
        ctx, m = self.ctx, self.m
        by_inv: dict[tuple[int, int], list[Var]] = {}
        by_ent: dict[tuple[int, int], list[Var]] = {}
        for (i, e, t), v in self.meet.items():
            by_inv.setdefault((i, t), []).append(v)
            by_ent.setdefault((e, t), []).append(v)
        for (i, t), vs in by_inv.items():
            seated = [
                v for (j, s, _), v in self.seat.items() if j == i and s in ctx.round_blocks[t]
            ]
            m.add(sum(vs) + sum(seated) <= 1)
        for (e, t), vs in by_ent.items():
            m.add(sum(vs) <= sum(self._pitched_before(e, t)))

    def _fairness(self) -> None:
        ctx, m, k = self.ctx, self.m, self.ctx.problem.min_contacts
        heard: dict[tuple[int, int], list[Var]] = {}
        for (i, e, _, _), z in self.hear.items():
            heard.setdefault((i, e), []).append(z)
        met = self.met_by_pair()
        for e in range(len(ctx.problem.enterprises)) if k > 0 else []:
            for i in ctx.relevant[e]:
                c = self.contact[i, e] = m.new_bool_var(f"c{i}_{e}")
                m.add(c <= sum(heard.get((i, e), [])) + sum(met.get((i, e), [])))
            f = self.fair[e] = m.new_int_var(0, k, f"f{e}")
            m.add(f <= sum(self.contact[i, e] for i in ctx.relevant[e]))

    # objectives ---------------------------------------------------------------------------
    def met_by_pair(self) -> dict[tuple[int, int], list[Var]]:
        out: dict[tuple[int, int], list[Var]] = {}
        for (i, e, _), v in self.meet.items():
            out.setdefault((i, e), []).append(v)
        return out

    def tiers(self) -> cp_model.LinearExprT:
        """Placed enterprises ≫ must-meets kept ≫ Σ_e min(relevant contacts, K)."""
        ctx, met = self.ctx, self.met_by_pair()
        w_must = len(ctx.problem.enterprises) * ctx.problem.min_contacts + 1
        w_place = w_must * (len(ctx.must) + 1)
        musts = sum(sum(met.get(pair, [])) for pair in ctx.must)
        return w_place * sum(self.group.values()) + w_must * musts + sum(self.fair.values())

    def total_fit(self) -> cp_model.LinearExprT:
        """Σ fit points × (hear_weight · heard in the room + meeting_weight · met 1:1)."""
        fit, hw, mw = self.ctx.fit, self.ctx.params.hear_weight, self.ctx.params.meeting_weight
        terms = [int(fit[i, e]) * hw * z for (i, e, _, _), z in self.hear.items()]
        terms += [int(fit[i, e]) * mw * v for (i, e, _), v in self.meet.items()]
        return sum(terms)

    def moves(self, prev: _Assignment) -> cp_model.LinearExprT:
        """Previous items not kept (an item whose variable is gone counts as moved)."""
        return sum(1 - v if v is not None else 1 for _, v in self._vars_of(prev))

    def fix(self, fixed: _Assignment) -> list[str]:
        """Force confirmed items; return those the model cannot hold."""
        lost = []
        for key, var in self._vars_of(fixed):
            if var is None:
                lost.append(str(key))
            else:
                self.m.add(var == 1)
        return lost

    def _vars_of(self, a: _Assignment) -> list[tuple[object, Var | None]]:
        slots = self.ctx.table.slots
        groups = {e: (slots[q].session, slots[q].room) for e, q in a.pitch.items()}
        out: list[tuple[object, Var | None]] = []
        out += [((e, *g), self.group.get((e, *g))) for e, g in groups.items()]
        out += [((i, s, r), self.seat.get((i, s, r))) for (i, s), r in a.seat.items()]
        out += [((i, e, t), self.meet.get((i, e, t))) for (i, e), t in a.meet.items()]
        return out

    def break_room_symmetry(self, sessions: set[int]) -> None:
        """Rooms of a session are interchangeable when nothing pins one (no confirmed or previous
        item there): order them by their lowest enterprise index. If *e* pitches in room r ≥ 1,
        some enterprise f < e pitches in room r − 1 (empty rooms come last)."""
        ctx, m = self.ctx, self.m
        self.symmetric = set(sessions)
        n_rooms = len(ctx.problem.rooms)
        for s in sorted(sessions):
            here = sorted(
                e for e in range(len(ctx.problem.enterprises)) if s in ctx.ent_sessions[e]
            )
            for k, e in enumerate(here):
                for r in range(1, n_rooms):
                    earlier = [self.group[f, s, r - 1] for f in here[:k]]
                    if not earlier:
                        m.add(self.group[e, s, r] == 0)
                    else:
                        m.add(self.group[e, s, r] <= sum(earlier))

    def hold_rooms(self, a: _Assignment) -> None:
        """Fix every pitch's session and room, and every seat, to those of `a` (the model's last
        use: only the 1:1 meetings are left to choose)."""
        a = _canonical(self.ctx, a, self.symmetric)
        on = {id(v) for _, v in self._vars_of(a) if v is not None}
        for v in [*self.group.values(), *self.seat.values()]:
            self.m.add(v == int(id(v) in on))

    def hint(self, a: _Assignment) -> None:
        """Start the search from `a`: a complete hint, auxiliaries included."""
        a = _canonical(self.ctx, a, self.symmetric)
        self.m.clear_hints()
        on = {id(v) for _, v in self._vars_of(a) if v is not None}
        for v in [*self.group.values(), *self.seat.values(), *self.meet.values()]:
            self.m.add_hint(v, id(v) in on)
        heard = set()
        for (i, e, s, r), z in self.hear.items():
            value = id(self.group[e, s, r]) in on and id(self.seat[i, s, r]) in on
            self.m.add_hint(z, value)
            heard |= {(i, e)} if value else set()
        for (i, e), c in self.contact.items():
            self.m.add_hint(c, (i, e) in heard or (i, e) in a.meet)
        for e, f in self.fair.items():
            got = sum(1 for i in self.ctx.relevant[e] if (i, e) in heard or (i, e) in a.meet)
            self.m.add_hint(f, min(got, self.ctx.problem.min_contacts))

    def read(self, solver: cp_model.CpSolver, prefer: dict[int, int]) -> _Assignment:
        """The solution, with each pitch put in a slot of its block (preferred slots first)."""
        a = _Assignment()
        groups = {e: (s, r) for (e, s, r), v in self.group.items() if solver.boolean_value(v)}
        a.pitch = _slots_for(self.ctx, groups, prefer)
        a.seat = {(i, s): r for (i, s, r), v in self.seat.items() if solver.boolean_value(v)}
        a.meet = {(i, e): t for (i, e, t), v in self.meet.items() if solver.boolean_value(v)}
        return a


def _slots_for(
    ctx: _Context, groups: dict[int, tuple[int, int]], prefer: dict[int, int]
) -> dict[int, int]:
    """Give each enterprise a slot in its (session, room): its preferred slot if free, else the
    lowest free one."""
    out: dict[int, int] = {}
    taken: set[int] = set()
    for e in sorted(groups, key=lambda e: (e not in prefer, e)):
        s, r = groups[e]
        q = prefer.get(e)
        if (
            q is None
            or q in taken
            or (ctx.table.slots[q].session, ctx.table.slots[q].room) != (s, r)
        ):
            q = next(ctx.slot_at[s, r, k] for k in range(ctx.problem.slots_per_room)
                     if ctx.slot_at[s, r, k] not in taken)  # fmt: skip
        out[e] = q
        taken.add(q)
    return out


def _free_sessions(ctx: _Context, *pinned: _Assignment) -> set[int]:
    """Sessions no confirmed or previous pitch or seat refers to: their rooms are interchangeable
    and their line-ups may be redrawn freely."""
    slots, out = ctx.table.slots, set(range(len(ctx.problem.sessions)))
    for a in pinned:
        out -= {slots[q].session for q in a.pitch.values()}
        out -= {s for (_, s) in a.seat}
    return out


def _canonical(ctx: _Context, a: _Assignment, sessions: set[int]) -> _Assignment:
    """`a` with the rooms of `sessions` renumbered by their lowest enterprise index (empty rooms
    last), as the symmetry-breaking constraints want; meetings are untouched."""
    if not sessions:
        return a
    slots, n_rooms = ctx.table.slots, len(ctx.problem.rooms)
    rename: dict[int, dict[int, int]] = {}
    for s in sessions:
        first = {r: min((e for e, q in a.pitch.items()
                         if (slots[q].session, slots[q].room) == (s, r)), default=10**9)
                 for r in range(n_rooms)}  # fmt: skip
        order = sorted(range(n_rooms), key=lambda r: (first[r], r))
        rename[s] = {old: new for new, old in enumerate(order)}
    out = _Assignment(dict(a.pitch), dict(a.seat), dict(a.meet), dict(a.tables))
    for e, q in a.pitch.items():
        x = slots[q]
        if x.session in rename:
            out.pitch[e] = ctx.slot_at[x.session, rename[x.session][x.room], x.slot]
    for (i, s), r in a.seat.items():
        if s in rename:
            out.seat[i, s] = rename[s][r]
    return out


def _tiers_of(ctx: _Context, a: _Assignment) -> int:
    """The phase-1 objective (placed ≫ must-meets ≫ fairness) of an assignment."""
    k, n_e = ctx.problem.min_contacts, len(ctx.problem.enterprises)
    w_must = n_e * k + 1
    value = w_must * (len(ctx.must) + 1) * len(a.pitch)
    value += w_must * sum(1 for pair in ctx.must if pair in a.meet)
    return value + sum(min(c, k) for c in _contacts(ctx, a))


def _partitions(n: int, rooms: int, cap: int, limit: int) -> list[tuple[int, ...]] | None:
    """Every split of items 0..n-1 into at most `rooms` unlabelled groups of at most `cap`, as
    tuples of bit masks (each group opens with the lowest item left); None if more than `limit`."""
    out: list[tuple[int, ...]] = []

    def grow(left: int, groups: tuple[int, ...]) -> bool:
        if left == 0:
            out.append(groups)
            return len(out) <= limit
        if len(groups) == rooms:
            return True
        low = (left & -left).bit_length() - 1
        rest = [k for k in range(low + 1, n) if left >> k & 1]
        fewest = len(rest) - (rooms - len(groups) - 1) * cap  # the other rooms must hold the rest
        for size in range(min(cap, 1 + len(rest)) - 1, max(fewest, 0) - 1, -1):
            for pick in _combinations(rest, size):
                mask = 1 << low
                for k in pick:
                    mask |= 1 << k
                if not grow(left & ~mask, (*groups, mask)):
                    return False
        return True

    return out if grow((1 << n) - 1, ()) else None


@lru_cache(maxsize=16)
def _splits(
    n: int, rooms: int, cap: int, limit: int
) -> tuple[list[tuple[int, ...]], np.ndarray, np.ndarray] | None:
    """`_partitions`, with the distinct groups as a (cap × groups) table of their items (padded
    with `n`: a row of zeros) and a (rooms × splits) table of group indices (index = number of
    groups: an empty room; a room's row contiguous, for `np.take`); cached, as every session of
    an event alike."""
    parts = _partitions(n, rooms, cap, limit)
    if not parts:
        return None
    masks = sorted({m for part in parts for m in part})
    index = {m: k for k, m in enumerate(masks)}
    table = np.full((rooms, len(parts)), len(masks), dtype=np.int64)
    for col, part in enumerate(parts):
        table[: len(part), col] = [index[m] for m in part]
    items = np.full((cap, len(masks)), n, dtype=np.int64)  # a slot's row contiguous
    for k, m in enumerate(masks):
        members = [j for j in range(n) if m >> j & 1]
        items[: len(members), k] = members
    return parts, items, table


def _combinations(items: list[int], size: int) -> Iterable[tuple[int, ...]]:
    from itertools import combinations

    return combinations(items, size)


SPLIT_CHUNK = 20_000  # splits scored at once (a few MB of int16)


def _best_lineups(
    ctx: _Context, a: _Assignment, s: int, limit: int = 200_000
) -> list[list[int]] | None:
    """The exact best split of session `s`'s pitching enterprises into rooms for hearing fit,
    each attending investor then taking its best allowed room (no no-thanks pitch in it);
    None if there are too many splits to try. Rooms are returned in no particular order."""
    p, slots = ctx.problem, ctx.table.slots
    ents = sorted(e for e, q in a.pitch.items() if slots[q].session == s)
    invs = [i for i in range(len(p.investors)) if s in ctx.inv_sessions[i]]
    if not ents or not invs or len(ents) > 20:
        return None
    split = _splits(len(ents), len(p.rooms), p.slots_per_room, limit)
    if split is None:
        return None
    parts, items, table = split
    fit = np.zeros((len(ents) + 1, len(invs)), dtype=np.int64)  # (ents + a zero row, invs)
    fit[:-1] = ctx.fit[np.ix_(invs, ents)].T * ctx.params.hear_weight
    value = np.take(fit, items[0], axis=0)  # (groups, invs): each group's fit, item by item
    for slot in items[1:]:
        value += np.take(fit, slot, axis=0)
    where_e, where_i = {e: k for k, e in enumerate(ents)}, {i: j for j, i in enumerate(invs)}
    for i, e in ctx.banned:  # may not sit there (0: as good as sitting nowhere)
        if e in where_e and i in where_i:
            value[(items == where_e[e]).any(axis=0), where_i[i]] = 0
    small = value.max(initial=0) <= np.iinfo(np.int16).max  # (sums: ≤ investors × 32,767)
    padded = np.vstack([value, np.zeros((1, len(invs)), dtype=value.dtype)])  # + an empty room
    padded = padded.astype(np.int16 if small else np.int64)
    total_type = np.int32 if small else np.int64
    best, best_row = -1, -1  # int16, np.take and einsum: 8.5 → 3.7 ms for 126,126 splits
    for lo in range(0, len(parts), SPLIT_CHUNK):
        rooms = table[:, lo : lo + SPLIT_CHUNK]
        heard = np.take(padded, rooms[0], axis=0)  # (splits, invs): each investor's best room
        for r in range(1, rooms.shape[0]):
            np.maximum(heard, np.take(padded, rooms[r], axis=0), out=heard)
        totals = np.einsum("ij->i", heard, dtype=total_type)
        k = int(np.argmax(totals))
        if int(totals[k]) > best:
            best, best_row = int(totals[k]), lo + k
    groups = parts[best_row]
    return [[ents[k] for k in range(len(ents)) if m >> k & 1] for m in groups]


def _polish(ctx: _Context, a: _Assignment, sessions: set[int], floor: int) -> _Assignment:
    """Redraw the room line-ups of `sessions` exactly (every split tried), one session at a time,
    re-seating its investors in their best rooms; a change is kept only if it raises total fit
    and keeps the phase-1 value at least at `floor`. Meetings and pitch sessions stay."""
    best = a
    for s in sorted(sessions):
        lineups = _best_lineups(ctx, best, s)
        if lineups is None:
            continue
        trial = _Assignment(dict(best.pitch), dict(best.seat), dict(best.meet), dict(best.tables))
        for r, group in enumerate(lineups):
            for k, e in enumerate(sorted(group)):
                trial.pitch[e] = ctx.slot_at[s, r, k]
        trial.seat = {key: r for key, r in trial.seat.items() if key[1] != s}
        _fill_seats(ctx, trial)
        if _fit_of(ctx, trial) > _fit_of(ctx, best) and _tiers_of(ctx, trial) >= floor:
            best = trial
    return best


# ─── the line-up bound (matching/slate_bound.py) ───────────────────────────────────────────────
@dataclass(frozen=True, slots=True)
class LineupBound:
    """An upper bound on total fit valid for every slate of the event (confirmed items, seat caps
    and the tiers relaxed, but for an optional must-meet floor): line-up column generation for
    hearing + the meetings' LP bound."""

    value: int
    hearing: float
    meetings: float
    rounds: int
    converged: bool
    seconds: float

    def describe(self) -> str:
        state = "converged" if self.converged else f"{self.rounds} rounds"
        return (f"line-up bound: {self.value} (hearing {self.hearing:.0f} + meetings"
                f" {self.meetings:.0f}; {state}, {self.seconds:.1f} s)")  # fmt: skip


def lineup_bound(
    ctx: _Context,
    slates: Sequence[_Assignment],
    deadline: float,
    max_rounds: int = 1_000,
    musts: int = 0,
) -> LineupBound | None:
    """The line-up bound, column generation starting from the rooms of `slates` and stopping at
    `deadline` (time.monotonic()); None if not even one round finished. Total fit is
    hear_weight · heard fit + meeting_weight · met fit: the hearing part is bounded with pair
    weights fit · hear_weight (no-thanks pairs 0: they earn nothing), the meetings with fit ·
    meeting_weight over every pair that may meet (not only the model's candidates). The sum is
    rounded down, as total fit is a whole number of points. `musts` > 0: bound only slates that
    meet at least that many must-meets (see `_must_floor`); the tiers are otherwise relaxed."""
    return bound_of(bound_inputs(ctx, slates, musts), deadline, max_rounds)


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


def bound_inputs(ctx: _Context, slates: Sequence[_Assignment], musts: int = 0) -> BoundInputs:
    """The inputs of `lineup_bound` for `ctx`, its first columns the rooms of `slates`."""
    p, slots = ctx.problem, ctx.table.slots
    weights = ctx.fit.astype(np.float64) * ctx.params.hear_weight
    for i, e in ctx.banned:
        weights[i, e] = 0.0
    inst = HearingInstance(weights, ctx.ent_sessions, ctx.inv_sessions, len(p.sessions),
                           len(p.rooms), p.slots_per_room)  # fmt: skip
    start = sorted({(slots[q].session, tuple(sorted(_pitching_in(ctx, a, slots[q].session,
                                                                slots[q].room))))
                    for a in slates for q in a.pitch.values()})  # fmt: skip
    options, weight = _meeting_options(ctx)
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
    """`lineup_bound` from its inputs (a module-level function: a worker process can run it)."""
    clock = time.monotonic()
    hearing = hearing_bound(inputs.hearing, deadline, inputs.start, max_rounds=max_rounds)
    if hearing is None:
        return None
    meetings = meeting_bound(inputs.options, inputs.weight, inputs.tables, inputs.required)
    if not math.isfinite(meetings):  # cannot happen for a slate that exists; stay safe
        meetings = meeting_bound(inputs.options, inputs.weight, inputs.tables)
    value = whole_points_bound(hearing.bound + meetings)
    return LineupBound(value, hearing.bound, meetings, hearing.rounds, hearing.converged,
                       time.monotonic() - clock)  # fmt: skip


def _meeting_options(
    ctx: _Context,
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
                weight[i, e] = float(ctx.fit[i, e] * ctx.params.meeting_weight)
    return options, weight


# ─── solving in phases ─────────────────────────────────────────────────────────────────────────
@dataclass
class _Phase:
    name: str
    status: cp_model.CpSolverStatus
    value: float
    bound: float


class _Runner:
    """Runs lexicographic phases on one model within one time budget."""

    def __init__(
        self, model: _SlateModel, params: SolverParams, prefer: dict[int, int], deadline: float
    ) -> None:
        self.model, self.params, self.prefer = model, params, prefer
        self.deadline = deadline
        self.best: _Assignment | None = None
        self.phases: list[_Phase] = []

    def phase(
        self,
        name: str,
        expr: cp_model.LinearExprT,
        maximize: bool,
        share: float,
        start: _Assignment | None = None,
    ) -> bool:
        """Optimise `expr` (from `start` if given), then hold it at the value found; False if no
        solution was found."""
        m = self.model.m
        if start is not None:
            self.model.hint(start)
        m.maximize(expr) if maximize else m.minimize(expr)
        solver = self._solver(share)
        status = solver.solve(m)
        if status not in SOLVED:
            self.phases.append(_Phase(name, status, 0.0, 0.0))
            return False
        value = solver.objective_value
        self.phases.append(_Phase(name, status, value, solver.best_objective_bound))
        self.best = self.model.read(solver, self.prefer)
        self.model.hint(self.best)
        m.add(expr >= round(value)) if maximize else m.add(expr <= round(value))
        return True

    def _solver(self, share: float) -> cp_model.CpSolver:
        p, solver = self.params, cp_model.CpSolver()
        left = p.time_limit_s if p.deterministic else self.deadline - time.monotonic()
        budget = max(0.05, left * share)  # deterministic runs split a fixed budget, not the clock
        solver.parameters.random_seed = p.random_seed
        solver.parameters.num_workers = p.num_workers
        solver.parameters.cp_model_probing_level = 0  # probing costs seconds here and finds little
        solver.parameters.linearization_level = p.linearization_level
        if p.deterministic:
            solver.parameters.max_deterministic_time = budget
            solver.parameters.interleave_search = p.num_workers > 1
            solver.parameters.max_time_in_seconds = 30 + 100 * budget  # a safety net only
        else:
            solver.parameters.max_time_in_seconds = budget
        return solver


def solve_slate(problem: SlateProblem, params: SolverParams | None = None) -> SlateResult:
    """Draw the slate with CP-SAT.

    Phases, each held at its value before the next: (1) placed enterprises ≫ must-meets kept ≫
    fairness Σ min(relevant contacts, min_contacts); (2) on a re-solve, fewest moved previous
    items; (3) total fit. `objective` is the slate's total fit; `bound` is the smaller of CP-SAT's
    phase-3 bound and the line-up bound (`SolverParams.lineup_bound`, valid for every slate whose
    tiers reach phase 1's value: see `lineup_bound`). Confirmed items are hard constraints.
    """
    params = params or SolverParams()
    clock = time.monotonic()
    ctx = _context(problem, params)
    fixed, lost = _locate(ctx, problem.confirmed)
    previous, _ = _locate(ctx, problem.previous)
    model = _SlateModel(ctx)
    lost += model.fix(fixed)
    free = _free_sessions(ctx, fixed, previous)
    if params.break_symmetry:
        model.break_room_symmetry(free)
    start = _greedy_from(ctx, fixed, previous)  # keeps what it can of the previous slate
    reserve = min(1.5, 0.05 * params.time_limit_s)  # for reading out, checking, overruns
    deadline = clock + params.time_limit_s - reserve
    runner = _Runner(model, params, {**previous.pitch, **fixed.pitch}, deadline)
    ok = runner.phase("placement/must-meet/fairness", model.tiers(), True, 0.4, start)
    fresh = not (previous.pitch or previous.seat or previous.meet)
    if ok and not fresh:
        ok = runner.phase("moves", model.moves(previous), False, 0.35, start)
    lineups: LineupBound | None = None
    if ok:
        pinned = _Pinned(fixed, previous, free, safe=fresh and not lost)
        lineups = _fit_phases(ctx, runner, model, start, pinned, deadline)
    elif runner.phases[0].status == cp_model.UNKNOWN and not lost:
        fallback = _greedy_fallback(ctx, runner, start, fixed, previous, time.monotonic() - clock)
        if fallback is not None:
            return fallback
    result = _finish_cp(ctx, runner, fixed, previous, lost, time.monotonic() - clock)
    return _with_lineup_bound(result, lineups)


@dataclass(frozen=True)
class _Pinned:
    """What a run must respect beyond the model: confirmed and previous items, the sessions free
    of them, and whether it is `safe` — a fresh draw whose confirmed items all fit the model, so
    that every slate built around the phases is one the model can express (CP-SAT's bound then
    holds for the best of them)."""

    fixed: _Assignment
    previous: _Assignment
    free: set[int]
    safe: bool


def _fit_phases(
    ctx: _Context,
    runner: _Runner,
    model: _SlateModel,
    start: _Assignment,
    pinned: _Pinned,
    deadline: float,
) -> LineupBound | None:
    """Everything after phases 1–2 (see docs/roadshow.md, "Order of a fresh draw"): polish,
    annealing and session-swap search, line-up bound, phase 3, reheated annealing and iterated
    search, meetings phase. Leaves the best slate in `runner.best`; returns the line-up bound
    (None if off or not reached)."""
    params, fixed, previous = ctx.params, pinned.fixed, pinned.previous
    fresh = not (previous.pitch or previous.seat or previous.meet)
    floor = round(runner.phases[0].value)
    polish = pinned.free if params.polish else set()
    search = params.polish and pinned.safe and params.search_share > 0
    assert runner.best is not None
    runner.best = _polish(ctx, runner.best, polish, floor)
    greedy = _polish(ctx, start, polish, min(floor, _tiers_of(ctx, start)))
    alt = _if_as_good(ctx, runner, greedy, previous)
    if pinned.safe and alt is not None:
        runner.best = alt
    with ThreadPoolExecutor(1, thread_name_prefix="lineup-bound") as pool:
        pending = _start_bound(ctx, pool, runner.best, floor, deadline)
        if search:  # most of the fit is won here; phase 3 then starts from it
            runner.best = _improve(ctx, runner.best, polish, fixed, floor, deadline)
        hint = runner.best if pinned.safe else alt or runner.best
        runner.phase("total fit", model.total_fit(), True, _fit_share(params, search), hint)
        if pinned.safe:
            runner.best = _better(ctx, runner.best, hint)
        runner.best = _polish(ctx, runner.best, polish, floor)
        if search:
            stop = _search_stop(params, deadline)  # most to the iterated search, some to meetings
            restarts = DETERMINISTIC_RESTARTS if params.deterministic else RESTARTS
            runner.best = _improve(ctx, runner.best, polish, fixed, floor, stop, restarts)
        lineups = None if pending is None else pending.result()  # it stops by `stop` at latest
        if search:
            runner.best = _best_meetings(runner, model, deadline)
        elif params.polish and fresh:
            runner.best = _rebook(ctx, runner.best, fixed, floor)
    return lineups


def _must_floor(ctx: _Context, floor: int) -> int:
    """Must-meets that every slate holding the phase-1 value `floor` meets: floor's own count when
    it places every enterprise (no slate places more, so holding the value needs as many
    must-meets: placed ≫ must-meets ≫ fairness), else 0."""
    k, n_e = ctx.problem.min_contacts, len(ctx.problem.enterprises)
    w_must = n_e * k + 1
    w_place = w_must * (len(ctx.must) + 1)
    if floor // w_place < n_e:
        return 0
    return (floor - w_place * n_e) // w_must


def _start_bound(
    ctx: _Context,
    pool: ThreadPoolExecutor,
    best: _Assignment,
    floor: int,
    deadline: float,
) -> Future[LineupBound | None] | None:
    """The line-up bound beside the searches and phase 3, its first columns the line-ups of
    `best`; None if it is off. Long runs compute it in a child process, on the second core
    (matching/slate_process.py); short ones, where starting Python (~0.6 s) would cost more
    than it gives, on the thread itself."""
    params = ctx.params
    if not params.lineup_bound:
        return None
    inputs = bound_inputs(ctx, [best], _must_floor(ctx, floor))
    stop = _bound_deadline(params, deadline)
    if params.time_limit_s < params.bound_process_min_s:
        return pool.submit(bound_of, inputs, stop)
    return pool.submit(_bound_beside, inputs, stop)


def _bound_beside(inputs: BoundInputs, stop: float) -> LineupBound | None:
    """`bound_of` in a child process, or on this thread if the process cannot be run."""
    from matching.slate_process import BoundProcessError, bound_in_process

    try:
        return bound_in_process(inputs, stop)
    except BoundProcessError as exc:
        _log.warning("%s; computing the line-up bound on this thread", exc)
        return bound_of(inputs, stop)


def _bound_deadline(params: SolverParams, deadline: float) -> float:
    """When the line-up bound must stop: `bound_share` of the limit, and no later than the
    iterated search could stop (`_search_stop`), so that the meetings phase has both cores."""
    return min(time.monotonic() + params.bound_share * params.time_limit_s,
               _search_stop(params, deadline))  # fmt: skip


def _search_stop(params: SolverParams, deadline: float) -> float:
    """When the iterated search stops: `MEETINGS_SHARE` of the time left (at least 6 % of the
    limit) is kept for the meetings phase."""
    left = max(deadline - time.monotonic(), 0.0)
    return deadline - max(MEETINGS_SHARE * left, 0.06 * params.time_limit_s)


def _fit_share(params: SolverParams, search: bool) -> float:
    """Phase 3's share of the time left: with the session-swap search, what remains after it goes
    to a search from its solution and to the meetings phase (`_best_meetings`). Started from the
    searched slate, phase 3 rarely improves it (+16 points in 17 s on seed 2 of the benchmark),
    and it takes both cores from the line-up bound: 5 % (was 15 %)."""
    return 0.05 if search else 1.0


def _improve(
    ctx: _Context,
    a: _Assignment,
    sessions: set[int],
    fixed: _Assignment,
    floor: int,
    deadline: float,
    restarts: int = 0,
) -> _Assignment:
    """Annealing over pitch rooms (`ANNEAL_SHARE` of the time), then either the session-swap
    search (all this for at most `search_share` of the time limit) or, with `restarts`, a
    reheated annealing from `a` and the iterated search until `deadline`; then the meetings
    rebooked for the new line-ups; `a` itself if that does not raise total fit. (Rebooking before
    the search was tried: its meetings tie the pitches to their sessions and the search ends
    0.5–2 % lower in total fit.)"""
    from matching.slate_anneal import HOT, REHEAT, Cooling, anneal  # they build on this module
    from matching.slate_search import iterated_search, swap_sessions

    if not a.pitch:  # nothing to move (e.g. an event without rooms)
        return a
    params, now = ctx.params, time.monotonic()
    pinned = frozenset(e for _, e in fixed.meet)  # confirmed meetings stay where they are
    stop = math.inf if params.deterministic else deadline  # deterministic: counts only
    if not (restarts or params.deterministic):
        stop = min(stop, now + params.search_share * params.time_limit_s)
    per_pitch = DETERMINISTIC_MOVES if params.deterministic else ANNEAL_MOVES
    cooling = Cooling(now + ANNEAL_SHARE * (stop - now), per_pitch * len(a.pitch),
                      REHEAT if restarts else HOT)  # fmt: skip
    b = anneal(ctx, a, sessions, floor, fixed, pinned, cooling)
    if restarts:
        b = iterated_search(ctx, b, sessions, floor, stop, restarts, pinned, SEARCH_TRIALS)
    else:
        b = swap_sessions(ctx, b, sessions, floor, stop, SEARCH_TRIALS, pinned)
    return _better(ctx, _rebook(ctx, b, fixed, floor), a)


def _best_meetings(runner: _Runner, model: _SlateModel, deadline: float) -> _Assignment:
    """The last phase: pitches and seats held as they are in the best slate, CP-SAT re-draws the
    1:1 meetings for total fit (the tiers stay held). Kept if it raises total fit."""
    best = runner.best
    assert best is not None
    model.hold_rooms(best)
    share = 0.1 if runner.params.deterministic else 1.0  # deterministic: of the limit
    runner.phase("meetings", model.total_fit(), True, share, best)
    return _better(model.ctx, runner.best, best)


def _better(ctx: _Context, a: _Assignment | None, b: _Assignment) -> _Assignment:
    """The one of higher total fit (`b` on a tie or if `a` is None); both hold the tiers."""
    return a if a is not None and _fit_of(ctx, a) > _fit_of(ctx, b) else b


RESTARTS = 100_000  # random restarts of the iterated search at most (its time runs out first)
DETERMINISTIC_RESTARTS = 3  # deterministic runs stop by count, not by the clock
MEETINGS_SHARE = 0.08  # of the time left after phase 3 (≥ 6 % of the limit), kept for the
# meetings phase: CP-SAT proves it optimal in 1–2 s on the benchmark's events, and what it does
# not use is lost
SEARCH_TRIALS = 3_000  # trials at most in one session-swap search (most are quick rejections)
ANNEAL_SHARE = 0.8  # of the first search's time, to annealing (matching/slate_anneal.py)
ANNEAL_MOVES = 20_000  # moves per pitch at most in one annealing (60 pitches: ~12 s of moves;
# small events stop early instead of cooling for the whole share)
DETERMINISTIC_MOVES = 1_000  # per pitch: deterministic runs anneal by count, not by the clock


def _with_lineup_bound(result: SlateResult, lineups: LineupBound | None) -> SlateResult:
    """Report the smaller of CP-SAT's bound and the line-up bound (both valid upper bounds on
    the slate's total fit), with the gap to it."""
    if lineups is None or result.status not in ("optimal", "feasible"):
        return result
    bound = lineups.value if result.bound is None else min(result.bound, lineups.value)
    gap = max(0.0, bound - result.objective) / max(abs(bound), 1.0)
    return _replace(result, bound=float(bound), gap=gap, lineup_bound=float(lineups.value),
                    phases=[*result.phases, lineups.describe()])  # fmt: skip


def _rebook(ctx: _Context, a: _Assignment, fixed: _Assignment, floor: int) -> _Assignment:
    """`a` with its 1:1 meetings booked again greedily (confirmed ones kept) given its pitches and
    seats, if that raises total fit and keeps the phase-1 value at least at `floor`."""
    trial = _Assignment(dict(a.pitch), dict(a.seat), dict(fixed.meet), dict(fixed.tables))
    _Greedy(ctx, trial)._meetings()
    better = _fit_of(ctx, trial) > _fit_of(ctx, a) and _tiers_of(ctx, trial) >= floor
    return trial if better else a


def _greedy_fallback(
    ctx: _Context,
    runner: _Runner,
    start: _Assignment,
    fixed: _Assignment,
    previous: _Assignment,
    elapsed: float,
) -> SlateResult | None:
    """CP-SAT found no solution in time (a loaded machine, a tiny limit): return the greedy
    slate it was started from, if the independent checker accepts it (status `feasible`, no
    bound); None otherwise (e.g. confirmed items that clash)."""
    result = _result(ctx, start, fixed, previous, "feasible")
    if check_slate(ctx.problem, result):
        return None
    names = [f"{p.name}: {_status_name(p.status)}" for p in runner.phases]
    note = "CP-SAT 在时限内未找到解，返回贪心排程（未证明界）"
    return _replace(result, notes=[note], phases=[*names, "greedy fallback"], wall_time_s=elapsed)


def _if_as_good(
    ctx: _Context, runner: _Runner, start: _Assignment, previous: _Assignment
) -> _Assignment | None:
    """`start` when it holds the values fixed so far (then the fit phase starts from the better
    of the two by fit), else None (keep the last phase's solution as the hint)."""
    tiers = runner.phases[0].value
    value = _tiers_of(ctx, start)
    moves = runner.phases[1].value if len(runner.phases) > 1 else None
    if value < tiers or (moves is not None and _moved(start, previous) > moves):
        return None
    best = runner.best
    assert best is not None
    return start if _fit_of(ctx, start) > _fit_of(ctx, best) else None


def _fit_of(ctx: _Context, a: _Assignment) -> int:
    """Total fit: hear_weight · fit of every pitch heard in the room + meeting_weight · fit met."""
    seated, slots, rows = _seated(a), ctx.table.slots, ctx.fit_rows
    heard = sum(rows[i][e] for e, q in a.pitch.items()
                for i in seated.get((slots[q].session, slots[q].room), ())
                if (i, e) not in ctx.banned)  # fmt: skip
    met = sum(rows[i][e] for i, e in a.meet)
    return heard * ctx.params.hear_weight + met * ctx.params.meeting_weight


def _finish_cp(
    ctx: _Context,
    runner: _Runner,
    fixed: _Assignment,
    previous: _Assignment,
    lost: list[str],
    elapsed: float,
) -> SlateResult:
    notes = [f"已确认项无法保留：{x}" for x in lost]
    names = [f"{p.name}: {_status_name(p.status)} {p.value:g} ≤ {p.bound:g}" for p in runner.phases]
    if runner.best is None:
        status = "infeasible" if runner.phases[0].status == cp_model.INFEASIBLE else "unknown"
        return _empty(ctx, status, [*notes, "求解失败：已确认的安排相互冲突或时限过短"], names)
    fit = next((p for p in runner.phases if p.name == "total fit"), None)
    fit_done = fit is not None and fit.status in SOLVED
    main = [p for p in runner.phases if p.name != "meetings"]  # its bound holds rooms fixed
    all_optimal = all(p.status == cp_model.OPTIMAL for p in main) and fit_done
    bound = float(whole_points_bound(fit.bound)) if fit is not None and fit_done else None
    result = _result(ctx, runner.best, fixed, previous, "optimal" if all_optimal else "feasible")
    gap = None if bound is None else max(0.0, bound - result.objective) / max(abs(bound), 1.0)
    return _replace(result, bound=bound, gap=gap, notes=notes, phases=names, wall_time_s=elapsed,
                    cp_bound=bound)  # fmt: skip


_STATUS_NAMES: dict[cp_model.CpSolverStatus, str] = {
    cp_model.OPTIMAL: "OPTIMAL",
    cp_model.FEASIBLE: "FEASIBLE",
    cp_model.INFEASIBLE: "INFEASIBLE",
    cp_model.MODEL_INVALID: "MODEL_INVALID",
}


def _status_name(status: cp_model.CpSolverStatus) -> str:
    return _STATUS_NAMES.get(status, "UNKNOWN")


def greedy_slate(problem: SlateProblem) -> SlateResult:
    """The baseline: keep confirmed (then previous) items, earliest free slot per enterprise,
    each investor in its best allowed room, then meetings: must-meets, then enterprises short of
    contacts, then by fit. No bound is proven."""
    clock = time.monotonic()
    ctx = _context(problem, SolverParams())
    fixed, lost = _locate(ctx, problem.confirmed)
    previous, _ = _locate(ctx, problem.previous)
    a = _greedy_from(ctx, fixed, previous)
    result = _result(ctx, a, fixed, previous, "feasible")
    notes = [f"已确认项无法保留：{x}" for x in lost]
    return _replace(result, notes=notes, phases=["greedy"], wall_time_s=time.monotonic() - clock)


def _greedy_from(ctx: _Context, fixed: _Assignment, previous: _Assignment) -> _Assignment:
    start = _Assignment(dict(fixed.pitch), dict(fixed.seat), dict(fixed.meet), dict(fixed.tables))
    _keep_previous(ctx, start, previous)
    return _Greedy(ctx, start).run()


def _keep_previous(ctx: _Context, a: _Assignment, previous: _Assignment) -> None:
    """Carry over previous pitches, then meetings, that still fit beside what is already there."""
    used = set(a.pitch.values())
    for e, q in previous.pitch.items():
        slot_ok = ctx.table.slots[q].session in ctx.ent_sessions[e] and q not in used
        if e not in a.pitch and slot_ok and not _unwelcome(ctx, a, e, q):
            a.pitch[e] = q
            used.add(q)
    for (i, s), r in previous.seat.items():
        load = sum(1 for (_, t), k in a.seat.items() if t == s and k == r)
        if (i, s) not in a.seat and s in ctx.inv_sessions[i] and _may_sit(ctx, a, i, s, r, load):
            a.seat[i, s] = r
    greedy = _Greedy(ctx, a)
    for (i, e), t in sorted(previous.meet.items(), key=lambda x: x[1]):
        if (
            (i, e) not in a.meet
            and e in a.pitch
            and (i, e) not in ctx.banned
            and (
                ctx.table.rounds[t].start >= ctx.table.slots[a.pitch[e]].end
                and greedy._free(i, e, t)
            )
        ):
            a.meet[i, e] = t
            greedy.busy_inv.add((i, t))
            greedy.busy_ent.add((e, t))
            greedy.at_table[t] += 1


# ─── from an assignment to a result ────────────────────────────────────────────────────────────
def _result(
    ctx: _Context, a: _Assignment, fixed: _Assignment, previous: _Assignment, status: str
) -> SlateResult:
    _fill_seats(ctx, a)
    tables = _number_tables(ctx, a, {**previous.tables, **fixed.tables})
    pitches, seats, meetings = _items(ctx, a, tables)
    p = ctx.problem
    metrics = slate_metrics(p, pitches, seats, meetings, ctx.params.hear_weight,
                            ctx.params.meeting_weight)  # fmt: skip
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
        moved=_moved(a, previous),
        metrics=metrics,
    )


def _number_tables(
    ctx: _Context, a: _Assignment, pinned: dict[tuple[int, int], int]
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
    ctx: _Context, a: _Assignment, tables: dict[tuple[int, int], int]
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


def _moved(a: _Assignment, previous: _Assignment) -> int:
    moved = sum(1 for e, q in previous.pitch.items() if a.pitch.get(e) != q)
    moved += sum(1 for key, r in previous.seat.items() if a.seat.get(key) != r)
    return moved + sum(1 for key, t in previous.meet.items() if a.meet.get(key) != t)


def _unplaced(ctx: _Context, a: _Assignment, e: int) -> Unplaced:
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


def _shortfalls(ctx: _Context, a: _Assignment, metrics: SlateMetrics) -> list[Shortfall]:
    k, out = ctx.problem.min_contacts, []
    for e, ent in enumerate(ctx.problem.enterprises):
        got = metrics.contacts.get(ent.id, 0)
        if e in a.pitch and got < k:
            out.append(Shortfall(ent.id, got, k, _shortfall_reason(ctx, a, e, got)))
    return out


def _shortfall_reason(ctx: _Context, a: _Assignment, e: int, got: int) -> str:
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


def _empty(ctx: _Context, status: str, notes: list[str], phases: list[str]) -> SlateResult:
    reason = "求解失败，未能生成排程" if status == "unknown" else "已确认的安排相互冲突，无法排程"
    return SlateResult(
        status=status, objective=0.0, bound=None, gap=None, pitches=[], attendance=[],
        meetings=[], unplaced=[Unplaced(e.id, reason) for e in ctx.problem.enterprises],
        notes=notes, phases=phases,
    )  # fmt: skip


def _replace(result: SlateResult, **changes: object) -> SlateResult:
    return replace(result, **changes)  # type: ignore[arg-type]


def interest_fit(
    enterprise_sectors: Sequence[str | None],
    enterprise_stages: Sequence[str | None],
    investor_sectors: Sequence[Sequence[str]],
    investor_stages: Sequence[Sequence[str]],
) -> np.ndarray:
    """Default pair fit in [0, 1], shape ``(investors, enterprises)``: 0.7 sector + 0.3 stage.

    Sector: an interest code that prefixes the enterprise's GB/T 4754 code scores 1 (``C`` or
    ``C38`` for ``C38``), the same 门类 letter 0.4, else 0. Stage: listed 1, unlisted 0, an
    investor without stage preferences 0.5.
    """
    out = np.zeros((len(investor_sectors), len(enterprise_sectors)))
    for i, (sectors, stages) in enumerate(zip(investor_sectors, investor_stages, strict=True)):
        for e, (code, stage) in enumerate(zip(enterprise_sectors, enterprise_stages, strict=True)):
            out[i, e] = 0.7 * _sector_fit(code or "", sectors) + 0.3 * _stage_fit(stage, stages)
    return out


def _sector_fit(code: str, interests: Sequence[str]) -> float:
    if not code:
        return 0.0
    if any(code.startswith(x) for x in interests if x):
        return 1.0
    return 0.4 if any(x[:1] == code[:1] for x in interests if x) else 0.0


def _stage_fit(stage: str | None, wanted: Sequence[str]) -> float:
    if not wanted:
        return 0.5
    return 1.0 if stage in wanted else 0.0
