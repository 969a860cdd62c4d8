"""Limits on imported files (issue #21, findings 5 and 6, and oversized CSV fields): a file past one
is refused whole, in bounded time and memory, with a Chinese message naming where and the limit,
and the database is left exactly as it was."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

import ingestion.headers as headers
from ingestion.headers import UniqueLabels, header_candidates, map_headers
from ingestion.limits import MAX_CELL_CHARS, LimitExceeded, import_limits
from ingestion.readers import open_source
from models.errors import DomainError
from models.reference import ImportKind
from services.imports.service import import_file
from tests.ingestion.helpers import (
    huge_cell_xlsx,
    peak_mib,
    table_counts,
    understate_size,
    write_csv,
    write_xlsx,
)

HEADER = ["企业名称", "统一社会信用代码", "经营范围"]


class CountingSet(set[str]):
    """A set that counts membership tests."""

    probes = 0

    def __contains__(self, item: object) -> bool:
        CountingSet.probes += 1
        return super().__contains__(item)


@pytest.fixture
def limits(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Set `IMPORT_*` variables through the returned monkeypatch; the cached limits follow."""
    import_limits.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    import_limits.cache_clear()


def _refused(engine: Engine, path: Path) -> str:
    """Import `path`, expect a refusal, check nothing was written; the message."""
    before = table_counts(engine)
    with Session(engine) as session, pytest.raises(DomainError) as caught:
        import_file(session, path, kind="enterprises")
        session.commit()
    assert table_counts(engine) == before
    return caught.value.message


# --- finding 5: header rows ------------------------------------------------------------------


def test_repeated_labels_are_made_unique_in_linear_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """10,000 equal headers: one membership test each and one more per clash, not O(n²) each."""
    labels = UniqueLabels()
    labels.used = CountingSet()
    CountingSet.probes = 0
    made = [labels.add("备注", i) for i in range(10_000)]
    assert made[:3] == ["备注", "备注#2", "备注#3"] and made[-1] == "备注#10000"
    assert len(set(made)) == 10_000
    assert CountingSet.probes <= 2 * 10_000


def test_labels_written_like_generated_ones_stay_unique_and_linear() -> None:
    texts = ["名称", "名称#2", "名称", "名称#3", "名称", ""] * 2_000
    labels = UniqueLabels()
    labels.used = CountingSet()
    CountingSet.probes = 0
    made = [labels.add(text, i) for i, text in enumerate(texts)]
    assert len(set(made)) == len(texts)
    assert made[:6] == ["名称", "名称#2", "名称#3", "名称#3#2", "名称#4", "第6列"]
    assert CountingSet.probes <= 3 * len(texts)


def test_ten_thousand_repeated_headers_map_with_each_label_made_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = 0
    add = UniqueLabels.add

    def counted(self: UniqueLabels, label: str, index: int) -> str:
        nonlocal calls
        calls += 1
        return add(self, label, index)

    monkeypatch.setattr(headers.UniqueLabels, "add", counted)
    columns = header_candidates(["企业名称", *["备注"] * 10_000], None)
    header = map_headers(columns, ImportKind.enterprises)
    assert calls == 10_001 and len(set(header.labels)) == 10_001
    assert header.labels[-1] == "备注#10000" and header.fields == {0: "legal_name"}


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_header_over_500_columns_is_refused_with_the_count(
    engine: Engine, tmp_path: Path, suffix: str
) -> None:
    row = [*HEADER, *[f"备注{i}" for i in range(498)]]
    assert len(row) == 501
    rows = [row, ["深圳市华芯科技有限公司", "", "芯片"]]
    path = tmp_path / f"wide{suffix}"
    write_csv(path, rows) if suffix == ".csv" else write_xlsx(path, {"企业": rows})
    message = _refused(engine, path)
    sheet = "" if suffix == ".csv" else "工作表“企业”"
    assert message.startswith(f"文件“wide{suffix}”{sheet}的表头有 501 列，超过上限 500 列")


def test_ten_thousand_repeated_headers_are_refused_quickly(engine: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "dup.csv", [[*HEADER, *["备注"] * 10_000], ["甲科技有限公司"]])
    assert "10,003 列，超过上限 500 列" in _refused(engine, path)


def test_500_columns_and_blank_columns_after_them_are_accepted(tmp_path: Path) -> None:
    row = [*HEADER, *[f"备注{i}" for i in range(497)], *[""] * 2_000]
    path = write_csv(tmp_path / "ok.csv", [row, ["深圳市华芯科技有限公司", "", "芯片"]])
    source = open_source(path)
    try:
        (sheet,) = source.sheets
        assert len(sheet.columns) == 500
        ((_, cells),) = list(sheet.rows)
        assert len(cells) == 500 and cells[:3] == ["深圳市华芯科技有限公司", "", "芯片"]
    finally:
        source.close()


