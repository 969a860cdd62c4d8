"""Resident institutions' commitments against the ledger, the yearly evaluation and renewal."""

from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session, select

from models import Attendance, AuditLog, Institution, InstitutionEvaluation
from models.crud import create
from models.errors import ConflictError, DomainError
from models.reference import DealType, FinancingType, InstitutionKind
from services.institutions import service as institutions
from services.institutions.service import Measure, measure_of
from services.pipeline import service as pipeline
from services.pipeline.repository import dashboard_counts
from tests import factories as f

MM = "mm_li"
AT = datetime(2025, 2, 10, 2, tzinfo=UTC)


def _bank(session: Session, **over: object) -> int:
    bank = f.institution(session, kind=InstitutionKind.bank, agreement_start=date(2024, 1, 1),
                         agreement_end=date(2026, 12, 31), **over)  # fmt: skip
    for text, target, unit in (("年度为中心推荐的科技型企业发放贷款", 1000, "万元"),
                               ("年度参加中心组织的银企对接活动", 2, "场"),
                               ("审批时限不超过", 15, "个工作日")):  # fmt: skip
        f.service_commitment(session, institution_id=bank.id, description=text,
                             target_value=target, unit=unit, year=2025)  # fmt: skip
    f.service_commitment(session, institution_id=bank.id, description="年度为中心推荐的科技型企业发放贷款",
                         target_value=9999, unit="万元", year=2024)  # fmt: skip
    return bank.id or 0


def _brokered_loan(session: Session, bank: int, amount: float, closed_on: date) -> None:
    demand = f.demand(session, amount_min_wan=amount, amount_max_wan=amount)
    match = pipeline.introduce(session, demand_id=demand.id or 0, institution_id=bank, actor=MM,
                               at=AT)  # fmt: skip
    pipeline.record_deal(session, match_id=match.id or 0, amount_wan=amount, closed_on=closed_on,
                         actor=MM)  # fmt: skip


def test_measures_follow_the_signed_wording_and_unit() -> None:
    assert measure_of("年度为中心推荐的科技型企业发放贷款", "万元") == Measure.loan_amount
    assert measure_of("年度投资中心推荐项目", "项") == Measure.investment_count
    assert measure_of("年度参加中心投融资路演活动", "场") == Measure.roadshows
    assert measure_of("担保费率不高于", "%") == Measure.manual


def test_actuals_count_only_brokered_deals_and_attended_roadshows(session: Session) -> None:
    bank = _bank(session)
    _brokered_loan(session, bank, 600, date(2025, 5, 1))
    _brokered_loan(session, bank, 300, date(2026, 2, 1))  # another year
    f.deal(session, inst=session.get(Institution, bank), amount_wan=5000,
           closed_on=date(2025, 6, 1))  # not brokered: no linked match  # fmt: skip
    roadshow = f.event(session, starts_at=datetime(2025, 9, 1, 2, tzinfo=UTC))
    for key in ("王五|甲行", "赵六|甲行"):  # two people, one roadshow
        create(session, Attendance, {"event_id": roadshow.id, "person_key": key,
                                         "institution_id": bank})  # fmt: skip
    result = institutions.commitments_vs_actuals(session, bank, 2025)
    by_measure = {line.measure: line for line in result.lines}
    assert len(result.lines) == 3  # the 2024 commitment is not 2025's
    assert (by_measure[Measure.loan_amount].actual, by_measure[Measure.loan_amount].rate) == (
        600,
        60,
    )
    assert (by_measure[Measure.roadshows].actual, by_measure[Measure.roadshows].rate) == (1, 50)
    assert by_measure[Measure.manual].actual is None
    assert result.overall == 55.0
    assert result.as_json()["commitments"][0]["measure_label"].startswith("中心推荐企业")


