"""The DB adapter on both backends: match, reach, outreach, subsidy, the demo catalogue."""

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlmodel import Session, select

from demo.generator.context import GenContext
from demo.generator.policies import DRAFTS, generate_policies
from models import Deal, ListingMilestone, ListingRecord
from models.audit import AuditLog
from models.errors import DomainError, NotFoundError
from models.policy import Policy, PolicyOutreach
from models.reference import Board, DealType, InstitutionKind, ListingMilestoneKind, ListingTier
from services.policy.service import (
    create_policy,
    load_policies,
    match_enterprise,
    reach,
    record_outreach,
    subsidy_for,
)
from tests import factories

AS_OF = date(2026, 6, 30)


def _policy(session: Session, title: str, **over: Any) -> Policy:
    data: dict[str, Any] = {
        "title": title, "issuer": "深圳市科技创新局（测试）", "level": "municipal",
        "effective_on": date(2025, 1, 1), "expires_on": date(2027, 12, 31),
        "benefit_type": "rd_subsidy", "amount_wan": 20.0,
        "conditions": [{"type": "region", "prefixes": ["4403"]},
                       {"type": "qualification", "any_of": ["high_tech"]}],
    }  # fmt: skip
    return create_policy(session, data | over)


def test_match_enterprise_lists_verdicts_and_leaves_out_expired(session: Session) -> None:
    ent = factories.enterprise(session, revenue_wan=None)
    _policy(session, "高企奖励")
    _policy(session, "营收门槛", conditions=[{"type": "revenue", "min": 1000}])
    _policy(session, "已失效", expires_on=date(2025, 12, 31))
    result = match_enterprise(session, ent.id or 0, AS_OF)
    assert [(i.title, i.qualified, i.missing) for i in result.items] == [
        ("高企奖励", True, 0), ("营收门槛", False, 1)]  # fmt: skip
    assert result.items[1].conditions[0]["status"] == "unknown"
    assert "营业收入未登记" in result.items[1].conditions[0]["text"]
    everything = match_enterprise(session, ent.id or 0, AS_OF, include_inactive=True)
    assert everything.items[-1].title == "已失效" and not everything.items[-1].qualified
    assert everything.to_dict()["items"][-1]["status"] == "不在有效期"


def test_reach_ranks_qualified_first_then_one_short(session: Session) -> None:
    policy = _policy(session, "研发补助", amount_wan=None,
                     formula={"kind": "percent", "base": "rd_expense", "percent": 10})  # fmt: skip
    big = factories.enterprise(session, rd_expense_wan=900.0)
    small = factories.enterprise(session, rd_expense_wan=100.0)
    no_qual = factories.enterprise(session, qualifications=["tech_sme"], rd_expense_wan=5000.0)
    unknown = factories.enterprise(session, qualifications=[], rd_expense_wan=50.0)
    factories.enterprise(session, region_code="110108", qualifications=["tech_sme"])  # two short
    result = reach(session, policy.id or 0, AS_OF)
    assert [i.enterprise_id for i in result.items] == [big.id, small.id, unknown.id, no_qual.id]
    assert (result.qualified, result.one_short) == (2, 2)
    assert result.items[0].benefit_wan == 90.0
    assert result.items[3].missing_conditions[0].startswith("不满足｜企业资质")


def test_reach_of_an_expired_policy_is_empty(session: Session) -> None:
    factories.enterprise(session)
    policy = _policy(session, "过期", effective_on=date(2023, 1, 1), expires_on=date(2024, 1, 1))
    result = reach(session, policy.id or 0, AS_OF)
    assert not result.active and result.items == [] and "失效" in result.validity


def test_outreach_is_recorded_audited_and_shown_in_reach(session: Session) -> None:
    ent = factories.enterprise(session)
    policy = _policy(session, "宣贯测试")
    at = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
    row = record_outreach(session, policy.id or 0, ent.id or 0, "张专员", channel="上门走访", at=at)
    assert row.channel == "visit" and row.outcome == "informed"
    assert session.exec(select(AuditLog).where(AuditLog.action == "policy_outreach")).first()
    assert reach(session, policy.id or 0, AS_OF).items[0].last_informed_at == at.isoformat()
    with pytest.raises(NotFoundError):
        record_outreach(session, 999_999, ent.id or 0, "张专员")
    assert len(session.exec(select(PolicyOutreach)).all()) == 1


def _bank_product(session: Session, **over: Any) -> int:
    bank = factories.institution(session, kind=InstitutionKind.bank, name="示例银行深圳南山支行")
    product = factories.loan_product(session, bank, **({"rate_min_pct": 3.6, "rate_max_pct": 4.4,
                                                        "collateral_accepted": ["none", "guarantee"]} | over))  # fmt: skip
    return product.id or 0


