"""路演排程 — the slate in index space: the timetable, the precomputed context, an assignment, the
greedy baseline and the exact room line-ups of a session (`resplit_sessions`); what the CP-SAT
model, the annealing and the session-swap search build on."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from itertools import combinations

import numpy as np

from matching.slate.problem import (
    FIT_SCALE,
    HEAR_WEIGHT,
    MEETING_WEIGHT,
    Pitch,
    Seat,
    SlateItem,
    SlateProblem,
    SolverParams,
)


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
MEETING_CANDIDATES = 12  # investors per enterprise the model may book a 1:1 meeting for


@dataclass
class Context:
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
    fit_rows: list[list[int]]  # `fit` as lists: faster to read one pair from


def _positions(wanted: frozenset[int], all_: dict[int, int]) -> set[int]:
    if not wanted:
        return set(all_.values())
    return {all_[sid] for sid in wanted if sid in all_}


def build_context(problem: SlateProblem, params: SolverParams) -> Context:
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
    return Context(
        problem, table, params, fit,
        ent_sessions=[_positions(e.sessions, sess) for e in problem.enterprises],
        inv_sessions=[_positions(i.sessions, sess) for i in problem.investors],
        relevant=relevant,
        credit=[(i, e) for i in range(n_i) for e in range(n_e)
                if (i, e) not in banned and (fit[i, e] > 0 or i in relevant[e])],
        candidates=_candidates(relevant, fit, must, MEETING_CANDIDATES),
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
class Assignment:
    pitch: dict[int, int] = field(default_factory=dict)  # enterprise → slot
    seat: dict[tuple[int, int], int] = field(default_factory=dict)  # (investor, session) → room
    meet: dict[tuple[int, int], int] = field(default_factory=dict)  # (investor, enterprise) → round
    tables: dict[tuple[int, int], int] = field(default_factory=dict)  # pinned table numbers


def locate(ctx: Context, items: Iterable[SlateItem]) -> tuple[Assignment, list[str]]:
    """Map items (confirmed or previous) onto the timetable; report those that no longer fit."""
    p = ctx.problem
    sess = {s.id: k for k, s in enumerate(p.sessions)}
    rooms = {r: k for k, r in enumerate(p.rooms)}
    ents = {e.id: k for k, e in enumerate(p.enterprises)}
    invs = {i.id: k for k, i in enumerate(p.investors)}
    out, lost = Assignment(), []
    for item in items:
        if not _place_item(ctx, out, item, sess, rooms, ents, invs):
            lost.append(_describe(item))
    return out, lost


def _place_item(
    ctx: Context,
    out: Assignment,
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
class Greedy:
    """Earliest free slot per enterprise, best room per investor, then meetings by priority."""

    def __init__(self, ctx: Context, start: Assignment) -> None:
        self.ctx, self.a = ctx, start
        self.used_slots = set(start.pitch.values())
        self.busy_inv = {(i, t) for (i, _), t in start.meet.items()}
        self.busy_ent = {(e, t) for (_, e), t in start.meet.items()}
        self.at_table = [0] * len(ctx.table.rounds)
        for t in start.meet.values():
            self.at_table[t] += 1

    def run(self) -> Assignment:
        self._pitches()
        fill_seats(self.ctx, self.a)
        self.book_meetings()
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
                    and not unwelcome(ctx, self.a, e, q)]  # fmt: skip
            if free:
                q = min(free, key=lambda q: (ctx.table.slots[q].start, self._room_load(q)))
                self.a.pitch[e] = q
                self.used_slots.add(q)

    def _room_load(self, q: int) -> int:
        s = self.ctx.table.slots[q]
        return sum(1 for k in self.used_slots if self.ctx.table.slots[k].room == s.room)

    def book_meetings(self) -> None:
        """Must-meets (fewest free rounds first: taken in pair order, one could spend the only
        round another has), then contacts for enterprises short of `min_contacts`, then by fit."""
        ctx = self.ctx
        for pair in sorted(ctx.must, key=lambda p: (len(self._open_rounds(*p)), p)):
            self.book(*pair)
        contacts = contact_counts(ctx, self.a)
        allowed = set(ctx.candidates)
        for e in sorted(range(len(contacts)), key=lambda e: (contacts[e], e)):
            need = ctx.problem.min_contacts - contacts[e]
            for i in sorted(ctx.relevant[e], key=lambda i: (-ctx.fit[i, e], i)):
                fresh = (i, e) in allowed and not hears(ctx, self.a, i, e)
                if need > 0 and fresh and self.book(i, e):
                    need -= 1
        for i, e in sorted(ctx.candidates, key=lambda p: (-ctx.fit[p], p)):
            self.book(i, e)

    def _open_rounds(self, i: int, e: int) -> list[int]:
        """Rounds after `e`'s pitch where `i` and `e` could meet now (none if `e` has no pitch)."""
        if e not in self.a.pitch:
            return []
        after = self.ctx.table.slots[self.a.pitch[e]].end
        rounds = self.ctx.table.rounds
        return [t for t, rnd in enumerate(rounds) if rnd.start >= after and self._is_free(i, e, t)]

    def book(self, i: int, e: int, t: int | None = None) -> bool:
        """Book `i` and `e` in round `t` if free after `e`'s pitch (default: the first such
        round); False if there is none."""
        open_ = [] if (i, e) in self.a.meet else self._open_rounds(i, e)
        t = open_[0] if t is None and open_ else t
        if t is None or t not in open_:
            return False
        self.a.meet[i, e] = t
        self.busy_inv.add((i, t))
        self.busy_ent.add((e, t))
        self.at_table[t] += 1
        return True

    def _is_free(self, i: int, e: int, t: int) -> bool:
        ctx, rnd = self.ctx, self.ctx.table.rounds[t]
        return (
            rnd.session in ctx.inv_sessions[i]
            and rnd.session in ctx.ent_sessions[e]
            and (i, t) not in self.busy_inv
            and (e, t) not in self.busy_ent
            and self.at_table[t] < ctx.problem.meeting_tables
            and not any((i, s) in self.a.seat for s in ctx.round_blocks[t])
        )


