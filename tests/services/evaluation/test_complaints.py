"""The complaint channel: received → handling → resolved, root cause, measures, open items."""

from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session, select

from models import AuditLog
from models.errors import DomainError, NotFoundError
from models.reference import ComplaintKind, ComplaintStatus
from services.complaints import service as complaints

HANDLING, RESOLVED = ComplaintStatus.handling, ComplaintStatus.resolved


def test_a_complaint_moves_through_its_statuses(session: Session) -> None:
    c = complaints.submit(
        session, ComplaintKind.complaint, "银行对接后两周无回复", submitter="某企业"
    )
    assert c.status == ComplaintStatus.received
    with pytest.raises(DomainError, match="不能从“已受理”变更为“已办结”"):
        complaints.move(session, int(c.id or 0), RESOLVED, "专员")
    complaints.move(session, int(c.id or 0), HANDLING, "专员")
    with pytest.raises(DomainError, match="原因分析"):
        complaints.move(session, int(c.id or 0), RESOLVED, "专员")
    at = datetime(2025, 7, 1, 3, tzinfo=UTC)
    done = complaints.move(
        session, int(c.id or 0), RESOLVED, "专员", root_cause="机构对接人变更未交接", at=at
    )
    assert done.status == RESOLVED and done.root_cause == "机构对接人变更未交接"
    assert done.resolved_at is not None and done.resolved_at.replace(tzinfo=UTC) == at
    reopened = complaints.move(session, int(c.id or 0), HANDLING, "专员")
    assert reopened.resolved_at is None
    actions = session.exec(select(AuditLog.action).where(AuditLog.entity == "complaint")).all()
    assert actions == ["complaint.submit", *["complaint.move"] * 3]


def test_feedback_resolves_without_root_cause(session: Session) -> None:
    c = complaints.submit(session, ComplaintKind.feedback, "建议增加线上路演")
    complaints.move(session, int(c.id or 0), HANDLING, "专员")
    assert complaints.move(session, int(c.id or 0), RESOLVED, "专员").status == RESOLVED


def test_a_survey_needs_a_rating(session: Session) -> None:
    with pytest.raises(DomainError, match="满意度"):
        complaints.submit(session, ComplaintKind.survey, "总体评价")
    s = complaints.submit(session, ComplaintKind.survey, "总体评价", satisfaction=4)
    assert s.satisfaction == 4


def test_open_items_list_unresolved_cases_and_unfinished_measures(session: Session) -> None:
    jan = datetime(2025, 1, 10, tzinfo=UTC)
    open_case = complaints.submit(session, ComplaintKind.complaint, "路演通知太晚", received_at=jan)
    closed = complaints.submit(session, ComplaintKind.feedback, "培训很好", received_at=jan)
    complaints.move(session, int(closed.id or 0), HANDLING, "专员")
    complaints.move(
        session, int(closed.id or 0), RESOLVED, "专员", at=datetime(2025, 2, 1, tzinfo=UTC)
    )
    complaints.submit(session, ComplaintKind.survey, "问卷", satisfaction=5, received_at=jan)
    late = complaints.add_measure(
        session,
        int(open_case.id or 0),
        "路演通知提前两周发出",
        "活动部 李经理",
        date(2025, 3, 1),
        "主任",
    )
    soon = complaints.add_measure(
        session, int(open_case.id or 0), "建立通知台账", "活动部 王专员", date(2025, 9, 1), "主任"
    )
    done = complaints.add_measure(
        session, int(closed.id or 0), "培训资料上网", "综合部", date(2025, 2, 1), "主任"
    )
    complaints.complete_measure(session, int(done.id or 0), date(2025, 1, 20), "主任")
    items = complaints.open_items(session, date(2025, 6, 1))
    assert [c.id for c in items.cases] == [open_case.id]
    assert [m.id for m in items.measures] == [late.id, soon.id]
    assert items.overdue_measure_ids == {late.id}


def test_listing_filters_by_status_and_kind(session: Session) -> None:
    a = complaints.submit(session, ComplaintKind.complaint, "甲")
    b = complaints.submit(session, ComplaintKind.feedback, "乙")
    complaints.move(session, int(b.id or 0), HANDLING, "专员")
    assert [c.id for c in complaints.list_cases(session, status=HANDLING)] == [b.id]
    assert [c.id for c in complaints.list_cases(session, kind=ComplaintKind.complaint)] == [a.id]


def test_unknown_ids_are_not_found(session: Session) -> None:
    with pytest.raises(NotFoundError):
        complaints.move(session, 99999, HANDLING, "专员")
    with pytest.raises(NotFoundError):
        complaints.add_measure(session, 99999, "措施", "某人", date(2025, 1, 1), "主任")


def test_open_items_are_as_of_the_period_end_not_today(session: Session) -> None:
    """A 2025 report: a complaint received in 2026 is not listed; one received in 2025 and
    resolved in 2026 was open on 31 December; a measure done in 2026 was unfinished then."""
    late = complaints.submit(session, ComplaintKind.complaint, "2026年的投诉",
                             received_at=datetime(2026, 1, 5, tzinfo=UTC))  # fmt: skip
    held = complaints.submit(session, ComplaintKind.complaint, "年底的投诉",
                             received_at=datetime(2025, 12, 20, tzinfo=UTC))  # fmt: skip
    # 2025-12-31 20:00 UTC is already 1 January in Beijing: received after the period.
    new_year = complaints.submit(session, ComplaintKind.feedback, "跨年夜的建议",
                                 received_at=datetime(2025, 12, 31, 20, tzinfo=UTC))  # fmt: skip
    complaints.move(session, int(held.id or 0), HANDLING, "专员", root_cause="通知流程缺失")
    complaints.move(session, int(held.id or 0), RESOLVED, "专员",
                    at=datetime(2026, 1, 3, tzinfo=UTC))  # fmt: skip
    measure = complaints.add_measure(session, int(held.id or 0), "建立通知台账", "活动部",
                                     date(2025, 12, 25), "主任")  # fmt: skip
    complaints.complete_measure(session, int(measure.id or 0), date(2026, 1, 2), "主任")
    items = complaints.open_items(session, date(2025, 12, 31))
    assert [c.id for c in items.cases] == [held.id]
    assert (
        late.id not in {c.id for c in items.cases} and new_year.id not in items.overdue_measure_ids
    )
    assert items.state_of(held) == "未办结（2026-01-03 办结）"
    assert [m.id for m in items.measures] == [measure.id] and items.overdue_measure_ids == {
        measure.id
    }
    assert complaints.open_items(session, date(2026, 1, 5)).cases == (new_year, late)
