"""Popularity baselines sharing the :class:`~matching.offline.ranker.InvestorRanker` API."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from matching.offline.data import History, RoundTable
from matching.offline.features import ROUND_ORDER, Encoders, encode_rounds

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class GlobalPopularity:
    """Rank every query's investors by their all-time number of investments."""

    def fit(self, history: History) -> GlobalPopularity:
        """Count investments per investor."""
        self.counts_ = np.bincount(history.inv_investor, minlength=history.n_investors)
        self.counts_ = self.counts_.astype(float)
        self.investor_names_ = history.investor_names
        self.order_ = np.lexsort((np.arange(self.counts_.size), -self.counts_))
        return self

    def rank(self, queries: RoundTable, k: int = 10) -> tuple[IntArray, FloatArray]:
        """Same top-``k`` list for every query (ties: lower investor index first)."""
        top = self.order_[: min(k, self.order_.size)]
        n = len(queries)
        return np.tile(top, (n, 1)), np.tile(self.counts_[top], (n, 1))


class CategoryRoundPopularity:
    """Rank by investments in the query's (category, round type); ties by global count."""

    def fit(self, history: History) -> CategoryRoundPopularity:
        """Count investments per investor and (category, round type) cell."""
        self.encoders_ = Encoders.fit(history.rounds)
        self.investor_names_ = history.investor_names
        rr = encode_rounds(history.rounds, self.encoders_)
        cell = rr.category * len(ROUND_ORDER) + rr.round_type
        n_cells = len(self.encoders_.category) * len(ROUND_ORDER)
        self.cell_counts_ = np.zeros((n_cells, history.n_investors))
        np.add.at(self.cell_counts_, (cell[history.inv_round], history.inv_investor), 1.0)
        self.counts_ = self.cell_counts_.sum(axis=0)
        self.order_ = np.lexsort((np.arange(self.counts_.size), -self.counts_))
        return self

    def rank(self, queries: RoundTable, k: int = 10) -> tuple[IntArray, FloatArray]:
        """Top-``k`` per query by cell count + global count / (max global count + 1)."""
        q = encode_rounds(queries, self.encoders_)
        cells = q.category * len(ROUND_ORDER) + q.round_type
        tiebreak = self.counts_ / (self.counts_.max(initial=0.0) + 1.0)
        k = min(k, self.counts_.size)
        ids = np.zeros((len(queries), k), dtype=np.int64)
        scores = np.zeros((len(queries), k))
        for cell in np.unique(cells):
            s = self.cell_counts_[cell] + tiebreak
            n = np.arange(s.size)
            top = np.lexsort((n, -s))[:k]
            rows = cells == cell
            ids[rows], scores[rows] = top, s[top]
        return ids, scores
