"""The starter catalogue of real measures, and the all-or-nothing catalogue import."""

import csv
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import Session, select

from models import Policy
from services.imports.catalogue import (
    STARTER_CATALOGUE,
    CatalogueRefused,
    import_catalogue,
    load_starter,
)
from services.policy.service import match_enterprise
from tests import factories as f


def test_the_starter_catalogue_loads_real_measures_all_to_verify(session: Session) -> None:
    summary = load_starter(session, "tester")
    rows = session.exec(select(Policy)).all()
    assert summary.inserted == len(rows) >= 30 and summary.quarantined == 0
    assert all(p.to_verify and p.document_no for p in rows)
    assert not any("示例" in p.issuer or "测试" in p.issuer for p in rows)
    numbers = {p.document_no for p in rows}
    for known in ("财政部 税务总局公告2023年第7号", "财税〔2018〕55号", "国科发火〔2016〕32号",
                  "工信部企业〔2022〕63号", "财建〔2021〕2号", "国科发政〔2017〕115号"):  # fmt: skip
        assert known in numbers
    assert {p.level.value for p in rows} == {"national", "provincial"}
    assert load_starter(session, "tester").unchanged == len(rows)  # a refresh changes nothing


def test_a_quantified_and_an_unquantified_measure_in_a_match(session: Session) -> None:
    load_starter(session, "tester")
    ent = f.enterprise(session, rd_expense_wan=400.0, qualifications=["high_tech"])
    found = match_enterprise(session, ent.id or 0, date(2026, 6, 1)).items
    fits = {fit.title: fit for fit in found}
    assert fits["研发费用税前加计扣除(100%)"].benefit_wan == 100.0
    rule = fits["高新技术企业认定管理办法"]
    assert rule.benefit_wan is None and "不测算金额" in rule.benefit_text
    assert "支持“专精特新”中小企业高质量发展" not in fits  # ended 2025-12-31: out of force


def test_a_catalogue_with_one_bad_row_stores_nothing(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "目录.csv"
    with STARTER_CATALOGUE.open(encoding="utf-8") as source:
        rows = list(csv.reader(source))
    rows[3][2] = "乡级"  # the third measure's level
    with path.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows(rows)
    with pytest.raises(CatalogueRefused) as refused:
        import_catalogue(session, path, "tester")
    assert len(refused.value.reasons) == 1 and "第4行" in refused.value.message
    assert "政策层级" in refused.value.message and "未导入任何政策" in refused.value.message
    assert session.exec(select(Policy)).all() == []
