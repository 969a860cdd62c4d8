"""The service on real rows (SQLite and PostgreSQL): recommend, digest order, training."""

import importlib.util
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

import models
from matching.rank import RulesRanker
from models.data_version import COUNTED_TABLES
from models.db import make_engine
from models.errors import NotFoundError
from models.migrate import MIGRATIONS_DIR
from models.reference import FinancingType, InstitutionKind, PipelineStage, Stage
from services.audit.repository import append_audit
from services.recommendations import repository, service
from services.recommendations.published import served_ranker
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
    return ids | {"demand": dem.id, "far": far.id, "gone": gone.id, "vc": vc.id}  # type: ignore[return-value]


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
    dem = session.get(models.FinancingDemand, center["demand"])
    bank = session.get(models.Institution, center["bank"])
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
    ranked = service.rank_demands_for_institutions(
        session, [center["bank"]], [big.id or 0, center["demand"]], today=TODAY
    )
    ids, scores = ranked[center["bank"]]
    assert ids.tolist() == [center["demand"]]  # the 5,000 万元 demand exceeds every product
    assert np.isfinite(scores).all()


def test_train_falls_back_with_few_deals(
    session: Session, center: dict[str, int], tmp_path: Path
) -> None:
    dem = session.get(models.FinancingDemand, center["demand"])
    bank = session.get(models.Institution, center["bank"])
    assert dem is not None and bank is not None
    f.match(session, dem, bank, loan_product_id=center["fits"], stage=PipelineStage.closed_won,
            recommended_at=datetime(2025, 2, 1, tzinfo=UTC))  # fmt: skip
    report = service.train_reranker(session, tmp_path / "models", today=TODAY)
    assert report.fallback_reason and "继续使用规则排序" in report.fallback_reason
    assert report.version == "rules-1" and "已确认成交" in report.fallback_reason
    assert not (tmp_path / "models").exists()
    assert isinstance(served_ranker(session), RulesRanker)


def _committed_center(path: Path) -> tuple[Engine, int, int]:
    """A file database with a bank, its product and a demand, committed: (engine, bank, demand)."""
    engine = make_engine(f"sqlite:///{path}")
    models.metadata.create_all(engine)
    with Session(engine) as s:
        bank = f.institution(s, kind=InstitutionKind.bank, focus="科技信贷")
        f.loan_product(s, bank, name="科技贷")
        demand_id = f.demand(s, f.enterprise(s)).id or 0
        s.commit()
        return engine, bank.id or 0, demand_id


def test_the_index_is_built_once_then_advanced_by_what_changed(tmp_path: Path) -> None:
    engine, bank, demand_id = _committed_center(tmp_path / "center.sqlite")
    cache = service.IndexCache()
    with Session(engine) as s:
        first = cache.index(s)
        assert cache.index(s) is first and (cache.loads, cache.refreshes) == (1, 0)
    with Session(engine) as s:
        dem = s.get(models.FinancingDemand, demand_id)
        inst = s.get(models.Institution, bank)
        assert dem is not None and inst is not None
        f.match(s, dem, inst, stage=PipelineStage.meeting)
        f.enterprise(s)  # enterprises are not part of the index
        s.commit()
    with Session(engine) as s:
        advanced = cache.index(s)
    assert (cache.loads, cache.refreshes) == (1, 1)  # read again: the new match only
    assert advanced.pipeline.institution_id.tolist() == [bank]
    assert advanced.catalog is first.catalog and advanced.deals is first.deals


def test_a_writing_transaction_sees_its_changes_without_keeping_them(tmp_path: Path) -> None:
    engine, bank, _ = _committed_center(tmp_path / "center.sqlite")
    cache = service.IndexCache()
    with Session(engine) as s:
        kept = cache.index(s)
        product = f.loan_product(s, s.get(models.Institution, bank), name="新产品")  # type: ignore[arg-type]
        s.flush()
        mine = cache.index(s)
        assert product.id in [p.id for p in mine.catalog.products[bank]]
        s.rollback()
    with Session(engine) as s:
        assert cache.index(s) is kept


def test_an_edited_product_changes_the_index_version(
    session: Session, center: dict[str, int]
) -> None:
    before = repository.index_version(session)
    product = session.get(models.LoanProduct, center["fits"])
    assert product is not None
    product.active = False
    session.add(product)
    session.flush()
    assert repository.index_version(session).catalog != before.catalog
    rec = service.recommend_for_demand(session, center["demand"], today=TODAY)
    assert center["fits"] not in [i.product_id for i in rec.items]


