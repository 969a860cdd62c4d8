"""路演排程 — the line-up bound in a child process, so that it has a core of its own.

`solve_slate` runs the line-up bound (`matching.slate.bound.bound_of`) beside its searches. In a thread
it would compete with the search for the GIL (the bound got through about a third of its rounds
beside a busy search, measured), so it runs in a child Python process instead: its inputs go in
pickled on stdin, the bound comes back pickled on stdout. A plain subprocess rather than
`multiprocessing`, whose "spawn" re-imports the caller's main module and which a daemonic
process (a Celery prefork worker) may not use. Nothing else crosses: no DB, HTTP or settings.
"""

from __future__ import annotations

import logging
import pickle
import subprocess
import sys
import time
from pathlib import Path

from matching.slate.bound import BoundInputs, LineupBound, bound_of

_log = logging.getLogger(__name__)
GRACE_S = 5.0  # past the deadline: the child's start-up and its last round, then it is killed
ROOT = Path(__file__).resolve().parents[2]  # the child imports this very `matching`


class BoundProcessError(RuntimeError):
    """The child process could not be run or did not answer in time."""


def bound_in_process(inputs: BoundInputs, deadline: float) -> LineupBound | None:
    """`bound_of(inputs, deadline)` computed in a child process (`deadline` is time.monotonic(),
    the same clock in every process); raises BoundProcessError if the child fails."""
    code = f"import sys; sys.path.insert(0, {str(ROOT)!r}); import matching.slate.process as p; p.main()"
    timeout = max(deadline - time.monotonic(), 0.0) + GRACE_S
    try:
        done = subprocess.run(
            [sys.executable, "-c", code],
            input=pickle.dumps((inputs, deadline)),
            capture_output=True,
            timeout=timeout,
            check=True,
        )
        found: LineupBound | None = pickle.loads(done.stdout)
    except (OSError, subprocess.SubprocessError, pickle.UnpicklingError, EOFError) as exc:
        raise BoundProcessError(f"line-up bound process failed: {exc}") from exc
    return found


def bound_beside(inputs: BoundInputs, deadline: float) -> LineupBound | None:
    """`bound_of` in a child process, or on this thread if the process cannot be run."""
    try:
        return bound_in_process(inputs, deadline)
    except BoundProcessError as exc:
        _log.warning("%s; computing the line-up bound on this thread", exc)
        return bound_of(inputs, deadline)


def main() -> None:
    """The child: read (inputs, deadline), write the bound."""
    inputs, deadline = pickle.load(sys.stdin.buffer)
    pickle.dump(bound_of(inputs, deadline), sys.stdout.buffer)
