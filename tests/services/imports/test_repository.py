"""The bulk reads and writes of imports (`services.imports.repository`): constraints, narrowed reads."""

import random
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, StatementError
from sqlmodel import Session

from ingestion.uscc import make_uscc
from models import DuplicateCandidate, Enterprise, FinancingDemand
from models.base import utcnow
from models.reference import DemandStatus, FinancingType
from services.imports.repository import insert_rows as bulk_insert
from services.imports.repository import select_in
from services.imports.service import import_file
from tests.ingestion.helpers import write_csv


def _enterprise(session: Session) -> int:
    ent = Enterprise(legal_name="深圳市华芯科技有限公司", normalized_name="华芯科技")
    session.add(ent)
    session.flush()
    assert ent.id is not None
    return ent.id


def _demand(ent_id: int, **changes: Any) -> dict[str, Any]:
    now = utcnow()
    row = {"enterprise_id": ent_id, "financing_type": FinancingType.loan, "amount_min_wan": 100.0,
           "amount_max_wan": 500.0, "collateral_offered": [], "status": DemandStatus.open,
           "confidentiality": "teaser", "created_at": now, "updated_at": now}  # fmt: skip
    return row | changes


def test_check_constraints_still_hold_for_bulk_inserts(session: Session) -> None:
    table: Any = FinancingDemand.__table__  # type: ignore[attr-defined]
    ent_id = _enterprise(session)
    bulk_insert(session, table, [_demand(ent_id, source_ref="A"), _demand(ent_id, source_ref="B")])
    with pytest.raises(IntegrityError, match="amount_order"), session.begin_nested():
        bulk_insert(session, table, [_demand(ent_id), _demand(ent_id, amount_min_wan=900.0)])
    with pytest.raises((StatementError, LookupError)), session.begin_nested():
        bulk_insert(session, table, [_demand(ent_id, status="lost")])
    with pytest.raises(IntegrityError), session.begin_nested():
        session.connection().execute(table.insert(), [_demand(ent_id, amount_min_wan=-1.0)])
    refs = session.execute(select(table.c.source_ref).order_by(table.c.id)).scalars().all()
    assert refs == ["A", "B"]


def test_a_narrowed_read_keeps_empty_and_listed_values(session: Session) -> None:
    table: Any = FinancingDemand.__table__  # type: ignore[attr-defined]
    ent_id = _enterprise(session)
    bulk_insert(session, table, [_demand(ent_id, source_ref=r) for r in ("A", "B", None, "")])
    rows = select_in(
        session,
        table,
        ("id", "source_ref"),
        "enterprise_id",
        [ent_id],
        narrow=("source_ref", ["B"]),
    )
    assert sorted(r["source_ref"] or "-" for r in rows) == ["-", "-", "B"]
    none = select_in(
        session, table, ("id", "source_ref"), "enterprise_id", [ent_id], narrow=("source_ref", [])
    )
    assert len(none) == 2


def test_select_in_processes_columns_as_sqlalchemy_does(session: Session) -> None:
    """Dates and enums are processed once per distinct value; JSON lists stay one per row."""
    table: Any = FinancingDemand.__table__  # type: ignore[attr-defined]
    ent_id = _enterprise(session)
    day = date(2024, 3, 1)
    rows = [
        _demand(ent_id, source_ref=r, deadline=d) for r, d in (("A", day), ("B", day), ("C", None))
    ]
    bulk_insert(session, table, rows)
    columns = ("id", "source_ref", "deadline", "status", "collateral_offered")
    read = select_in(session, table, columns, "enterprise_id", [ent_id])
    expected = session.execute(
        select(*(table.c[c] for c in columns)).where(table.c.enterprise_id == ent_id)
    ).all()
    assert sorted(tuple(r.values()) for r in read) == sorted(tuple(r) for r in expected)
    first, second, third = sorted(read, key=lambda r: r["id"])
    assert (first["deadline"], second["deadline"], third["deadline"]) == (day, day, None)
    assert first["collateral_offered"] == [] == second["collateral_offered"]
    assert first["collateral_offered"] is not second["collateral_offered"]


def test_a_known_uscc_wins_over_a_look_alike_name(session: Session, tmp_path: Path) -> None:
    """A row found by its USCC needs no 字号 block: it is not compared with names at all."""
    rng = random.Random(3)
    code = make_uscc(rng, "440305")
    header = ["企业名称", "统一社会信用代码", "拟融资金额（万元）", "融资方式", "需求编号"]
    first = [header, ["深圳市华芯科技有限公司", code, "500", "信用贷款", "XQ1"],
             ["深圳市华芯电子有限公司", "", "300", "股权融资", "XQ2"]]  # fmt: skip
    import_file(session, write_csv(tmp_path / "a.csv", first))
    pairs = session.execute(select(DuplicateCandidate)).scalars().all()
    second = [header, ["深圳市华芯光电有限公司", code, "800", "信用贷款", "XQ3"]]
    summary = import_file(session, write_csv(tmp_path / "b.csv", second))
    assert (summary.inserted, summary.review, summary.related) == (
        1, 0, {"enterprises_updated": 1},
    )  # fmt: skip
    assert len(session.execute(select(DuplicateCandidate)).scalars().all()) == len(pairs)
