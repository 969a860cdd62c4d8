"""Fixture files built in the tests: CSV in several encodings, xlsx with titles and merged headers."""

import csv
import io
import tracemalloc
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models import AuditLog, Enterprise, ImportBatch, ImportRow


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


def huge_cell_xlsx(
    path: Path, filler: bytes, repeat: int, *, shared: bool = False, runs: bool = False
) -> Path:
    """An enterprise sheet whose one name cell holds `filler` × `repeat` (UTF-8 bytes of XML text).

    The text sits inline in the sheet, or (`shared`) in the shared strings; with `runs` each
    `filler` is a rich-text run of its own. Parts are written as they are deflated, so a test
    builds a 200 MB cell in a 200 KB file without ever holding it.
    """
    base = write_xlsx(path.with_name(path.stem + "-base.xlsx"),
                      {"企业": [["企业名称", "统一社会信用代码"], ["PLACEHOLDER", "x"]]})  # fmt: skip
    with zipfile.ZipFile(base) as zf:
        parts = {name: zf.read(name) for name in zf.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    piece = b"<r><t>" + filler + b"</t></r>" if runs else filler
    cell = b'<c r="A2" t="inlineStr"><is><t>PLACEHOLDER</t></is></c>'
    huge = "xl/sharedStrings.xml" if shared else sheet
    if shared:
        parts[sheet] = parts[sheet].replace(cell, b'<c r="A2" t="s"><v>0</v></c>')
        parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
            b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
            b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')  # fmt: skip
        ns = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
        head = b'<sst xmlns="' + ns + b'" count="1" uniqueCount="1"><si>'
        parts[huge] = head + (b"" if runs else b"<t>") + b"PLACEHOLDER"
        parts[huge] += (b"" if runs else b"</t>") + b"</si></sst>"
    elif runs:
        parts[sheet] = parts[sheet].replace(
            cell, b'<c r="A2" t="inlineStr"><is>PLACEHOLDER</is></c>'
        )
    before, after = parts[huge].split(b"PLACEHOLDER")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, data in parts.items():
            if name != huge:
                zf.writestr(name, data)
                continue
            with zf.open(name, "w") as out:
                out.write(before)
                for _ in range(repeat):
                    out.write(piece)
                out.write(after)
    base.unlink()
    return path


def understate_size(path: Path, part: str, claimed: int) -> Path:
    """Rewrite the zip headers of `part` to claim `claimed` uncompressed bytes (a lying header)."""
    data = bytearray(path.read_bytes())
    name = part.encode()
    local = data.find(b"PK\x03\x04")
    while local >= 0:
        size = int.from_bytes(data[local + 26 : local + 28], "little")
        if data[local + 30 : local + 30 + size] == name:
            data[local + 22 : local + 26] = claimed.to_bytes(4, "little")
        local = data.find(b"PK\x03\x04", local + 4)
    central = data.find(b"PK\x01\x02")
    while central >= 0:
        size = int.from_bytes(data[central + 28 : central + 30], "little")
        if data[central + 46 : central + 46 + size] == name:
            data[central + 24 : central + 28] = claimed.to_bytes(4, "little")
        central = data.find(b"PK\x01\x02", central + 4)
    path.write_bytes(bytes(data))
    return path


def table_counts(engine: Engine) -> dict[str, int]:
    """Rows of the tables an import writes: a refused import leaves them as they were."""
    with Session(engine) as session:
        return {m.__name__: session.exec(select(func.count()).select_from(m)).one()
                for m in (ImportBatch, ImportRow, Enterprise, AuditLog)}  # fmt: skip


def peak_mib(action: Any) -> float:
    """The peak of memory traced (MiB) while `action` runs."""
    tracemalloc.start()
    try:
        action()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak / (1 << 20)
