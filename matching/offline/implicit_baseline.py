"""Implicit-feedback ALS (optional ``implicit`` package) with a query round as a pseudo-user.

Companies are users, investors items; a round's row is its company's prior investors plus its
category × round type cell, so first-seen companies still get a profile.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from matching.offline.data import History, RoundTable
from matching.offline.features import ROUND_ORDER, Encoders, encode_rounds

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def top_k_dense(
    scores: FloatArray, k: int, exclude: Sequence[IntArray] | None = None
) -> tuple[IntArray, FloatArray]:
    """Top-``k`` columns per row of a dense score matrix (ties: lower column first)."""
    scores = np.array(scores, dtype=float)
    for row, ex in enumerate(exclude or []):
        scores[row, np.asarray(ex, dtype=np.int64)] = -np.inf
    k = min(k, scores.shape[1])
    cols = np.broadcast_to(np.arange(scores.shape[1]), scores.shape)
    order = np.lexsort((cols, -scores), axis=1)[:, :k]
    top = np.take_along_axis(scores, order, axis=1)
    ids = np.where(np.isfinite(top), order, -1).astype(np.int64)
    return ids, np.where(ids >= 0, top, -np.inf)


@dataclass(eq=False)
class ImplicitALS:
    """Implicit-feedback ALS (Hu, Koren & Volinsky 2008) via the ``implicit`` package."""

    factors: int = 128
    regularization: float = 0.05
    alpha: float = 10.0
    iterations: int = 15
    company_weight: float = 1.0
    cell_weight: float = 1.0
    random_state: int = 0

    def fit(self, history: History) -> ImplicitALS:
        """Factorise the company × investor matrix of ``history``."""
        with warnings.catch_warnings():  # tqdm.auto warns about ipywidgets in notebooks
            warnings.simplefilter("ignore")
            from implicit.cpu.als import AlternatingLeastSquares

        self.encoders_ = Encoders.fit(history.rounds)
        self.investor_names_ = history.investor_names
        self.n_items_ = history.n_investors
        rr = encode_rounds(history.rounds, self.encoders_)
        comp, inv = rr.company[history.inv_round], history.inv_investor
        n_comp, n_rt = len(self.encoders_.company), len(ROUND_ORDER)
        self.company_items_ = _counts(comp, inv, (n_comp, self.n_items_))
        cell = (rr.category * n_rt + rr.round_type)[history.inv_round]
        cells = _counts(cell, inv, (len(self.encoders_.category) * n_rt, self.n_items_))
        totals = np.asarray(cells.sum(axis=1)).ravel()
        self.cell_items_ = (sp.diags(1.0 / np.maximum(totals, 1.0)) @ cells).tocsr()
        with threadpool_limits(limits=1, user_api="blas"):
            self.model_: Any = AlternatingLeastSquares(
                factors=self.factors, regularization=self.regularization, alpha=self.alpha,
                iterations=self.iterations, num_threads=1, random_state=self.random_state,
            )  # fmt: skip
            self.model_.fit(self.company_items_, show_progress=False)
        return self

    def pseudo_users(self, queries: RoundTable) -> sp.csr_matrix:
        """Interaction rows of the query pseudo-users (see module docstring)."""
        q = encode_rounds(queries, self.encoders_)
        own = self.company_items_[q.company].copy()
        own.data[:] = self.company_weight
        cell = self.cell_items_[q.category * len(ROUND_ORDER) + q.round_type]
        return sp.csr_matrix(own + self.cell_weight * cell, dtype=np.float32)

    def rank(
        self, queries: RoundTable, k: int = 10, exclude: Sequence[IntArray] | None = None
    ) -> tuple[IntArray, FloatArray]:
        """Top-``k`` investors per query by ALS score."""
        rows = self.pseudo_users(queries)
        with threadpool_limits(limits=1, user_api="blas"):
            users = self.model_.recalculate_user(np.arange(rows.shape[0]), rows)
        scores = np.asarray(users, dtype=float) @ np.asarray(self.model_.item_factors, float).T
        return top_k_dense(scores, k, exclude)


def _counts(rows: IntArray, cols: IntArray, shape: tuple[int, int]) -> sp.csr_matrix:
    mat = sp.csr_matrix((np.ones(rows.size, dtype=np.float32), (rows, cols)), shape=shape)
    mat.sum_duplicates()
    return mat
