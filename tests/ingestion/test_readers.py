"""Readers find the table under title rows, in any of the encodings centers send."""

from pathlib import Path
from typing import Any

import pytest

from ingestion.headers import map_headers
from ingestion.readers import detect_encoding, open_source
from models.errors import DomainError
from models.reference import ImportKind
from tests.ingestion.helpers import write_csv, write_xlsx

ROWS: list[list[Any]] = [
    ["2024年南山区科技型企业融资需求汇总表"],
    ["填报单位：南山区科技局", None, None, "单位：万元"],
    ["企业名称", "统一社会信用代码", "拟融资金额（万元）", "融资方式"],
    ["深圳市华芯科技有限公司", "", "500", "信用贷款"],
    [None, None, None, None],
    ["合计", None, "500", None],
]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_in_each_encoding_finds_the_header_below_titles(tmp_path: Path, encoding: str) -> None:
    path = write_csv(tmp_path / "demands.csv", ROWS, encoding)
    source = open_source(path)
    try:
        (sheet,) = source.sheets
        assert sheet.header_row == 3 and sheet.kind is ImportKind.demands
        rows = list(sheet.rows)
        assert [n for n, _ in rows] == [4]
        assert sheet.skipped.blank == 1 and sheet.skipped.subtotal == [6]
    finally:
        source.close()
    assert (
        source.encoding
        == {"utf-8": "UTF-8", "utf-8-sig": "UTF-8-SIG", "gbk": "GBK", "gb18030": "GBK"}[encoding]
    )


def test_gb18030_only_characters_are_detected() -> None:
    sample = "企业名称,备注\n测试,㐀\n".encode("gb18030")
    assert detect_encoding(sample) == "gb18030"


def test_tsv(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "e.tsv", [["企业名称", "信用代码"], ["甲乙科技有限公司", ""]], sep="\t"
    )
    source = open_source(path)
    assert source.sheets[0].kind is ImportKind.enterprises
    source.close()


def test_xlsx_two_row_merged_header(tmp_path: Path) -> None:
    rows: list[list[Any]] = [
        ["2024年XX区科技型企业融资需求汇总表", None, None, None, None],
        ["企业信息", None, "融资需求", None, "所属行业"],
        ["企业名称", "信用代码", "金额（亿元）", "方式", None],
        ["深圳市华芯科技有限公司", None, 0.5, "股权融资", "C39"],
    ]
    path = write_xlsx(tmp_path / "d.xlsx", {"说明": [["填表说明"], ["请按模板填写"]], "需求": rows},
                      {"需求": ["A1:E1", "A2:B2", "C2:D2", "E2:E3"]})  # fmt: skip
    source = open_source(path)
    try:
        (sheet,) = source.sheets
        assert sheet.name == "需求" and sheet.header_row == 3
        header = map_headers(sheet.columns, ImportKind.demands)
        assert header.fields == {
            0: "legal_name",
            1: "uscc",
            2: "amount",
            3: "financing_type",
            4: "industry",
        }
        assert header.units == {2: "亿元"}
        assert any("说明" in note for note in source.notes)
    finally:
        source.close()


def test_unreadable_inputs_fail_in_chinese(tmp_path: Path) -> None:
    with pytest.raises(DomainError, match="xls"):
        open_source(tmp_path / "old.xls")
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\x81\x20" * 10)
    with pytest.raises(DomainError):
        open_source(bad)
