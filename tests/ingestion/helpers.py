"""Fixture files built in the tests: CSV in several encodings, xlsx with titles and merged headers."""

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook


def write_csv(
    path: Path, rows: Sequence[Sequence[Any]], encoding: str = "utf-8", sep: str = ","
) -> Path:
    """Write rows as delimited text in `encoding`, quoted as Excel does."""
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=sep).writerows(
        [["" if c is None else c for c in row] for row in rows]
    )
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_xlsx(
    path: Path,
    sheets: dict[str, Sequence[Sequence[Any]]],
    merges: dict[str, list[str]] | None = None,
) -> Path:
    """Write one worksheet per entry; `merges` lists ranges such as 'A1:F1' per sheet."""
    workbook = Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(list(row))
        for cell_range in (merges or {}).get(name, []):
            sheet.merge_cells(cell_range)
    workbook.save(path)
    return path
