"""Practitioner cases: what a bank's credit officer and a VC partner expect of a recommendation.

Each case is a demand, its candidates and the expert's expectations (must include, must
exclude, must rank above, the kind, guarantor and cost of an option). The default enterprise
is a growth-stage 南山 software company (I65), 6 years old, 3,200 万元 revenue, 高新技术企业;
the default loan asks 300–500 万元 and offers no collateral (it asks for credit).
"""

from __future__ import annotations

from datetime import date

import pytest

from tests.matching.practice import (
    Case,
    credit,
    ent,
    fund,
    guaranteed,
    guarantor,
    label,
    pledge,
    positions,
    run,
    seeking,
)

IP = frozenset({"ip_pledge"})
EQUIPMENT = frozenset({"equipment"})
BIG_ROUND = {"financing_type": "equity", "amount_min_wan": 30000.0, "amount_max_wan": 30000.0}

CASES: tuple[Case, ...] = (
    # --- 1. eligibility follows practice, monotone ------------------------------------------
    Case("ip-pledge-keeps-credit", "An IP pledge offered never removes the 专精特新 credit loans",
         ent("specialized", collateral_offered=IP),
         (credit("专精特新贷", required_qualifications=("specialized",)), pledge("知识产权质押贷", "ip_pledge")),
         include=("专精特新贷", "知识产权质押贷")),
    Case("equipment-keeps-credit", "Aquaculture offering equipment still gets credit loans",
         ent("tech_sme", collateral_offered=EQUIPMENT, industry_code="A04", sei_category=None),
         (credit("人才贷"), pledge("设备更新贷", "equipment", "real_estate"), pledge("知识产权质押贷", "ip_pledge")),
         include=("人才贷", "设备更新贷"), exclude=("知识产权质押贷",),
         misses={"知识产权质押贷": "collateral"}),
    Case("credit-ask-excludes-mortgage", "Asking for credit, a mortgage-only loan is a near miss",
         ent(), (credit("科技贷"), pledge("房抵贷", "real_estate")),
         include=("科技贷",), exclude=("房抵贷",), misses={"房抵贷": "collateral"}),
    Case("more-collateral-adds", "Offering real estate brings the mortgage loan and keeps credit",
         ent(collateral_offered=frozenset({"real_estate", "ip_pledge"})),
         (credit("科技贷"), pledge("房抵贷", "real_estate"), pledge("知识产权质押贷", "ip_pledge")),
         include=("科技贷", "房抵贷", "知识产权质押贷")),
    Case("little-giant-meets-specialized", "小巨人 meets a 专精特新 requirement",
         ent("little_giant"), (credit("专精特新贷", required_qualifications=("specialized",)),),
         include=("专精特新贷",)),
    Case("little-giant-meets-innovative", "小巨人 meets a 创新型中小企业 requirement",
         ent("little_giant"), (credit("创新积分贷", required_qualifications=("innovative_sme",)),),
         include=("创新积分贷",)),
    Case("specialized-not-little-giant", "专精特新 alone does not meet a 小巨人 requirement",
         ent("specialized"),
         (credit("小巨人贷", required_qualifications=("little_giant",)), credit("科技贷")),
         include=("科技贷",), exclude=("小巨人贷",), misses={"小巨人贷": "qualification"}),
    Case("high-tech-meets-tech-sme", "A 高新技术企业 meets a 科技型中小企业 requirement",
         ent("high_tech"), (credit("科小贷", required_qualifications=("tech_sme",)),),
         include=("科小贷",)),
    Case("tech-sme-not-high-tech", "科技型中小企业 does not meet a 高新技术企业 requirement",
         ent("tech_sme"), (credit("高企贷", required_qualifications=("high_tech",)), credit("人才贷")),
         include=("人才贷",), exclude=("高企贷",)),
    Case("unicorn-meets-gazelle", "独角兽 meets a 瞪羚企业 requirement",
         ent("unicorn"), (credit("瞪羚贷", required_qualifications=("gazelle",)),),
         include=("瞪羚贷",)),
    Case("revenue-floor", "Revenue above a floor qualifies; a higher floor does not",
         ent(revenue_wan=3200.0),
         (credit("订单贷", min_revenue_wan=1000.0), credit("大额贷", min_revenue_wan=5000.0)),
         include=("订单贷",), exclude=("大额贷",), misses={"大额贷": "revenue"}),
    Case("years-unknown", "Unknown founding date cannot vouch for a years minimum",
         ent(years_operating=None), (credit("成熟贷", min_years_operating=3.0), credit("初创贷")),
         include=("初创贷",), exclude=("成熟贷",), misses={"成熟贷": "years_operating"}),
    Case("loan-sector-limit", "A manufacturing-only loan is not for a software company",
         ent(), (credit("设备贷", sectors=("C",)), credit("科技贷")),
         include=("科技贷",), exclude=("设备贷",), misses={"设备贷": "sector"}),
    # --- 2. mixed financing (legs) ----------------------------------------------------------
    Case("equity-leg-only-mandates", "The equity leg of 投贷联动 lists funds, never loans",
         seeking("equity", 2700.0, 3300.0, leg="equity"),
         (fund("成长基金", "growth"), credit("科技贷", ticket_max_wan=5000.0)),
         include=("成长基金",), exclude=("科技贷",), kinds={"成长基金": "equity"}),
    Case("loan-leg-only-loans", "The loan leg of 投贷联动 lists loans, never funds",
         seeking("loan", 1800.0, 2200.0, leg="loan"),
         (fund("成长基金", "growth"), credit("科技贷", ticket_max_wan=3000.0)),
         include=("科技贷",), exclude=("成长基金",), kinds={"科技贷": "loan"}),
    Case("loan-leg-equity-linked", "A 投贷联动贷 follows the equity decision and is marked",
         seeking("loan", 1800.0, 2200.0, leg="loan"),
         (credit("投贷联动贷", ticket_max_wan=3000.0, equity_linked=True),
          credit("科技贷", ticket_max_wan=3000.0)),
         include=("投贷联动贷", "科技贷"), linked=("投贷联动贷",)),
    Case("loan-leg-amount", "The loan leg is ranked on its own amount, not the whole demand",
         seeking("loan", 1800.0, 2200.0, leg="loan"),
         (credit("小额贷", ticket_max_wan=1000.0), credit("中额贷", ticket_max_wan=3000.0)),
         include=("中额贷",), exclude=("小额贷",)),
    Case("equity-leg-stage", "The equity leg keeps stage discipline",
         seeking("equity", 2700.0, 3300.0, leg="equity"),
         (fund("成长基金", "growth"), fund("种子基金", "seed")),
         include=("成长基金",), exclude=("种子基金",)),
    Case("equity-linked-needs-equity", "A 投贷联动贷 is not for a loan demand with no equity part",
         ent(), (credit("投贷联动贷", equity_linked=True), credit("科技贷")),
         include=("科技贷",), exclude=("投贷联动贷",), misses={"投贷联动贷": "equity_link"}),
    Case("equity-leg-amount", "The equity leg is ranked on its own amount",
         seeking("equity", 2700.0, 3300.0, leg="equity"),
         (fund("大基金", "growth", lo=1000.0, hi=6000.0), fund("小基金", "growth", lo=100.0, hi=800.0)),
         include=("大基金",), exclude=("小基金",)),
    # --- 3. guarantors (银担合作) -------------------------------------------------------------
    Case("guarantee-loan-paired", "A guarantee loan comes with a resident guarantor as one option",
         ent(), (guaranteed("担保贷", "receivables"),), guarantors=(guarantor("鹏城担保"),),
         include=("担保贷",), kinds={"担保贷": "loan+guarantee"}, paired={"担保贷": "鹏城担保"},
         noted={"担保贷": "银担合作：由鹏城担保提供担保（担保费率约 1.50%/年）"}),
    Case("cheapest-guarantor", "Of two covering guarantors the cheaper is paired",
         ent(), (guaranteed("担保贷"),),
         guarantors=(guarantor("甲担保", fee=2.0), guarantor("乙担保", fee=1.2)),
         include=("担保贷",), paired={"担保贷": "乙担保"}),
    Case("guarantor-region", "A guarantor serving only 北京 does not cover a 深圳 firm",
         ent(), (guaranteed("担保贷"), credit("科技贷")),
         guarantors=(guarantor("京担保", regions=("11",)),),
         include=("科技贷",), exclude=("担保贷",), misses={"担保贷": "guarantor"}),
    Case("guarantor-ticket", "A guarantor whose ceiling is below the loan does not cover it",
         ent(), (guaranteed("担保贷"),), guarantors=(guarantor("小担保", ticket_max_wan=200.0),),
         exclude=("担保贷",), misses={"担保贷": "guarantor"}),
    Case("guarantor-sector", "A guarantor limited to manufacturing is passed over for one that covers software",
         ent(), (guaranteed("担保贷"),),
         guarantors=(guarantor("制造担保", fee=1.0, sectors=("C",)), guarantor("科技担保", fee=1.8)),
         include=("担保贷",), paired={"担保贷": "科技担保"}),
    Case("guarantor-expired", "A guarantor whose resident agreement ended is not paired",
         ent(), (guaranteed("担保贷"),),
         guarantors=(guarantor("旧担保", agreement_end=date(2024, 12, 31)), guarantor("新担保", fee=2.2)),
         include=("担保贷",), paired={"担保贷": "新担保"}),
    Case("own-collateral-no-guarantor", "Pledging receivables itself, the firm needs no guarantor",
         ent(collateral_offered=frozenset({"receivables"})), (guaranteed("订单贷", "receivables"),),
         guarantors=(guarantor("鹏城担保"),), include=("订单贷",), kinds={"订单贷": "loan"}),
    Case("credit-needs-no-guarantor", "A credit loan that also takes guarantees is offered on credit",
         ent(), (credit("科技贷"),), guarantors=(guarantor("鹏城担保"),),
         include=("科技贷",), kinds={"科技贷": "loan"}, cost={"科技贷": 4.0}),
    Case("guarantee-fee-in-cost", "The guarantee fee is part of the annual cost",
         ent(), (guaranteed("担保贷"),), guarantors=(guarantor("鹏城担保", fee=1.5),),
         cost={"担保贷": 5.5}),
    # --- 4. syndicates, stages, strategy ------------------------------------------------------
    Case("syndicate-for-big-round", "No fund takes 3 亿 alone: a lead and co-investors do",
         ent(stage="expansion", **BIG_ROUND),
         (fund("产业基金", "expansion", lo=3000.0, hi=12000.0), fund("成长基金A", "expansion", lo=1000.0, hi=8000.0),
          fund("成长基金B", "expansion", lo=1000.0, hi=6000.0), fund("成长基金C", "growth", "expansion", lo=1000.0, hi=6000.0)),
         include=("联合:产业基金",), kinds={"联合:产业基金": "syndicate"},
         noted={"联合:产业基金": "领投 测试创投 12,000 万元（占本轮 40%）"}),
    Case("lead-needs-30pct", "A fund taking under 30 % of the round never leads it",
         ent(stage="expansion", **BIG_ROUND),
         (fund("产业基金", "expansion", lo=3000.0, hi=12000.0), fund("成长基金A", "expansion", lo=1000.0, hi=8000.0),
          fund("成长基金B", "expansion", lo=1000.0, hi=6000.0), fund("成长基金C", "expansion", lo=1000.0, hi=6000.0),
          fund("成长基金D", "expansion", lo=1000.0, hi=5000.0)),
         include=("联合:产业基金",), exclude=("联合:成长基金A", "联合:成长基金B")),
    Case("no-syndicate-when-funds-can-take-it", "With three funds able to take the round, no syndicate",
         seeking("equity", 3000.0, 3000.0),
         (fund("甲基金", "growth"), fund("乙基金", "growth"), fund("丙基金", "growth"), fund("丁基金", "growth", hi=2000.0)),
         include=("甲基金", "乙基金", "丙基金"), exclude=("联合:甲基金", "联合:乙基金", "联合:丙基金")),
    Case("buyout-never-for-growth-round", "An M&A fund never appears for a venture round",
         seeking("equity", 2000.0, 3000.0),
         (fund("并购基金", "growth", "expansion", buyout=True), fund("成长基金", "growth")),
         include=("成长基金",), exclude=("并购基金",)),
    Case("buyout-never-for-seed", "Nor for a seed round",
         seeking("equity", 300.0, 800.0, stage="seed"),
         (fund("并购基金", "seed", lo=100.0, buyout=True), fund("天使基金", "seed", lo=50.0, hi=1000.0)),
         include=("天使基金",), exclude=("并购基金",)),
    Case("buyout-not-in-syndicate", "Nor as a member of a venture syndicate",
         ent(stage="expansion", **BIG_ROUND),
         (fund("并购基金", "expansion", lo=3000.0, hi=25000.0, buyout=True),
          fund("产业基金", "expansion", lo=3000.0, hi=12000.0), fund("成长基金A", "expansion", lo=1000.0, hi=8000.0),
          fund("成长基金B", "expansion", lo=1000.0, hi=6000.0), fund("成长基金C", "expansion", lo=1000.0, hi=6000.0)),
         include=("联合:产业基金",), exclude=("并购基金", "联合:并购基金")),
    Case("buyout-for-mature-company", "A mature company's round may go to a buyout fund",
         seeking("equity", 8000.0, 10000.0, stage="mature"),
         (fund("并购基金", "mature", lo=3000.0, hi=20000.0, buyout=True),),
         include=("并购基金",)),
    Case("seed-two-stages-away", "A growth-only fund is not recommended for a seed round",
         seeking("equity", 300.0, 800.0, stage="seed"),
         (fund("初创基金", "startup", lo=100.0, hi=1000.0), fund("成长基金", "growth", lo=100.0, hi=1000.0),
          fund("天使基金", "seed", lo=50.0, hi=1000.0)),
         include=("天使基金", "初创基金"), exclude=("成长基金",), above=(("天使基金", "初创基金"),)),
    Case("expansion-far-from-startup", "A startup-only fund is not recommended for an expansion round",
         seeking("equity", 5000.0, 8000.0, stage="expansion"),
         (fund("早期基金", "startup", hi=10000.0), fund("扩张基金", "expansion", hi=10000.0)),
         include=("扩张基金",), exclude=("早期基金",)),
    Case("adjacent-stage-weak", "One stage away is a weak fit, ranked below a listed stage",
         seeking("equity", 2000.0, 3000.0),
         (fund("扩张基金", "expansion"), fund("成长基金", "growth")),
         include=("扩张基金", "成长基金"), above=(("成长基金", "扩张基金"),),
         noted={"扩张基金": "弱匹配：成长期与投资阶段（扩张期）相差一个阶段"}),
    Case("syndicate-respects-stage", "A co-investor two stages away never joins a syndicate",
         ent(stage="expansion", **BIG_ROUND),
         (fund("产业基金", "expansion", lo=3000.0, hi=15000.0), fund("天使基金", "seed", lo=1000.0, hi=20000.0),
          fund("成长基金A", "expansion", lo=1000.0, hi=8000.0), fund("成长基金B", "expansion", lo=1000.0, hi=8000.0)),
         include=("联合:产业基金",), exclude=("联合:天使基金", "天使基金")),
    # --- 5. cost --------------------------------------------------------------------------------
    Case("cheaper-first", "Of two equal fits the cheaper loan ranks first",
         ent(), (credit("贵贷", rate_pct=4.5), credit("廉贷", rate_pct=3.2)),
         above=(("廉贷", "贵贷"),), cost={"廉贷": 3.2, "贵贷": 4.5}),
    Case("subsidy-counts", "贴息 turns a dearer loan into the cheaper option",
         ent(), (credit("普通贷", rate_pct=3.8), credit("贴息贷", rate_pct=4.2)),
         subsidy_points={"贴息贷": 1.0}, above=(("贴息贷", "普通贷"),), cost={"贴息贷": 3.2}),
    Case("guarantee-fee-costs", "With equal fits a credit loan beats a loan that needs a guarantee fee",
         ent(), (guaranteed("担保贷"), credit("信用贷")), guarantors=(guarantor("鹏城担保"),),
         above=(("信用贷", "担保贷"),)),
    Case("fit-beats-small-saving", "A much better fit is not overturned by a slightly lower rate",
         ent(), (credit("外地贷", rate_pct=3.7, institution_regions=(), text=""),
                 credit("本地贷", rate_pct=4.0, product_regions=("440305",))),
         above=(("本地贷", "外地贷"),)),
    Case("known-cheap-beats-unknown", "A known low rate ranks above an unregistered rate",
         ent(), (credit("无利率贷", rate_pct=None), credit("低息贷", rate_pct=3.0)),
         above=(("低息贷", "无利率贷"),)),
    Case("specialized-credit-above-pledge", "专精特新 credit at 3.6 % beats an IP pledge loan at 4.8 %",
         ent("specialized", collateral_offered=IP),
         (pledge("知识产权质押贷", "ip_pledge", rate_pct=4.8),
          credit("专精特新贷", rate_pct=3.6, required_qualifications=("specialized",))),
         above=(("专精特新贷", "知识产权质押贷"),)),
)  # fmt: skip