def test_the_cache_is_bounded_and_expires(tmp_path: Path) -> None:
    now = [0.0]
    cache = service.IndexCache(maxsize=2, ttl_seconds=10.0, clock=lambda: now[0])
    engines = [_committed_center(tmp_path / f"c{i}.sqlite")[0] for i in range(3)]

    def index(i: int) -> object:
        with Session(engines[i]) as s:
            return cache.index(s)

    first = [index(i) for i in range(3)]
    assert cache.loads == 3 and index(2) is first[2]  # kept
    assert index(0) is not first[0]  # LRU evicted the first database's
    assert cache.loads == 4
    now[0] = 11.0
    assert index(2) is not first[2]  # past its time to live


def test_concurrent_recommendations_share_one_load(tmp_path: Path) -> None:
    engine, _, demand_id = _committed_center(tmp_path / "center.sqlite")
    cache = service._CACHE
    cache.clear()
    before = cache.loads

    def recommend(_: int) -> list[tuple[int, int]]:
        with Session(engine) as own:  # one session per client, as the API does
            rec = service.recommend_for_demand(own, demand_id, today=TODAY)
        return [(i.institution_id, i.product_id) for i in rec.items]

    with ThreadPoolExecutor(8) as pool:
        lists = list(pool.map(recommend, range(16)))
    assert cache.loads == before + 1
    assert all(x == lists[0] for x in lists) and lists[0]


def test_batch_digest_order_equals_one_institution_at_a_time(
    session: Session, center: dict[str, int]
) -> None:
    ent = f.enterprise(session)
    other = f.demand(session, ent, amount_min_wan=200.0, amount_max_wan=400.0)
    demands = [center["demand"], other.id or 0]
    insts = [center["bank"], center["vc"], center["gone"]]
    many = service.rank_demands_for_institutions(session, insts, demands, today=TODAY)
    for inst in insts:
        ids, scores = service.rank_demands_for_institutions(session, [inst], demands, today=TODAY)[
            inst
        ]
        assert ids.tolist() == many[inst][0].tolist()
        assert np.allclose(scores, many[inst][1])
    assert many[center["gone"]][0].size == 0


def test_nightly_rerank_ranks_every_open_demand(session: Session, center: dict[str, int]) -> None:
    result = service.rerank_open_demands(session, today=TODAY, k=3)
    assert center["demand"] in result.demand_ids.tolist()
    row = result.demand_ids.tolist().index(center["demand"])
    assert (result.institution_ids[row, 0], result.product_ids[row, 0]) == (
        center["bank"], center["fits"],
    )  # fmt: skip
    assert result.institution_ids.shape == (len(result.demand_ids), 3)
    assert "RerankResult(" in repr(result)


def _migration(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, MIGRATIONS_DIR / "versions" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MIGRATION = _migration("0005_data_version")


@pytest.mark.postgres
def test_the_postgres_change_counter_sees_every_commit_to_a_counted_table(
    postgres_engine: Engine,
) -> None:
    """A commit by another connection to a counted table gives a new version, a commit to any
    other table does not (an audited read must not throw the caches away), a write in the asking
    transaction itself makes it unclean (what it reads is not kept), and a TRUNCATE counts."""
    with Session(postgres_engine) as reader:
        first = repository.index_version(reader).counter
        reader.rollback()
        with Session(postgres_engine) as writer:
            append_audit(writer, actor="t", action="read", entity="enterprise", entity_id=1)
            writer.commit()
        assert repository.index_version(reader).counter == first  # the audit log is not counted
        reader.rollback()
        with Session(postgres_engine) as writer:
            f.enterprise(writer)
            writer.commit()
        second = repository.index_version(reader).counter
        assert second != first
        reader.rollback()
        f.enterprise(reader)  # written, not committed: what it reads is not kept
        assert not repository.index_version(reader).clean
        reader.rollback()
        assert repository.index_version(reader).counter == second
        reader.rollback()  # else the TRUNCATE waits for this transaction's share lock
        with Session(postgres_engine) as cleanup:
            cleanup.execute(text("TRUNCATE enterprise, audit_log RESTART IDENTITY CASCADE"))
            cleanup.commit()
        assert repository.index_version(reader).counter != second


@pytest.mark.postgres
def test_every_table_the_world_is_read_from_is_counted(postgres_engine: Engine) -> None:
    """The counter's triggers cover exactly the tables the aggregates version (a table added to
    one list and not the other would let a cache serve a stale world)."""
    versioned = {model.__tablename__ for model in repository.VERSIONED}
    assert versioned == set(COUNTED_TABLES) == set(MIGRATION.TABLES)
    with Session(postgres_engine) as session:
        rows = session.execute(text(
            "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            " WHERE t.tgname IN ('data_change', 'data_truncate')"
        )).all()  # fmt: skip
    assert {(table, kind) for table, kind in rows} == {
        (table, kind) for table in versioned for kind in ("data_change", "data_truncate")
    }
