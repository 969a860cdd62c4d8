"""An xlsx package held to `ingestion.limits` before and while openpyxl reads it.

An xlsx is a zip of XML parts; openpyxl reads the shared strings, styles and workbook parts whole
and streams the worksheets, building each row's cells (and each cell's text) in memory. A 205 KB
file can thus unpack to a 200 MB cell. Two guards stand in front of it:

- **Before reading**, `check_archive` compares every part's declared size with its limit
  (`max_sheet_bytes` for worksheets, `max_part_bytes` for the rest) and its compression ratio with
  `max_compression_ratio`.
- **While reading**, every part openpyxl opens comes through `GuardedZipFile.open` as a
  `ScannedPart`: the bytes pass through expat (the C parser openpyxl's ElementTree uses too)
  before openpyxl sees them, and the first cell, shared string or row over a limit stops the read.
  So nothing past a limit is ever built, whatever the zip headers claim: the stream also counts
  its own bytes (and `zipfile` never inflates a part past its declared size; a part whose header
  understates it fails its CRC check).

A later reader (python-calamine) can keep `check_archive` and the limits as they are.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from pyexpat import ExpatError, ParserCreate
from types import TracebackType
from typing import IO, Any

from ingestion.limits import (
    MAX_CELL_CHARS,
    MAX_ROW_CELLS,
    RATIO_GRACE_BYTES,
    ImportLimits,
    cell_too_long,
    part_too_compressed,
    part_too_large,
    row_too_long,
    too_many_cells,
    where,
)

WORKSHEETS = "xl/worksheets/"
_BLOCK = 1 << 16


def part_limit(name: str, limits: ImportLimits) -> int:
    """The uncompressed bytes part `name` may hold: worksheets are streamed, the rest read whole."""
    streamed = name.startswith(WORKSHEETS) and name.count("/") == 2
    return limits.max_sheet_bytes if streamed else limits.max_part_bytes


def check_archive(archive: zipfile.ZipFile, file_name: str, limits: ImportLimits) -> None:
    """Refuse a package with a part larger, or packed tighter, than the limits allow."""
    for info in archive.infolist():
        ratio = info.file_size / max(1, info.compress_size)
        if info.file_size > RATIO_GRACE_BYTES and ratio > limits.max_compression_ratio:
            raise part_too_compressed(file_name, info.filename, ratio, limits.max_compression_ratio)
        limit = part_limit(info.filename, limits)
        if info.file_size > limit:
            raise part_too_large(file_name, info.filename, info.file_size, limit)


class GuardedZipFile(zipfile.ZipFile):
    """A zip whose parts are read through `ScannedPart`.

    It owns its file handle: closing the zip closes the file even when a reader left a part's
    stream open (openpyxl does, when a worksheet fails while it looks for the dimensions).
    """

    def __init__(self, path: Path, file_name: str, limits: ImportLimits) -> None:
        self.handle = path.open("rb")
        try:
            super().__init__(self.handle)
            check_archive(self, file_name, limits)
        except BaseException:
            self.close()
            raise
        self.file_name = file_name
        self.limits = limits
        self._titles: dict[str, str] | None = None
        self.clean: set[str] = set()  # parts read to their end within the limits

    def close(self) -> None:
        """Close the zip and its file."""
        try:
            super().close()
        finally:
            self.handle.close()

    def sheet_title(self, part: str) -> str | None:
        """The title of the worksheet stored in `part`, if it is one (for messages)."""
        if self._titles is None:
            self._titles = _sheet_titles(self)
        return self._titles.get(part)

    def open(
        self,
        name: str | zipfile.ZipInfo,
        mode: str = "r",
        pwd: bytes | None = None,
        *,
        force_zip64: bool = False,
    ) -> IO[bytes]:
        """The part, scanned as it is read (reading only; writing is never asked of it)."""
        stream = super().open(name, mode, pwd, force_zip64=force_zip64)  # type: ignore[arg-type]
        part = name.filename if isinstance(name, zipfile.ZipInfo) else name
        if mode != "r" or part in self.clean:  # openpyxl reads a sheet twice without <dimension>
            return stream
        return ScannedPart(stream, _XmlScan(self, part))  # type: ignore[return-value]


def _sheet_titles(archive: zipfile.ZipFile) -> dict[str, str]:
    """Worksheet part → sheet title, read as openpyxl reads them; {} for a package it cannot."""
    from openpyxl.packaging.manifest import Manifest
    from openpyxl.reader.workbook import WorkbookParser
    from openpyxl.xml.constants import XLSM, XLSX, XLTM, XLTX
    from openpyxl.xml.functions import fromstring

    try:
        tree: Any = fromstring(archive.read("[Content_Types].xml"))
        package: Any = Manifest.from_tree(tree)
        part = next(p for p in map(package.find, (XLSX, XLSM, XLTX, XLTM)) if p is not None)
        parser = WorkbookParser(archive, part.PartName[1:])
        parser.parse()
        return {rel.target: sheet.name for sheet, rel in parser.find_sheets()}
    except Exception:  # a damaged package: the message names the part instead
        return {}


_CELL, _STRING, _ROW = 1, 2, 3
_KINDS = {"c": _CELL, "si": _STRING, "row": _ROW}


class _XmlScan:
    """Expat over one part's bytes: the text of each cell (`c`) and shared string (`si`), the
    cells and text of each row, and the cells of the part, each against its limit.

    Text counts while inside the element, at any depth: openpyxl joins a cell's rich-text runs
    into one value, so many short runs add up to one long cell.
    """

    def __init__(self, archive: GuardedZipFile, part: str) -> None:
        self.archive, self.part, self.limits = archive, part, archive.limits
        self.parser = ParserCreate()
        self.parser.buffer_text = True
        self.parser.ordered_attributes = True
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end
        self.parser.CharacterDataHandler = self._text
        self.depth = 0
        self.cell_depth = -1  # depth of the open cell or shared string, -1 outside one
        self.row_depth = -1
        self.cell_kind = _CELL
        self.ref: list[str] = []  # the open cell's attributes (name, value, …)
        self.cell_chars = self.row_chars = self.row_cells = 0
        self.row: list[str] = []
        self.rows = self.cells = self.strings = 0
        self.bytes = 0
        self.limit = part_limit(part, archive.limits)
        self.max_cells, self.max_row_chars = self.limits.max_cells, self.limits.max_row_chars
        self.broken = False  # not XML expat can read: openpyxl will say so itself

    def feed(self, data: bytes, final: bool = False) -> None:
        """Scan the next bytes of the part; raise `LimitExceeded` at the first limit passed."""
        self.bytes += len(data)
        if self.bytes > self.limit:
            raise part_too_large(self.archive.file_name, self.part, self.bytes, self.limit)
        if self.broken:
            return
        try:
            self.parser.Parse(data, final)
        except ExpatError:
            self.broken = True

    def place(self) -> str:
        """The file and sheet (or part) for a message."""
        sheet = self.archive.sheet_title(self.part)
        if sheet is not None:
            return where(self.archive.file_name, sheet)
        return f"{where(self.archive.file_name)}中的 {self.part} "

    def cell(self) -> str:
        """The open cell or shared string, for a message."""
        if self.cell_kind == _STRING:
            return f"第{self.strings:,}个共享字符串"
        ref = _attribute(self.ref, "r")
        return f"单元格 {ref}" if ref else f"第{self.cells:,}个单元格"

    def row_label(self) -> str:
        """The open row's number, for a message."""
        return _attribute(self.row, "r") or f"{self.rows:,}"

    def _start(self, name: str, attrs: list[str]) -> None:
        kind = _KINDS.get(name) or (_KINDS.get(name.rpartition(":")[2]) if ":" in name else None)
        if kind == _CELL:
            self.cells += 1
            self.row_cells += 1
            if self.cell_depth < 0:
                self.cell_depth, self.cell_kind, self.ref, self.cell_chars = (
                    self.depth,
                    kind,
                    attrs,
                    0,
                )
            if self.row_cells > MAX_ROW_CELLS and self.row_depth >= 0:
                raise row_too_long(self.place(), self.row_label(), "单元格", MAX_ROW_CELLS)
            if self.cells > self.max_cells:
                raise too_many_cells(self.place(), self.max_cells)
        elif kind == _STRING:
            self.strings += 1
            if self.cell_depth < 0:
                self.cell_depth, self.cell_kind, self.cell_chars = self.depth, kind, 0
        elif kind == _ROW:
            self.rows += 1
            self.row, self.row_depth, self.row_cells, self.row_chars = attrs, self.depth, 0, 0
        self.depth += 1

    def _end(self, name: str) -> None:
        self.depth -= 1
        if self.depth == self.cell_depth:
            self.cell_depth = -1
        elif self.depth == self.row_depth:
            self.row_depth = -1

    def _text(self, text: str) -> None:
        if self.cell_depth >= 0:
            self.cell_chars += len(text)
            if self.cell_chars > MAX_CELL_CHARS:
                raise cell_too_long(self.place(), self.cell())
        if self.row_depth >= 0:
            self.row_chars += len(text)
            if self.row_chars > self.max_row_chars:
                raise row_too_long(self.place(), self.row_label(), "字符", self.max_row_chars)


def _attribute(attrs: list[str], name: str) -> str | None:
    """An attribute from expat's ordered list (name, value, name, value, …)."""
    for i in range(0, len(attrs) - 1, 2):
        if attrs[i] == name:
            return attrs[i + 1]
    return None


class ScannedPart:
    """A part's stream that hands out only bytes already scanned within the limits."""

    def __init__(self, stream: IO[bytes], scan: _XmlScan) -> None:
        self.stream = stream
        self.scan = scan

    def read(self, size: int = -1) -> bytes:
        """Up to `size` bytes (all that is left when negative), scanned first."""
        if size is None or size < 0:
            return b"".join(iter(lambda: self.read(_BLOCK), b""))
        data = self.stream.read(size)
        self.scan.feed(data, final=not data)
        if not data:
            self.scan.archive.clean.add(self.scan.part)
        return data

    def readable(self) -> bool:
        """A part is read, never written."""
        return True

    def close(self) -> None:
        """Close the underlying zip stream."""
        self.stream.close()

    @property
    def closed(self) -> bool:
        """Whether the stream was closed."""
        return self.stream.closed

    def __enter__(self) -> ScannedPart:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
