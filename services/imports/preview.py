"""What an import would read, before it loads: mapped columns, the first rows, the warnings.

A preview opens and parses the whole file exactly as `import_file` does (the same readers,
header mapping and converters) but touches no database: refusing or abandoning a previewed file
leaves everything as it was. What only loading can tell (a row's enterprise is unknown, a name
is close to another's) shows in the batch summary afterwards.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingestion.headers import SYNONYMS, HeaderMap
from ingestion.readers import Sheet, open_source
from ingestion.validate import ParsedRow, RowParser, RowWarning
from models.reference import ImportKind
from services.imports.load import CHUNK_SIZE
from services.imports.service import as_kind, batch_kind, checked_header

#: Rows a preview shows of each sheet.
PREVIEW_ROWS = 10


@dataclass(slots=True)
class ColumnPreview:
    """A header cell and the field it was mapped to (None: not imported)."""

    label: str
    field: str | None
    field_label: str | None
    fuzzy: bool = False


@dataclass(slots=True)
class RowPreview:
    """One of the first rows: its number, its mapped cells, and what loading it would do."""

    number: int
    cells: list[Any]
    problems: str | None


@dataclass(slots=True)
class SheetPreview:
    """One sheet's mapping, first rows and counts."""

    name: str
    columns: list[ColumnPreview]
    rows: list[RowPreview] = field(default_factory=list)
    rows_read: int = 0
    rows_refused: int = 0


@dataclass(slots=True)
class ImportPreview:
    """The preview of one file: its kind, its sheets, every warning of its rows, notes."""

    file_name: str
    kind: str
    sheets: list[SheetPreview] = field(default_factory=list)
    warnings: list[RowWarning] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def kind_label(self) -> str:
        """The kind's Chinese name."""
        return ImportKind(self.kind).label


def preview_file(path: Path, kind: ImportKind | str | None = None) -> ImportPreview:
    """Read `path` as `import_file` would, without loading it (no database is opened).

    Raises `DomainError` (Chinese message) for a file that could not be imported at all.
    """
    wanted = as_kind(kind)
    source = open_source(path, wanted)
    try:
        chosen = batch_kind(source, wanted)
        sheets = [s for s in source.sheets if wanted is not None or s.kind is chosen]
        headers = [checked_header(s, chosen, {}) for s in sheets]
        preview = ImportPreview(path.name, chosen.value, notes=list(source.notes))
        for current, header in zip(sheets, headers, strict=True):
            preview.sheets.append(_sheet_preview(current, header, preview.warnings))
    finally:
        source.close()
    return preview


def _sheet_preview(current: Sheet, header: HeaderMap, warnings: list[RowWarning]) -> SheetPreview:
    names = SYNONYMS[header.kind]
    columns = [
        ColumnPreview(label, header.fields.get(i), _field_label(names, header.fields.get(i)),
                      label in header.fuzzy)
        for i, label in enumerate(header.labels)
    ]  # fmt: skip
    shown = SheetPreview(current.name or "(CSV)", columns)
    parser = RowParser(current.name, header)
    while chunk := list(itertools.islice(current.rows, CHUNK_SIZE)):
        for row in parser.parse_many(chunk):
            _count(shown, row, warnings)
    return shown


def _count(shown: SheetPreview, row: ParsedRow, warnings: list[RowWarning]) -> None:
    shown.rows_read += 1
    shown.rows_refused += bool(row.problems)
    warnings.extend(row.warnings)
    if len(shown.rows) < PREVIEW_ROWS:
        cells = [row.raw.get(c.label) for c in shown.columns]
        shown.rows.append(RowPreview(row.number, cells, row.reason() if row.problems else None))


def _field_label(names: dict[str, tuple[str, ...]], name: str | None) -> str | None:
    return names[name][0] if name in names else None
