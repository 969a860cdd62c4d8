"""Each condition type on constructed enterprises: met, unmet, and unknown (never a pass)."""

from datetime import date
from typing import Any

import pytest

from matching.policy import (
    MET,
    UNKNOWN,
    UNMET,
    EnterpriseFacts,
    EnterpriseRecord,
    LoanRecord,
    PolicySpec,
    PolicyVocabulary,
    condition_status,
    evaluate_policy,
    explain_condition,
    parse_condition,
)
from services.policy.service import vocabulary

AS_OF = date(2026, 6, 30)
VOCAB: PolicyVocabulary = vocabulary()


def _facts(*records: EnterpriseRecord) -> EnterpriseFacts:
    return EnterpriseFacts.build(records)


def _rec(ent_id: int, **over: Any) -> EnterpriseRecord:
    return EnterpriseRecord(id=ent_id, name=f"企业{ent_id}", **over)


def _statuses(raw: dict[str, Any], *records: EnterpriseRecord) -> list[int]:
    return [int(s) for s in condition_status(parse_condition(raw), _facts(*records), AS_OF)]


LOAN = LoanRecord(date(2026, 3, 1), 300.0, "示例银行南山支行", resident=True)
OLD_LOAN = LoanRecord(date(2024, 1, 1), 300.0, "示例银行南山支行", resident=True)
FOREIGN_LOAN = LoanRecord(date(2026, 3, 1), 300.0, "非入驻银行", resident=False)

# (condition, a record meeting it, a record failing it, a record with the datum unknown)
CASES: list[tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]]] = [
    ({"type": "qualification", "any_of": ["high_tech", "specialized"]},
     {"qualifications": ("specialized",)}, {"qualifications": ("tech_sme",)}, {}),
    ({"type": "region", "prefixes": ["4403"]},
     {"region_code": "440305"}, {"region_code": "440106"}, {}),
    ({"type": "industry", "codes": ["C", "I65"]},
     {"industry_code": "I65"}, {"industry_code": "M73"}, {}),
    ({"type": "strategic_industry", "codes": ["1", "4"]},
     {"sei_category": "4.1"}, {"sei_category": "7"}, {}),
    ({"type": "stage", "any_of": ["seed", "startup"]},
     {"stage": "startup"}, {"stage": "mature"}, {}),
    ({"type": "employees", "max": 500}, {"employees": 500}, {"employees": 501}, {}),
    ({"type": "revenue", "min": 1000, "max": 20000},
     {"revenue_wan": 1000.0}, {"revenue_wan": 25000.0}, {}),
    ({"type": "years_operating", "min": 2},
     {"founded_on": date(2020, 1, 1)}, {"founded_on": date(2025, 12, 1)}, {}),
    ({"type": "rd_ratio", "min": 5},
     {"revenue_wan": 1000.0, "rd_expense_wan": 80.0},
     {"revenue_wan": 1000.0, "rd_expense_wan": 30.0}, {"revenue_wan": 1000.0}),
    ({"type": "patents", "min": 1}, {"patents": 3}, {"patents": 0}, {}),
    ({"type": "listing_milestone", "any_of": ["coaching_filing"]},
     {"in_cultivation": True, "milestones": {"coaching_filing": date(2026, 1, 5)}},
     {"in_cultivation": True, "milestones": {"shareholding_reform": date(2025, 1, 5)}}, {}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "meets", "fails", "unknown"), CASES, ids=[c[0]["type"] for c in CASES]
)
def test_each_condition_type_met_unmet_unknown(
    raw: dict[str, Any], meets: dict[str, Any], fails: dict[str, Any], unknown: dict[str, Any]
) -> None:
    assert _statuses(raw, _rec(1, **meets), _rec(2, **fails), _rec(3, **unknown)) == [
        MET,
        UNMET,
        UNKNOWN,
    ]


