"""Monotone eligibility: more collateral, a stronger qualification, more revenue or more years in
business never make a candidate ineligible (hypothesis over random products and enterprises)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.options import loan_options
from matching.profiles import CandidateRow, DemandProfile, encode_demands
from matching.rank import RulesRanker
from matching.rules import eligible
from models.reference import QUALIFICATION_MEETS, Collateral, Qualification, qualifications_met
from tests.matching.helpers import CFG, cset, demand, mandate, row
from tests.matching.practice import guarantor

COLLATERAL = [c.value for c in Collateral]
QUALIFICATIONS = [q.value for q in Qualification]

subsets = st.lists(st.sampled_from(COLLATERAL), max_size=3, unique=True)
quals = st.lists(st.sampled_from(QUALIFICATIONS), max_size=2, unique=True)
floors = st.one_of(st.none(), st.floats(0, 10_000, allow_nan=False))


@st.composite
def candidates(draw: st.DrawFn) -> list[CandidateRow]:
    """A few loans with random collateral, qualification, years and revenue terms, and a fund."""
    n = draw(st.integers(1, 6))
    loans = [
        row(
            collateral_accepted=tuple(draw(subsets)),
            required_qualifications=tuple(draw(quals)),
            min_years_operating=draw(st.one_of(st.none(), st.floats(0, 10))),
            min_revenue_wan=draw(floors),
            rate_pct=4.0,
        )
        for _ in range(n)
    ]
    return [*loans, mandate(stages=("growth", "expansion"))]


def _ok(d: DemandProfile, rows: list[CandidateRow]) -> np.ndarray:
    cands = cset(*rows)
    return eligible(encode_demands([d], cands), cands, CFG)[0]


def _more(less: DemandProfile, more: DemandProfile, rows: list[CandidateRow]) -> None:
    assert not (_ok(less, rows) & ~_ok(more, rows)).any(), "a candidate became ineligible"


@settings(max_examples=60, deadline=None)
@given(candidates(), subsets, subsets)
def test_more_collateral_never_removes(
    rows: list[CandidateRow], a: list[str], b: list[str]
) -> None:
    less = demand(collateral_offered=frozenset(a))
    more = demand(collateral_offered=frozenset(a) | frozenset(b))
    _more(less, more, rows)


@settings(max_examples=40, deadline=None)
@given(candidates(), subsets, subsets)
def test_more_collateral_never_removes_an_option(
    rows: list[CandidateRow], a: list[str], b: list[str]
) -> None:
    """Also after guarantor pairing: a product served with a guarantor stays an option."""
    cands, g = cset(*rows), (guarantor("鹏城担保"),)

    def shown(offered: frozenset[str]) -> set[int]:
        options, _ = loan_options(RulesRanker(), demand(collateral_offered=offered), cands, CFG, g)
        return {o.candidate for o in options}

    assert shown(frozenset(a)) <= shown(frozenset(a) | frozenset(b))


@settings(max_examples=60, deadline=None)
@given(candidates(), quals, st.sampled_from(sorted(QUALIFICATION_MEETS)))
def test_stronger_qualification_never_removes(
    rows: list[CandidateRow], held: list[str], stronger: str
) -> None:
    less = demand(qualifications=qualifications_met(held))
    more = demand(qualifications=qualifications_met([*held, stronger]))
    _more(less, more, rows)


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(sorted(QUALIFICATION_MEETS)))
def test_a_requirement_is_met_by_any_stronger_qualification(stronger: str) -> None:
    for weaker in QUALIFICATION_MEETS[stronger]:
        rows = [row(required_qualifications=(weaker,))]
        assert _ok(demand(qualifications=qualifications_met([stronger])), rows)[0]


@settings(max_examples=60, deadline=None)
@given(candidates(), floors, st.floats(0, 10_000, allow_nan=False))
def test_more_revenue_never_removes(
    rows: list[CandidateRow], r: float | None, extra: float
) -> None:
    less = demand(revenue_wan=r)
    more = demand(revenue_wan=(r or 0.0) + extra)
    _more(less, more, rows)


@settings(max_examples=60, deadline=None)
@given(candidates(), st.one_of(st.none(), st.floats(0, 20)), st.floats(0, 20))
def test_more_years_never_removes(rows: list[CandidateRow], y: float | None, extra: float) -> None:
    less = demand(years_operating=y)
    more = replace(less, years_operating=(y or 0.0) + extra)
    _more(less, more, rows)