def test_subsidy_for_a_recommended_product(session: Session) -> None:
    ent = factories.enterprise(session, employees=80)
    product_id = _bank_product(session)
    loan_cond = [{"type": "resident_bank_loan", "within_months": 12}]
    _policy(session, "贴息", benefit_type="interest_subsidy", amount_wan=None, cap_wan=50,
            formula={"kind": "interest_share", "percent": 50}, conditions=loan_cond)  # fmt: skip
    _policy(session, "担保费补贴", benefit_type="guarantee_fee_subsidy", amount_wan=None,
            formula={"kind": "guarantee_fee_share", "percent": 50, "fee_rate_pct": 2.0},
            conditions=[{"type": "employees", "max": 300}], loan_scope={"collateral": ["guarantee"]})  # fmt: skip
    _policy(session, "专精特新贴息", benefit_type="interest_subsidy", amount_wan=None,
            formula={"kind": "interest_points", "points": 2},
            conditions=[{"type": "qualification", "any_of": ["specialized"]}])  # fmt: skip
    result = subsidy_for(session, ent.id or 0, product_id, 500.0, 12, AS_OF)
    q = result.quote
    # Rate: mid of 3.6–4.4 = 4.0%; interest 20, fee 10; subsidies 10 + 5.
    assert (q.nominal_rate_pct, q.interest_wan, q.guarantee_fee_wan) == (4.0, 20.0, 10.0)
    assert q.total_subsidy_wan == 15.0 and q.effective_cost_wan == 15.0
    assert q.effective_rate_pct == pytest.approx(3.0)
    assert [t for _p, t, _w in q.not_applied] == ["专精特新贴息"]
    assert "综合年化成本3.00%" in result.summary()


def test_subsidy_needs_a_resident_bank(session: Session) -> None:
    ent = factories.enterprise(session)
    bank = factories.institution(session, kind=InstitutionKind.bank, name="外地银行某支行",
                                 agreement_start=None, agreement_end=None)  # fmt: skip
    product = factories.loan_product(session, bank, rate_min_pct=4.0, rate_max_pct=4.0)
    _policy(session, "贴息", benefit_type="interest_subsidy", amount_wan=None,
            formula={"kind": "interest_points", "points": 1},
            conditions=[{"type": "resident_bank_loan"}])  # fmt: skip
    q = subsidy_for(session, ent.id or 0, product.id or 0, 100.0, 12, AS_OF).quote
    assert q.lines == () and q.effective_rate_pct == 4.0
    assert "不满足｜入驻银行贷款" in q.not_applied[0][2]
    with pytest.raises(DomainError):
        subsidy_for(session, ent.id or 0, product.id or 0, 0.0, 12, AS_OF)


def test_loans_and_milestones_are_read_from_the_records(session: Session) -> None:
    ent = factories.enterprise(session)
    bank = factories.institution(session, kind=InstitutionKind.bank)
    session.add(Deal(deal_type=DealType.loan, amount_wan=200.0, closed_on=date(2026, 2, 1),
                     enterprise_id=ent.id or 0, institution_id=bank.id or 0))  # fmt: skip
    record = ListingRecord(enterprise_id=ent.id or 0, target_board=Board.star,
                           tier=ListingTier.coaching, coaching_started_on=date(2025, 1, 1))  # fmt: skip
    session.add(record)
    session.flush()
    session.add(ListingMilestone(listing_record_id=record.id or 0, occurred_on=date(2025, 8, 1),
                                 kind=ListingMilestoneKind.shareholding_reform))  # fmt: skip
    session.flush()
    _policy(session, "上市奖励", benefit_type="listing_reward", amount_wan=None,
            formula={"kind": "milestones", "amounts": {"shareholding_reform": 50, "listed": 200}},
            conditions=[{"type": "listing_milestone", "any_of": ["shareholding_reform", "listed"]},
                        {"type": "resident_bank_loan"}])  # fmt: skip
    fit = match_enterprise(session, ent.id or 0, AS_OF).items[0]
    assert fit.qualified and fit.benefit_wan == 50.0
    assert "后续可获：发行上市/挂牌200万元" in fit.benefit_text


def test_malformed_policy_is_refused(session: Session) -> None:
    with pytest.raises(DomainError, match="条件或计算方式有误"):
        _policy(session, "坏条件", conditions=[{"type": "revenue"}])


def test_demo_catalogue_is_valid_fictional_and_mixed(session: Session) -> None:
    import random

    rows = generate_policies(GenContext(session=session, rng=random.Random(1), today=AS_OF))
    specs = load_policies(session)
    assert len(specs) == len(DRAFTS) == len(rows) >= 25
    assert all("示例" in r.issuer and "示例" in (r.document_no or "") for r in rows)
    assert {r.level for r in rows} == {"national", "provincial", "municipal", "district"}
    assert {str(r.benefit_type) for r in rows} >= {
        "interest_subsidy", "risk_compensation", "guarantee_fee_subsidy", "listing_reward",
        "rd_subsidy", "certification_reward", "talent"}  # fmt: skip
    assert sum(not s.active_on(AS_OF) for s in specs) == 3  # 2 expired, 1 not yet in force