def test_resident_bank_loan_counts_only_recent_loans_from_resident_banks() -> None:
    raw = {"type": "resident_bank_loan", "within_months": 12, "min_amount_wan": 100}
    statuses = _statuses(
        raw, _rec(1, loans=(LOAN,)), _rec(2, loans=(OLD_LOAN,)), _rec(3, loans=(FOREIGN_LOAN,)),
        _rec(4),
    )  # fmt: skip
    # The center's deal records are the source: no recorded loan is a known "no".
    assert statuses == [MET, UNMET, UNMET, UNMET]


def test_unknown_data_never_qualifies_and_counts_as_missing() -> None:
    policy = PolicySpec(
        1, "测试政策", "测试机关", "municipal", "rd_subsidy", date(2025, 1, 1), None,
        (parse_condition({"type": "revenue", "max": 20000}),
         parse_condition({"type": "region", "prefixes": ["4403"]})),
        amount_wan=10,
    )  # fmt: skip
    facts = _facts(_rec(1, region_code="440305"), _rec(2, region_code="440305", revenue_wan=5.0))
    verdicts = evaluate_policy(policy, facts, AS_OF)
    assert verdicts.qualified.tolist() == [False, True]
    assert verdicts.missing.tolist() == [1, 0]
    assert verdicts.unknown.tolist() == [1, 0]


@pytest.mark.parametrize(
    ("effective", "expires", "active"),
    [(date(2024, 1, 1), date(2025, 12, 31), False), (date(2026, 7, 1), None, False),
     (date(2024, 1, 1), AS_OF, True), (AS_OF, None, True)],
)  # fmt: skip
def test_only_policies_in_force_match(effective: date, expires: date | None, active: bool) -> None:
    policy = PolicySpec(1, "测试", "测试机关", "district", "rd_subsidy", effective, expires,
                        (parse_condition({"type": "patents", "min": 0}),), amount_wan=5)  # fmt: skip
    verdicts = evaluate_policy(policy, _facts(_rec(1, patents=4)), AS_OF)
    assert verdicts.status.tolist() == [[MET]]
    assert bool(verdicts.qualified[0]) is active
    if not active:
        assert "失效" in policy.validity_text(AS_OF) or "尚未生效" in policy.validity_text(AS_OF)


def _text(raw: dict[str, Any], record: EnterpriseRecord) -> str:
    cond = parse_condition(raw)
    facts = _facts(record)
    status = int(condition_status(cond, facts, AS_OF)[0])
    return explain_condition(cond, status, facts, 0, AS_OF, VOCAB).text


def test_explanations_name_the_condition_and_the_enterprise_value_in_chinese() -> None:
    assert _text({"type": "revenue", "max": 20000}, _rec(1, revenue_wan=35000.0)) == (
        "不满足｜营业收入：要求不超过20,000万元；企业为35,000万元"
    )
    assert _text({"type": "qualification", "any_of": ["high_tech"]}, _rec(1)) == (
        "待核实｜企业资质：要求具备高新技术企业；企业未登记任何资质（数据缺失，不视为满足）"
    )
    region = _text({"type": "region", "prefixes": ["440305"]}, _rec(1, region_code="440306"))
    assert region == "不满足｜注册地：要求注册在南山区；企业为宝安区（440306）"
    loan = _text({"type": "resident_bank_loan"}, _rec(1, loans=(LOAN,)))
    assert loan.startswith("满足｜入驻银行贷款：要求近12个月内获得入驻银行贷款；")
    assert "300万元" in loan and "示例银行南山支行" in loan
    milestone = _text({"type": "listing_milestone", "any_of": ["listed"]}, _rec(1))
    assert milestone.endswith("企业未纳入上市培育库，里程碑情况未知（数据缺失，不视为满足）")


def test_malformed_conditions_are_rejected_in_chinese() -> None:
    with pytest.raises(ValueError, match="未知的条件类型"):
        parse_condition({"type": "color"})
    with pytest.raises(ValueError, match="至少需要 min 或 max"):
        parse_condition({"type": "revenue"})
    with pytest.raises(ValueError, match="非空列表"):
        parse_condition({"type": "region", "prefixes": []})