def hears(ctx: Context, a: Assignment, i: int, e: int) -> bool:
    if e not in a.pitch:
        return False
    slot = ctx.table.slots[a.pitch[e]]
    return a.seat.get((i, slot.session)) == slot.room


def seated_in_rooms(a: Assignment) -> dict[tuple[int, int], list[int]]:
    """(session, room) → the investors seated there."""
    out: dict[tuple[int, int], list[int]] = {}
    for (i, s), r in a.seat.items():
        out.setdefault((s, r), []).append(i)
    return out


def contact_counts(ctx: Context, a: Assignment) -> list[int]:
    """Per enterprise: relevant investors who hear its pitch or meet it 1:1."""
    seated, slots = seated_in_rooms(a), ctx.table.slots
    reached: list[set[int]] = [set() for _ in ctx.problem.enterprises]
    for i, e in a.meet:
        reached[e].add(i)
    for e, q in a.pitch.items():
        reached[e].update(seated.get((slots[q].session, slots[q].room), ()))
    return [len(ctx.relevant[e] & reached[e]) for e in range(len(reached))]


def fill_seats(ctx: Context, a: Assignment) -> None:
    """Seat every investor still unseated in a session it attends, in its best allowed room."""
    p = ctx.problem
    busy: dict[int, set[int]] = {}  # investor → sessions a meeting of theirs overlaps
    for (i, _), t in a.meet.items():
        busy.setdefault(i, set()).update(ctx.round_blocks[t])
    n_r, seats = len(p.rooms), p.room_seats
    for s in range(len(p.sessions)):
        lineups = [pitching_in(ctx, a, s, r) for r in range(n_r)]
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


def _room_values(ctx: Context, lineups: list[list[int]]) -> list[list[int]]:
    """Per investor, per room: the fit summed over the room's line-up."""
    columns = [ctx.fit[:, lineup].sum(axis=1) for lineup in lineups]
    return np.stack(columns, axis=1).tolist()


def pitching_in(ctx: Context, a: Assignment, s: int, r: int) -> list[int]:
    slots = ctx.table.slots
    return [e for e, q in a.pitch.items() if slots[q].session == s and slots[q].room == r]


def may_sit(ctx: Context, a: Assignment, i: int, s: int, r: int, load: int) -> bool:
    """Investor i may take a seat in room r of session s with `load` seated already."""
    seats = ctx.problem.room_seats
    if seats is not None and load >= seats:
        return False
    return not any((i, e) in ctx.banned for e in pitching_in(ctx, a, s, r))


def unwelcome(ctx: Context, a: Assignment, e: int, q: int) -> bool:
    """Someone seated in that room and session marked this enterprise no-thanks."""
    slot = ctx.table.slots[q]
    return any(a.seat.get((i, slot.session)) == slot.room for i, f in ctx.banned if f == e)


