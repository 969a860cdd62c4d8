"""The service on real rows (SQLite and PostgreSQL): recommend, digest order, pairs, training."""

from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pytest
from sqlmodel import Session

from matching import service
from models.errors import NotFoundError
from models.reference import FinancingType, InstitutionKind, PipelineStage, Stage
from tests import factories as f

TODAY = date(2025, 6, 1)


@pytest.fixture
def center(session: Session) -> dict[str, int]:
    ent = f.enterprise(session, business_scope="软件开发；人工智能应用软件开发；信息系统集成服务")
    bank = f.institution(session, kind=InstitutionKind.bank, focus="科技信贷 信用贷款")
    fits = f.loan_product(session, bank, name="科技贷", required_qualifications=["high_tech"])
    picky = f.loan_product(
        session, bank, name="专精特新贷", required_qualifications=["specialized"]
    )
    far = f.institution(session, kind=InstitutionKind.bank, regions_served=["11"])
    f.loan_product(session, far, name="京科贷")
    gone = f.institution(session, kind=InstitutionKind.bank, agreement_end=date(2024, 12, 31))
    f.loan_product(session, gone, name="旧产品")
    vc = f.institution(session, focus="人工智能 软件 大数据")
    f.mandate(session, vc, sectors=["I65"], stages=[Stage.growth])
    dem = f.demand(session, ent)
    session.flush()
    ids = {"enterprise": ent.id, "bank": bank.id, "fits": fits.id, "picky": picky.id}
    return ids | {"demand": dem.id, "far": far.id, "gone": gone.id, "vc": vc.id}  # type: ignore[operator]


def test_recommend_ranks_eligible_products_with_reasons(
    session: Session, center: dict[str, int]
) -> None:
    rec = service.recommend_for_demand(session, center["demand"], k=5, today=TODAY)
    assert rec.model_version == "rules-1"
    assert [(i.institution_id, i.product_id) for i in rec.items] == [
        (center["bank"], center["fits"])
    ]
    top = rec.items[0]
    assert top.rank == 1 and 0 < top.score <= 1
    assert {r.code for r in top.reasons} >= {"ticket", "region", "stage"}
    misses = {m.product_id: [x.text for x in m.failures] for m in rec.near_misses}
    assert misses[center["picky"]] == ["不满足：需专精特新中小企业资质"]
    assert ["超出服务区域（服务范围：北京市）"] in misses.values()
    as_json = rec.to_dict()
    assert as_json["items"][0]["reasons"][0]["text"]  # type: ignore[index]


def test_equity_demands_get_mandates(session: Session, center: dict[str, int]) -> None:
    ent = f.enterprise(session)
    dem = f.demand(session, ent, financing_type=FinancingType.equity, amount_min_wan=800.0,
                   amount_max_wan=1500.0, round_stage=Stage.growth)  # fmt: skip
    rec = service.recommend_for_demand(session, dem.id or 0, today=TODAY)
    assert [i.institution_id for i in rec.items] == [center["vc"]]
    assert rec.items[0].kind == "equity"


def test_candidates_already_in_the_pipeline_are_left_out(
    session: Session, center: dict[str, int]
) -> None:
    dem = session.get(service.FinancingDemand, center["demand"])
    bank = session.get(service.Institution, center["bank"])
    assert dem is not None and bank is not None
    f.match(session, dem, bank, loan_product_id=center["fits"])
    rec = service.recommend_for_demand(session, center["demand"], today=TODAY)
    assert rec.items == []


def test_unknown_demand_is_not_found(session: Session, center: dict[str, int]) -> None:
    with pytest.raises(NotFoundError):
        service.recommend_for_demand(session, 987654, today=TODAY)


def test_digest_order_for_an_institution(session: Session, center: dict[str, int]) -> None:
    ent = f.enterprise(session)
    big = f.demand(session, ent, amount_min_wan=5000.0, amount_max_wan=8000.0)
    ids, scores = service.rank_demands_for_institution(
        session, center["bank"], [big.id or 0, center["demand"]], today=TODAY
    )
    assert ids.tolist() == [center["demand"]]  # the 5,000 万元 demand exceeds every product
    assert np.isfinite(scores).all()


def test_score_pairs_for_roadshows(session: Session, center: dict[str, int]) -> None:
    lonely = f.enterprise(session)
    m = service.score_pairs(
        session, [center["enterprise"], lonely.id or 0], [center["bank"], center["vc"], center["gone"]],
        today=TODAY,
    )  # fmt: skip
    assert m.shape == (2, 3)
    assert m[0, 0] > 0 and m[0, 2] == 0  # the expired agreement never scores
    assert m[1, 1] > 0  # without a demand the enterprise still gets a (mixed) profile


def test_train_falls_back_with_few_outcomes(
    session: Session, center: dict[str, int], tmp_path: Path
) -> None:
    dem = session.get(service.FinancingDemand, center["demand"])
    bank = session.get(service.Institution, center["bank"])
    assert dem is not None and bank is not None
    f.match(session, dem, bank, loan_product_id=center["fits"], stage=PipelineStage.closed_won,
            recommended_at=datetime(2025, 2, 1, tzinfo=UTC))  # fmt: skip
    report = service.train_reranker(session, tmp_path / "models", today=TODAY)
    assert report.fallback_reason and "继续使用规则排序" in report.fallback_reason
    assert report.version == "rules-1" and report.n_outcomes == 1
    assert not (tmp_path / "models").exists()
    assert isinstance(service.load_ranker(tmp_path / "models"), service.RulesRanker)
