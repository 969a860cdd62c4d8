"""Ranking metric definitions on hand-computable cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from matching.offline.metrics import evaluate_rankings, query_metrics


def test_query_metrics_hand_computed() -> None:
    recall, ndcg, hit = query_metrics([5, 1, 7, 2], {1, 2, 9}, k=3)
    assert recall == pytest.approx(1 / 3)
    idcg = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert ndcg == pytest.approx((1 / math.log2(3)) / idcg)
    assert hit == 1.0


def test_query_metrics_miss_and_perfect() -> None:
    assert query_metrics([4, 5], {1}, k=2) == (0.0, 0.0, 0.0)
    assert query_metrics([1, 2, 3], {1, 2}, k=3) == pytest.approx((1.0, 1.0, 1.0))


def test_duplicates_earn_no_extra_credit() -> None:
    recall, ndcg, _ = query_metrics([1, 1, 1], {1, 2}, k=3)
    assert recall == pytest.approx(0.5)
    assert ndcg == pytest.approx(1 / (1 + 1 / math.log2(3)))


def test_empty_relevant_rejected_and_skipped() -> None:
    with pytest.raises(ValueError):
        query_metrics([1], set(), k=1)
    m = evaluate_rankings(np.array([[1, 2], [3, 4]]), [set(), {4}], k=2)
    assert m.n_queries == 1
    assert m.recall == pytest.approx(1.0)
    assert m.ndcg == pytest.approx(1 / math.log2(3))
    assert evaluate_rankings([[1]], [set()], k=1).n_queries == 0


def test_macro_average() -> None:
    m = evaluate_rankings([[1, 2], [3, 4]], [{1, 9}, {7}], k=2)
    assert m.recall == pytest.approx(0.25)
    assert m.hit == pytest.approx(0.5)


@given(
    ranked=st.lists(st.integers(0, 20), min_size=1, max_size=15),
    relevant=st.sets(st.integers(0, 20), min_size=1, max_size=8),
    k=st.integers(1, 12),
)
def test_metric_bounds(ranked: list[int], relevant: set[int], k: int) -> None:
    recall, ndcg, hit = query_metrics(ranked, relevant, k)
    assert 0.0 <= recall <= 1.0 and 0.0 <= ndcg <= 1.0 + 1e-12 and hit in (0.0, 1.0)
    assert (recall > 0) == (hit > 0) == (ndcg > 0)


@given(relevant=st.sets(st.integers(0, 50), min_size=1, max_size=20), k=st.integers(1, 25))
def test_ideal_ranking_is_optimal(relevant: set[int], k: int) -> None:
    recall, ndcg, _ = query_metrics(sorted(relevant), relevant, k)
    assert recall == pytest.approx(min(k, len(relevant)) / len(relevant))
    assert ndcg == pytest.approx(1.0)
