"""Quarantined rows back out as an .xlsx the submitter can fix and import again.

The workbook repeats the original header (the columns as they were read, in order), one row per
quarantined row with its original values, plus '原行号' and '隔离原因' at the end. The importer
recognises and ignores those two columns, so the fixed file re-imports as it is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from ingestion.safe_cells import append_row
from models import ImportRow

REASON_COLUMN = "隔离原因"
ROW_COLUMN = "原行号"


def _header(rows: list[ImportRow]) -> list[str]:
    header: list[str] = []
    for row in rows:
        header.extend(k for k in row.raw if k not in header)
    return header


def write_quarantine(rows: list[ImportRow], batch_id: int, out: Path) -> int:
    """Write a batch's quarantined rows to `out` (.xlsx); return how many were written."""
    header = _header(rows)
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = f"隔离数据-批次{batch_id}"[:31]
    append_row(sheet, [*header, ROW_COLUMN, REASON_COLUMN])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.cell(row=1, column=len(header) + 2).fill = PatternFill("solid", fgColor="FFF2CC")
    for row in rows:
        values: list[Any] = [row.raw.get(name) for name in header]
        append_row(sheet, [*values, _where(row), row.reason])
    sheet.freeze_panes = "A2"
    out.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(out)
    return len(rows)


def _where(row: ImportRow) -> str:
    return f"{row.sheet}!{row.row_number}" if row.sheet else str(row.row_number)