def slots_for(
    ctx: Context, groups: dict[int, tuple[int, int]], prefer: dict[int, int]
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


def free_sessions(ctx: Context, *pinned: Assignment) -> set[int]:
    """Sessions no confirmed or previous pitch or seat refers to: their rooms are interchangeable
    and their line-ups may be redrawn freely."""
    slots, out = ctx.table.slots, set(range(len(ctx.problem.sessions)))
    for a in pinned:
        out -= {slots[q].session for q in a.pitch.values()}
        out -= {s for (_, s) in a.seat}
    return out


def tiers_of(ctx: Context, a: Assignment) -> int:
    """The phase-1 objective (placed ≫ must-meets ≫ fairness) of an assignment."""
    k, n_e = ctx.problem.min_contacts, len(ctx.problem.enterprises)
    w_must = n_e * k + 1
    value = w_must * (len(ctx.must) + 1) * len(a.pitch)
    value += w_must * sum(1 for pair in ctx.must if pair in a.meet)
    return value + sum(min(c, k) for c in contact_counts(ctx, a))


def partitions(n: int, rooms: int, cap: int, limit: int) -> list[tuple[int, ...]] | None:
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
            for pick in combinations(rest, size):
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
    """`partitions`, with the distinct groups as a (cap × groups) table of their items (padded
    with `n`: a row of zeros) and a (rooms × splits) table of group indices (index = number of
    groups: an empty room; a room's row contiguous, for `np.take`); cached, as every session of
    an event alike."""
    parts = partitions(n, rooms, cap, limit)
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


SPLIT_CHUNK = 20_000  # splits scored at once (a few MB of int16)


def best_lineups(
    ctx: Context, a: Assignment, s: int, limit: int = 200_000
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
    fit[:-1] = ctx.fit[np.ix_(invs, ents)].T * HEAR_WEIGHT
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
    best, best_row = -1, -1
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


def resplit_sessions(ctx: Context, a: Assignment, sessions: set[int], floor: int) -> Assignment:
    """Redraw the room line-ups of `sessions` exactly (every split tried), one session at a time,
    re-seating its investors in their best rooms; a change is kept only if it raises total fit
    and keeps the phase-1 value at least at `floor`. Meetings and pitch sessions stay."""
    best = a
    for s in sorted(sessions):
        lineups = best_lineups(ctx, best, s)
        if lineups is None:
            continue
        trial = Assignment(dict(best.pitch), dict(best.seat), dict(best.meet), dict(best.tables))
        for r, group in enumerate(lineups):
            for k, e in enumerate(sorted(group)):
                trial.pitch[e] = ctx.slot_at[s, r, k]
        trial.seat = {key: r for key, r in trial.seat.items() if key[1] != s}
        fill_seats(ctx, trial)
        if fit_of(ctx, trial) > fit_of(ctx, best) and tiers_of(ctx, trial) >= floor:
            best = trial
    return best


def higher_fit(ctx: Context, a: Assignment | None, b: Assignment) -> Assignment:
    """The one of higher total fit (`b` on a tie or if `a` is None); both hold the tiers."""
    return a if a is not None and fit_of(ctx, a) > fit_of(ctx, b) else b


def rebook(ctx: Context, a: Assignment, fixed: Assignment, floor: int) -> Assignment:
    """`a` with its 1:1 meetings booked again greedily (confirmed ones kept) given its pitches and
    seats, if that raises total fit and keeps the phase-1 value at least at `floor`."""
    trial = Assignment(dict(a.pitch), dict(a.seat), dict(fixed.meet), dict(fixed.tables))
    Greedy(ctx, trial).book_meetings()
    better = fit_of(ctx, trial) > fit_of(ctx, a) and tiers_of(ctx, trial) >= floor
    return trial if better else a


def fit_of(ctx: Context, a: Assignment) -> int:
    """Total fit: hear_weight · fit of every pitch heard in the room + meeting_weight · fit met."""
    seated, slots, rows = seated_in_rooms(a), ctx.table.slots, ctx.fit_rows
    heard = sum(rows[i][e] for e, q in a.pitch.items()
                for i in seated.get((slots[q].session, slots[q].room), ())
                if (i, e) not in ctx.banned)  # fmt: skip
    met = sum(rows[i][e] for i, e in a.meet)
    return heard * HEAR_WEIGHT + met * MEETING_WEIGHT


def greedy_from(ctx: Context, fixed: Assignment, previous: Assignment) -> Assignment:
    start = Assignment(dict(fixed.pitch), dict(fixed.seat), dict(fixed.meet), dict(fixed.tables))
    _keep_previous(ctx, start, previous)
    return Greedy(ctx, start).run()


def _keep_previous(ctx: Context, a: Assignment, previous: Assignment) -> None:
    """Carry over previous pitches, then meetings, that still fit beside what is already there."""
    used = set(a.pitch.values())
    for e, q in previous.pitch.items():
        slot_ok = ctx.table.slots[q].session in ctx.ent_sessions[e] and q not in used
        if e not in a.pitch and slot_ok and not unwelcome(ctx, a, e, q):
            a.pitch[e] = q
            used.add(q)
    for (i, s), r in previous.seat.items():
        load = sum(1 for (_, t), k in a.seat.items() if t == s and k == r)
        if (i, s) not in a.seat and s in ctx.inv_sessions[i] and may_sit(ctx, a, i, s, r, load):
            a.seat[i, s] = r
    greedy = Greedy(ctx, a)
    for (i, e), t in sorted(previous.meet.items(), key=lambda x: x[1]):
        if (i, e) not in ctx.banned:
            greedy.book(i, e, t)


def count_moved(a: Assignment, previous: Assignment) -> int:
    moved = sum(1 for e, q in previous.pitch.items() if a.pitch.get(e) != q)
    moved += sum(1 for key, r in previous.seat.items() if a.seat.get(key) != r)
    return moved + sum(1 for key, t in previous.meet.items() if a.meet.get(key) != t)
