"""Per-query Recall@k, Hit@k and NDCG@k (macro averages, overall and new-relationship).

docs/offline_eval.md defines each metric and which queries are skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


def _discounts(k: int) -> npt.NDArray[np.float64]:
    return 1.0 / np.log2(np.arange(2, k + 2, dtype=float))


def query_metrics(ranked: Sequence[int], relevant: set[int], k: int) -> tuple[float, float, float]:
    """Recall@k, NDCG@k and Hit@k of a single ranked list."""
    if not relevant:
        raise ValueError("relevant set must be non-empty")
    disc = _discounts(k)
    seen: set[int] = set()
    dcg = 0.0
    for pos, item in enumerate(list(ranked)[:k]):
        if item in relevant and item not in seen:
            dcg += disc[pos]
        seen.add(item)
    hits = len(seen & relevant)
    idcg = float(disc[: min(k, len(relevant))].sum())
    return hits / len(relevant), dcg / idcg, float(hits > 0)


@dataclass(frozen=True)
class RankingMetrics:
    """Macro-averaged metrics over ``n_queries`` evaluated queries."""

    recall: float
    ndcg: float
    hit: float
    n_queries: int

    def as_dict(self) -> dict[str, float]:
        """Plain-dict view (for JSON output)."""
        return {
            "recall": self.recall,
            "ndcg": self.ndcg,
            "hit": self.hit,
            "n_queries": float(self.n_queries),
        }


def evaluate_rankings(
    ranked: npt.NDArray[np.int64] | Sequence[Sequence[int]],
    relevant: Sequence[set[int]],
    k: int,
) -> RankingMetrics:
    """Average :func:`query_metrics` over queries, skipping empty relevant sets."""
    if len(ranked) != len(relevant):
        raise ValueError("ranked and relevant must have the same length")
    rows = [query_metrics(list(r), rel, k) for r, rel in zip(ranked, relevant, strict=True) if rel]
    if not rows:
        return RankingMetrics(0.0, 0.0, 0.0, 0)
    arr = np.asarray(rows, dtype=float)
    recall, ndcg, hit = arr.mean(axis=0)
    return RankingMetrics(float(recall), float(ndcg), float(hit), len(rows))
