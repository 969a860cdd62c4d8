"""路演排程: the line-up bound computed in a child process beside the search."""

import multiprocessing
import sys
import time
from dataclasses import replace

import pytest

from matching.slate import SolverParams, core, process, solve_slate
from matching.slate import bound as slate_bound
from matching.slate.bound import bound_inputs, bound_of
from matching.slate.check import check_slate
from tests.matching.slate.test_solve import FAST, event


def tiny_inputs(seed: int) -> slate_bound.BoundInputs:
    problem = replace(event(n_ent=6, n_inv=4, seed=seed, n_sessions=2), slots_per_room=2)
    return bound_inputs(core.build_context(problem, FAST), [])


def not_here(*_: object) -> None:
    raise AssertionError("computed on this thread")


@pytest.mark.parametrize("seed", range(2))
def test_the_child_process_computes_the_same_converged_bound(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs = tiny_inputs(seed)
    here = bound_of(inputs, time.monotonic() + 30)
    monkeypatch.setattr(process, "bound_of", not_here)  # the child imports its own
    there = process.bound_beside(inputs, time.monotonic() + 30)
    assert here is not None and there is not None and here.converged and there.converged
    assert (there.value, there.hearing, there.meetings) == (here.value, here.hearing, here.meetings)


def test_a_child_that_cannot_start_is_logged_and_the_bound_is_computed_here(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    inputs = tiny_inputs(3)
    monkeypatch.setattr(sys, "executable", "/nonexistent/python")
    found = process.bound_beside(inputs, time.monotonic() + 30)
    expected = bound_of(inputs, time.monotonic() + 30)
    assert found is not None and expected is not None and found.value == expected.value
    assert "line-up bound process failed" in caplog.text


def solve_in_daemon(queue: "multiprocessing.Queue[tuple[float | None, list[str]]]") -> None:
    problem = event(n_ent=8, n_inv=5, seed=2, n_sessions=2)
    params = SolverParams(time_limit_s=6.0, num_workers=1, bound_process_min_s=0.0)
    result = solve_slate(problem, params)
    queue.put((result.lineup_bound, check_slate(problem, result)))


def test_a_daemonic_worker_process_still_gets_its_bound_from_a_child() -> None:
    """Celery's prefork workers are daemonic: `multiprocessing` may not start children there,
    a subprocess may."""
    ctx = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue[tuple[float | None, list[str]]] = ctx.Queue()
    worker = ctx.Process(target=solve_in_daemon, args=(queue,), daemon=True)
    worker.start()
    lineup_bound, problems = queue.get(timeout=60)
    worker.join(10)
    assert problems == []
    assert lineup_bound is not None
