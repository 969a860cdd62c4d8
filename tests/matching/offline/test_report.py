"""Recall@k curves and the notebook's presentation helpers on a synthetic history."""

from __future__ import annotations

import numpy as np

from matching.offline.baselines import CategoryRoundPopularity, GlobalPopularity
from matching.offline.data import history_from_rows
from matching.offline.evaluate import Ranker, evaluate_split, recall_curves
from matching.offline.report import (
    curves_markdown,
    figure_png,
    plot_recall_curves,
    results_markdown,
)

from .synth import make_rows


def _models() -> dict[str, Ranker]:
    return {"global": GlobalPopularity(), "cat+round": CategoryRoundPopularity()}


def test_curves_are_prefixes_of_one_ranking_and_match_evaluate_split() -> None:
    history = history_from_rows(make_rows(n_companies=60, n_investors=25, seed=2))
    split = float(np.quantile(history.rounds.day, 0.8))
    results, curves = recall_curves(history, split, [1, 3, 10], _models(), table_k=3)
    direct = {r.name: r for r in evaluate_split(history, split, 3, _models())}
    for r in results:
        assert r.overall == direct[r.name].overall and r.new == direct[r.name].new
        assert curves[r.name]["overall"][1] == r.overall.recall
        assert np.all(np.diff(curves[r.name]["overall"]) >= 0)  # recall grows with k
    table = results_markdown(results, 3)
    assert "| global |" in table and "Recall@3" in table
    assert curves_markdown(curves).count("\n") == 3
    png = figure_png(plot_recall_curves(curves, "synthetic"))
    assert png.startswith(b"\x89PNG")
