"""Building blocks of the read path: the row parser's memo, subtotal rows."""

from ingestion.headers import header_candidates, map_headers
from ingestion.readers import _is_subtotal
from ingestion.validate import RowParser, parse_row
from models.reference import ImportKind


def test_row_parser_memo_gives_the_same_rows_as_parse_row() -> None:
    columns = header_candidates(["企业名称", "拟融资金额（万元）", "融资方式", "担保方式"], None)
    header = map_headers(columns, ImportKind.demands, {})
    parser = RowParser("", header)
    cells = ["深圳市华芯科技有限公司", "3亿", "信用贷款", "知识产权质押、信用"]
    bad = ["深圳市华芯科技有限公司", "很多", "信用贷款", ""]
    for number in (3, 4, 5):
        for given in (cells, bad):
            expected = parse_row(number, "", given, header)
            got = parser.parse(number, given)
            assert (got.values, got.problems, got.notes) == (
                expected.values,
                expected.problems,
                expected.notes,
            )
    first, second = parser.parse(6, cells), parser.parse(7, cells)
    assert first.values["collateral"] == second.values["collateral"]
    assert first.values["collateral"] is not second.values["collateral"]


def test_subtotal_rows_found_in_compatibility_forms_too() -> None:
    assert _is_subtotal(["合计", None, "100"])
    assert _is_subtotal(["\u2f29计", None])  # ⼩ (Kangxi radical) NFKC → 小
    assert _is_subtotal(["\U0001f234计"])  # 🈴 NFKC → 合
    assert not _is_subtotal(["1", "深圳市华芯科技有限公司", "500"])
