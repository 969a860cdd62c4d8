"""A synthetic record of confirmed deals (seeded) for training the one ranker in tests.

Institutions specialise in a sector (``institution_id % len(SECTORS)``); an enterprise raises
up to three rounds over the three years before ``TODAY``, each taken by one or two institutions,
preferring specialists and the enterprise's earlier investors.
"""

from datetime import timedelta

import numpy as np

from matching.history import DealHistory
from matching.profiles import STAGES
from tests.matching.helpers import TODAY
from tests.matching.synthetic import REGIONS, SECTORS


def synthetic_deals(n_institutions: int, n_enterprises: int, seed: int = 0) -> DealHistory:
    """Deals of institutions ``1..n_institutions`` with enterprises ``1..n_enterprises``."""
    rng = np.random.default_rng(seed)
    sectors = list(SECTORS)
    speciality = np.arange(1, n_institutions + 1) % len(sectors)
    cols: dict[str, list[object]] = {k: [] for k in ("inst", "ent", "day", "stage", "ind", "reg",
                                                     "amt")}  # fmt: skip
    for ent in range(1, n_enterprises + 1):
        sector, region = int(rng.integers(len(sectors))), str(rng.choice(REGIONS))
        day, stage, backers = TODAY - timedelta(days=int(rng.integers(200, 1095))), 0, []
        for _ in range(int(rng.integers(1, 4))):
            if day >= TODAY:
                break
            weight = np.where(speciality == sector, 8.0, 1.0)
            weight[[b - 1 for b in backers]] += 20.0
            picked = rng.choice(n_institutions, int(rng.integers(1, 3)), replace=False,
                                p=weight / weight.sum())  # fmt: skip
            for inst in picked + 1:
                backers.append(int(inst))
                for key, value in zip(cols, (int(inst), ent, day.toordinal(), min(stage, len(STAGES) - 1),
                                             sectors[sector], region, 500.0 * 2**stage),
                                      strict=True):  # fmt: skip
                    cols[key].append(value)
            day, stage = day + timedelta(days=int(rng.integers(120, 400))), stage + 1
    return DealHistory(
        institution_id=np.array(cols["inst"], np.int64), enterprise_id=np.array(cols["ent"], np.int64),
        day=np.array(cols["day"], np.int64), stage=np.array(cols["stage"], np.int64),
        industry_code=tuple(map(str, cols["ind"])), region_code=tuple(map(str, cols["reg"])),
        amount_wan=np.array(cols["amt"], float),
    )  # fmt: skip
