"""Learned investor ranker: candidate generation + LambdaMART, trained by replaying time windows.

docs/offline_eval.md describes the training windows and the features.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
import numpy.typing as npt

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


@dataclass(eq=False)
class InvestorRanker:
    """Rank investors for funding rounds (scikit-learn style estimator)."""

    half_life_days: float = 730.0
    short_half_life_days: float = 180.0
    window_days: float = 182.0
    n_windows: int = 4
    n_candidates: int = 100
    n_local_candidates: int = 50
    max_iter: int = 300
    learning_rate: float = 0.05
    max_leaf_nodes: int = 15
    min_leaf_samples: int = 50
    l2_regularization: float = 1.0
    feature_fraction: float = 0.9
    bagging_fraction: float = 0.8
    truncation_level: int = 20
    n_threads: int = 1
    random_state: int = 0

    def _index(self, history: History, ref_day: float) -> HistoryIndex:
        return HistoryIndex(
            history, self.encoders_, ref_day, self.half_life_days, self.short_half_life_days
        )

    def _window_pairs(
        self, history: History, start: float
    ) -> tuple[npt.NDArray[np.float32], IntArray, IntArray]:
        """Training pairs of ``[start, start + window_days)``: features, labels, group sizes."""
        empty = (np.zeros((0, len(FEATURE_NAMES)), np.float32), np.zeros(0, np.int64),
                 np.zeros(0, np.int64))  # fmt: skip
        past, rest = history.split(start)
        target = rest.split(start + self.window_days)[0]
        if len(past.rounds) == 0 or len(target.rounds) == 0:
            return empty
        index = self._index(past, start)
        ctx = query_context(index, target.rounds)
        qi, inv = generate_candidates(index, ctx, self.n_candidates, self.n_local_candidates)
        truth = set(zip(target.inv_round.tolist(), target.inv_investor.tolist(), strict=True))
        y = np.fromiter(((q, i) in truth for q, i in zip(qi.tolist(), inv.tolist(), strict=True)),
                        dtype=np.int64, count=qi.size)  # fmt: skip
        useful = np.bincount(qi, y, len(target.rounds)) > 0
        keep = useful[qi]
        if not keep.any():
            return empty
        X = pair_features(index, ctx, qi[keep], inv[keep]).astype(np.float32)
        groups = np.bincount(qi[keep], minlength=len(target.rounds))
        return X, y[keep], groups[groups > 0].astype(np.int64)

    def _params(self) -> dict[str, object]:
        return {
            "objective": "lambdarank", "learning_rate": self.learning_rate,
            "num_leaves": self.max_leaf_nodes, "min_data_in_leaf": self.min_leaf_samples,
            "lambda_l2": self.l2_regularization, "feature_fraction": self.feature_fraction,
            "bagging_fraction": self.bagging_fraction, "bagging_freq": 1,
            "lambdarank_truncation_level": self.truncation_level,
            "num_threads": self.n_threads, "seed": self.random_state, "deterministic": True,
            "force_row_wise": True, "verbose": -1,
        }  # fmt: skip

    def fit(self, history: History) -> InvestorRanker:
        """Learn the scorer from replayed windows, then index the whole history."""
        self.encoders_ = Encoders.fit(history.rounds)
        self.investor_names_ = history.investor_names
        end = float(history.rounds.day.max()) + 1.0 if len(history.rounds) else 0.0
        parts = [
            self._window_pairs(history, end - (w + 1) * self.window_days)
            for w in range(self.n_windows)
        ]
        X = np.vstack([p[0] for p in parts])
        y = np.concatenate([p[1] for p in parts])
        groups = np.concatenate([p[2] for p in parts])
        self.model_: lgb.Booster | None = None
        if y.size and 0 < y.sum() < y.size:
            data = lgb.Dataset(X, y, group=groups, feature_name=list(FEATURE_NAMES),
                               params={"verbose": -1})  # fmt: skip
            self.model_ = lgb.train(self._params(), data, num_boost_round=self.max_iter)
        self.index_ = self._index(history, end)
        self.fill_order_ = np.lexsort((np.arange(history.n_investors), -self.index_.activity))
        return self

    def pair_scores(self, X: FloatArray) -> FloatArray:
        """Scores of feature rows ``X`` (columns ``FEATURE_NAMES``); higher ranks first."""
        if self.model_ is not None:
            return np.asarray(self.model_.predict(X, num_threads=self.n_threads), dtype=float)
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
        qi, inv = generate_candidates(self.index_, ctx, self.n_candidates, self.n_local_candidates)
        score = self.pair_scores(pair_features(self.index_, ctx, qi, inv))
        return top_k_per_query(qi, inv, score, len(queries), k, self.fill_order_, exclude)
