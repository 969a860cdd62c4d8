"""`export` round-trips: every exported id and amount matches the database."""

import csv
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select

from models import Deal, FinancingDemand, LoanProduct
from models.errors import DomainError
from models.export import EXPORTABLE, export_table
from tests import factories


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
