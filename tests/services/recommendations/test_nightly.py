"""Nightly jobs: the batch re-rank of open demands and the retrain threshold."""

from pathlib import Path

from sqlmodel import Session

from services.recommendations.nightly import rerank_open_demands, retrain_if_due
from tests import factories
from tests.workers.helpers import T0


def test_rerank_ranks_every_open_demand(session: Session) -> None:
    bank = factories.institution(session, kind="bank", regions_served=["4403"])
    factories.loan_product(session, bank, min_amount_wan=100, max_amount_wan=1000)
    ent = factories.enterprise(session)
    factories.demand(session, ent)  # open, loan, 300–500 万元: fits the product
    factories.demand(session, ent, status="withdrawn")
    report = rerank_open_demands(session, T0)
    assert (report.job, report.action) == ("rerank", "ran")
    assert report.details["demands"] == 1 and report.details["with_candidates"] == 1


def test_retrain_waits_for_enough_new_outcomes(session: Session, tmp_path: Path) -> None:
    report = retrain_if_due(session, tmp_path, T0, min_new=50, min_outcomes=200)
    assert (report.action, report.details["new_outcomes"]) == ("skipped", 0)
    assert "少于 50 笔" in report.message


def test_retrain_counts_outcomes_since_the_newest_published_model(
    session: Session, tmp_path: Path
) -> None:
    factories.ranker_model(session, n_outcomes=4)
    factories.ranker_model(session, n_outcomes=10)
    report = retrain_if_due(session, tmp_path, T0, min_new=1, min_outcomes=200)
    assert report.details["new_outcomes"] == -10 and report.action == "skipped"
