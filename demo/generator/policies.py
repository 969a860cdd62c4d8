"""A demo policy catalogue: 26 fictional policies (issuers marked （示例）) at four levels.

Demo data only, for generated centers and tests: the catalogue a center starts from is the
real one in `models/data/policies_starter.csv` (`matchmaker policy starter`, or the console's
政策 page), each measure marked 待核实.
"""

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from demo.generator.context import GenContext
from models.policy import BenefitType, Policy, PolicyLevel

B, L = BenefitType, PolicyLevel
SMALL_TECH = {"type": "qualification", "any_of": ["tech_sme", "high_tech"]}
LOAN_12M = {"type": "resident_bank_loan", "within_months": 12}
SZ = {"type": "region", "prefixes": ["4403"]}
GD = {"type": "region", "prefixes": ["44"]}
_YEAR = re.compile(r"〔\d{4}〕")


def _in(code: str) -> dict[str, Any]:
    return {"type": "region", "prefixes": [code]}


@dataclass(frozen=True)
class Draft:
    """One fictional policy; `starts`/`ends` are days relative to `today` (ends None: no end)."""

    title: str
    issuer: str
    level: PolicyLevel
    doc: str
    benefit: BenefitType
    conditions: list[dict[str, Any]]
    formula: dict[str, Any] = field(default_factory=dict)
    amount_wan: float | None = None
    cap_wan: float | None = None
    loan_scope: dict[str, Any] = field(default_factory=dict)
    starts: int = -540
    ends: int | None = 560
    summary: str = ""


NATIONAL = "国家科技金融示范办公室（示例）"
GD_TECH = "广东省科学技术厅（示例）"
GD_IND = "广东省工业和信息化厅（示例）"
SZ_TECH = "深圳市科技创新局（示例）"
SZ_FIN = "深圳市地方金融管理局（示例）"
SZ_IND = "深圳市工业和信息化局（示例）"
SZ_TALENT = "深圳市人力资源和社会保障局（示例）"

