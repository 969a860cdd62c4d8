"""Judge a roadshow slate from its times alone: validity (`check_slate`) and quality (`slate_metrics`).

Independent of how the slate was drawn: it reads the problem's raw inputs and the result's items
(people, rooms, tables and datetimes), never the solver's indices or timetable.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from itertools import pairwise

import numpy as np

from matching.slate.problem import (
    FIT_SCALE,
    HEAR_WEIGHT,
    MEETING_WEIGHT,
    Meeting,
    Pitch,
    Seat,
    SlateMetrics,
    SlateProblem,
    SlateResult,
)

Interval = tuple[datetime, datetime]


def _fit_points(problem: SlateProblem) -> np.ndarray:
    return np.rint(np.clip(problem.fit, 0.0, 1.0) * FIT_SCALE).astype(np.int64)


def _heard(
    pitches: Sequence[Pitch], seats: Sequence[Seat], whole: bool = True
) -> set[tuple[int, int]]:
    """(investor, enterprise) pairs where the investor sat in the room for (any of) the pitch."""
    out = set()
    for p in pitches:
        for s in seats:
            inside = s.start <= p.start and p.end <= s.end
            if s.room == p.room and (inside if whole else s.start < p.end and p.start < s.end):
                out.add((s.investor_id, p.enterprise_id))
    return out


def slate_metrics(
    problem: SlateProblem,
    pitches: Sequence[Pitch],
    seats: Sequence[Seat],
    meetings: Sequence[Meeting],
) -> SlateMetrics:
    """Score a slate: contacts count relevant investors heard in the room or met 1:1."""
    fit = _fit_points(problem)
    inv = {x.id: k for k, x in enumerate(problem.investors)}
    ent = {x.id: k for k, x in enumerate(problem.enterprises)}
    heard = _heard(pitches, seats) - problem.no_thanks
    met = {(m.investor_id, m.enterprise_id) for m in meetings}
    threshold = round(problem.relevance * FIT_SCALE)
    contacts = dict.fromkeys(ent, 0)
    for i, e in heard | met:
        relevant = (i, e) in problem.must_meet or fit[inv[i], ent[e]] >= threshold
        if relevant and (i, e) not in problem.no_thanks:
            contacts[e] += 1
    total = sum(int(fit[inv[i], ent[e]]) * HEAR_WEIGHT for i, e in heard)
    total += sum(int(fit[inv[i], ent[e]]) * MEETING_WEIGHT for i, e in met)
    return SlateMetrics(
        placed=len({p.enterprise_id for p in pitches}),
        must_meets_met=frozenset(problem.must_meet & met),
        contacts=contacts,
        fairness=sum(min(c, problem.min_contacts) for c in contacts.values()),
        total_fit=total,
    )


# ─── validity ──────────────────────────────────────────────────────────────────────────────────
def check_slate(problem: SlateProblem, result: SlateResult) -> list[str]:
    """Every rule the slate breaks, as readable messages (empty: the slate is valid)."""
    return [
        *_known_parties(problem, result),
        *_one_pitch_each(result.pitches),
        *_no_double_booking(result),
        *_capacities(problem, result),
        *_no_thanks_kept(problem, result),
        *_meetings_after_pitch(result),
        *_availability(problem, result),
        *_confirmed_kept(problem, result),
        *_must_meets_reported(problem, result),
    ]


def _known_parties(problem: SlateProblem, result: SlateResult) -> list[str]:
    ents = {e.id for e in problem.enterprises}
    invs = {i.id for i in problem.investors}
    rooms = set(problem.rooms)
    bad = [f"未知企业 {p.enterprise_id}" for p in result.pitches if p.enterprise_id not in ents]
    bad += [f"未知路演厅 {p.room}" for p in result.pitches if p.room not in rooms]
    bad += [f"未知机构 {s.investor_id}" for s in result.attendance if s.investor_id not in invs]
    bad += [f"未知路演厅 {s.room}" for s in result.attendance if s.room not in rooms]
    bad += [f"未知会谈方 {m}" for m in result.meetings
            if m.investor_id not in invs or m.enterprise_id not in ents]  # fmt: skip
    bad += [f"桌号越界 {m.table}" for m in result.meetings
            if not 1 <= m.table <= problem.meeting_tables]  # fmt: skip
    return bad


def _one_pitch_each(pitches: Sequence[Pitch]) -> list[str]:
    count: dict[int, int] = defaultdict(int)
    for p in pitches:
        count[p.enterprise_id] += 1
    return [f"企业 {e} 路演 {n} 次" for e, n in count.items() if n > 1]


def _clashes(label: str, intervals: dict[object, list[Interval]]) -> list[str]:
    out = []
    for key, spans in intervals.items():
        spans = sorted(spans)
        for a, b in pairwise(spans):
            if b[0] < a[1]:
                out.append(f"{label} {key} 时间重叠：{a[0]:%m-%d %H:%M} 与 {b[0]:%m-%d %H:%M}")
    return out


def _no_double_booking(result: SlateResult) -> list[str]:
    """No person, room or table in two places (or two uses) at once."""
    person: dict[object, list[Interval]] = defaultdict(list)
    room: dict[object, list[Interval]] = defaultdict(list)
    table: dict[object, list[Interval]] = defaultdict(list)
    for who, span in _spans(result):
        person[who].append(span)
    for p in result.pitches:
        room[p.room].append((p.start, p.end))
    for m in result.meetings:
        table[m.table].append((m.start, m.end))
    return _clashes("人员", person) + _clashes("路演厅", room) + _clashes("会谈桌", table)


def _capacities(problem: SlateProblem, result: SlateResult) -> list[str]:
    out = []
    per_block: dict[tuple[str, datetime], int] = defaultdict(int)
    for p in result.pitches:
        session = _session_of(problem, (p.start, p.end))
        if session is not None:
            per_block[p.room, session[0]] += 1
    out += [f"{room} {start:%m-%d %H:%M} 场次路演 {n} 个，超过 {problem.slots_per_room}"
            for (room, start), n in per_block.items() if n > problem.slots_per_room]  # fmt: skip
    if problem.room_seats is not None:
        seated: dict[tuple[str, datetime], int] = defaultdict(int)
        for s in result.attendance:
            seated[s.room, s.start] += 1
        out += [f"{room} {start:%m-%d %H:%M} 座位 {n} 个，超过 {problem.room_seats}"
                for (room, start), n in seated.items() if n > (problem.room_seats or 0)]  # fmt: skip
    return out


def _session_of(problem: SlateProblem, span: Interval) -> tuple[datetime, datetime] | None:
    for s in problem.sessions:
        if s.start <= span[0] and span[1] <= s.end:
            return (s.start, s.end)
    return None


def _no_thanks_kept(problem: SlateProblem, result: SlateResult) -> list[str]:
    out = [f"机构 {m.investor_id} 不愿会见企业 {m.enterprise_id}，却安排了会谈"
           for m in result.meetings if (m.investor_id, m.enterprise_id) in problem.no_thanks]  # fmt: skip
    heard = _heard(result.pitches, result.attendance, whole=False)
    out += [f"机构 {i} 不愿会见企业 {e}，却坐在其路演厅" for i, e in heard & problem.no_thanks]
    return out


def _meetings_after_pitch(result: SlateResult) -> list[str]:
    pitch = {p.enterprise_id: p for p in result.pitches}
    out = []
    for m in result.meetings:
        p = pitch.get(m.enterprise_id)
        if p is None or m.start < p.end:
            out.append(f"企业 {m.enterprise_id} 的会谈（{m.start:%m-%d %H:%M}）早于其路演或无路演")
    pairs = [(m.investor_id, m.enterprise_id) for m in result.meetings]
    out += [f"机构 {i} 与企业 {e} 重复会谈" for i, e in set(pairs) if pairs.count((i, e)) > 1]
    return out


def _availability(problem: SlateProblem, result: SlateResult) -> list[str]:
    """Each item lies inside one session that its party said it can attend (empty: any)."""
    allowed = {("企业", e.id): e.sessions for e in problem.enterprises}
    allowed |= {("机构", i.id): i.sessions for i in problem.investors}
    out = []
    for who, span in _spans(result):
        inside = [s for s in problem.sessions if s.start <= span[0] and span[1] <= s.end]
        wanted = allowed.get(who, frozenset())
        if not inside or (wanted and inside[0].id not in wanted):
            out.append(f"{who[0]} {who[1]} 在其不可参加的时段（{span[0]:%m-%d %H:%M}）有安排")
    return out


def _spans(result: SlateResult) -> Iterable[tuple[tuple[str, int], Interval]]:
    for p in result.pitches:
        yield ("企业", p.enterprise_id), (p.start, p.end)
    for s in result.attendance:
        yield ("机构", s.investor_id), (s.start, s.end)
    for m in result.meetings:
        yield ("企业", m.enterprise_id), (m.start, m.end)
        yield ("机构", m.investor_id), (m.start, m.end)


def _confirmed_kept(problem: SlateProblem, result: SlateResult) -> list[str]:
    """Confirmed items whose parties are still in the event appear unchanged."""
    present = {*result.pitches, *result.attendance, *result.meetings}
    ents = {e.id for e in problem.enterprises}
    invs = {i.id for i in problem.investors}
    out = []
    for item in problem.confirmed:
        alive = getattr(item, "enterprise_id", None) in ents | {None} and getattr(
            item, "investor_id", None
        ) in invs | {None}
        if alive and item not in present:
            out.append(f"已确认项未保留：{item}")
    return out


def _must_meets_reported(problem: SlateProblem, result: SlateResult) -> list[str]:
    met = {(m.investor_id, m.enterprise_id) for m in result.meetings}
    missing = (problem.must_meet - problem.no_thanks) - met - set(result.unmet_must_meets)
    return [f"必见组合 {pair} 既未安排也未报告" for pair in sorted(missing)]
