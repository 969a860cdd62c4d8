"""Streaming readers for .xlsx and .csv/.tsv: encodings, title rows, two-row headers, noise rows.

CSV is read line by line with the standard library; `.xlsx` with python-calamine, after
`xlsx_guard.check_package` held every part of the package to the limits. The header is looked for in the first `HEADER_SCAN` rows: the row (or pair of
rows, for a merged two-row header) whose cells match the most known column names, so title rows
such as '2024年XX区科技型企业融资需求汇总表' above it are passed over.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from python_calamine import CalamineError, CalamineWorkbook

from ingestion.headers import Header, detect_kind, header_candidates, header_score, normalize_header
from ingestion.limits import (
    MAX_CELL_CHARS,
    LimitExceeded,
    cell_too_long,
    import_limits,
    too_many_cells,
    too_many_columns,
    too_many_rows,
    where,
)
from ingestion.normalize import clean_cell
from ingestion.xlsx_guard import check_package
from models.errors import DomainError
from models.reference import ImportKind

HEADER_SCAN = 30
SAMPLE_BYTES = 1 << 20
_SUBTOTAL = re.compile(r"^(合计|小计|总计|共计|总合计)")
# A cell can only read 合计/小计/总计/共计 after NFKC if it holds one of these characters or one
# of the two code points NFKC maps onto them (⼩ U+2F29, 🈴 U+1F234; checked over all of
# Unicode): a cheap test that spares `clean_cell` for the ordinary cell.
_MAY_START_SUBTOTAL = re.compile("[合小总共\u2f29\U0001f234]")
Cells = list[Any]


@dataclass(slots=True)
class Skipped:
    """Rows read but not data: counted and reported, never silently lost."""

    blank: int = 0
    subtotal: list[int] = field(default_factory=list)


@dataclass(slots=True)
class Sheet:
    """One table found in a file: its header columns and a stream of (row number, cells)."""

    name: str
    header_row: int
    columns: list[list[Header]]
    rows: Iterator[tuple[int, Cells]]
    skipped: Skipped
    kind: ImportKind | None = None


@dataclass(slots=True)
class Source:
    """An opened file: its tables and the encoding found (CSV)."""

    sheets: list[Sheet]
    encoding: str | None = None
    notes: list[str] = field(default_factory=list)
    _close: Any = None

    def close(self) -> None:
        """Release the file handle."""
        if self._close is not None:
            self._close()


def detect_encoding(sample: bytes) -> str:
    """'utf-8-sig', 'utf-8', 'gbk' or 'gb18030' for a sample of the file's first bytes."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for encoding in ("utf-8", "gbk", "gb18030"):
        try:
            codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
        except UnicodeDecodeError:
            continue
        return encoding
    raise DomainError("无法识别文件编码：既不是 UTF-8，也不是 GBK/GB18030")


def _is_blank(cells: Sequence[Any]) -> bool:
    return all(_blank(c) for c in cells)


def _blank(cell: Any) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _used_width(cells: Sequence[Any] | None) -> int:
    """The cells up to the last non-blank one."""
    width = len(cells) if cells is not None else 0
    while width and _blank(cells[width - 1]):  # type: ignore[index]
        width -= 1
    return width


def _fitted(cells: Sequence[Any], width: int) -> list[Any]:
    return list(cells[:width]) + [None] * (width - len(cells))


def _is_subtotal(cells: Cells) -> bool:
    firsts = [c for c in cells if c is not None and str(c).strip()][:3]
    return any(
        isinstance(c, str)
        and _MAY_START_SUBTOTAL.search(c) is not None
        and _SUBTOTAL.match(clean_cell(c).replace(" ", ""))
        for c in firsts
    )


def _find_header(
    head: list[Sequence[Any]], kind: ImportKind | None, extra: frozenset[str]
) -> tuple[int, bool, int]:
    """(index of the header row in `head`, whether the row above is part of it, score)."""
    best = (-1, False, 0)
    for i, row in enumerate(head):
        for two_rows in (False, True):
            if two_rows and (i == 0 or _is_blank(head[i - 1])):
                continue
            columns = header_candidates(row, head[i - 1] if two_rows else None)
            score = _score(columns, kind, extra)
            if score > best[2]:
                best = (i, two_rows, score)
    return best


def _score(columns: list[list[Header]], kind: ImportKind | None, extra: frozenset[str]) -> int:
    if kind is not None:
        return header_score(columns, kind, extra)
    return max(header_score(columns, k, extra) for k in ImportKind)


