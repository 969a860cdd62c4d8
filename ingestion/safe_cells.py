"""Cells for exported spreadsheets, made inert: no live formula, no character Excel refuses.

Every CSV and xlsx the product writes (table exports, the evaluation report and its drill-down,
quarantine files, roadshow slates, offline rankings) puts its cells through here.

- **CSV** (OWASP's CSV-injection rule): text starting with `=`, `+`, `-`, `@`, a tab or a carriage
  return is what Excel and LibreOffice run as a formula, so it gets a leading single quote. The
  text stays readable as it was; a plain number written as text ('-12.5') is left alone, and so
  are numbers themselves: a negative amount stays a number.
- **xlsx**: text is written as a text cell (data type 's'). openpyxl makes any string starting
  with '=' a formula (and '#N/A' an error value); a text cell is never evaluated, so the value is
  kept exactly (a quarantine file re-imports unchanged) and needs no quote. Every character
  outside XML 1.0's `Char` production is removed: control characters such as a vertical tab
  pasted from Word (openpyxl refuses those with `IllegalCharacterError`), and also the
  noncharacters U+FFFE and U+FFFF and unpaired surrogates, which openpyxl writes as they are
  into a file Excel and openpyxl then cannot open.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from openpyxl.cell.cell import WriteOnlyCell

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
#: Anything outside XML 1.0's `Char` production:
#: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].
NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def csv_text(text: str) -> str:
    """`text` as a CSV field no spreadsheet runs as a formula."""
    if text.startswith(FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def csv_row(values: Iterable[Any]) -> list[Any]:
    """A row for `csv.writer`: text through `csv_text`, everything else as it is."""
    return [csv_text(v) if isinstance(v, str) else v for v in values]


def xlsx_text(text: str) -> str:
    """`text` without the characters an xlsx cell cannot hold."""
    return NOT_XML_CHAR.sub("", text)


def xlsx_cell(sheet: Any, value: Any) -> Any:
    """`value` for `sheet.append`: text as a text cell (never a formula), the rest as it is."""
    if not isinstance(value, str):
        return value
    cell = WriteOnlyCell(sheet, xlsx_text(value))  # a free-standing cell, for either kind of sheet
    cell.data_type = "s"
    return cell


def append_row(sheet: Any, values: Iterable[Any]) -> None:
    """Append `values` to an openpyxl worksheet (ordinary or write-only) as inert cells."""
    sheet.append([xlsx_cell(sheet, v) for v in values])