def test_the_column_limit_is_a_setting(limits: pytest.MonkeyPatch, tmp_path: Path) -> None:
    limits.setenv("IMPORT_MAX_COLUMNS", "2")
    path = write_csv(tmp_path / "e.csv", [HEADER, ["深圳市华芯科技有限公司", "", "芯片"]])
    with pytest.raises(LimitExceeded, match="3 列，超过上限 2 列"):
        open_source(path)


# --- oversized CSV fields --------------------------------------------------------------------


def test_a_csv_field_over_32767_characters_names_file_row_column_and_limit(
    engine: Engine, tmp_path: Path
) -> None:
    rows = [HEADER, ["甲科技有限公司", "", "芯片"], ["乙科技有限公司", "", "研" * 40_000]]
    message = _refused(engine, write_csv(tmp_path / "long.csv", rows))
    assert message == (
        "文件“long.csv”第3行“经营范围”列的内容（40,000 个字符）超过每个单元格 32,767 个字符的上限"
        "（Excel 的单元格上限）"
    )


def test_a_field_the_csv_module_refuses_is_named_too(engine: Engine, tmp_path: Path) -> None:
    """Past 131,072 characters Python's csv module raises `csv.Error` (a plain 500 before)."""
    huge = "a,b\n" * 10 + "x" * 200_000  # in quotes, over several lines
    rows = [HEADER, ["甲科技有限公司", "", "芯片"], ["乙科技有限公司", huge, "芯片"]]
    message = _refused(engine, write_csv(tmp_path / "huge.csv", rows))
    assert message.startswith("文件“huge.csv”第3行第2列的内容超过每个单元格 32,767 个字符的上限")


def test_a_field_of_exactly_32767_characters_is_read(tmp_path: Path) -> None:
    rows = [HEADER, ["乙科技有限公司", "", "研" * MAX_CELL_CHARS]]
    source = open_source(write_csv(tmp_path / "edge.csv", rows))
    try:
        ((_, cells),) = list(source.sheets[0].rows)
        assert len(cells[2]) == MAX_CELL_CHARS
    finally:
        source.close()


# --- finding 6: rows, cells and xlsx parts ---------------------------------------------------


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_rows_past_the_limit_are_refused(
    engine: Engine, limits: pytest.MonkeyPatch, tmp_path: Path, suffix: str
) -> None:
    limits.setenv("IMPORT_MAX_ROWS", "5")
    rows = [HEADER, *[[f"第{i}科技有限公司", "", ""] for i in range(5)]]
    path = tmp_path / f"rows{suffix}"
    write_csv(path, rows) if suffix == ".csv" else write_xlsx(path, {"企业": rows})
    message = _refused(engine, path)
    assert "超过 5 行的上限" in message and f"rows{suffix}" in message


