"""Practice on real rows (SQLite and PostgreSQL): legs of a mixed demand, 银担合作 from the
registry, 贴息 from the policy catalogue, syndicates, and what the JSON carries."""

from datetime import date

import pytest
from sqlmodel import Session

from models.reference import FinancingType, InstitutionKind, Stage
from services.recommendations import service
from tests import factories as f

TODAY = date(2025, 6, 1)


def _bank(session: Session, **product: object) -> tuple[int, int]:
    bank = f.institution(session, kind=InstitutionKind.bank, focus="科技信贷")
    p = f.loan_product(session, bank, rate_min_pct=4.0, rate_max_pct=5.0, **product)
    return bank.id or 0, p.id or 0


def _guarantor(session: Session, **over: object) -> int:
    g = f.institution(session, kind=InstitutionKind.guarantee, short_name="鹏城担保")
    f.loan_product(session, g, name="科技融资担保", min_amount_wan=50.0, max_amount_wan=3000.0,
                   rate_min_pct=1.0, rate_max_pct=1.5, **over)  # fmt: skip
    return g.id or 0


def test_mixed_demand_ranks_each_leg_among_its_kind(session: Session) -> None:
    bank, product = _bank(session, max_amount_wan=3000.0, name="投贷联动贷")
    vc = f.institution(session, focus="人工智能 软件")
    f.mandate(session, vc, sectors=["I65"], stages=[Stage.growth], max_ticket_wan=5000.0)
    dem = f.demand(session, financing_type=FinancingType.mixed, amount_min_wan=4500.0,
                   amount_max_wan=5500.0, equity_amount_wan=3000.0, round_stage=Stage.growth)  # fmt: skip
    rec = service.recommend_for_demand(session, dem.id or 0, today=TODAY)
    assert [(leg.leg, leg.amount_min_wan, leg.amount_max_wan) for leg in rec.legs] == [
        ("equity", 2700.0, 3300.0), ("loan", 1800.0, 2200.0)
    ]  # fmt: skip
    assert [(i.leg, i.kind, i.institution_id) for i in rec.items] == [
        ("equity", "equity", vc.id), ("loan", "loan", bank)
    ]  # fmt: skip
    loan = rec.leg_items("loan")[0]
    assert loan.product_id == product and loan.equity_linked
    assert loan.annual_cost_pct == pytest.approx(4.5)
    assert "投贷联动" in loan.notes[0]
    data = rec.to_dict()
    assert data["legs"][0]["basis"] == "按需求填报：股权 3,000 万元，其余为贷款"  # type: ignore[index]
    assert {i["leg"] for i in data["items"]} == {"equity", "loan"}  # type: ignore[union-attr]


def test_mixed_demand_without_equity_amount_uses_the_stated_default(session: Session) -> None:
    _bank(session, max_amount_wan=3000.0)
    dem = f.demand(session, financing_type=FinancingType.mixed, amount_min_wan=5000.0,
                   amount_max_wan=5000.0)  # fmt: skip
    rec = service.recommend_for_demand(session, dem.id or 0, today=TODAY)
    assert [(leg.leg, leg.amount_min_wan) for leg in rec.legs] == [
        ("equity", 3000.0), ("loan", 2000.0)
    ]  # fmt: skip
    assert "默认拆分" in rec.legs[0].basis
    half = service.recommend_for_demand(session, dem.id or 0, today=TODAY, equity_share=0.5)
    assert [leg.amount_min_wan for leg in half.legs] == [2500.0, 2500.0]


def test_guarantee_loan_comes_with_a_resident_guarantor(session: Session) -> None:
    bank, product = _bank(session, collateral_accepted=["receivables", "guarantee"])
    guarantor = _guarantor(session)
    dem = f.demand(session, collateral_offered=["none"])
    rec = service.recommend_for_demand(session, dem.id or 0, today=TODAY)
    assert [(i.institution_id, i.product_id, i.kind) for i in rec.items] == [
        (bank, product, "loan+guarantee")
    ]  # the guarantor's own product is never a loan candidate
    item = rec.to_dict()["items"][0]  # type: ignore[index]
    assert item["guarantor_institution_id"] == guarantor
    assert item["annual_cost_pct"] == pytest.approx(4.5 + 1.25)
    assert item["notes"][0] == "银担合作：由鹏城担保提供担保（担保费率约 1.25%/年）"


