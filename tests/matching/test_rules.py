"""Each hard rule: it excludes exactly what it should, and says why in Chinese."""

from datetime import date

import numpy as np
import pytest

from matching.profiles import CandidateRow, DemandProfile, Vocabulary, encode_demands
from matching.rules import RULES_BY_CODE, eligible
from services.recommendations.service import vocabulary
from tests.matching.helpers import CFG, cset, demand, mandate, row

VOCAB: Vocabulary = vocabulary()


def broken(rule: str, d: DemandProfile, *rows: CandidateRow) -> list[bool]:
    cands = cset(*rows)
    v = RULES_BY_CODE[rule].violated(encode_demands([d], cands), cands, CFG)
    return np.broadcast_to(v, (1, len(rows)))[0].tolist()


def reason(rule: str, d: DemandProfile, r: CandidateRow) -> str:
    return RULES_BY_CODE[rule].reason(d, r, CFG, VOCAB)


def test_financing_type() -> None:
    assert broken("financing_type", demand(financing_type="equity"), row(), mandate()) == [
        True,
        False,
    ]
    assert broken("financing_type", demand(financing_type="loan"), row(), mandate()) == [
        False,
        True,
    ]
    assert broken("financing_type", demand(financing_type="mixed"), row(), mandate()) == [
        False,
        False,
    ]
    assert (
        reason("financing_type", demand(financing_type="equity"), row())
        == "融资方式不符：该产品为贷款产品"
    )


def test_residency() -> None:
    rows = (row(), row(agreement_end=date(2024, 12, 31)), row(agreement_start=None))
    assert broken("residency", demand(), *rows) == [False, True, True]
    assert reason("residency", demand(), rows[1]) == "机构未入驻或入驻协议已到期"


def test_inactive_product() -> None:
    assert broken("inactive", demand(), row(), row(active=False)) == [False, True]


def test_region() -> None:
    rows = (row(), row(institution_regions=("44",)), row(institution_regions=("11",)),
            row(institution_regions=()), row(product_regions=("310000",)))  # fmt: skip
    assert broken("region", demand(), *rows) == [False, False, True, False, True]
    assert broken("region", demand(region_code=None), *rows) == [False] * 5
    assert reason("region", demand(), rows[2]) == "超出服务区域（服务范围：北京市）"


def test_ticket_with_tolerance() -> None:
    rows = (row(), row(ticket_min_wan=700.0), row(ticket_min_wan=600.0), row(ticket_max_wan=200.0))
    assert broken("ticket", demand(), *rows) == [False, True, False, True]
    assert reason("ticket", demand(), rows[1]).startswith(
        "金额超出产品额度范围：产品 700–1,000 万元"
    )


def test_remaining_capacity() -> None:
    rows = (mandate(), mandate(remaining_capacity_wan=200.0), mandate(remaining_capacity_wan=300.0))
    d = demand(financing_type="equity")
    assert broken("capacity", d, *rows) == [False, True, False]
    assert reason("capacity", d, rows[1]).startswith("剩余可投额度不足")


def test_required_qualification() -> None:
    rows = (
        row(required_qualifications=("high_tech",)),
        row(required_qualifications=("specialized",)),
    )
    assert broken("qualification", demand(), *rows) == [False, True]
    assert reason("qualification", demand(), rows[1]) == "不满足：需专精特新中小企业资质"
    no_honour = demand(qualifications=frozenset())
    assert reason("qualification", no_honour, rows[0]) == "不满足：需高新技术企业资质"


def test_years_and_revenue_minimums_fail_when_unknown() -> None:
    rows = (row(min_years_operating=3.0), row(min_years_operating=8.0), row(min_revenue_wan=5000.0))
    assert broken("years_operating", demand(), *rows) == [False, True, False]
    assert broken("years_operating", demand(years_operating=None), *rows) == [True, True, False]
    assert broken("revenue", demand(), *rows) == [False, False, True]
    assert (
        reason("years_operating", demand(), rows[1]) == "不满足：需成立满 8 年（企业成立 6.0 年）"
    )
    assert reason("revenue", demand(), rows[2]).startswith("不满足：需年营业收入不低于 5,000 万元")


def test_collateral() -> None:
    rows = (
        row(),
        row(collateral_accepted=("real_estate",)),
        row(collateral_accepted=("ip_pledge",)),
    )
    offers_ip = demand(collateral_offered=frozenset({"ip_pledge"}))
    assert broken("collateral", offers_ip, *rows) == [False, True, False]
    # Nothing stated: the enterprise asks for credit, which a pledge-only product does not give.
    assert broken("collateral", demand(), *rows) == [False, True, True]
    assert reason("collateral", offers_ip, rows[1]) == (
        "担保方式不符：该产品需房产抵押（企业提供：知识产权质押）"
    )


def test_loan_product_sector_restriction() -> None:
    rows = (
        row(sectors=("C",)),
        row(sectors=("I",)),
        row(sectors=("I65",)),
        mandate(sectors=("C39",)),
    )
    assert broken("sector", demand(financing_type="mixed"), *rows) == [True, False, False, False]
    assert reason("sector", demand(), rows[0]) == "行业不符：该产品限制造业"


@pytest.mark.parametrize("n_demands", [1, 7])
def test_eligible_is_all_rules_together(n_demands: int) -> None:
    rows = (row(), row(required_qualifications=("specialized",)), mandate(), row(active=False))
    cands = cset(*rows)
    demands = [demand(demand_id=i) for i in range(n_demands)]
    ok = eligible(encode_demands(demands, cands), cands, CFG)
    assert ok.shape == (n_demands, 4)
    assert ok.tolist() == [[True, False, False, False]] * n_demands