def test_a_partial_agreement_year_pro_rates_the_target(session: Session) -> None:
    bank = _bank(session, name="测试部分年度银行")
    inst = institutions.institution(session, bank)
    inst.agreement_end = date(2025, 6, 30)
    result = institutions.commitments_vs_actuals(session, bank, 2025)
    assert (result.start, result.end) == (date(2025, 1, 1), date(2025, 6, 30))
    assert result.lines[0].due == pytest.approx(1000 * 181 / 365, abs=0.01)
    with pytest.raises(DomainError, match="2027 年没有生效的入驻协议"):
        institutions.commitments_vs_actuals(session, bank, 2027)


def test_evaluation_records_scores_decision_and_audit_once(session: Session) -> None:
    bank = _bank(session)
    _brokered_loan(session, bank, 1500, date(2025, 5, 1))
    row = institutions.evaluate(session, bank, 2025, "warn", "路演参与不足", actor="admin")
    assert (row.decision, row.overall) == ("warn", 50.0)  # loans capped at 100, roadshows 0
    assert [s["score"] for s in row.scores] == [100.0, 0.0, None]
    audit = session.exec(select(AuditLog).where(AuditLog.action == "evaluate")).one()
    assert audit.detail["decision"] == "warn"
    with pytest.raises(ConflictError):
        institutions.evaluate(session, bank, 2025, "keep", "再评", actor="admin")
    with pytest.raises(DomainError, match="评价结论"):
        institutions.evaluate(session, bank, 2024, "drop", "无效", actor="admin")
    assert len(session.exec(select(InstitutionEvaluation)).all()) == 1


def test_renewal_keeps_the_old_period_and_extends_the_agreement_years(session: Session) -> None:
    bank = _bank(session)
    inst = institutions.renew(session, bank, date(2027, 1, 1), date(2029, 12, 31), actor="admin")
    assert (inst.agreement_start, inst.agreement_end) == (date(2027, 1, 1), date(2029, 12, 31))
    periods = institutions.agreement_periods(session, inst)
    assert periods == [
        (date(2024, 1, 1), date(2026, 12, 31)),
        (date(2027, 1, 1), date(2029, 12, 31)),
    ]
    assert institutions.commitments_vs_actuals(session, bank, 2025).start == date(2025, 1, 1)
    with pytest.raises(DomainError, match="须晚于现协议起始日"):
        institutions.renew(session, bank, date(2026, 1, 1), None, actor="admin")
    with pytest.raises(DomainError, match="早于起始日"):
        institutions.renew(session, bank, date(2030, 1, 1), date(2029, 1, 1), actor="admin")


def test_dashboard_counts_agreements_in_force_on_the_day(session: Session) -> None:
    f.institution(session, agreement_start=date(2024, 1, 1), agreement_end=date(2025, 12, 31))
    f.institution(session, agreement_start=date(2024, 1, 1), agreement_end=None)
    f.institution(session, agreement_start=None, agreement_end=None)
    f.institution(session, agreement_start=date(2026, 3, 1), agreement_end=date(2028, 1, 1))
    assert dashboard_counts(session, date(2025, 6, 1))["institutions"] == 2
    assert dashboard_counts(session, date(2026, 6, 1))["institutions"] == 2
    assert dashboard_counts(session, date(2023, 6, 1))["institutions"] == 0


def test_investments_count_brokered_equity_deals(session: Session) -> None:
    vc = f.institution(session, agreement_start=date(2025, 1, 1), agreement_end=None)
    f.service_commitment(session, institution_id=vc.id, description="年度投资中心推荐项目",
                         target_value=2, unit="项", year=None)  # fmt: skip
    demand = f.demand(session, financing_type=FinancingType.equity, amount_min_wan=500,
                      amount_max_wan=800)  # fmt: skip
    match = pipeline.introduce(session, demand_id=demand.id or 0, institution_id=vc.id or 0,
                               actor=MM, at=AT)  # fmt: skip
    deal = pipeline.record_deal(session, match_id=match.id or 0, amount_wan=800,
                                closed_on=date(2025, 8, 1), actor=MM)  # fmt: skip
    assert deal.deal_type == DealType.equity
    line = institutions.commitments_vs_actuals(session, vc.id or 0, 2025).lines[0]
    assert (line.actual, line.rate) == (1, 50)