def test_at_least_forty_cases_with_unique_names() -> None:
    assert len(CASES) >= 40
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_practice(case: Case) -> None:
    ranking = run(case)
    by_name = {label(i): i for i in ranking.items}
    where = positions(ranking.items)
    for name in case.include:
        assert name in by_name, f"{case.practice}: {name} missing from {list(by_name)}"
    for name in case.exclude:
        assert name not in by_name, f"{case.practice}: {name} should not be recommended"
    for first, second in case.above:
        assert where[first] < where[second], f"{case.practice}: {first} should rank above {second}"
    for name, kind in case.kinds.items():
        assert by_name[name].kind == kind
    for name, guarantor_name in case.paired.items():
        assert by_name[name].guarantor_name == guarantor_name
        assert by_name[name].guarantee_fee_pct is not None
    for name, cost in case.cost.items():
        assert by_name[name].annual_cost_pct == pytest.approx(cost, abs=1e-6)
    assert {label(i) for i in ranking.items if i.equity_linked} == set(case.linked)
    misses = {m.product_name: {f.code for f in m.failures} for m in ranking.near_misses}
    for name, words in case.noted.items():
        assert any(words in note for note in by_name[name].notes), by_name[name].notes
    for name, code in case.misses.items():
        assert code in misses.get(name, set()), f"{case.practice}: {name} near miss {code}"