def _sheet_from_rows(
    place: str,
    name: str,
    rows: Iterator[Sequence[Any]],
    kind: ImportKind | None,
    extra: frozenset[str],
) -> Sheet | None:
    """The table on one sheet; `place` names file and sheet in the messages of the limits.

    The header is looked for in at most `max_columns` + 1 columns; a header row (or pair) with
    more non-blank columns than `max_columns` is refused, and blank columns after its last
    one are dropped.
    """
    limits = import_limits()
    first_row = 1
    head = list(itertools.islice(rows, HEADER_SCAN))
    cap = limits.max_columns + 1
    index, two_rows, score = _find_header([row[:cap] for row in head], kind, extra)
    if score < 2:
        return None
    upper = head[index - 1] if two_rows else None
    width = max(_used_width(head[index]), _used_width(upper))
    if width > limits.max_columns:
        raise too_many_columns(place, width, limits.max_columns)
    lower = _fitted(head[index], width)
    columns = header_candidates(lower, upper[:width] if upper is not None else None)
    skipped = Skipped()
    numbered = zip(itertools.count(first_row), itertools.chain(head, rows), strict=False)
    body = itertools.islice(numbered, index + 1, None)
    sheet = Sheet(name, first_row + index, columns, iter(()), skipped)
    sheet.kind = kind or detect_kind(columns)
    sheet.rows = _data_rows(
        body, skipped, _Bounds(place, columns, limits.max_rows, limits.max_cells)
    )
    return sheet


