"""The ranker contract: one test suite every ranker runs (rules, learned, offline …).

A test module provides a ``ranker_case`` fixture returning a :class:`RankerCase` and subclasses
:class:`RankerContract`; parametrising that fixture over ranker factories runs the whole suite
for each ranker. The contract: ``rank(seed, k, exclude)`` returns ``(ids, scores)`` of shape
``(n_queries, min(k, n_items))``, best first, ``-1``/``-inf`` only as trailing padding, no item
twice in a row, never an excluded or forbidden item, finite scores, identical for the same seed.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
Ranked = tuple[IntArray, npt.NDArray[np.floating]]
RankFn = Callable[[int, int, Sequence[IntArray] | None], Ranked]


@dataclass
class RankerCase:
    """A ranker under test over a fixed world of queries and items.

    ``forbidden[q, i]`` marks items a query must never get (hard rules), if the ranker has any.
    """

    name: str
    rank: RankFn
    n_queries: int
    n_items: int
    forbidden: npt.NDArray[np.bool_] | None = None


def _real(ids: IntArray) -> npt.NDArray[np.bool_]:
    return ids >= 0


class RankerContract:
    """Subclass in a test module that defines a ``ranker_case`` fixture."""

    def test_shape_follows_k(self, ranker_case: RankerCase) -> None:
        for k in (1, 5, ranker_case.n_items + 3):
            ids, scores = ranker_case.rank(0, k, None)
            want = (ranker_case.n_queries, min(k, ranker_case.n_items))
            assert ids.shape == want and scores.shape == want

    def test_best_first_with_trailing_padding(self, ranker_case: RankerCase) -> None:
        ids, scores = ranker_case.rank(0, 10, None)
        real = _real(ids)
        assert np.all(real[:, :-1] >= real[:, 1:]), "padding only at the end"
        s = np.where(real, scores, -np.inf)
        assert np.all(s[:, :-1] >= s[:, 1:]), "scores non-increasing"

    def test_scores_finite_and_ids_valid(self, ranker_case: RankerCase) -> None:
        ids, scores = ranker_case.rank(0, 10, None)
        real = _real(ids)
        assert np.isfinite(scores[real]).all()
        assert (ids[real] < ranker_case.n_items).all()
        assert real.any()

    def test_no_item_twice(self, ranker_case: RankerCase) -> None:
        ids, _ = ranker_case.rank(0, 10, None)
        for row in ids:
            got = row[row >= 0]
            assert len(got) == len(set(got.tolist()))

    def test_exclusions_honoured(self, ranker_case: RankerCase) -> None:
        first, _ = ranker_case.rank(0, 10, None)
        exclude = [row[row >= 0][:3].astype(np.int64) for row in first]
        ids, _ = ranker_case.rank(0, 10, exclude)
        for row, ex in zip(ids, exclude, strict=True):
            assert not set(row.tolist()) & set(ex.tolist())

    def test_forbidden_items_never_returned(self, ranker_case: RankerCase) -> None:
        if ranker_case.forbidden is None:
            return
        ids, _ = ranker_case.rank(0, ranker_case.n_items, None)
        q, pos = np.nonzero(ids >= 0)
        assert not ranker_case.forbidden[q, ids[q, pos]].any()

    def test_deterministic_for_a_seed(self, ranker_case: RankerCase) -> None:
        a = ranker_case.rank(7, 10, None)
        b = ranker_case.rank(7, 10, None)
        assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])

    def test_top_k_is_a_prefix_of_a_longer_list(self, ranker_case: RankerCase) -> None:
        short, _ = ranker_case.rank(0, 5, None)
        long, _ = ranker_case.rank(0, 10, None)
        assert np.array_equal(short, long[:, : short.shape[1]])
