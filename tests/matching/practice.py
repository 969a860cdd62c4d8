"""Builders for the practitioner cases: products, funds and guarantors as a credit officer or an
investor names them, and the run of one case through the options of :mod:`matching.options`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from matching.explain import Explained
from matching.options import GuarantorRow, LegRanking, Subsidy, no_subsidy, rank_leg
from matching.profiles import CandidateRow, DemandProfile, Vocabulary
from matching.rank import ExposurePolicy, RulesRanker
from models.reference import Stage, qualifications_met
from tests.matching.helpers import CFG, cset, demand, mandate, row

VOCAB = Vocabulary(stages=Stage.labels())


def credit(name: str, **over: Any) -> CandidateRow:
    """A loan on credit (信用), which may also take a guarantee: 100–1,000 万元 at 4 %."""
    base = row(product_name=name, collateral_accepted=("none", "guarantee"), rate_pct=4.0)
    return replace(base, **over)


def pledge(name: str, *collateral: str, **over: Any) -> CandidateRow:
    """A loan against the given collateral only (知识产权质押贷, 设备抵押贷 …) at 4 %."""
    return replace(row(product_name=name, collateral_accepted=collateral, rate_pct=4.0), **over)


def guaranteed(name: str, *also: str, **over: Any) -> CandidateRow:
    """A loan that needs a third-party guarantee (or ``also``): 银担合作 products, at 4 %."""
    base = row(product_name=name, collateral_accepted=("guarantee", *also), rate_pct=4.0)
    return replace(base, **over)


def fund(
    name: str, *stages: str, lo: float = 500.0, hi: float = 5000.0, **over: Any
) -> CandidateRow:
    """An equity mandate in software (I65) at ``stages`` with tickets ``lo``–``hi`` 万元."""
    return mandate(product_name=name, stages=stages, ticket_min_wan=lo, ticket_max_wan=hi, **over)


def guarantor(name: str, fee: float = 1.5, **over: Any) -> GuarantorRow:
    """A resident 深圳 guarantee company: 50–3,000 万元, fee ``fee`` % ± 0.25."""
    base = GuarantorRow(
        institution_id=900 + sum(map(ord, name)) % 97, product_id=1, institution_name=name,
        product_name="科技融资担保", ticket_min_wan=50.0, ticket_max_wan=3000.0,
        fee_min_pct=fee - 0.25, fee_max_pct=fee + 0.25, regions=("4403",),
        agreement_start=date(2023, 1, 1), agreement_end=date(2027, 12, 31),
    )  # fmt: skip
    return replace(base, **over)


def ent(*held: str, **over: Any) -> DemandProfile:
    """The default 南山 software company holding ``held`` (and what they imply), changed by ``over``."""
    return demand(qualifications=qualifications_met(held or ("high_tech",)), **over)


def seeking(ftype: str, lo: float, hi: float, stage: str = "growth", **over: Any) -> DemandProfile:
    """A demand of ``ftype`` for ``lo``–``hi`` 万元 at ``stage``."""
    return ent(financing_type=ftype, amount_min_wan=lo, amount_max_wan=hi, stage=stage, **over)


@dataclass(frozen=True)
class Case:
    """One case: a demand, candidates, and what an expert expects of the list.

    Items are named by product (a syndicate as ``联合:<lead product>``); ``above`` pairs read
    "the first ranks above the second"; ``misses`` names near misses with their failure code.
    """

    name: str
    practice: str
    demand: DemandProfile
    candidates: tuple[CandidateRow, ...]
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    above: tuple[tuple[str, str], ...] = ()
    guarantors: tuple[GuarantorRow, ...] = ()
    subsidy_points: Mapping[str, float] = field(default_factory=dict)
    kinds: Mapping[str, str] = field(default_factory=dict)
    paired: Mapping[str, str] = field(default_factory=dict)  # product → guarantor name
    cost: Mapping[str, float] = field(default_factory=dict)  # product → annual cost %
    linked: tuple[str, ...] = ()  # products marked as following an equity decision
    misses: Mapping[str, str] = field(default_factory=dict)  # product → failure code
    noted: Mapping[str, str] = field(default_factory=dict)  # product → words of a note


def label(item: Explained) -> str:
    """How a case names an item."""
    return f"联合:{item.product_name}" if item.kind == "syndicate" else item.product_name


def _subsidy(points: Mapping[str, float]) -> Subsidy:
    if not points:
        return no_subsidy

    def subsidy(r: CandidateRow, fee: float) -> tuple[float, str]:
        return points.get(r.product_name, 0.0), "测试贴息政策"

    return subsidy


def run(case: Case, k: int = 20) -> LegRanking:
    """The case's demand ranked among its candidates (each its own institution)."""
    rows = [replace(r, institution_id=i + 1) for i, r in enumerate(case.candidates)]
    return rank_leg(RulesRanker(), case.demand, cset(*rows), CFG, VOCAB, k=k,
                    exposure=ExposurePolicy(per_list=None), guarantors=case.guarantors,
                    subsidy=_subsidy(case.subsidy_points), near_miss_limit=len(rows))  # fmt: skip


def positions(items: Iterable[Explained]) -> dict[str, int]:
    """Each item's 0-based position by name (the first occurrence)."""
    out: dict[str, int] = {}
    for i, item in enumerate(items):
        out.setdefault(label(item), i)
    return out
