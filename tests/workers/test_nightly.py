"""Nightly jobs: the documented no-op re-rank and the retrain threshold."""

import json
from pathlib import Path

from sqlmodel import Session

from tests.workers.helpers import T0
from workers.nightly import CORE_MISSING, rerank_open_demands, retrain_if_due


def test_rerank_reports_that_the_core_lacks_a_batch_entry_point(session: Session) -> None:
    report = rerank_open_demands(session, T0)
    assert (report.job, report.action) == ("rerank", "skipped")
    assert report.message.startswith(CORE_MISSING)


def test_retrain_waits_for_enough_new_outcomes(session: Session, tmp_path: Path) -> None:
    report = retrain_if_due(session, tmp_path, T0, min_new=50, min_outcomes=200)
    assert (report.action, report.details["new_outcomes"]) == ("skipped", 0)
    assert "少于 50 条" in report.message


def test_retrain_counts_outcomes_since_the_model_on_disk(session: Session, tmp_path: Path) -> None:
    (tmp_path / "reranker.json").write_text(json.dumps({"n_outcomes": 10}))
    report = retrain_if_due(session, tmp_path, T0, min_new=1, min_outcomes=200)
    assert report.details["new_outcomes"] == -10 and report.action == "skipped"