@dataclass(frozen=True, slots=True)
class _Bounds:
    """What a sheet's rows are held to: its width, and the last row number the limits allow."""

    place: str
    columns: list[list[Header]]
    max_rows: int
    max_cells: int

    @property
    def last_row(self) -> int:
        return min(self.max_rows, self.max_cells // max(1, len(self.columns)))

    def refuse(self, number: int) -> LimitExceeded:
        """The error for row `number`, past `last_row`."""
        if number > self.max_rows:
            return too_many_rows(self.place, self.max_rows)
        return too_many_cells(self.place, self.max_cells, len(self.columns))

    def long_field(self, number: int, cells: list[str]) -> LimitExceeded:
        """The error for a CSV row holding a field over `MAX_CELL_CHARS`."""
        index = next(i for i, c in enumerate(cells) if len(c) > MAX_CELL_CHARS)
        options = self.columns[index] if index < len(self.columns) else []
        label = options[0].label if options else f"第{index + 1}列"
        return cell_too_long(self.place, f"第{number}行“{label}”列", len(cells[index]))


def _data_rows(
    body: Iterator[tuple[int, Sequence[Any]]], skipped: Skipped, bounds: _Bounds
) -> Iterator[tuple[int, Cells]]:
    width, last = len(bounds.columns), bounds.last_row
    for number, cells in body:
        if number > last:
            raise bounds.refuse(number)
        if type(cells) is list:  # a CSV row (xlsx rows are tuples): text only
            if cells and max(map(len, cells)) > MAX_CELL_CHARS:
                raise bounds.long_field(number, cells)
            if len(cells) != width:
                cells = cells[:width] + [None] * (width - len(cells))
        else:
            cells = list(cells[:width]) + [None] * (width - len(cells))
        kind = _row_kind(cells)
        if kind is None:
            yield number, cells
        elif kind == "blank":
            skipped.blank += 1
        else:
            skipped.subtotal.append(number)


def _row_kind(cells: Cells) -> str | None:
    """'blank', 'subtotal', or None for a data row.

    A row of text cells (every CSV row) is tested on its cells joined: blank when that is
    whitespace, and no subtotal unless it holds one of the characters a subtotal label needs.
    """
    try:
        text = "".join(cells)
        typed = False
    except TypeError:  # empty or typed cells (xlsx): only text cells can be blank or a label
        texts = [c for c in cells if isinstance(c, str)]
        text = "".join(texts)
        typed = len(texts) + cells.count(None) < len(cells)
    if not typed and not text.strip():
        return "blank"
    if _MAY_START_SUBTOTAL.search(text) is None:
        return None
    return "subtotal" if _is_subtotal(cells) else None


def open_source(
    path: Path,
    kind: ImportKind | None = None,
    sheet: str | None = None,
    extra_headers: Iterable[str] = (),
) -> Source:
    """Open `path` (.xlsx, .xlsm, .csv, .tsv, .txt) and locate the table on each sheet.

    `extra_headers` are header names a mapping file knows, counted when looking for the header.
    """
    extra = frozenset(normalize_header(h).text for h in extra_headers)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _open_xlsx(path, kind, sheet, extra)
    if suffix in (".csv", ".tsv", ".txt"):
        return _open_csv(path, kind, extra)
    if suffix == ".xls":
        raise DomainError("不支持旧版 .xls 文件，请在 Excel 中另存为 .xlsx 后再导入")
    raise DomainError(f"不支持的文件类型“{suffix}”：请使用 .xlsx、.csv 或 .tsv")


def _open_csv(path: Path, kind: ImportKind | None, extra: frozenset[str]) -> Source:
    with path.open("rb") as fh:
        sample = fh.read(SAMPLE_BYTES)
    encoding = detect_encoding(sample)
    reading = "gb18030" if encoding == "gbk" else encoding
    handle = path.open("r", encoding=reading, newline="")
    delimiter = "\t" if path.suffix.lower() == ".tsv" else _sniff_delimiter(sample, reading)
    rows = _decoded_rows(csv.reader(handle, delimiter=delimiter), path, reading)
    try:
        found = _sheet_from_rows(where(path.name), "", rows, kind, extra)
    except BaseException:
        handle.close()
        raise
    source = Source([found] if found else [], encoding.upper(), _close=handle.close)
    if not found:
        source.notes.append("未在前30行中找到可识别的表头")
    return source


def _decoded_rows(reader: Any, path: Path, encoding: str) -> Iterator[Cells]:
    """The CSV records; a record the csv module refuses is an error naming file, row and field."""
    record, start = 0, 0  # records read; lines read before the current record
    try:
        for record, row in enumerate(reader, start=1):  # noqa: B007 (read in the handlers)
            yield row
            start = reader.line_num
    except UnicodeDecodeError as exc:
        raise DomainError(
            f"{path.name} 中途出现无法按已识别编码解码的字节（第{exc.start}字节附近）"
        ) from exc
    except csv.Error as exc:
        row_number = record + 1
        if "field larger than field limit" not in str(exc):
            raise DomainError(f"{where(path.name)}第{row_number}行无法按 CSV 读取：{exc}") from exc
        lines = _lines(path, encoding, start, reader.line_num)
        column = _long_field(lines, reader.dialect.delimiter, reader.dialect.quotechar)
        raise cell_too_long(where(path.name), f"第{row_number}行第{column}列") from exc


def _lines(path: Path, encoding: str, first: int, end: int) -> str:
    """Lines `first` … `end` - 1 (0-based) of the file, as the csv reader read them."""
    with path.open("r", encoding=encoding, newline="") as handle:
        return "".join(itertools.islice(handle, first, end))


def _long_field(text: str, delimiter: str, quote: str | None) -> int:
    """The 1-based column of the first field over `MAX_CELL_CHARS` in one record's text.

    Only for the message of a record the csv module refused: a doubled quote inside a quoted
    field toggles twice, so counting delimiters outside quotes needs no more state than this.
    """
    quoted, column, length = False, 1, 0
    for char in text:
        if char == quote:
            quoted = not quoted
        elif char == delimiter and not quoted:
            column, length = column + 1, 0
        elif quoted or char not in "\r\n":
            length += 1
            if length > MAX_CELL_CHARS:
                break
    return column


def _sniff_delimiter(sample: bytes, encoding: str) -> str:
    text = sample[:65536].decode(encoding, errors="ignore")
    lines = [line for line in io.StringIO(text).read().splitlines()[:10] if line.strip()]
    tabs = sum(line.count("\t") for line in lines)
    commas = sum(line.count(",") for line in lines)
    return "\t" if tabs > commas else ","


#: Sheets that explain a workbook (our templates' notes, a district's 说明): never data.
NOTES_SHEETS = frozenset({"填写说明", "说明", "填表说明", "导入说明"})


def _open_xlsx(
    path: Path, kind: ImportKind | None, sheet: str | None, extra: frozenset[str]
) -> Source:
    """The tables of a workbook, read by python-calamine once `check_package` let it through."""
    check_package(path, path.name, import_limits())
    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except CalamineError as exc:
        raise DomainError(f"无法打开 Excel 文件 {path.name}：{exc}") from exc
    source = Source([], _close=workbook.close)
    try:
        names = workbook.sheet_names
        if sheet is not None and sheet not in names:
            raise DomainError(f"工作表“{sheet}”不存在，可选：{'、'.join(names)}")
        for name in [sheet] if sheet else names:
            if sheet is None and name in NOTES_SHEETS:
                source.notes.append(f"工作表“{name}”为填写说明，未导入")
                continue
            _add_table(source, workbook.get_sheet_by_name(name), path, kind, extra)
    except BaseException as exc:
        source.close()
        if isinstance(exc, CalamineError):
            raise DomainError(f"无法读取 Excel 文件 {path.name}：{exc}") from exc
        raise
    return source


def _add_table(
    source: Source, worksheet: Any, path: Path, kind: ImportKind | None, extra: frozenset[str]
) -> None:
    """The sheet's table (or a note that it has none) into `source`."""
    found = _sheet_from_rows(
        where(path.name, worksheet.name), worksheet.name, _cells(worksheet), kind, extra
    )
    if found is None:
        source.notes.append(f"工作表“{worksheet.name}”未找到可识别的表头，已跳过")
        return
    source.sheets.append(found)


def _cells(worksheet: Any) -> Iterator[tuple[Any, ...]]:
    """Each row from A1 on, as a tuple; whole numbers as `int` (as Excel shows them)."""
    pad = (None,) * (worksheet.start[1] if worksheet.start else 0)
    for row in worksheet.iter_rows():
        yield (*pad, *(int(c) if type(c) is float and c.is_integer() else c for c in row))
