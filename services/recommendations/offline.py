"""File-level entry points used by the ``rank-offline`` / ``eval-offline`` CLI commands."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from ingestion.safe_cells import csv_row
from matching.offline.adapter import ProductPathRanker
from matching.offline.data import date_to_days, load_history, load_queries
from matching.offline.evaluate import ModelResult, default_models, evaluate_split
from matching.offline.ranker import InvestorRanker

RANKING_COLUMNS: tuple[str, ...] = ("query_id", "rank", "investor_name", "score")


def rank_offline(
    history_path: str | Path, queries_path: str | Path, k: int = 10, random_state: int = 0
) -> list[tuple[str, int, str, float]]:
    """Fit the one ranker on the history file; rank each query round as a demand (product path)."""
    history = load_history(history_path)
    query_ids, queries = load_queries(queries_path)
    ranker = ProductPathRanker(InvestorRanker(random_state=random_state)).fit(history)
    ids, scores = ranker.rank(queries, k)
    names = ranker.investor_names_
    return [
        (qid, pos + 1, str(names[i]), float(s))
        for qid, row_ids, row_scores in zip(query_ids, ids, scores, strict=True)
        for pos, (i, s) in enumerate(zip(row_ids, row_scores, strict=True))
    ]


def write_rankings(rows: list[tuple[str, int, str, float]], path: str | Path) -> None:
    """Write ranking rows as CSV with header :data:`RANKING_COLUMNS`."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(RANKING_COLUMNS)
        writer.writerows(csv_row((q, r, n, f"{s:.6g}")) for q, r, n, s in rows)


def eval_offline(
    history_path: str | Path,
    split_date: str,
    k: int = 10,
    end_date: str | None = None,
    with_implicit: bool = False,
    random_state: int = 0,
) -> list[ModelResult]:
    """Temporal evaluation of the ranker and baselines (see :func:`evaluate_split`).

    ``with_implicit`` adds the implicit-ALS recommender (needs the ``implicit`` package).
    """
    history = load_history(history_path)
    end = date_to_days(end_date) if end_date else None
    models = default_models(random_state, with_implicit)
    return evaluate_split(history, date_to_days(split_date), k, models, end_day=end)


def results_json(results: list[ModelResult], split_date: str, k: int) -> str:
    """JSON document with the split, ``k`` and each model's metrics."""
    payload = {"split_date": split_date, "k": k, "results": [r.as_dict() for r in results]}
    return json.dumps(payload, indent=2)


def results_table(results: list[ModelResult], k: int) -> str:
    """Plain-text table: one row per model, overall and new-relationship metrics."""
    head = (f"{'model':<27} {'Recall@' + str(k):>9} {'NDCG@' + str(k):>8} {'Hit@' + str(k):>7}"
            f" | {'newRecall':>9} {'newNDCG':>8} {'newHit':>7} | {'secs':>6}")  # fmt: skip
    lines = [head, "-" * len(head)]
    for r in results:
        o, n = r.overall, r.new
        lines.append(f"{r.name:<27} {o.recall:>9.4f} {o.ndcg:>8.4f} {o.hit:>7.4f}"
                     f" | {n.recall:>9.4f} {n.ndcg:>8.4f} {n.hit:>7.4f} | {r.seconds:>6.1f}")  # fmt: skip
    q = results[0] if results else None
    if q is not None:
        lines.append(
            f"queries: {q.overall.n_queries} overall, {q.new.n_queries} with new investors"
        )
    return "\n".join(lines)
