"""The offline investor rankers run the shared ranker contract (``tests/matching/contract.py``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np
import pytest

from matching.offline.data import History, RoundTable, history_from_rows
from matching.offline.implicit_baseline import ImplicitALS
from matching.offline.ranker import InvestorRanker
from tests.matching.contract import Ranked, RankerCase, RankerContract

from .synth import make_rows

FAST = {"max_iter": 20, "n_windows": 2, "min_leaf_samples": 5}
Factory = Callable[[int], InvestorRanker | ImplicitALS]
FACTORIES: dict[str, Factory] = {
    "offline-learned": lambda seed: InvestorRanker(random_state=seed, **FAST),  # type: ignore[arg-type]
    "offline-implicit-als": lambda seed: ImplicitALS(factors=8, iterations=5, random_state=seed),
}


@lru_cache
def world() -> tuple[History, RoundTable]:
    history = history_from_rows(make_rows(n_companies=80, n_investors=30, seed=3))
    train, test = history.split(float(np.quantile(history.rounds.day, 0.8)))
    return train, test.rounds


@lru_cache
def fitted(name: str, seed: int) -> InvestorRanker | ImplicitALS:
    return FACTORIES[name](seed).fit(world()[0])


def _case(name: str) -> RankerCase:
    train, queries = world()

    def rank(seed: int, k: int, exclude: Sequence[np.ndarray] | None) -> Ranked:
        return fitted(name, seed).rank(queries, k, exclude)

    return RankerCase(name, rank, len(queries), train.n_investors)


@pytest.fixture(params=sorted(FACTORIES))
def ranker_case(request: pytest.FixtureRequest) -> RankerCase:
    if request.param == "offline-implicit-als":
        pytest.importorskip("implicit")
    return _case(request.param)


class TestOfflineRankerContract(RankerContract):
    """The contract, for the learned offline ranker and the implicit-ALS baseline."""
