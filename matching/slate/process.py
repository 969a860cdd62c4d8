"""路演排程 — the line-up bound in a child process (a core of its own, no GIL shared with the
search): pickled inputs on stdin, the bound on stdout. A plain subprocess, not `multiprocessing`,
which a daemonic Celery prefork worker may not use."""

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


def bound_beside(inputs: BoundInputs, deadline: float) -> LineupBound | None:
    """`bound_of(inputs, deadline)` computed in a child process (`deadline` is time.monotonic(),
    the same clock in every process), or on this thread if the child fails."""
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
        _log.warning("line-up bound process failed: %s; computing it on this thread", exc)
        return bound_of(inputs, deadline)
    return found


def main() -> None:
    """The child: read (inputs, deadline), write the bound."""
    inputs, deadline = pickle.load(sys.stdin.buffer)
    pickle.dump(bound_of(inputs, deadline), sys.stdout.buffer)
