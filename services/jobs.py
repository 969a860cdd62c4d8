"""Background jobs are queued on the session and published only after it commits.

A service calls `enqueue(session, "digests.deliver", delivery_id)` while it works; nothing reaches
the broker until the outermost transaction commits, and a rollback drops the queue. So a worker
never receives an id whose row does not exist yet, and a failed request publishes nothing.

What is left open: a crash between the commit and the publish loses the message. The digest
sweeper (`digests.sweep`) requeues deliveries left pending for that reason (docs/workers.md).

Tasks are named, never imported: services do not import `workers` (the layers contract), so the
default publisher finds the workers' Celery app by its dotted name (`WORKER_APP`, Celery's own
`symbol_by_name`, as `celery -A` does) when a job is published. The publisher is a collaborator:
a caller may put its own in `session.info[PUBLISHER_KEY]` (a test collects jobs in a list; the
`digests run` command delivers in-process instead).
"""

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kombu.utils.imports import symbol_by_name
from sqlalchemy import event
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session

logger = logging.getLogger(__name__)
PUBLISHER_KEY = "jobs.publisher"
QUEUE_KEY = "jobs.queued"
HOOKED_KEY = "jobs.hooked"
WORKER_APP = "workers.tasks:app"  # the Celery app with every task registered


@dataclass(frozen=True)
class Job:
    """A task to publish: its dotted name and arguments (ids only)."""

    name: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)


Publisher = Callable[[Job], None]


def celery_publisher(job: Job) -> None:
    """Publish by name through the workers' Celery app (in-process when `task_always_eager`)."""
    symbol_by_name(WORKER_APP).tasks[job.name].apply_async(args=job.args, kwargs=job.kwargs)


def background_publisher(job: Job) -> None:
    """Publish from a thread of its own. With eager tasks (the embedded default) a task runs in
    the publishing process; this keeps it out of the HTTP request that queued it."""
    threading.Thread(target=celery_publisher, args=(job,), name=job.name, daemon=True).start()


def enqueue(session: Session, name: str, *args: Any, **kwargs: Any) -> None:
    """Queue task `name` to be published when `session` commits; dropped if it rolls back."""
    _hook(session)
    session.info.setdefault(QUEUE_KEY, []).append(Job(name, args, kwargs))


def _hook(session: Session) -> None:
    if session.info.get(HOOKED_KEY):
        return
    event.listen(session, "after_commit", _publish_queued)
    event.listen(session, "after_soft_rollback", _drop_queued)
    session.info[HOOKED_KEY] = True


def _publish_queued(session: Session) -> None:
    if session.in_nested_transaction():  # a SAVEPOINT released: the work is not durable yet
        return
    jobs = session.info.pop(QUEUE_KEY, [])
    publish: Publisher = session.info.get(PUBLISHER_KEY, celery_publisher)
    for job in jobs:
        try:
            publish(job)
        except Exception:  # the commit stands; the digest sweeper requeues what was not sent
            logger.exception("任务发布失败（已提交的数据不受影响）：%s%r", job.name, job.args)


def _drop_queued(session: Session, previous: SessionTransaction) -> None:
    # Only the outermost rollback drops the queue; a savepoint rolled back inside a unit of
    # work that goes on to commit keeps what was queued before *and* inside it (coarse, and
    # harmless here: every task re-checks its row).
    if previous.parent is None:
        session.info.pop(QUEUE_KEY, None)
