"""Offline temporal evaluation: train before a split date, evaluate on rounds after it."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from matching.offline.adapter import ProductPathRanker
from matching.offline.baselines import CategoryRoundPopularity, GlobalPopularity
from matching.offline.data import History, RoundTable
from matching.offline.implicit_baseline import ImplicitALS
from matching.offline.metrics import RankingMetrics, evaluate_rankings
from matching.offline.ranker import InvestorRanker


class Ranker(Protocol):
    """Anything with ``fit(history)`` and ``rank(queries, k)`` like :class:`InvestorRanker`."""

    def fit(self, history: History) -> Ranker: ...

    def rank(
        self, queries: RoundTable, k: int = 10
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]: ...


@dataclass(frozen=True)
class ModelResult:
    """Metrics of one model on one split (``overall`` and ``new`` relationships)."""

    name: str
    overall: RankingMetrics
    new: RankingMetrics
    seconds: float

    def as_dict(self) -> dict[str, object]:
        """JSON-friendly view."""
        return {"model": self.name, "overall": self.overall.as_dict(),
                "new_relationships": self.new.as_dict(), "seconds": self.seconds}  # fmt: skip


def relevance_sets(train: History, test: History) -> tuple[list[set[int]], list[set[int]]]:
    """Relevant investors per test round: all of them, and those new to the company."""
    prior = set(zip(train.rounds.company[train.inv_round].tolist(),
                    train.inv_investor.tolist(), strict=True))  # fmt: skip
    overall = test.investor_sets()
    companies = test.rounds.company.tolist()
    new = [
        {i for i in rel if (c, i) not in prior} for c, rel in zip(companies, overall, strict=True)
    ]
    return overall, new


def default_models(random_state: int = 0, with_implicit: bool = False) -> dict[str, Ranker]:
    """The popularity baselines, optionally implicit ALS, and the learned ranker as served
    (rounds ranked as demands through the product path, :mod:`matching.offline.adapter`)."""
    models: dict[str, Ranker] = {
        "global-popularity": GlobalPopularity(),
        "category+round-popularity": CategoryRoundPopularity(),
    }
    if with_implicit:
        models["implicit-als"] = ImplicitALS(random_state=random_state)
    models["learned-ranker"] = ProductPathRanker(InvestorRanker(random_state=random_state))
    return models


def split_history(
    history: History, split_day: float, end_day: float | None = None
) -> tuple[History, History]:
    """Training rounds before ``split_day``; test rounds in ``[split_day, end_day)``."""
    train, test = history.split(split_day)
    return train, (test.split(end_day)[0] if end_day is not None else test)


def fit_rank(
    models: dict[str, Ranker], train: History, test: History, k: int
) -> dict[str, tuple[npt.NDArray[np.int64], float]]:
    """Fit each model on ``train`` and rank ``test`` rounds: ``name -> (ids, seconds)``."""
    out = {}
    for name, model in models.items():
        t0 = time.perf_counter()
        ids, _ = model.fit(train).rank(test.rounds, k)
        out[name] = (ids, time.perf_counter() - t0)
    return out


def evaluate_split(
    history: History,
    split_day: float,
    k: int = 10,
    models: dict[str, Ranker] | None = None,
    end_day: float | None = None,
) -> list[ModelResult]:
    """Fit every model on rounds before ``split_day`` and score rounds from it on."""
    train, test = split_history(history, split_day, end_day)
    overall, new = relevance_sets(train, test)
    ranked = fit_rank(models or default_models(), train, test, k)
    return [
        ModelResult(name, evaluate_rankings(ids, overall, k), evaluate_rankings(ids, new, k), secs)
        for name, (ids, secs) in ranked.items()
    ]


def recall_curves(
    history: History,
    split_day: float,
    ks: Sequence[int],
    models: dict[str, Ranker] | None = None,
    end_day: float | None = None,
    table_k: int = 10,
) -> tuple[list[ModelResult], dict[str, dict[str, list[float]]]]:
    """One fit per model: full metrics at ``table_k`` and Recall@k for every ``k`` in ``ks``.

    Rankings of length ``max(ks + [table_k])`` are computed once; shorter lists are their
    prefixes. Curves are ``{model: {"k": [...], "overall": [...], "new": [...]}}``.
    """
    train, test = split_history(history, split_day, end_day)
    overall, new = relevance_sets(train, test)
    ranked = fit_rank(models or default_models(), train, test, max([*ks, table_k]))
    results, curves = [], {}
    for name, (ids, secs) in ranked.items():
        top = ids[:, :table_k]
        results.append(ModelResult(name, evaluate_rankings(top, overall, table_k),
                                   evaluate_rankings(top, new, table_k), secs))  # fmt: skip
        curves[name] = {
            "k": [float(k) for k in ks],
            "overall": [evaluate_rankings(ids[:, :k], overall, k).recall for k in ks],
            "new": [evaluate_rankings(ids[:, :k], new, k).recall for k in ks],
        }
    return results, curves
