"""Expected benefits, reach ranking and loan-subsidy arithmetic (pure core)."""

from datetime import date
from typing import Any

import numpy as np
import pytest

from matching.policy import (
    EnterpriseFacts,
    EnterpriseRecord,
    LoanOffer,
    LoanTerms,
    PolicySpec,
    benefit_amounts,
    evaluate_policy,
    loan_benefit,
    parse_condition,
    parse_formula,
    quote_loan,
    rank_reach,
)

AS_OF = date(2026, 6, 30)


def _policy(pid: int, kind: str, formula: dict[str, Any], **over: Any) -> PolicySpec:
    data: dict[str, Any] = {
        "id": pid, "title": f"政策{pid}", "issuer": "测试机关", "level": "municipal",
        "benefit_type": kind, "effective_on": date(2025, 1, 1), "expires_on": None,
        "conditions": (), "formula": parse_formula(formula, over.get("amount_wan")),
    }  # fmt: skip
    return PolicySpec(**(data | over))


LOAN = LoanTerms(amount_wan=500.0, term_months=24, rate_pct=4.0, guarantee_fee_pct=2.0)


def test_loan_formulas() -> None:
    points = loan_benefit(
        _policy(1, "interest_subsidy", {"kind": "interest_points", "points": 1.5}), LOAN
    )
    assert points.amount_wan == pytest.approx(500 * 0.015 * 2)  # 15
    share = loan_benefit(
        _policy(2, "interest_subsidy", {"kind": "interest_share", "percent": 50}), LOAN
    )
    assert share.amount_wan == pytest.approx(500 * 0.04 * 2 * 0.5)  # 20
    fee = loan_benefit(
        _policy(3, "guarantee_fee_subsidy", {"kind": "guarantee_fee_share", "percent": 50}), LOAN
    )
    assert fee.amount_wan == pytest.approx(500 * 0.02 * 2 * 0.5)  # 10
    cap = loan_benefit(
        _policy(4, "risk_compensation", {"kind": "rate_cap", "max_rate_pct": 3.5}), LOAN
    )
    assert cap.amount_wan == pytest.approx(500 * 0.005 * 2)  # 5
    capped = loan_benefit(
        _policy(5, "interest_subsidy", {"kind": "interest_share", "percent": 50}, cap_wan=12), LOAN
    )
    assert capped.amount_wan == 12 and "按上限12万元" in capped.text


def test_points_never_exceed_the_interest_itself() -> None:
    cheap = LoanTerms(100.0, 12, 1.0)
    policy = _policy(1, "interest_subsidy", {"kind": "interest_points", "points": 3})
    assert loan_benefit(policy, cheap).amount_wan == pytest.approx(1.0)


def test_subsidy_effective_rate_and_no_double_dipping() -> None:
    offer = LoanOffer(9, "科技贷", "示例银行", True, ("none", "guarantee"), 4.0)
    city = _policy(1, "interest_subsidy", {"kind": "interest_share", "percent": 50})
    province = _policy(2, "interest_subsidy", {"kind": "interest_points", "points": 1.0})
    district = _policy(
        3, "interest_subsidy", {"kind": "interest_points", "points": 0.5, "stackable": True}
    )
    fee = _policy(4, "guarantee_fee_subsidy", {"kind": "guarantee_fee_share", "percent": 50})
    unmet = _policy(5, "interest_subsidy", {"kind": "interest_points", "points": 3})
    quote = quote_loan(offer, LOAN, [(city, []), (province, []), (district, []), (fee, []),
                                     (unmet, ["不满足｜企业资质：…"])])  # fmt: skip
    # Interest 40, fee 20; city 20 beats province 10; district 5 stacks; fee subsidy 10.
    assert [line.policy_id for line in quote.lines] == [1, 4, 3]
    assert quote.interest_wan == 40 and quote.guarantee_fee_wan == 20
    assert quote.total_subsidy_wan == pytest.approx(35)
    assert quote.effective_cost_wan == pytest.approx(25)
    assert quote.effective_rate_pct == pytest.approx(25 / 500 / 2 * 100)
    skipped = {pid: why for pid, _t, why in quote.not_applied}
    assert "不重复享受" in skipped[2] and skipped[5].startswith("不满足")


