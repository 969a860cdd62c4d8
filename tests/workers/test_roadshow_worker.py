"""路演排程 in a real `celery worker` (prefork): the slate's line-up bound comes from a child
process of the pool's daemonic worker process, which `multiprocessing` could not start."""

from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from matching.slate import SolverParams
from models.db import session_scope
from models.event import SlateItem, SlateRun
from models.reference import SlateRunStatus
from models.settings import Settings
from services.jobs import PUBLISHER_KEY
from services.roadshow.runs import queue_slate
from tests.services.roadshow.test_service import make_roadshow
from tests.workers.processes import fleet, service_env, wait_for
from tests.workers.test_fault_tolerance import pg_engine, redis_url  # noqa: F401 (fixture)
from workers.celery_app import create_celery_app

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]


def run_state(engine: Engine, run_id: int) -> SlateRunStatus | None:
    with Session(engine) as session:
        run = session.get(SlateRun, run_id)
        return run.status if run else None


def pitches(engine: Engine, event_id: int) -> int:
    with Session(engine) as session:
        rows = session.exec(select(SlateItem).where(SlateItem.event_id == event_id)).all()
        return sum(1 for row in rows if row.item_type == "pitch")


def test_a_prefork_worker_draws_the_slate_with_the_bound_from_a_child_process(
    pg_engine: Engine,  # noqa: F811
    tmp_path: Path,
) -> None:
    assert SolverParams().time_limit_s >= SolverParams().bound_process_min_s  # the task's path
    broker = redis_url(15)  # its own database: the fault tests' workers run beside it (xdist)
    app = create_celery_app(Settings(redis_url=broker))
    with session_scope(pg_engine) as session:
        session.info[PUBLISHER_KEY] = lambda job: app.send_task(job.name, args=job.args)
        event_id = make_roadshow(session).id or 0
        run_id = queue_slate(session, event_id, SolverParams().time_limit_s, "tester").id or 0
    env = service_env(pg_engine.url.render_as_string(hide_password=False), broker, 1)
    with fleet(env, tmp_path, workers=1) as group:
        done = wait_for(lambda: run_state(pg_engine, run_id) == SlateRunStatus.done,
                        timeout=90, interval=0.5)  # fmt: skip
        logs = group.logs()
    assert done, logs
    assert pitches(pg_engine, event_id) == 6, logs  # every applicant in the 8 slots
    assert "computing the line-up bound on this thread" not in logs
    assert "Traceback" not in logs, logs
