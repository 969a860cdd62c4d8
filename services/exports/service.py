"""Export the main tables as CSV or xlsx, columns named as the model fields, ids included."""

import csv
import json
from collections.abc import Callable, Iterator
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from sqlmodel import Session, SQLModel

from ingestion.safe_cells import append_row, csv_row
from models import (
    Deal,
    DigestDelivery,
    Enterprise,
    Event,
    FinancingDemand,
    ImportRow,
    Institution,
    InvestmentMandate,
    ListingRecord,
    LoanProduct,
    Match,
)
from models.errors import DomainError
from services.exports import repository as repo

EXPORTABLE: dict[str, type[SQLModel]] = {
    "enterprises": Enterprise,
    "demands": FinancingDemand,
    "listing": ListingRecord,
    "institutions": Institution,
    "products": LoanProduct,
    "mandates": InvestmentMandate,
    "matches": Match,
    "deals": Deal,
    "events": Event,
    "import-rows": ImportRow,
    "digest-deliveries": DigestDelivery,
}
# Secrets and hashes never leave the database through an export.
EXCLUDED_FIELDS = frozenset({"webhook_secret", "password_hash", "key_hash"})


def export_columns(model_cls: type[SQLModel]) -> list[str]:
    """The exported column names: the model's fields in declaration order, `id` first."""
    names = [n for n in model_cls.model_fields if n not in EXCLUDED_FIELDS]
    return ["id", *[n for n in names if n != "id"]]


def _cell(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def iter_rows(
    session: Session, model_cls: type[SQLModel], filters: dict[str, Any] | None = None
) -> Iterator[list[Any]]:
    """Rows of `model_cls` in id order as plain cells, streamed in chunks."""
    columns = export_columns(model_cls)
    for obj in repo.rows_in_id_order(session, model_cls, filters):
        yield [_cell(getattr(obj, c)) for c in columns]


def export_table(
    session: Session,
    kind: str,
    out: Path,
    fmt: str = "csv",
    filters: dict[str, Any] | None = None,
) -> int:
    """Write table `kind` to `out` as csv (UTF-8 with BOM, opens in Excel) or xlsx; return rows."""
    if kind not in EXPORTABLE:
        raise DomainError(f"未知的导出类型“{kind}”，可选：{'、'.join(EXPORTABLE)}", field="kind")
    model_cls = EXPORTABLE[kind]
    header, rows = export_columns(model_cls), iter_rows(session, model_cls, filters)
    return write_rows(header, rows, out, fmt, sheet=kind)


def write_rows(
    header: list[str], rows: Iterator[list[Any]], out: Path, fmt: str, *, sheet: str
) -> int:
    """Write `header` and `rows` to `out` as csv (UTF-8 with BOM, opens in Excel) or xlsx."""
    if fmt not in ("csv", "xlsx"):
        raise DomainError(f"不支持的格式“{fmt}”，可选：csv、xlsx", field="format")
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        with out.open("w", newline="", encoding="utf-8-sig") as fh:
            writer = csv.writer(fh)
            return _write(header, rows, lambda cells: writer.writerow(csv_row(cells)))
    workbook = Workbook(write_only=True)
    data = workbook.create_sheet(title=sheet[:31])
    count = _write(header, rows, lambda cells: append_row(data, cells))
    workbook.save(out)
    return count


def _write(header: list[str], rows: Iterator[list[Any]], write: Callable[[list[Any]], Any]) -> int:
    """Write the header, then every row; return the number of rows."""
    write(header)
    count = 0
    for row in rows:
        write(row)
        count += 1
    return count
