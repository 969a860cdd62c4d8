"""The one helper every CSV/xlsx writer uses (issue #21, findings 8 and 18), and a guard that
every writer in the product does use it."""

import ast
import csv
import io
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from ingestion.safe_cells import append_row, csv_row, csv_text, xlsx_text

REPO = Path(__file__).resolve().parents[2]
PRODUCT = ("api", "ingestion", "matching", "models", "workers")


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("=1+2", "'=1+2"),
        ("+86 138 0000 0000", "'+86 138 0000 0000"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-12.5", "-12.5"),  # a number written as text stays a number to Excel
        ("+3", "+3"),
        ("1e-5", "1e-5"),
        ("深圳市华芯科技有限公司", "深圳市华芯科技有限公司"),
        ("a=b", "a=b"),
    ],
)
def test_csv_text_quotes_what_a_spreadsheet_would_run(text: str, written: str) -> None:
    assert csv_text(text) == written


def test_csv_rows_keep_numbers_and_round_trip_the_visible_text() -> None:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(csv_row(['=HYPERLINK("x")', -120.5, None, 3, "普通"]))
    assert next(csv.reader(io.StringIO(buffer.getvalue()))) == [
        "'=HYPERLINK(\"x\")", "-120.5", "", "3", "普通"
    ]  # fmt: skip


@pytest.mark.parametrize("write_only", [False, True])
def test_xlsx_rows_are_text_cells_without_illegal_characters(write_only: bool) -> None:
    book = Workbook(write_only=write_only)
    sheet = book.create_sheet("s") if write_only else book.active
    append_row(sheet, ["=1+2", -5, "甲\x0b乙\x00丙", "#N/A", 2.5, None, "@x", "正文"])
    out = io.BytesIO()
    book.save(out)
    cells = next(load_workbook(out).worksheets[0].iter_rows())
    assert [(c.value, c.data_type) for c in cells] == [
        ("=1+2", "s"), (-5, "n"), ("甲乙丙", "s"), ("#N/A", "s"), (2.5, "n"), (None, "n"),
        ("@x", "s"), ("正文", "s"),
    ]  # fmt: skip
    assert xlsx_text("a\x1fb\tc\nd") == "ab\tc\nd"


def test_xlsx_text_keeps_only_xml_characters_and_the_file_reopens() -> None:
    """Retest #21 item 4: U+FFFE, U+FFFF and unpaired surrogates are no XML 1.0 `Char`;
    openpyxl wrote them as they were, into a file neither Excel nor openpyxl could open."""
    hostile = "甲\ufffe乙\uffff丙\ud800丁\udfff戊\x00\x08\x0b\x0c\x1f己"
    kept = "\t\n\r \ud7ff\ue000\ufffd\U00010000\U0010ffff😀\x7f\x85"
    assert xlsx_text(hostile + kept) == "甲乙丙丁戊己" + kept
    book = Workbook(write_only=True)
    sheet = book.create_sheet("s")
    append_row(sheet, [hostile, "\ufffe", "\uffff"])
    out = io.BytesIO()
    book.save(out)
    cells = next(load_workbook(out).worksheets[0].iter_rows())
    assert [c.value for c in cells] == ["甲乙丙丁戊己", None, None]


def _writes_spreadsheets(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in {"writer", "DictWriter", "Workbook"}:
                return True
    return False


def test_every_spreadsheet_writer_in_the_product_uses_the_helper() -> None:
    writers = {}
    for package in PRODUCT:
        for path in (REPO / package).rglob("*.py"):
            source = path.read_text(encoding="utf-8")
            if _writes_spreadsheets(ast.parse(source)):
                writers[str(path.relative_to(REPO))] = "ingestion.safe_cells" in source
    assert writers and all(writers.values()), writers
