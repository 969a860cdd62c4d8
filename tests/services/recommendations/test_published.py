"""The served model: one choice in the database that every ranking caller reads; `use_model`
switches and rolls back."""

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from sqlmodel import Session, select

from matching.learned import LearnedRanker, deal_history
from matching.offline.ranker import InvestorRanker
from models import AuditLog, DigestDelivery
from models.errors import NotFoundError
from services.digests.service import DigestPolicy, run_digest_period
from services.recommendations import service
from services.recommendations.nightly import rerank_open_demands
from services.recommendations.published import publish, published_models, use_model
from tests import factories
from tests.matching.deals import synthetic_deals
from tests.workers.helpers import T0, subscription

AT = datetime(2025, 3, 1, tzinfo=UTC)


def trained(seed: int) -> LearnedRanker:
    history = deal_history(synthetic_deals(20, 200, seed=seed))
    ids = np.array([int(k) for k in history.investor_keys.tolist()], dtype=np.int64)
    ranker = InvestorRanker(max_iter=10, n_windows=2, min_leaf_samples=5, random_state=seed)
    return LearnedRanker(ranker.fit(history), ids)


def versions_in_use(session: Session, demand_id: int) -> set[str]:
    """The model version each caller ranks with: a recommendation, the nightly re-rank and a
    digest (ordered by the core)."""
    rec = service.recommend_for_demand(session, demand_id, today=T0.date())
    nightly = rerank_open_demands(session, T0).details["model_version"]
    return {rec.model_version, str(nightly)}


def test_a_published_model_is_served_to_every_caller_and_rolls_back(
    session: Session, tmp_path: Path
) -> None:
    bank = factories.institution(session, kind="bank", regions_served=["4403"])
    factories.loan_product(session, bank, min_amount_wan=100, max_amount_wan=1000)
    demand = factories.demand(session, factories.enterprise(session), updated_at=T0)
    subscription(session, bank)
    assert versions_in_use(session, demand.id or 0) == {"rules-1"}

    first = publish(session, trained(1), tmp_path, {"recall10_learned": 0.3}, 240, 60, AT)
    second = publish(session, trained(2), tmp_path, {"recall10_learned": 0.32}, 260, 66, AT)
    assert first.version != second.version and Path(second.path).exists()
    assert versions_in_use(session, demand.id or 0) == {second.version}
    policy = DigestPolicy(rank_with_core=True)
    run_digest_period(session, "2025-03-03", T0, policy)
    [delivery] = session.exec(select(DigestDelivery)).all()
    assert delivery.model_version == second.version
    assert [m.version for m in published_models(session) if m.served] == [second.version]

    assert use_model(session, first.version, actor="tester", at=AT) == first.version
    assert versions_in_use(session, demand.id or 0) == {first.version}
    assert use_model(session, "rules", actor="tester", at=AT) == "rules-1"
    assert versions_in_use(session, demand.id or 0) == {"rules-1"}
    serves = session.exec(select(AuditLog).where(AuditLog.action == "serve")).all()
    assert len(serves) == 2


def test_an_unknown_version_is_refused_and_nothing_changes(
    session: Session, tmp_path: Path
) -> None:
    served = publish(session, trained(3), tmp_path, {}, 240, 60, AT)
    with pytest.raises(NotFoundError, match="未发布"):
        use_model(session, "ltr-0000000000", actor="tester", at=AT)
    assert [m.version for m in published_models(session) if m.served] == [served.version]


def test_a_model_published_under_a_relative_folder_is_read_from_anywhere(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bank = factories.institution(session, kind="bank", regions_served=["4403"])
    factories.loan_product(session, bank, min_amount_wan=100, max_amount_wan=1000)
    demand = factories.demand(session, factories.enterprise(session), updated_at=T0)
    monkeypatch.chdir(tmp_path)
    row = publish(session, trained(4), Path("var/models"), {}, 240, 60, AT)
    assert Path(row.path) == tmp_path / "var" / "models" / row.version / "ranker.pkl"
    monkeypatch.chdir("/")  # the server or a worker started elsewhere
    assert versions_in_use(session, demand.id or 0) == {row.version}
