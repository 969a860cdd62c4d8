"""路演排程: draw a roadshow slate — pitches, investor seating and 1:1 follow-up meetings.

The public entry point of the pure slate solver: the plain inputs and outputs (`problem`), the
solver (`solve_slate`, `greedy_slate`, in `solve`) and the independent checker (`check`). Inside,
each module builds only on those below it: problem ← check ← core (index space, greedy, exact
line-ups) ← model (CP-SAT), bound (line-up bound) ← process (the bound in a child process),
anneal, search ← solve. docs/roadshow.md describes the model.
"""

from matching.slate.check import check_slate, slate_metrics
from matching.slate.problem import (
    FIT_SCALE,
    Meeting,
    Pitch,
    Seat,
    Shortfall,
    SlateEnterprise,
    SlateInvestor,
    SlateItem,
    SlateMetrics,
    SlateProblem,
    SlateResult,
    SlateSession,
    SolverParams,
    Unplaced,
    interest_fit,
)
from matching.slate.solve import greedy_slate, solve_slate

__all__ = [
    "FIT_SCALE",
    "Meeting",
    "Pitch",
    "Seat",
    "Shortfall",
    "SlateEnterprise",
    "SlateInvestor",
    "SlateItem",
    "SlateMetrics",
    "SlateProblem",
    "SlateResult",
    "SlateSession",
    "SolverParams",
    "Unplaced",
    "check_slate",
    "greedy_slate",
    "interest_fit",
    "slate_metrics",
    "solve_slate",
]
