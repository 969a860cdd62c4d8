"""Loading, round grouping and investor-name normalisation."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from matching.offline.data import history_from_rows, normalize_investor_name

from .synth import make_rows


def test_normalisation_merges_variants() -> None:
    n = normalize_investor_name
    assert n("Gemini Israel ventures") == n("Gemini Israel Ventures")
    assert n("First Round Capital") == n("First Round")
    assert n("Draper & Associates") == n("Draper Associates")
    assert n("Angel Investors LP") == n("Angel Investors L.P.") == n("Angel Investors")
    assert n("The Aurora Funds") == n("Aurora Funds")
    assert n("National Institutes of Health (NIH)") == n("National Institutes of Health")


def test_normalisation_keeps_distinct_firms_apart() -> None:
    n = normalize_investor_name
    assert n("Cardinal Partners") != n("Cardinal Venture Capital")
    assert n("Technology Partners") != n("Technology Venture Partners")
    assert n("Google") != n("Google Ventures")


@given(st.text(min_size=1, max_size=40))
def test_normalisation_idempotent(name: str) -> None:
    key = normalize_investor_name(name)
    if key.strip():
        assert normalize_investor_name(key) == key


def test_history_groups_rounds_and_picks_display_name() -> None:
    base = {"company_name": "A", "company_permalink": "/company/a",
            "company_category_code": "web", "company_state_code": "CA",
            "company_region": "SF Bay", "company_city": "SF",
            "funding_round_type": "series-a", "funded_at": "2010-01-05",
            "raised_amount_usd": "1000000.0"}  # fmt: skip
    rows = [
        {**base, "investor_name": "Acme Ventures LLC"},
        {**base, "investor_name": "Acme Ventures"},
        {**base, "investor_name": "Acme Ventures"},
        {**base, "investor_name": "Beta Capital"},
        {**base, "investor_name": "Beta Capital", "funded_at": "2011-02-01"},
        {**base, "investor_name": ""},
    ]
    h = history_from_rows(rows)
    assert len(h.rounds) == 2 and h.n_investors == 2
    assert sorted(h.investor_names.tolist()) == ["Acme Ventures", "Beta Capital"]
    assert [len(s) for s in h.investor_sets()] == [2, 1]
    assert np.all(np.diff(h.rounds.day) >= 0)


def test_split_keeps_investor_space() -> None:
    h = history_from_rows(make_rows())
    train, test = h.split(float(np.median(h.rounds.day)))
    assert len(train.rounds) + len(test.rounds) == len(h.rounds)
    assert train.n_investors == test.n_investors == h.n_investors
    assert train.inv_round.size + test.inv_round.size == h.inv_round.size
    assert np.all(train.rounds.day < test.rounds.day.min())
