"""The bulk reads and writes of the load path: CHECK constraints, raw-cell JSON, narrowed reads."""

import json
import random
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, select
from sqlalchemy.exc import IntegrityError, StatementError
from sqlmodel import Session

from ingestion.bulk import bulk_insert
from ingestion.load import TableStore
from ingestion.raw_json import encode_raw, encode_rows, json_safe
from ingestion.reads import select_in
from ingestion.sqlite_checks import checks_ignored, parse_check_clauses
from ingestion.uscc import make_uscc
from models import DuplicateCandidate, Enterprise, FinancingDemand
from models.base import utcnow
from models.reference import DemandStatus, FinancingType
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
    # SQLite checks again as usual afterwards (the pragma is put back).
    with pytest.raises(IntegrityError), session.begin_nested():
        session.connection().execute(table.insert(), [_demand(ent_id, amount_min_wan=-1.0)])
    refs = session.execute(select(table.c.source_ref).order_by(table.c.id)).scalars().all()
    assert refs == ["A", "B"]


def _ignoring(session: Session) -> int:
    """SQLite's `ignore_check_constraints` (0 elsewhere: other databases always check)."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return 0
    return int(connection.exec_driver_sql("PRAGMA ignore_check_constraints").scalar() or 0)


def test_inside_the_import_window_inserts_and_updates_are_still_checked(session: Session) -> None:
    """An import ignores SQLite's CHECKs for its whole load; each write verifies its own rows."""
    table: Any = FinancingDemand.__table__  # type: ignore[attr-defined]
    ent_id = _enterprise(session)
    bulk_insert(session, table, [_demand(ent_id, source_ref="A")])
    demand_id = session.execute(select(table.c.id)).scalar_one()
    inside = int(session.connection().dialect.name == "sqlite")
    with checks_ignored(session.connection()):
        assert _ignoring(session) == inside
        with pytest.raises(IntegrityError, match="amount_order"), session.begin_nested():
            bulk_insert(session, table, [_demand(ent_id, amount_min_wan=900.0)])
        assert _ignoring(session) == inside  # a bulk insert inside leaves the window as it was
        store = TableStore(session, FinancingDemand)
        store.get(demand_id)
        store.apply(demand_id, {"amount_min_wan": 900.0}, fill_only=False)
        with pytest.raises(IntegrityError, match="amount_order"), session.begin_nested():
            store.flush()
        store.apply(demand_id, {"amount_min_wan": 200.0}, fill_only=False)
        store.flush()
    assert _ignoring(session) == 0
    saved = session.execute(select(table.c.amount_min_wan)).scalars().all()
    assert saved == [200.0]


def test_the_window_closes_when_an_error_leaves_it(session: Session) -> None:
    with pytest.raises(RuntimeError), checks_ignored(session.connection()):
        raise RuntimeError("a failing import")
    assert _ignoring(session) == 0
    ent_id = _enterprise(session)
    table: Any = FinancingDemand.__table__  # type: ignore[attr-defined]
    with pytest.raises(IntegrityError), session.begin_nested():
        session.connection().execute(table.insert(), [_demand(ent_id, amount_min_wan=-1.0)])


def test_an_import_leaves_sqlite_checking(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "demands.csv"
    write_csv(
        path,
        [
            ["企业名称", "融资方式", "拟融资金额（万元）"],
            ["深圳市华芯科技有限公司", "信用贷款", "300"],
        ],
    )
    import_file(session, path, user="t")
    assert _ignoring(session) == 0


def test_columns_null_in_every_row_are_still_null(session: Session) -> None:
    """The SQLite path leaves all-NULL columns out of the INSERT, unless the DDL gives a default."""
    table = Table(
        "bulk_nulls", MetaData(),
        Column("id", Integer, primary_key=True), Column("a", String(10)),
        Column("b", String(10), server_default="x"), Column("c", Integer),
    )  # fmt: skip
    table.create(session.connection())
    bulk_insert(session, table, [{"a": None, "b": None, "c": 1}, {"a": None, "b": None, "c": 2}])
    bulk_insert(session, table, [{"a": "y", "b": None, "c": None}])
    rows = session.execute(select(table.c.a, table.c.b, table.c.c).order_by(table.c.id)).all()
    assert [tuple(r) for r in rows] == [(None, None, 1), (None, None, 2), ("y", None, None)]


def test_check_clauses_are_read_with_quotes_respected() -> None:
    ddl = (
        "CREATE TABLE t (a VARCHAR(5) CHECK (a <> 'x)'), \"b(\" INTEGER, "
        "CONSTRAINT ck_t_kind CHECK (kind IN ('a', 'b(c')) ), "
        "CONSTRAINT \"ck_t_order\" CHECK ((hi >= lo) AND lo >= 0), note TEXT DEFAULT 'CHECK (1)')"
    )
    assert parse_check_clauses(ddl) == [
        ("a <> 'x)'", "a <> 'x)'"),
        ("ck_t_kind", "kind IN ('a', 'b(c')"),
        ("ck_t_order", "(hi >= lo) AND lo >= 0"),
    ]


def test_raw_cells_encode_as_json_dumps_reads_back() -> None:
    rng = random.Random(5)
    pieces = ["a", "中", '"', "\\", "\n", "\x01", "%", "%s", " ", "}", "é", "（万元）"]
    for _ in range(2000):
        labels = [f"列{i}{rng.choice(pieces)}" for i in range(rng.randint(1, 6))]
        cells: list[Any] = ["".join(rng.choices(pieces, k=rng.randint(0, 4))) for _ in labels]
        if rng.random() < 0.2:
            cells[0] = rng.choice([None, 3, 2.5, True, date(2024, 3, 1), datetime(2024, 3, 1, 9)])
        raw = dict(zip(labels, cells, strict=True))
        text = encode_raw(raw)
        assert json.loads(text) == {k: json_safe(v) for k, v in raw.items()}
        assert list(json.loads(text)) == labels
        chunk = encode_rows(labels, [cells])[0]
        assert chunk is None or chunk == text


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