def test_without_a_covering_guarantor_the_loan_is_a_near_miss(session: Session) -> None:
    _bank(session, collateral_accepted=["guarantee"])
    _guarantor(session, regions=["11"])  # 北京 only
    rec = service.recommend_for_demand(session, f.demand(session).id or 0, today=TODAY)
    assert rec.items == []
    assert [x["code"] for x in rec.to_dict()["near_misses"][0]["failures"]] == ["guarantor"]  # type: ignore[index]


def test_subsidy_from_the_policy_catalogue_lowers_the_cost(session: Session) -> None:
    _bank(session)
    f.policy(session, title="科技型企业贷款贴息", benefit_type="interest_subsidy",
             formula={"kind": "interest_points", "points": 1.0},
             loan_scope={"resident_only": True})  # fmt: skip
    rec = service.recommend_for_demand(session, f.demand(session).id or 0, today=TODAY)
    top = rec.items[0]
    assert top.annual_cost_pct == pytest.approx(3.5)
    cost = next(r for r in top.reasons if r.code == "cost")
    assert "贴息 1.00%（科技型企业贷款贴息）" in cost.text


def test_large_round_gets_syndicates_and_no_buyout_fund(session: Session) -> None:
    def pe(name: str, hi: float) -> int:
        inst = f.institution(session, kind=InstitutionKind.pe, short_name=name)
        f.mandate(session, inst, name=name, stages=[Stage.expansion], min_ticket_wan=1000.0,
                  max_ticket_wan=hi, sectors=["I65"])  # fmt: skip
        return inst.id or 0

    lead, *_ = (pe("产业基金", 12000.0), pe("成长基金A", 8000.0), pe("成长基金B", 8000.0),
                pe("成长基金C", 6000.0))  # fmt: skip
    buyout = pe("一期并购基金", 40000.0)
    dem = f.demand(session, financing_type=FinancingType.equity, amount_min_wan=30000.0,
                   amount_max_wan=30000.0, round_stage=Stage.expansion)  # fmt: skip
    rec = service.recommend_for_demand(session, dem.id or 0, today=TODAY)
    assert buyout not in {i.institution_id for i in rec.items}
    assert buyout not in {m.institution_id for i in rec.items for m in i.members}
    first = rec.items[0]
    assert first.kind == "syndicate" and first.institution_id == lead
    assert first.members[0].role == "领投" and first.members[0].amount_wan == 12000.0
    assert sum(m.amount_wan for m in first.members) == pytest.approx(30000.0)
    assert rec.to_dict()["items"][0]["members"][1]["role"] == "跟投"  # type: ignore[index]


def test_a_guarantor_without_a_registered_product_is_profiled_from_its_deals(
    session: Session,
) -> None:
    _bank(session, collateral_accepted=["guarantee"])
    g = f.institution(session, kind=InstitutionKind.guarantee, short_name="南山担保")
    for amount in (400.0, 800.0):
        f.deal(session, f.enterprise(session, industry_code="I65"), g, amount_wan=amount,
               status="confirmed")  # fmt: skip
    rec = service.recommend_for_demand(session, f.demand(session).id or 0, today=TODAY)
    item = rec.items[0]
    assert (item.kind, item.guarantor_institution_id) == ("loan+guarantee", g.id)
    assert item.annual_cost_pct == pytest.approx(4.5 + 2.0)  # no fee registered: 2 %
    far = f.enterprise(session, industry_code="C39")  # its deals were all in software (I)
    rec = service.recommend_for_demand(session, f.demand(session, far).id or 0, today=TODAY)
    assert rec.items == [] and rec.near_misses[0].failures[0].code == "guarantor"
