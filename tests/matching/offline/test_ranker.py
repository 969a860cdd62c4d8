"""Contract tests of the learned ranker and the popularity baselines."""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.offline.baselines import CategoryRoundPopularity, GlobalPopularity
from matching.offline.data import History, date_to_days, history_from_rows
from matching.offline.evaluate import Ranker, evaluate_split, relevance_sets
from matching.offline.features import (
    FEATURE_NAMES,
    Encoders,
    HistoryIndex,
    generate_candidates,
    pair_features,
    query_context,
)
from matching.offline.ranker import InvestorRanker, top_k_per_query

from .synth import make_rows

FAST = {"max_iter": 20, "n_windows": 2, "min_leaf_samples": 5}


@pytest.fixture(scope="module")
def history() -> History:
    return history_from_rows(make_rows(n_companies=80, n_investors=30, seed=1))


@pytest.fixture(scope="module")
def split(history: History) -> tuple[History, History]:
    return history.split(float(np.quantile(history.rounds.day, 0.8)))


MODELS: list[Callable[[], Ranker]] = [
    lambda: InvestorRanker(**FAST), GlobalPopularity, CategoryRoundPopularity,
]  # fmt: skip


@pytest.mark.parametrize("make", MODELS)
def test_rank_contract(make: Callable[[], Ranker], split: tuple[History, History]) -> None:
    train, test = split
    ids, scores = make().fit(train).rank(test.rounds, 10)
    assert ids.shape == scores.shape == (len(test.rounds), 10)
    assert np.all(np.isfinite(scores))
    assert np.all(np.diff(scores, axis=1) <= 0)
    assert all(len(set(row.tolist())) == 10 for row in ids)
    assert ids.min() >= 0 and ids.max() < train.n_investors


def test_deterministic(split: tuple[History, History]) -> None:
    train, test = split
    a = InvestorRanker(**FAST, random_state=3).fit(train).rank(test.rounds, 5)
    b = InvestorRanker(**FAST, random_state=3).fit(train).rank(test.rounds, 5)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_allclose(a[1], b[1])


def test_only_history_informs() -> None:
    """Only the history informs rankings: shuffling the query period's investors leaves
    them unchanged, and investors seen only in the query period are never recommended."""
    rows = make_rows(n_companies=80, n_investors=30, seed=2)
    cut = sorted(r["funded_at"] for r in rows)[int(0.8 * len(rows))]
    late = [j for j, r in enumerate(rows) if r["funded_at"] >= cut]
    shuffled = [dict(r) for r in rows]
    for j, src in zip(late, np.random.default_rng(0).permutation(late), strict=True):
        shuffled[j]["investor_name"] = rows[src]["investor_name"]
    results = []
    for data in (rows, shuffled):
        train, test = history_from_rows(data).split(date_to_days(cut))
        ids, scores = InvestorRanker(**FAST).fit(train).rank(test.rounds, 10)
        assert set(ids.ravel().tolist()) <= set(train.inv_investor.tolist())
        results.append((ids, scores))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_allclose(results[0][1], results[1][1])


def test_features_ignore_query_investors(split: tuple[History, History]) -> None:
    train, test = split
    index = HistoryIndex(train, Encoders.fit(train.rounds), float(test.rounds.day.min()))
    ctx = query_context(index, test.rounds)
    qi, inv = generate_candidates(index, ctx, 10)
    X = pair_features(index, ctx, qi, inv)
    assert X.shape == (qi.size, len(FEATURE_NAMES))
    assert not np.isinf(X).any()


def test_follow_on_investor_ranked_first() -> None:
    """A company's previous investor should top a follow-on round's ranking."""
    rows = make_rows(n_companies=120, n_investors=25, seed=4)
    h = history_from_rows(rows)
    train, test = h.split(float(np.quantile(h.rounds.day, 0.75)))
    _, new = relevance_sets(train, test)
    overall = test.investor_sets()
    ids, _ = InvestorRanker(**FAST).fit(train).rank(test.rounds, 10)
    follow = [j for j, (o, n) in enumerate(zip(overall, new, strict=True)) if o - n]
    assert follow, "synthetic data should contain follow-on rounds"
    hits = np.mean([bool(set(ids[j, :3].tolist()) & (overall[j] - new[j])) for j in follow])
    assert hits > 0.5


def test_beats_baselines_on_synthetic(history: History) -> None:
    split_day = float(np.quantile(history.rounds.day, 0.8))
    models: dict[str, Ranker] = {"pop": CategoryRoundPopularity(), "ours": InvestorRanker(**FAST)}
    res = {r.name: r for r in evaluate_split(history, split_day, 10, models)}
    assert res["ours"].overall.recall >= res["pop"].overall.recall
    assert res["ours"].overall.n_queries > 0


def test_k_larger_than_investor_count(split: tuple[History, History]) -> None:
    train, test = split
    ids, scores = GlobalPopularity().fit(train).rank(test.rounds, 1000)
    assert ids.shape[1] == train.n_investors
    ids, scores = InvestorRanker(**FAST).fit(train).rank(test.rounds, 1000)
    assert ids.shape[1] == train.n_investors and np.all(np.diff(scores, axis=1) <= 0)


@settings(max_examples=50, deadline=None)
@given(
    data=st.lists(
        st.tuples(st.integers(0, 4), st.integers(0, 9), st.floats(-5, 5)),
        max_size=40,
        unique_by=lambda t: (t[0], t[1]),
    ),
    k=st.integers(1, 6),
)
def test_top_k_per_query_properties(data: list[tuple[int, int, float]], k: int) -> None:
    qi = np.array([d[0] for d in data], dtype=np.int64)
    inv = np.array([d[1] for d in data], dtype=np.int64)
    score = np.array([d[2] for d in data], dtype=float)
    ids, scores = top_k_per_query(qi, inv, score, 5, k, np.arange(10))
    assert ids.shape == (5, k)
    assert np.all(np.diff(scores, axis=1) <= 0) and np.all(np.isfinite(scores))
    for j in range(5):
        assert len(set(ids[j].tolist())) == k
        mine = sorted(((-s, i) for q, i, s in data if q == j))[:k]
        assert ids[j, : len(mine)].tolist() == [i for _, i in mine]


def test_training_pairs_are_grouped_by_round(history: History) -> None:
    """Every training group is one round's candidates and holds at least one positive."""
    ranker = InvestorRanker(**FAST)
    ranker.encoders_ = Encoders.fit(history.rounds)
    start = float(np.quantile(history.rounds.day, 0.6))
    X, y, groups = ranker._window_pairs(history, start)
    assert X.shape == (y.size, len(FEATURE_NAMES)) and groups.sum() == y.size
    bounds = np.r_[0, np.cumsum(groups)]
    assert all(y[a:b].any() for a, b in pairwise(bounds))
    assert 0 < y.mean() < 1


def test_lambdarank_model_is_trained(split: tuple[History, History]) -> None:
    ranker = InvestorRanker(**FAST).fit(split[0])
    assert ranker.model_ is not None
    assert ranker.model_.num_trees() == FAST["max_iter"]
