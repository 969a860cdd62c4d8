"""Per-query ranking metrics for investor recommendation.

For one query round ``q`` let ``R_q`` be the *relevant* set — the (normalised) investors
that actually took part in the round — and ``L_q`` the top-``k`` ranked list.
``hits_q = |L_q ∩ R_q|``.

* ``Recall@k  = hits_q / |R_q|``
* ``Hit@k     = 1 if hits_q > 0 else 0``
* ``NDCG@k    = DCG_q / IDCG_q`` with binary gains, ``DCG_q = sum_{r: L_q[r] in R_q}
  1 / log2(r + 1)`` over ranks ``r = 1..k`` and ``IDCG_q = sum_{r=1}^{min(k, |R_q|)}
  1 / log2(r + 1)``.

Every metric is averaged over queries (macro average). Queries with an empty relevant
set are skipped (they carry no signal). *New-relationship* metrics use the same formulas
with ``R_q`` restricted to investors that had no investment in the query's company in
the training history; queries whose restricted set is empty are skipped. The ranked
list itself is not filtered, so recommending a prior investor simply earns no credit
there.
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
