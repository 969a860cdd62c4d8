"""Slates on the workers: a queued run, its status as the worker moves it, and its result."""

from datetime import UTC, datetime

import pytest
from sqlmodel import Session, select

from models.errors import DomainError
from models.event import Event, SlateItem
from models.reference import DemandStatus, EventKind, FinancingType, SlateRunStatus
from services.jobs import PUBLISHER_KEY, QUEUE_KEY, Job
from services.roadshow.runs import (
    SCHEDULE_TASK,
    fail_run,
    finish_run,
    queue_slate,
    run_status,
    slate_run,
    start_run,
)
from services.roadshow.service import model_fit
from tests import factories
from tests.services.roadshow.test_service import make_roadshow

NOW = datetime(2026, 7, 1, tzinfo=UTC)


def test_a_queued_run_is_published_only_after_commit_and_draws_nothing_yet(
    session: Session,
) -> None:
    event = make_roadshow(session)
    published: list[Job] = []
    session.info[PUBLISHER_KEY] = published.append
    run = queue_slate(session, event.id or 0, 2.0, actor="mm")
    assert run_status(run) | {"id": None} == {
        "id": None, "event_id": event.id, "status": "queued", "label": "排队中",
        "message": None, "finished": False,
    }  # fmt: skip
    assert [j.name for j in session.info[QUEUE_KEY]] == [SCHEDULE_TASK] and published == []
    assert session.exec(select(SlateItem)).all() == []  # the solver has not run


def test_the_worker_moves_a_run_to_running_then_done_with_the_slate(session: Session) -> None:
    event = make_roadshow(session)
    run_id = queue_slate(session, event.id or 0, 2.0, actor="mm").id or 0
    assert start_run(session, run_id, NOW)
    assert not start_run(session, run_id, NOW)  # a redelivered message does not run it twice
    assert slate_run(session, run_id).status == SlateRunStatus.running
    run = finish_run(session, run_id, NOW)
    assert run.status == SlateRunStatus.done and run.result is not None
    assert len(run.result["slate"]["pitches"]) == 6 and "排程完成" in (run.message or "")
    assert run.result["model_version"] == "rules-1" and "排序模型 rules-1" in (run.message or "")
    pitches = session.exec(select(SlateItem).where(SlateItem.item_type == "pitch")).all()
    assert len(pitches) == 6
    assert run_status(run)["finished"] is True


def test_a_failed_run_keeps_its_reason(session: Session) -> None:
    run_id = queue_slate(session, make_roadshow(session).id or 0, 2.0, actor="mm").id or 0
    fail_run(session, run_id, "排程超出任务时限，已中止", NOW)
    assert run_status(slate_run(session, run_id)) | {"id": None} == {
        "id": None, "event_id": slate_run(session, run_id).event_id, "status": "failed",
        "label": "失败", "message": "排程超出任务时限，已中止", "finished": True,
    }  # fmt: skip


def test_an_event_without_sessions_or_rooms_is_refused_before_queueing(session: Session) -> None:
    event = Event(kind=EventKind.roadshow, title="未设场次", starts_at=NOW, ends_at=NOW)
    session.add(event)
    session.flush()
    with pytest.raises(DomainError, match="尚未设置场次或路演厅"):
        queue_slate(session, event.id or 0, 2.0, actor="mm")
    assert QUEUE_KEY not in session.info or session.info[QUEUE_KEY] == []


def test_the_slate_fit_uses_the_served_model_for_each_enterprise_s_open_demand(
    session: Session,
) -> None:
    vc = factories.institution(session)
    factories.mandate(session, vc, min_ticket_wan=100, max_ticket_wan=5000, stages=[], sectors=[])
    seeking, quiet = factories.enterprise(session), factories.enterprise(session)
    factories.demand(session, seeking, financing_type=FinancingType.equity)
    factories.demand(session, quiet, financing_type=FinancingType.equity,
                     status=DemandStatus.withdrawn)  # fmt: skip
    fit = model_fit(session, [seeking.id or 0, quiet.id or 0], [vc.id or 0])
    assert fit.shape == (2, 1) and 0 < fit[0, 0] <= 1 and fit[1, 0] == 0
