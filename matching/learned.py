"""The learned re-ranker: calibrated, monotone gradient boosting on recorded outcomes.

Below ``min_outcomes`` it does not train and the rules ranking is served (docs/matching.md).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import StratifiedKFold
from sklearn.utils.validation import check_array, check_is_fitted, check_X_y
from threadpoolctl import threadpool_limits

from matching.profiles import (
    CandidateSet,
    DemandBatch,
    Float32Array,
    FloatArray,
    IntArray,
)
from matching.rank import RULES_VERSION, RulesRanker, top_k
from matching.rules import RuleConfig
from matching.scorers import DEFAULT_WEIGHTS, SCORER_CODES, fits

FEATURE_NAMES: tuple[str, ...] = (
    *SCORER_CODES,
    "rules_score",
    "log_amount",
    "demand_loan",
    "demand_equity",
    "demand_mixed",
    "candidate_equity",
)
#: +1: the score may only rise with this feature (every fit and the rules score).
MONOTONIC: tuple[int, ...] = (1,) * (len(SCORER_CODES) + 1) + (0,) * 5


def pair_features(
    batch: DemandBatch,
    cands: CandidateSet,
    rows: IntArray,
    cols: IntArray,
    weights: Mapping[str, float] | None = None,
) -> FloatArray:
    """Features of selected (demand, candidate) pairs."""
    w = weights or DEFAULT_WEIGHTS
    f = fits(batch, cands)[:, rows, cols].T.astype(np.float64)
    rules = f @ np.array([w.get(c, 0.0) for c in SCORER_CODES])
    mid = np.log10(np.maximum(batch.amount_min, 1.0) * np.maximum(batch.amount_max, 1.0)) / 2
    ftype = np.eye(3)[batch.ftype[rows]]
    kind = cands.kind[cols].astype(np.float64)
    return np.column_stack([f, rules, mid[rows], ftype, kind])


@dataclass(eq=False, repr=False)
class LearnedReranker(ClassifierMixin, BaseEstimator):
    """Calibrated, monotone gradient boosting on recorded outcomes, with a cold-start fallback."""

    min_outcomes: int = 200
    min_per_class: int = 20
    max_iter: int = 150
    learning_rate: float = 0.08
    max_leaf_nodes: int = 15
    l2_regularization: float = 1.0
    monotonic_cst: Sequence[int] | None = None
    cv: int = 3
    random_state: int = 0
    n_threads: int | None = 1

    def fit(self, X: FloatArray, y: IntArray) -> LearnedReranker:
        """Train on pair features ``X`` of shape ``(m, f)`` and outcomes ``y`` (1 won) ``(m,)``."""
        X, y = check_X_y(X, y, dtype=np.float64, ensure_min_samples=1)
        y = (np.asarray(y) > 0).astype(np.int64)
        self.classes_ = np.array([0, 1])
        self.n_features_in_ = X.shape[1]
        self.fallback_reason_: str | None = self._too_few(y)
        self.model_: CalibratedClassifierCV | None = None
        if self.fallback_reason_ is None:
            with threadpool_limits(self.n_threads, user_api="openmp"):
                self.model_ = self._calibrated().fit(X, y)
        self.version_ = RULES_VERSION if self.model_ is None else self._version(X, y)
        return self

    def _too_few(self, y: IntArray) -> str | None:
        won, lost = int(y.sum()), int(len(y) - y.sum())
        if len(y) >= self.min_outcomes and min(won, lost) >= self.min_per_class:
            return None
        return (
            f"已记录结果 {len(y)} 条（成交 {won}，未成交/无回应 {lost}），"
            f"不足训练所需的 {self.min_outcomes} 条且每类至少 {self.min_per_class} 条，"
            "继续使用规则排序"
        )

    def _calibrated(self) -> CalibratedClassifierCV:
        booster = HistGradientBoostingClassifier(
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            l2_regularization=self.l2_regularization,
            monotonic_cst=list(self.monotonic_cst) if self.monotonic_cst else None,
            early_stopping=False,
            random_state=self.random_state,
        )
        folds = StratifiedKFold(self.cv, shuffle=True, random_state=self.random_state)
        return CalibratedClassifierCV(booster, method="sigmoid", cv=folds)

    def _version(self, X: FloatArray, y: IntArray) -> str:
        digest = hashlib.sha1(X.tobytes() + y.tobytes() + repr(self.get_params()).encode())
        return f"gbm-{digest.hexdigest()[:10]}"

    @property
    def is_fallback(self) -> bool:
        """True when fitted but not trained (too few outcomes)."""
        check_is_fitted(self, "version_")
        return self.model_ is None

    def predict_proba(self, X: FloatArray) -> FloatArray:
        """Calibrated probabilities of (lost, won); shape ``(m, 2)``."""
        check_is_fitted(self, "version_")
        if self.model_ is None:
            raise NotFittedError(self.fallback_reason_)
        with threadpool_limits(self.n_threads, user_api="openmp"):
            return np.asarray(self.model_.predict_proba(check_array(X, dtype=np.float64)))

    def predict(self, X: FloatArray) -> IntArray:
        """1 where a win is more likely than not; shape ``(m,)``."""
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(np.int64)


@dataclass(eq=False)
class LearnedRanker:
    """Rules shortlist, re-ranked by a :class:`LearnedReranker`'s win probability."""

    reranker: LearnedReranker
    weights: Mapping[str, float] | None = None
    shortlist: int = 100

    @property
    def model_version(self) -> str:
        """The re-ranker's version, or ``rules-1`` when it fell back."""
        return str(self.reranker.version_)

    def score(self, batch: DemandBatch, cands: CandidateSet, cfg: RuleConfig) -> Float32Array:
        """Win probability on each demand's shortlist, ``-inf`` elsewhere; shape ``(B, n)``."""
        base = RulesRanker(self.weights).score(batch, cands, cfg)
        if self.reranker.is_fallback:
            return base
        ids, _ = top_k(base, self.shortlist)
        rows, pos = np.nonzero(ids >= 0)
        cols = ids[rows, pos]
        out = np.full(base.shape, -np.inf, dtype=np.float32)
        if len(rows):
            X = pair_features(batch, cands, rows, cols, self.weights)
            out[rows, cols] = self.reranker.predict_proba(X)[:, 1]
        return out
