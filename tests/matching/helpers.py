"""Small builders for the matching tests: one candidate row or demand with sensible defaults."""

from dataclasses import replace
from datetime import date
from typing import Any

from matching.candidates import build_candidate_set
from matching.history import InstitutionProfiles
from matching.profiles import CandidateRow, CandidateSet, DemandProfile
from matching.rules import RuleConfig

TODAY = date(2025, 6, 1)
CFG = RuleConfig(today=TODAY)

_ROW = CandidateRow(
    institution_id=1,
    product_id=1,
    kind="loan",
    institution_name="测试银行",
    product_name="科技贷",
    institution_kind="bank",
    ticket_min_wan=100.0,
    ticket_max_wan=1000.0,
    agreement_start=date(2023, 1, 1),
    agreement_end=date(2026, 12, 31),
    institution_regions=("4403",),
    text="为科技型中小企业提供信用贷款、知识产权质押融资",
)
_DEMAND = DemandProfile(
    demand_id=1,
    enterprise_id=1,
    financing_type="loan",
    amount_min_wan=300.0,
    amount_max_wan=500.0,
    stage="growth",
    industry_code="I65",
    sei_category="1",
    region_code="440305",
    qualifications=frozenset({"high_tech"}),
    years_operating=6.0,
    revenue_wan=3200.0,
    text="软件开发、人工智能应用软件开发、信息系统集成服务",
)


def row(**over: Any) -> CandidateRow:
    """A resident bank's loan product in 深圳 (100–1,000 万元), changed by ``over``."""
    return replace(_ROW, **over)


def mandate(**over: Any) -> CandidateRow:
    """A VC mandate for growth-stage software (500–5,000 万元), changed by ``over``."""
    base = row(
        kind="equity", institution_kind="vc", institution_name="测试创投", product_name="成长基金",
        ticket_min_wan=500.0, ticket_max_wan=5000.0, stages=("growth",), sectors=("I65",),
        text="关注人工智能、软件开发、大数据等新一代信息技术",
    )  # fmt: skip
    return replace(base, **over)


def demand(**over: Any) -> DemandProfile:
    """A growth-stage software company in 南山 asking for a 300–500 万元 loan."""
    return replace(_DEMAND, **over)


def cset(*rows: CandidateRow, profiles: InstitutionProfiles | None = None) -> CandidateSet:
    """A candidate set of ``rows`` (ids made unique by position)."""
    fixed = [replace(r, product_id=i + 1) for i, r in enumerate(rows)]
    return build_candidate_set(fixed, profiles)
