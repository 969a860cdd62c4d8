"""Synthetic investment histories for the offline-ranking tests."""

from __future__ import annotations

import datetime as dt

import numpy as np

CATEGORIES = ("software", "biotech", "web", "cleantech")
ROUND_TYPES = ("angel", "series-a", "series-b", "series-c+")
STATES = (("CA", "SF Bay", "San Francisco"), ("NY", "New York", "New York"),
          ("MA", "Boston", "Boston"))  # fmt: skip


def make_rows(
    n_companies: int = 60,
    n_investors: int = 30,
    seed: int = 0,
    start_year: int = 2009,
    years: int = 4,
) -> list[dict[str, str]]:
    """History rows (one per round and investor) with category-specialised investors.

    Each company raises up to four rounds; every round picks 1-3 investors, preferring
    investors specialised in the company's category and earlier investors of the company.
    """
    rng = np.random.default_rng(seed)
    speciality = rng.integers(0, len(CATEGORIES), n_investors)
    start = dt.date(start_year, 1, 1)
    rows: list[dict[str, str]] = []
    for c in range(n_companies):
        cat = int(rng.integers(0, len(CATEGORIES)))
        state, region, city = STATES[int(rng.integers(0, len(STATES)))]
        day = int(rng.integers(0, 365 * years - 400))
        backers: list[int] = []
        for r in range(int(rng.integers(1, 5))):
            weights = np.where(speciality == cat, 5.0, 1.0)
            weights[backers] += 10.0
            chosen = rng.choice(n_investors, size=int(rng.integers(1, 4)), replace=False,
                                p=weights / weights.sum())  # fmt: skip
            amount = "" if rng.random() < 0.1 else f"{float(10 ** rng.uniform(5, 8)):.1f}"
            for i in chosen:
                rows.append({
                    "company_name": f"Company {c}", "investor_name": f"Investor {i} Capital",
                    "raised_amount_usd": amount, "company_permalink": f"/company/c{c}",
                    "company_category_code": CATEGORIES[cat], "company_state_code": state,
                    "company_region": region, "company_city": city,
                    "funding_round_type": ROUND_TYPES[min(r, 3)],
                    "funded_at": (start + dt.timedelta(days=day)).isoformat(),
                })  # fmt: skip
            backers.extend(int(i) for i in chosen)
            day += int(rng.integers(90, 400))
    return rows
