"""The annual plan: targets per 表A.1 line, progress through the year, year over year."""

from datetime import date

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from models import AuditLog, PlanTarget
from models.errors import DomainError
from services.evaluation import Period, plan_review, set_target
from services.evaluation.plan import year_earlier
from tests.services.evaluation import scenario


def test_target_versus_actual_and_last_year(session: Session) -> None:
    scenario.build(session)
    set_target(session, 2025, "credit_amount", 1000, "计划员")
    set_target(session, 2025, "credit_amount", 1500, "计划员")  # replaced, not duplicated
    review = plan_review(session, Period.year(2025))
    line = review.line("credit_amount")
    assert (line.actual, line.target, line.previous) == (750.0, 1500.0, 888.0)
    assert line.progress == 0.5 and line.change == round((750 - 888) / 888, 4)
    assert (
        review.line("credit_projects").target is None
        and review.line("credit_projects").progress is None
    )
    assert review.previous_period == Period.year(2024)
    json = review.as_json()
    assert json["targets"]["科技信贷"]["撮合贷款金额（万元）"] == 1500.0
    assert json["previous_year"]["科技信贷"]["撮合贷款金额（万元）"] == 888.0
    assert len(json["lines"]) == 18 and sum(len(v) for v in json["targets"].values()) == 17
    audits = session.exec(select(AuditLog).where(AuditLog.action == "plan_target")).all()
    assert [a.detail["previous"] for a in audits] == [None, 1000.0]


def test_a_quarter_counts_progress_from_the_start_of_the_year(session: Session) -> None:
    scenario.build(session)
    set_target(session, 2025, "credit_amount", 1000, "计划员")
    whole = plan_review(session, Period.year(2025)).line("credit_amount")
    q4 = plan_review(session, Period.quarter(2025, 4)).line("credit_amount")
    assert q4.year_to_date == whole.actual and q4.target == 1000.0
    assert q4.actual <= whole.actual


def test_a_period_across_two_years_has_no_plan(session: Session) -> None:
    scenario.build(session)
    set_target(session, 2025, "credit_amount", 1000, "计划员")
    review = plan_review(session, Period(date(2025, 7, 1), date(2026, 6, 30)))
    assert review.plan_year is None and review.line("credit_amount").target is None


@pytest.mark.parametrize(
    ("year", "key", "target", "reason"),
    [
        (2025, "loans", 10.0, "未知的表A.1指标“loans”"),
        (1800, "credit_amount", 10.0, "年度应在"),
        (2025, "credit_amount", -1.0, "目标值应为不小于 0 的数"),
        (2025, "credit_amount", float("nan"), "目标值应为不小于 0 的数"),
    ],
)
def test_a_refused_target_changes_nothing(
    session: Session, year: int, key: str, target: float, reason: str
) -> None:
    with pytest.raises(DomainError, match=reason) as refused:
        set_target(session, year, key, target, "计划员")
    if key == "loans":
        assert "credit_amount（科技信贷｜撮合贷款金额（万元））" in refused.value.message
    assert session.exec(select(func.count()).select_from(PlanTarget)).one() == 0
    assert session.exec(select(func.count()).select_from(AuditLog)).one() == 0


def test_a_year_earlier_keeps_the_days() -> None:
    assert year_earlier(Period(date(2024, 2, 29), date(2024, 3, 31))) == Period(
        date(2023, 2, 28), date(2023, 3, 31)
    )
    assert year_earlier(Period.quarter(2025, 2)) == Period.quarter(2024, 2)
