"""路演排程 — the solver's plain inputs and outputs, and the default pair fit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

FIT_SCALE = 100  # the objective counts fit in points: fit 0.73 → 73
HEAR_WEIGHT, MEETING_WEIGHT = 1, 2  # total fit: fit heard in the room + 2 × fit met 1:1


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
    The line-up bound runs in a child process when the limit is at least `bound_process_min_s`,
    else on a thread."""

    time_limit_s: float = 10.0
    random_seed: int = 0
    num_workers: int = 2
    deterministic: bool = False
    bound_process_min_s: float = 10.0


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
class SlateMetrics:
    """What a slate achieves: placements, must-meets, relevant contacts per enterprise, fit points."""

    placed: int
    must_meets_met: frozenset[tuple[int, int]]
    contacts: dict[int, int]
    fairness: int
    total_fit: int


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
    notes: list[str] = field(default_factory=list)
    cp_bound: float | None = None  # CP-SAT's own phase-3 bound (given the tiers)
    lineup_bound: float | None = None  # the line-up bound (phase-1 tiers held); `bound`: the min


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