def test_loan_scope_excludes_non_resident_banks_and_wrong_collateral() -> None:
    policy = _policy(1, "interest_subsidy", {"kind": "interest_share", "percent": 50},
                     loan_scope={"collateral": ["ip_pledge"], "max_amount_wan": 300})  # fmt: skip
    outside = LoanOffer(1, "经营贷", "外地银行", False, ("ip_pledge",), 4.0)
    wrong = LoanOffer(2, "经营贷", "示例银行", True, ("real_estate",), 4.0)
    right = LoanOffer(3, "知识产权贷", "示例银行", True, ("ip_pledge",), 4.0)
    small = LoanTerms(200.0, 12, 4.0)
    assert "不是中心入驻银行" in quote_loan(outside, small, [(policy, [])]).not_applied[0][2]
    assert "担保方式" in quote_loan(wrong, small, [(policy, [])]).not_applied[0][2]
    assert "上限300万元" in quote_loan(right, LOAN, [(policy, [])]).not_applied[0][2]
    assert quote_loan(right, small, [(policy, [])]).total_subsidy_wan == pytest.approx(4.0)


def _facts(*records: EnterpriseRecord) -> EnterpriseFacts:
    return EnterpriseFacts.build(records)


def test_benefit_amounts_per_formula_with_unknown_as_nan() -> None:
    facts = _facts(
        EnterpriseRecord(1, "甲", rd_expense_wan=500.0, rd_staff=30),
        EnterpriseRecord(2, "乙", rd_expense_wan=5000.0, rd_staff=5),
        EnterpriseRecord(3, "丙"),
    )
    rd = _policy(
        1, "rd_subsidy", {"kind": "percent", "base": "rd_expense", "percent": 10}, cap_wan=300
    )
    heads = _policy(
        2, "talent", {"kind": "per_head", "base": "rd_staff", "per_head_wan": 2, "max_heads": 20}
    )
    fixed = _policy(3, "certification_reward", {}, amount_wan=30)
    np.testing.assert_allclose(benefit_amounts(rd, facts, AS_OF), [50, 300, np.nan])
    np.testing.assert_allclose(benefit_amounts(heads, facts, AS_OF), [40, 10, np.nan])
    np.testing.assert_allclose(benefit_amounts(fixed, facts, AS_OF), [30, 30, 30])


def test_listing_rewards_count_milestones_reached_while_in_force() -> None:
    amounts = {"shareholding_reform": 50, "coaching_filing": 100, "listed": 200}
    policy = _policy(1, "listing_reward", {"kind": "milestones", "amounts": amounts})
    facts = _facts(
        EnterpriseRecord(1, "甲", in_cultivation=True, milestones={
            "shareholding_reform": date(2024, 6, 1), "coaching_filing": date(2025, 6, 1)}),
        EnterpriseRecord(2, "乙", in_cultivation=True, milestones={
            "shareholding_reform": date(2025, 2, 1), "coaching_filing": date(2025, 9, 1),
            "listed": date(2026, 5, 1)}),
    )  # fmt: skip
    np.testing.assert_allclose(benefit_amounts(policy, facts, AS_OF), [100, 350])


def test_reach_ranks_qualified_then_missing_datum_then_unmet() -> None:
    conds = (parse_condition({"type": "region", "prefixes": ["4403"]}),
             parse_condition({"type": "revenue", "max": 20000}),
             parse_condition({"type": "qualification", "any_of": ["high_tech"]}))  # fmt: skip
    policy = _policy(1, "rd_subsidy", {"kind": "percent", "base": "rd_expense", "percent": 10},
                     conditions=conds)  # fmt: skip
    hi = ("high_tech",)
    facts = _facts(
        EnterpriseRecord(1, "差一项-不满足", region_code="440305", revenue_wan=30000.0, qualifications=hi, rd_expense_wan=900.0),
        EnterpriseRecord(2, "符合-小", region_code="440305", revenue_wan=100.0, qualifications=hi, rd_expense_wan=10.0),
        EnterpriseRecord(3, "差一项-未知", region_code="440305", qualifications=hi, rd_expense_wan=10.0),
        EnterpriseRecord(4, "差两项", region_code="110108", revenue_wan=30000.0, qualifications=hi),
        EnterpriseRecord(5, "符合-大", region_code="440306", revenue_wan=800.0, qualifications=hi, rd_expense_wan=80.0),
    )  # fmt: skip
    verdicts = evaluate_policy(policy, facts, AS_OF)
    order, missing = rank_reach(verdicts, benefit_amounts(policy, facts, AS_OF))
    assert [facts.records[j].id for j in order] == [5, 2, 3, 1]
    assert missing.tolist() == [0, 0, 1, 1]
    expired = evaluate_policy(_policy(2, "rd_subsidy", {}, amount_wan=1, conditions=conds,
                                      expires_on=date(2026, 1, 1)), facts, AS_OF)  # fmt: skip
    assert rank_reach(expired, np.zeros(facts.n))[0].size == 0
