"""Learned investor ranker: candidate generation + pointwise gradient-boosted scorer.

Training (``fit``) replays time: for each of ``n_windows`` consecutive windows of
``window_days`` at the end of the history, statistics are computed from the history
strictly before the window start, candidates are generated for every round inside the
window, and a :class:`~sklearn.ensemble.HistGradientBoostingClassifier` learns whether a
candidate joined the round (negatives subsampled). This mirrors deployment, where
queries lie after the end of the history and their own investors are unknown.
``rank`` computes statistics from the whole history and scores each query's candidates.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

from matching.offline.data import History, RoundTable
from matching.offline.features import (
    FEATURE_NAMES,
    Encoders,
    HistoryIndex,
    generate_candidates,
    pair_features,
    query_context,
)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def top_k_per_query(
    qi: IntArray,
    inv: IntArray,
    score: FloatArray,
    n_queries: int,
    k: int,
    fill: IntArray,
    exclude: Sequence[IntArray] | None = None,
) -> tuple[IntArray, FloatArray]:
    """Top-``k`` investors per query from scored pairs, padded from ``fill`` if needed.

    Ties are broken by ascending investor index; padding investors (taken from ``fill``
    in order, skipping ones already ranked or excluded) get scores strictly below the
    query's lowest. Pairs whose investor is in ``exclude[q]`` are dropped; a row runs short
    (padded with ``-1`` / ``-inf``) only when fewer than ``k`` investors remain.

    Returns
    -------
    tuple of ndarray
        ``ids`` and ``scores`` of shape ``(n_queries, k)``.
    """
    banned = [set(np.asarray(e).tolist()) for e in exclude] if exclude is not None else None
    if banned is not None:
        keep = np.fromiter((i not in banned[q] for q, i in zip(qi.tolist(), inv.tolist(), strict=True)),
                           dtype=bool, count=qi.size)  # fmt: skip
        qi, inv, score = qi[keep], inv[keep], score[keep]
    order = np.lexsort((inv, -score, qi))
    qi, inv, score = qi[order], inv[order], score[order]
    starts = np.searchsorted(qi, np.arange(n_queries + 1))
    ids = np.full((n_queries, k), -1, dtype=np.int64)
    scores = np.full((n_queries, k), -np.inf)
    for j in range(n_queries):
        a, b = starts[j], min(starts[j + 1], starts[j] + k)
        ids[j, : b - a], scores[j, : b - a] = inv[a:b], score[a:b]
        if b - a < k:
            taken = set(inv[a:b].tolist()) | (banned[j] if banned is not None else set())
            extra = [i for i in fill.tolist() if i not in taken][: k - (b - a)]
            low = float(score[a:b].min()) if b > a else 0.0
            ids[j, b - a : b - a + len(extra)] = extra
            scores[j, b - a : b - a + len(extra)] = low - 1.0 - np.arange(len(extra))
    return ids, scores


class InvestorRanker:
    """Rank investors for funding rounds (scikit-learn style estimator).

    Parameters
    ----------
    half_life_days, short_half_life_days : float
        Half-lives of the exponential decay of investor activity.
    window_days : float
        Length of each replayed training window.
    n_windows : int
        Number of training windows (taken backwards from the end of the history).
    n_candidates : int
        Investors taken from each candidate source per query.
    negative_rate : float
        Fraction of negative training pairs kept.
    max_iter, learning_rate, max_leaf_nodes, l2_regularization : int, float, int, float
        Gradient boosting settings.
    n_bags : int
        Number of boosters averaged (each sees all positives and its own negatives).
    n_threads : int or None
        OpenMP threads for boosting (None: library default). One thread is the default
        because the boosted models are small and thread start-up dominates on busy hosts.
    recall_weighting : float
        Positive training pairs are weighted by ``|R_q| ** -recall_weighting`` (``|R_q|``:
        investors of the round), so with 1.0 each round contributes like one unit of
        macro-averaged Recall (a LambdaMART-like per-query weighting); 0 weights all equally.
    new_weight : float
        Extra weight of positives without an earlier investment in the company (new
        relationships). Positive weights are rescaled to mean 1.
    random_state : int
        Seed for negative subsampling and boosting.
    """

    def __init__(
        self,
        half_life_days: float = 730.0,
        short_half_life_days: float = 180.0,
        window_days: float = 182.0,
        n_windows: int = 4,
        n_candidates: int = 100,
        negative_rate: float = 0.1,
        max_iter: int = 200,
        learning_rate: float = 0.05,
        max_leaf_nodes: int = 15,
        l2_regularization: float = 1.0,
        n_bags: int = 3,
        n_threads: int | None = 1,
        recall_weighting: float = 0.0,
        new_weight: float = 1.0,
        random_state: int = 0,
    ) -> None:
        self.half_life_days = half_life_days
        self.short_half_life_days = short_half_life_days
        self.window_days = window_days
        self.n_windows = n_windows
        self.n_candidates = n_candidates
        self.negative_rate = negative_rate
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.l2_regularization = l2_regularization
        self.n_bags = n_bags
        self.n_threads = n_threads
        self.recall_weighting = recall_weighting
        self.new_weight = new_weight
        self.random_state = random_state

    def _index(self, history: History, ref_day: float) -> HistoryIndex:
        return HistoryIndex(
            history, self.encoders_, ref_day, self.half_life_days, self.short_half_life_days
        )

    def _window_pairs(
        self, history: History, start: float, rng: np.random.Generator
    ) -> tuple[npt.NDArray[np.floating], IntArray, FloatArray]:
        """Training pairs (features, labels, sample weights) for ``[start, start + window_days)``."""
        past, rest = history.split(start)
        target = rest.split(start + self.window_days)[0]
        if len(past.rounds) == 0 or len(target.rounds) == 0:
            return np.zeros((0, len(FEATURE_NAMES))), np.zeros(0, dtype=np.int64), np.zeros(0)
        index = self._index(past, start)
        ctx = query_context(index, target.rounds)
        qi, inv = generate_candidates(index, ctx, self.n_candidates)
        truth = set(zip(target.inv_round.tolist(), target.inv_investor.tolist(), strict=True))
        y = np.fromiter(((q, i) in truth for q, i in zip(qi.tolist(), inv.tolist(), strict=True)),
                        dtype=np.int64, count=qi.size)  # fmt: skip
        rate = min(1.0, self.negative_rate * self.n_bags)
        keep = (y == 1) | (rng.random(y.size) < rate)
        X = pair_features(index, ctx, qi[keep], inv[keep])
        n_rel = np.bincount(target.inv_round, minlength=len(target.rounds)).astype(float)
        return X.astype(np.float32), y[keep], self._weights(X, y[keep], n_rel[qi[keep]])

    def _weights(self, X: FloatArray, y: IntArray, n_rel: FloatArray) -> FloatArray:
        """Positive weights ``∝ |R_q| ** -recall_weighting`` (× ``new_weight`` for new pairs)."""
        w = np.where(y == 1, np.maximum(n_rel, 1.0) ** -self.recall_weighting, 1.0)
        new = np.nan_to_num(X[:, FEATURE_NAMES.index("prior_rounds")]) == 0
        w = np.where((y == 1) & new, w * self.new_weight, w)
        pos = y == 1
        return w / (w[pos].mean() if pos.any() else 1.0)

    def fit(self, history: History) -> InvestorRanker:
        """Learn the scorer from replayed windows, then index the whole history."""
        with threadpool_limits(limits=self.n_threads, user_api="openmp"):
            return self._fit(history)

    def _fit(self, history: History) -> InvestorRanker:
        self.encoders_ = Encoders.fit(history.rounds)
        self.investor_names_ = history.investor_names
        end = float(history.rounds.day.max()) + 1.0 if len(history.rounds) else 0.0
        rng = np.random.default_rng(self.random_state)
        parts = [
            self._window_pairs(history, end - (w + 1) * self.window_days, rng)
            for w in range(self.n_windows)
        ]
        X = np.vstack([p[0] for p in parts])
        y = np.concatenate([p[1] for p in parts])
        self.models_ = self._fit_bags(X, y, np.concatenate([p[2] for p in parts]), rng)
        self.index_ = self._index(history, end)
        self.fill_order_ = np.lexsort((np.arange(history.n_investors), -self.index_.activity))
        return self

    def _fit_bags(
        self, X: npt.NDArray[np.floating], y: IntArray, w: FloatArray, rng: np.random.Generator
    ) -> list[HistGradientBoostingClassifier]:
        """One booster per bag: all positives plus a disjoint share of the negatives."""
        if np.unique(y).size < 2:
            return []
        bag = np.where(y == 1, -1, rng.integers(0, self.n_bags, y.size))
        models = []
        for b in range(self.n_bags):
            rows = (bag == -1) | (bag == b)
            models.append(HistGradientBoostingClassifier(
                max_iter=self.max_iter, learning_rate=self.learning_rate,
                max_leaf_nodes=self.max_leaf_nodes, l2_regularization=self.l2_regularization,
                early_stopping=False, random_state=self.random_state + b,
            ).fit(X[rows], y[rows], sample_weight=w[rows]))  # fmt: skip
        return models

    def _score(self, X: FloatArray) -> FloatArray:
        if self.models_:
            logits = [m.decision_function(X) for m in self.models_]
            return np.asarray(np.mean(logits, axis=0), dtype=float)
        col = {name: j for j, name in enumerate(FEATURE_NAMES)}
        return np.nan_to_num(
            10.0 * X[:, col["prior_rounds"]] + X[:, col["log_cat_round"]]
            + 0.1 * X[:, col["log_activity_long"]]
        )  # fmt: skip

    def rank(
        self, queries: RoundTable, k: int = 10, exclude: Sequence[IntArray] | None = None
    ) -> tuple[IntArray, FloatArray]:
        """Top-``k`` investor indices (into ``investor_names_``) and scores per query.

        Returns arrays of shape ``(n_queries, min(k, n_investors))``; scores are finite and
        non-increasing along each row. ``exclude[q]`` lists investors query ``q`` must not
        get; only then can a row end in ``-1`` / ``-inf`` padding (too few investors left).
        """
        k = min(k, int(self.investor_names_.shape[0]))
        ctx = query_context(self.index_, queries)
        qi, inv = generate_candidates(self.index_, ctx, self.n_candidates)
        with threadpool_limits(limits=self.n_threads, user_api="openmp"):
            score = self._score(pair_features(self.index_, ctx, qi, inv))
        return top_k_per_query(qi, inv, score, len(queries), k, self.fill_order_, exclude)