def test_cells_past_the_limit_are_refused(
    engine: Engine, limits: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    limits.setenv("IMPORT_MAX_CELLS", "9")
    rows = [HEADER, *[[f"第{i}科技有限公司", "", ""] for i in range(3)]]
    message = _refused(engine, write_csv(tmp_path / "cells.csv", rows))
    assert "超过 9 个单元格的上限（表头 3 列）" in message


def test_a_zip_bomb_is_refused_by_its_compression_ratio(engine: Engine, tmp_path: Path) -> None:
    """The attack: ~200 KB that unpacks to a 200 MB cell (the server grew by 1.8 GB)."""
    path = huge_cell_xlsx(tmp_path / "bomb.xlsx", b"A" * (1 << 20), 200, shared=True)
    assert path.stat().st_size < 300_000
    message = ""

    def refuse() -> None:
        nonlocal message
        message = _refused(engine, path)

    assert peak_mib(refuse) < 20
    assert message.startswith("文件“bomb.xlsx”中的 xl/sharedStrings.xml 压缩比为")
    assert "超过 100 倍的上限" in message


@pytest.mark.parametrize("shared", [True, False])
def test_a_cell_over_32767_characters_is_refused_before_it_is_built(
    engine: Engine, limits: pytest.MonkeyPatch, tmp_path: Path, shared: bool
) -> None:
    """Below the ratio limit (here: no ratio limit at all), the scan stops at the cell itself."""
    limits.setenv("IMPORT_MAX_COMPRESSION_RATIO", "100000")
    path = huge_cell_xlsx(tmp_path / "cell.xlsx", "研发".encode() * 512, 20_000, shared=shared)
    message = ""

    def refuse() -> None:
        nonlocal message
        message = _refused(engine, path)

    assert peak_mib(refuse) < 20  # the cell holds 20,480,000 characters
    where = (
        "文件“cell.xlsx”中的 xl/sharedStrings.xml 第1个共享字符串"
        if shared
        else ("文件“cell.xlsx”工作表“企业”单元格 A2")
    )
    assert message == f"{where}的内容超过每个单元格 32,767 个字符的上限（Excel 的单元格上限）"


@pytest.mark.parametrize("shared", [True, False])
def test_rich_text_runs_add_up_to_one_cell(tmp_path: Path, shared: bool) -> None:
    path = huge_cell_xlsx(tmp_path / "runs.xlsx", b"x" * 20, 2_000, shared=shared, runs=True)
    with pytest.raises(LimitExceeded, match="的内容超过每个单元格 32,767 个字符的上限"):
        source = open_source(path)
        for sheet in source.sheets:
            list(sheet.rows)


def test_a_part_over_its_size_limit_is_refused_before_reading(
    engine: Engine, limits: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    limits.setenv("IMPORT_MAX_SHEET_BYTES", str(1 << 20))
    limits.setenv("IMPORT_MAX_COMPRESSION_RATIO", "100000")
    path = huge_cell_xlsx(tmp_path / "big.xlsx", b"<!-- padding -->" * 64, 2_000)
    message = _refused(engine, path)
    assert message.startswith("文件“big.xlsx”中的 xl/worksheets/sheet1.xml 解压后2 MB，超过 1 MB")


def test_a_part_whose_header_understates_its_size_is_never_unpacked_past_the_claim(
    engine: Engine, tmp_path: Path
) -> None:
    """The zip headers claim 2,000 bytes; inflated, the sheet is 100 MB of one cell."""
    path = huge_cell_xlsx(tmp_path / "liar.xlsx", b"A" * (1 << 20), 100)
    understate_size(path, "xl/worksheets/sheet1.xml", 2_000)
    message = ""

    def refuse() -> None:
        nonlocal message
        message = _refused(engine, path)

    assert peak_mib(refuse) < 20
    assert "liar.xlsx" in message


def test_cells_of_a_sheet_are_counted_while_streaming(
    limits: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    limits.setenv("IMPORT_MAX_CELLS", "5")
    rows: list[list[Any]] = [
        HEADER,
        *[[f"第{i}科技有限公司", "", "", *[None] * 5, "远处的单元格"] for i in range(2)],
    ]
    path = write_xlsx(tmp_path / "sparse.xlsx", {"企业": rows})
    with pytest.raises(LimitExceeded, match="工作表“企业”超过 5 个单元格的上限"):
        source = open_source(path)
        list(source.sheets[0].rows)


def test_the_row_limit_holds_after_chunks_were_loaded(
    engine: Engine, limits: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Rows past the limit are met only after ten chunks were written: the refusal still
    leaves the database as it was."""
    limits.setenv("IMPORT_MAX_ROWS", "20000")
    rows = [HEADER, *[[f"深圳市第{i}科技有限公司", "", "芯片"] for i in range(24_000)]]
    path = write_csv(tmp_path / "many.csv", rows)
    before = table_counts(engine)
    with Session(engine) as session, pytest.raises(LimitExceeded, match="超过 20,000 行的上限"):
        import_file(session, path, kind="enterprises", chunk_size=2_000)
    assert table_counts(engine) == before


def test_a_sheet_whose_range_is_too_large_is_refused_before_it_is_read(
    limits: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """python-calamine holds a sheet as rows × columns from A1: one far cell makes 3 rows of
    16,384 cells, refused by the scan though the table itself has 9 cells."""
    limits.setenv("IMPORT_MAX_CELLS", "1000")
    rows: list[list[Any]] = [HEADER, ["甲科技有限公司", "", ""], ["乙科技有限公司", "", ""]]
    path = write_xlsx(tmp_path / "far.xlsx", {"企业": rows})
    source = open_source(path)
    source.close()
    from openpyxl import load_workbook

    workbook = load_workbook(path)
    workbook["企业"]["XFD3"] = "远处"
    workbook.save(path)
    with pytest.raises(
        LimitExceeded, match=r"文件“far\.xlsx”工作表“企业”超过 1,000 个单元格的上限"
    ):
        open_source(path)
