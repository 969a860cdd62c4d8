"""An xlsx package held to `ingestion.limits` before python-calamine reads it.

An xlsx is a zip of XML parts; a 205 KB file can unpack to a 200 MB cell, and calamine reads a
sheet whole, as a rectangle of rows × columns. So before it opens the file:

- `check_archive` compares every part's declared size with its limit (`max_sheet_bytes` for
  worksheets, `max_part_bytes` for the rest) and its compression ratio with
  `max_compression_ratio`;
- `check_package` then inflates every part and holds its actual bytes, rows, cells and the text
  of each cell and shared string to the limits, whatever the zip headers claim.
"""

from __future__ import annotations

import operator
import re
import zipfile
from pathlib import Path
from pyexpat import ExpatError, ParserCreate
from typing import Any

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
from models.errors import DomainError

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
    """The package being checked: its file name and limits, and its sheet titles for messages."""

    def __init__(self, path: Path, file_name: str, limits: ImportLimits) -> None:
        super().__init__(path)
        self.file_name = file_name
        self.limits = limits
        self._titles: dict[str, str] | None = None

    def sheet_title(self, part: str) -> str | None:
        """The title of the worksheet stored in `part`, if it is one (for messages)."""
        if self._titles is None:
            self._titles = _sheet_titles(self)
        return self._titles.get(part)


def check_package(path: Path, file_name: str, limits: ImportLimits) -> None:
    """Refuse an xlsx whose parts pass a limit, before any reader unpacks it.

    Every part is inflated block by block (never past its declared size: `zipfile` stops
    there, and a part whose header understates it then fails its CRC) and its bytes counted.
    A part in which no row or shared string spans more than `MAX_CELL_CHARS` bytes holds no
    cell or row past the character limits (text takes at least a byte a character) nor a row
    past `MAX_ROW_CELLS`, so counting its cells is enough (`_quick_scan`); any other part goes
    through expat (`_XmlScan`), which names the first cell, shared string or row over a limit.
    """
    try:
        with GuardedZipFile(path, file_name, limits) as archive:
            check_archive(archive, file_name, limits)
            for info in archive.infolist():
                if not _quick_scan(archive, info.filename):
                    scan = _XmlScan(archive, info.filename)
                    with archive.open(info) as stream:
                        while data := stream.read(_BLOCK):
                            scan.feed(data)
                        scan.feed(b"", final=True)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
        raise DomainError(f"无法打开 Excel 文件 {file_name}：{exc}") from exc


#: The end of a row or a shared string (`</row>`, `</x:si>`): text never holds a '<'.
_ENDS = re.compile(rb"</(?:[\w.-]+:)?(?:row|si)>")
_CELL_STARTS = (b"<c ", b"<c>")
_QUICK_BLOCK = 1 << 20


def _quick_scan(archive: GuardedZipFile, part: str) -> bool:
    """Whether the part is within the limits by a scan in C alone (False: it needs expat).

    Raises for a part larger than its limit, or (a worksheet) whose range of rows × columns
    from A1 exceeds `max_cells`: python-calamine holds a sheet as that rectangle.
    """
    limit, limits = part_limit(part, archive.limits), archive.limits
    seen, tail, cells, last_row, last_column, quick = 0, b"", 0, 0, 1, True
    with archive.open(part) as stream:
        while data := stream.read(_QUICK_BLOCK):
            seen += len(data)
            if seen > limit:
                raise part_too_large(archive.file_name, part, seen, limit)
            block = tail + data
            ends = [m.end() for m in _ENDS.finditer(block)] or [0]
            gaps = map(operator.sub, ends, [0, *ends[:-1]])
            quick = quick and max(gaps) <= MAX_CELL_CHARS and b":c " not in block
            cut = ends[-1] if len(block) - ends[-1] <= MAX_CELL_CHARS else len(block) - 64
            quick = quick and cut == ends[-1]
            done, tail = block[:cut], block[cut:]
            cells += sum(map(done.count, _CELL_STARTS))
            rows = _ROW_NUMBER.findall(done)
            last_row = max(last_row, int(rows[-1])) if rows else last_row
            last_column = max([last_column, *map(_column_number, _WIDE_REF.findall(done))])
    if last_row * last_column > limits.max_cells:
        name = archive.sheet_title(part)
        place = (
            where(archive.file_name, name) if name else f"{where(archive.file_name)}中的 {part} "
        )
        raise too_many_cells(place, limits.max_cells)
    return quick and cells + tail.count(b"<c ") <= limits.max_cells


_ROW_NUMBER = re.compile(rb'<row r="(\d+)"')
#: A cell reference past column Z.
_WIDE_REF = re.compile(rb'<c r="([A-Z]{2,3})\d')


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


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

    Text counts while inside the element, at any depth: a reader joins a cell's rich-text runs
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
        self.broken = False  # not XML expat can read: the reader will say so itself

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
