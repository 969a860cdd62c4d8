"""Smoke test on the shared Crunchbase 2013 extract (skipped when it is absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

from matching.offline.adapter import ProductPathRanker
from matching.offline.baselines import CategoryRoundPopularity
from matching.offline.data import date_to_days, load_history
from matching.offline.evaluate import Ranker, evaluate_split
from matching.offline.ranker import InvestorRanker

DATA = (Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "crunchbase2013"
        / "investments_before_2013.csv")  # fmt: skip


@pytest.mark.slow
def test_real_data_beats_popularity() -> None:
    if not DATA.exists():
        pytest.skip(f"shared data not available at {DATA}")
    history = load_history(DATA)
    assert len(history.rounds) == 16070
    models: dict[str, Ranker] = {
        "pop": CategoryRoundPopularity(),
        "ours": InvestorRanker(n_windows=2, max_iter=60, learning_rate=0.1),
    }
    res = {r.name: r for r in evaluate_split(history, date_to_days("2012-07-01"), 10, models)}
    assert res["ours"].overall.recall > 0.25 > res["pop"].overall.recall
    assert res["ours"].new.recall > 0.11 > res["pop"].new.recall


@pytest.mark.slow
def test_the_product_path_reaches_the_issue_24_figures() -> None:
    """Rounds ranked as demands through rank_batch, the rules and LearnedRanker (2012-H2)."""
    if not DATA.exists():
        pytest.skip(f"shared data not available at {DATA}")
    history = load_history(DATA)
    models: dict[str, Ranker] = {"product": ProductPathRanker()}
    [res] = evaluate_split(history, date_to_days("2012-07-01"), 10, models)
    assert (res.overall.n_queries, res.new.n_queries) == (1413, 1297)
    assert res.overall.recall == pytest.approx(0.3289, abs=0.001) and res.overall.recall >= 0.32
    assert res.new.recall == pytest.approx(0.1654, abs=0.001) and res.new.recall >= 0.16