DRAFTS: tuple[Draft, ...] = (
    Draft("科技型中小企业研发费用加计扣除（节税测算）", NATIONAL, L.national, "国示科〔2024〕1号",
          B.rd_subsidy, [{"type": "qualification", "any_of": ["tech_sme"]}],
          {"kind": "percent", "base": "rd_expense", "percent": 25}, starts=-900, ends=None,
          summary="研发费用按100%加计扣除；按25%所得税率测算节税额"),
    Draft("专精特新“小巨人”企业高质量发展奖补", NATIONAL, L.national, "国示工〔2025〕8号",
          B.certification_reward, [{"type": "qualification", "any_of": ["little_giant"]}],
          amount_wan=100, starts=-400, ends=700, summary="对“小巨人”企业给予一次性奖补"),
    Draft("广东省科技信贷风险补偿资金池贷款", GD_TECH, L.provincial, "粤示科〔2024〕21号",
          B.risk_compensation, [GD, SMALL_TECH, {"type": "employees", "max": 1000}],
          {"kind": "rate_cap", "max_rate_pct": 3.85}, loan_scope={"resident_only": True},
          starts=-800, ends=300, summary="合作银行入池贷款损失由资金池分担50%，入池贷款年利率不超过3.85%"),
    Draft("广东省专精特新中小企业一次性奖励", GD_IND, L.provincial, "粤示工〔2025〕5号",
          B.certification_reward, [GD, {"type": "qualification", "any_of": ["specialized"]}],
          amount_wan=30, starts=-300, ends=400),
    Draft("广东省高新技术企业培育入库补助", GD_TECH, L.provincial, "粤示科〔2023〕9号",
          B.certification_reward, [GD, {"type": "qualification", "any_of": ["tech_sme"]}],
          amount_wan=20, starts=-1100, ends=-180, summary="已失效，保留作历史参考"),
    Draft("广东省企业研发投入后补助", GD_TECH, L.provincial, "粤示科〔2025〕14号",
          B.rd_subsidy, [GD, {"type": "rd_ratio", "min": 3}, {"type": "revenue", "min": 1000}],
          {"kind": "percent", "base": "rd_expense", "percent": 5}, cap_wan=300),
    Draft("深圳市科技型中小企业贷款贴息", SZ_FIN, L.municipal, "深示金〔2025〕3号",
          B.interest_subsidy, [SZ, SMALL_TECH, LOAN_12M, {"type": "revenue", "max": 20000}],
          {"kind": "interest_share", "percent": 50}, cap_wan=50,
          loan_scope={"resident_only": True, "max_amount_wan": 1000, "max_term_months": 36},
          summary="入驻（合作）银行贷款按实付利息的50%贴息，单户年度最高50万元"),
    Draft("深圳市知识产权质押融资贴息", SZ_FIN, L.municipal, "深示金〔2025〕4号",
          B.interest_subsidy, [SZ, {"type": "patents", "min": 1}],
          {"kind": "interest_share", "percent": 70}, cap_wan=100,
          loan_scope={"resident_only": True, "collateral": ["ip_pledge"]},
          summary="以专利等知识产权质押取得的贷款，按实付利息的70%贴息"),
    Draft("深圳市中小微企业融资担保费补贴", SZ_FIN, L.municipal, "深示金〔2025〕6号",
          B.guarantee_fee_subsidy, [SZ, {"type": "employees", "max": 300},
                                    {"type": "revenue", "max": 40000}],
          {"kind": "guarantee_fee_share", "percent": 50, "fee_rate_pct": 2.0}, cap_wan=30,
          loan_scope={"resident_only": True, "collateral": ["guarantee"]},
          summary="经政府性融资担保机构担保的贷款，担保费（按年费率2%）补贴50%"),
    Draft("深圳市企业上市分阶段奖励", SZ_IND, L.municipal, "深示工〔2024〕17号",
          B.listing_reward, [SZ, {"type": "listing_milestone", "any_of": [
              "shareholding_reform", "coaching_filing", "application_accepted", "listed"]}],
          {"kind": "milestones", "amounts": {"shareholding_reform": 50, "coaching_filing": 100,
                                             "application_accepted": 150, "listed": 200}},
          cap_wan=500, starts=-700, ends=400),
    Draft("深圳市高新技术企业认定奖励", SZ_TECH, L.municipal, "深示科〔2025〕2号",
          B.certification_reward, [SZ, {"type": "qualification", "any_of": ["high_tech"]},
                                   {"type": "years_operating", "min": 1}], amount_wan=30),
    Draft("深圳市战略性新兴产业研发资助", SZ_TECH, L.municipal, "深示科〔2025〕11号",
          B.rd_subsidy, [SZ, {"type": "strategic_industry", "codes": ["1", "2", "3", "4"]},
                         {"type": "rd_ratio", "min": 5}, {"type": "revenue", "min": 500}],
          {"kind": "percent", "base": "rd_expense", "percent": 10}, cap_wan=500),
    Draft("深圳市高层次人才创新创业资助", SZ_TALENT, L.municipal, "深示人〔2025〕7号",
          B.talent, [SZ, {"type": "qualification", "any_of": ["high_tech"]},
                     {"type": "patents", "min": 5}],
          {"kind": "per_head", "base": "rd_staff", "per_head_wan": 2, "max_heads": 20}),
    Draft("深圳市初创期科技企业研发启动资助", SZ_TECH, L.municipal, "深示科〔2025〕19号",
          B.rd_subsidy, [SZ, {"type": "stage", "any_of": ["seed", "startup"]},
                         {"type": "years_operating", "max": 3}], amount_wan=20),
    Draft("深圳市瞪羚企业成长奖励", SZ_IND, L.municipal, "深示工〔2026〕2号",
          B.certification_reward, [SZ, {"type": "qualification", "any_of": ["gazelle"]}],
          amount_wan=50, starts=60, ends=800, summary="尚未施行：公布后60日起申报"),
    Draft("南山区科技金融贷款贴息", "深圳市南山区科技创新局（示例）", L.district,
          "南示科〔2025〕5号", B.interest_subsidy,
          [_in("440305"), LOAN_12M,
           {"type": "industry", "codes": ["C39", "C40", "I64", "I65", "M73"]}],
          {"kind": "interest_points", "points": 1.0, "stackable": True}, cap_wan=30,
          loan_scope={"resident_only": True}, summary="按贷款金额年化1个百分点贴息，可与市级贴息叠加"),
    Draft("南山区专精特新企业研发补助", "深圳市南山区工业和信息化局（示例）", L.district,
          "南示工〔2025〕8号", B.rd_subsidy,
          [_in("440305"), {"type": "qualification", "any_of": ["specialized", "little_giant"]}],
          {"kind": "percent", "base": "rd_expense", "percent": 8}, cap_wan=100),
    Draft("宝安区制造业企业贷款贴息", "深圳市宝安区工业和信息化局（示例）", L.district,
          "宝示工〔2025〕4号", B.interest_subsidy,
          [_in("440306"), LOAN_12M, {"type": "industry", "codes": ["C"]},
           {"type": "employees", "min": 20}],
          {"kind": "interest_points", "points": 1.5}, cap_wan=50,
          loan_scope={"resident_only": True, "max_term_months": 36}),
    Draft("宝安区企业上市奖励", "深圳市宝安区金融工作局（示例）", L.district, "宝示金〔2024〕12号",
          B.listing_reward, [_in("440306"), {"type": "listing_milestone", "any_of": [
              "shareholding_reform", "coaching_filing", "listed"]}],
          {"kind": "milestones", "amounts": {"shareholding_reform": 30, "coaching_filing": 50,
                                             "listed": 100}}),
    Draft("龙岗区科技人才安居补贴", "深圳市龙岗区人才工作局（示例）", L.district, "龙示人〔2025〕3号",
          B.talent, [_in("440307"), {"type": "qualification", "any_of": ["high_tech"]}],
          {"kind": "per_head", "base": "rd_staff", "per_head_wan": 1, "max_heads": 10}),
    Draft("龙岗区科技型中小企业风险补偿贷款", "深圳市龙岗区科技创新局（示例）", L.district,
          "龙示科〔2025〕6号", B.risk_compensation,
          [_in("440307"), {"type": "qualification", "any_of": ["tech_sme"]}],
          {"kind": "rate_cap", "max_rate_pct": 3.65}, loan_scope={"resident_only": True}),
    Draft("福田区高新技术企业认定奖励", "深圳市福田区科技创新局（示例）", L.district,
          "福示科〔2025〕2号", B.certification_reward,
          [_in("440304"), {"type": "qualification", "any_of": ["high_tech"]},
           {"type": "revenue", "min": 500}], amount_wan=20),
    Draft("龙华区数字经济企业研发补助", "深圳市龙华区科技创新局（示例）", L.district,
          "龙华示科〔2025〕9号", B.rd_subsidy,
          [_in("440309"), {"type": "industry", "codes": ["I64", "I65"]},
           {"type": "rd_ratio", "min": 5}],
          {"kind": "percent", "base": "rd_expense", "percent": 6}, cap_wan=80),
    Draft("光明区新材料与生物医药研发补助", "深圳市光明区科技创新局（示例）", L.district,
          "光示科〔2023〕4号", B.rd_subsidy,
          [_in("440311"), {"type": "industry", "codes": ["C26", "C27"]}],
          {"kind": "percent", "base": "rd_expense", "percent": 10}, cap_wan=200,
          starts=-1200, ends=-545, summary="已失效"),
    Draft("深圳市专精特新企业技术改造贷款贴息", SZ_IND, L.municipal, "深示工〔2025〕13号",
          B.interest_subsidy, [SZ, {"type": "qualification", "any_of": ["specialized",
                                                                          "little_giant"]},
                               LOAN_12M],
          {"kind": "interest_points", "points": 2.0}, cap_wan=200,
          loan_scope={"resident_only": True, "max_amount_wan": 3000}),
    Draft("坪山区生物医药企业高企认定奖励", "深圳市坪山区科技创新局（示例）", L.district,
          "坪示科〔2025〕1号", B.certification_reward,
          [_in("440310"), {"type": "industry", "codes": ["C27"]},
           {"type": "qualification", "any_of": ["high_tech"]}], amount_wan=25),
)  # fmt: skip


def _policy(draft: Draft, today: date) -> Policy:
    effective = today + timedelta(days=draft.starts)
    expires = today + timedelta(days=draft.ends) if draft.ends is not None else None
    year = effective.year
    summary = "【演示用虚构政策，非真实文件】" + (draft.summary or draft.title)
    return Policy(
        title=draft.title, issuer=draft.issuer, level=draft.level,
        document_no=_YEAR.sub(f"〔{year}〕", draft.doc) + "（示例）",
        effective_on=effective, expires_on=expires, benefit_type=draft.benefit,
        amount_wan=draft.amount_wan, cap_wan=draft.cap_wan, formula=dict(draft.formula),
        conditions=[dict(c) for c in draft.conditions], loan_scope=dict(draft.loan_scope),
        summary=summary,
    )  # fmt: skip


def generate_policies(ctx: GenContext) -> list[Policy]:
    """Insert the demo policy catalogue (deterministic: dates derive from `ctx.today`)."""
    rows = [_policy(d, ctx.today) for d in DRAFTS]
    ctx.insert(rows)
    return rows
