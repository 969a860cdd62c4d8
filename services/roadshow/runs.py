"""Slates on the workers: a scheduling request is a `SlateRun` queued for `roadshow.schedule`.

The console and the CLI call `queue_slate` (the task is published after their commit), then
watch the run: queued → running → done (with the slate) or failed (with the reason). No HTTP
request runs the solver. The worker calls `start_run`, `finish_run` and, on an error,
`fail_run`, each in a transaction of its own so the status is visible while it solves.
Services never commit.
"""

from datetime import datetime
from typing import Any

from sqlmodel import Session

from matching.slate import SlateResult, SolverParams
from models.errors import DomainError, NotFoundError
from models.event import SlateRun
from models.reference import SlateRunStatus
from services.jobs import enqueue
from services.recommendations.published import served_ranker
from services.roadshow import repository as repo
from services.roadshow.service import draw_roadshow_slate, event_of, slate_payload

SCHEDULE_TASK = "roadshow.schedule"
STATUS_LABELS = {"optimal": "最优解", "feasible": "可行解", "infeasible": "无可行解",
                 "unknown": "时限内未找到解", "model_invalid": "模型无效"}  # fmt: skip


def queue_slate(session: Session, event_id: int, time_limit_s: float, actor: str) -> SlateRun:
    """Record a queued run for the event and queue `roadshow.schedule` (after commit)."""
    event = event_of(session, event_id)
    if not event.rooms or not repo.sessions_of(session, event_id):
        raise DomainError("该路演活动尚未设置场次或路演厅，无法排程")
    run = SlateRun(event_id=event_id, time_limit_s=time_limit_s, requested_by=actor)
    session.add(run)
    session.flush()
    enqueue(session, SCHEDULE_TASK, run.id)
    return run


def slate_run(session: Session, run_id: int) -> SlateRun:
    """A run by id, read afresh."""
    run = session.get(SlateRun, run_id, populate_existing=True)
    if run is None:
        raise NotFoundError(f"排程任务 {run_id} 不存在")
    return run


def start_run(session: Session, run_id: int, now: datetime) -> bool:
    """Mark a queued run running; False when it is not queued (a redelivered message)."""
    return repo.start_run(session, run_id, now)


def finish_run(session: Session, run_id: int, now: datetime) -> SlateRun:
    """Draw the run's slate, persist it, and record the run done with its result."""
    run = slate_run(session, run_id)
    result = draw_roadshow_slate(session, run.event_id, SolverParams(run.time_limit_s))
    version = served_ranker(session).model_version  # what the default fit ranked pairs with
    run.status, run.finished_at = SlateRunStatus.done, now
    run.result = run_result(result) | {"model_version": version}
    run.message = f"{summary(result)}（排序模型 {version}）"
    session.add(run)
    session.flush()
    return run


def fail_run(session: Session, run_id: int, message: str, now: datetime) -> None:
    """Record why a run did not finish."""
    run = slate_run(session, run_id)
    run.status, run.finished_at, run.message = SlateRunStatus.failed, now, message[:500]
    session.add(run)
    session.flush()


def run_result(result: SlateResult) -> dict[str, Any]:
    """What a finished run keeps: the `schedule --json` document and what the summary needs."""
    return {
        "slate": slate_payload(result),
        "gap": result.gap,
        "moved": result.moved,
        "shortfalls": [{"enterprise_id": s.enterprise_id, "contacts": s.contacts,
                        "required": s.required, "reason": s.reason} for s in result.shortfalls],
        "unmet_must_meets": [list(pair) for pair in result.unmet_must_meets],
        "notes": list(result.notes),
    }  # fmt: skip


def summary(result: SlateResult) -> str:
    """One Chinese line on the outcome, as the console shows it."""
    status = STATUS_LABELS.get(result.status, result.status)
    if result.status not in ("optimal", "feasible"):
        return f"排程未完成（{status}）：{'；'.join(result.notes) or '请延长求解时限后重试'}"
    return (f"排程完成（{status}）：路演 {len(result.pitches)} 场，座位 {len(result.attendance)} 个，"
            f"一对一会谈 {len(result.meetings)} 场，未安排 {len(result.unplaced)} 家")  # fmt: skip


def run_status(run: SlateRun) -> dict[str, Any]:
    """The status document the console polls."""
    return {"id": run.id, "event_id": run.event_id, "status": run.status.value,
            "label": run.status.label, "message": run.message,
            "finished": run.status in (SlateRunStatus.done, SlateRunStatus.failed)}  # fmt: skip
