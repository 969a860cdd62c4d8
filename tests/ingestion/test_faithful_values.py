"""What a row keeps: free-text industries through the synonym table, amounts implausible for
their unit to review, 期限 in months or years, contact cells checked, today at the center."""

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from ingestion.headers import header_candidates, map_headers
from ingestion.validate import ParsedRow, RowParser, Rule
from ingestion.values import match_industry, parse_industry
from models.clock import center_today
from models.industry_synonyms import SYNONYMS_PATH, load_industry_synonyms
from models.reference import DIVISIONS, ImportKind


def _row(headers: list[str], cells: list[Any], kind: ImportKind = ImportKind.demands,
         today: date | None = None) -> ParsedRow:  # fmt: skip
    header = map_headers(header_candidates(headers, None), kind, {})
    parser = RowParser("需求", header, clock=lambda: today or date(2026, 12, 8))
    return parser.parse(2, cells)


def test_the_synonym_table_is_versioned_data_of_real_divisions() -> None:
    table = load_industry_synonyms()
    assert table.version == "2026.12.1"
    assert len(table.terms) >= 500
    assert {t.code[1:] for t in table.terms.values() if t.code} <= set(DIVISIONS)
    assert {t.sei for t in table.terms.values()} <= {None, *"123456789"}


@pytest.mark.parametrize(
    ("word", "code", "sei"),
    [
        ("人工智能", "I65", "1"),
        ("医疗器械", "C35", "4"),
        ("光电子器件制造", "C39", "1"),
        ("集成电路", "C39", "1"),
        ("新能源汽车", "C36", "5"),
        ("锂离子电池", "C38", "6"),
        ("人工智能、大数据", "I65", "1"),  # the first listed word that is known
        ("工业机器人研发与制造", "C34", "2"),  # the longest known word inside
        ("CRO服务", "M73", "4"),  # a Latin word inside
        ("新一代信息技术", "I65", "1"),  # a strategic category's name
        ("C39", "C39", None),
        ("医药制造业", "C27", None),
    ],
)
def test_free_text_industries_map_to_a_division_and_a_strategic_category(
    word: str, code: str, sei: str | None
) -> None:
    found = match_industry(word)
    assert found is not None and (found.code, found.sei) == (code, sei)
    assert parse_industry(word) == code


def test_an_unknown_word_is_a_warning_and_the_industry_stays_blank() -> None:
    row = _row(
        ["企业名称", "所属行业", "融资方式", "拟融资金额"], ["杭州甲公司", "做饭机器", "贷款", 500]
    )
    assert "industry" not in row.values and not row.problems
    (warning,) = row.warnings
    assert (warning.column, warning.value, warning.rule) == (
        "所属行业",
        "做饭机器",
        Rule.industry_unmapped,
    )
    assert "GB/T 4754-2017" in warning.message and (warning.sheet, warning.row) == ("需求", 2)


def test_a_table_naming_an_unknown_division_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "syn.csv"
    lines = [*SYNONYMS_PATH.read_text(encoding="utf-8").splitlines()[:3], "做饭,99,烹饪业,"]
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="99 is not a GB/T 4754-2017"):
        load_industry_synonyms(broken)


@pytest.mark.parametrize(
    ("header", "cell", "review"),
    [
        ("拟融资金额（万元）", 5_000_000, True),  # 500 亿元: typed in 元
        ("拟融资金额", "5000000", True),  # no unit: 万元
        ("拟融资金额（万元）", "300-5000000", True),
        ("拟融资金额（元）", 500, True),  # 500 元: typed in 万元
        ("拟融资金额（元）", 5_000_000, False),  # 500 万元
        ("拟融资金额（万元）", 999_999, False),
        ("拟融资金额（元）", "500万元", False),  # the cell's own unit
    ],
)
def test_amounts_implausible_for_their_unit_go_to_review(
    header: str, cell: Any, review: bool
) -> None:
    row = _row(["企业名称", "融资方式", header], ["杭州甲公司", "贷款", cell])
    rules = [w.rule for w in row.warnings]
    if review:
        (problem,) = row.problems
        assert problem.rule.startswith("待复核：") and "未入库" in problem.rule
        assert rules == [Rule.amount_unit] and "amount" not in row.values
    else:
        assert not row.problems and Rule.amount_unit not in rules and row.values["amount"]


@pytest.mark.parametrize(
    ("header", "cell", "months"),
    [("期限", 12, 12), ("期限", "12个月", 12), ("融资期限", "1年", 12), ("期限（年）", 3, 36),
     ("借款期限", "6-12个月", 12)],
)  # fmt: skip
def test_term_is_kept_in_months(header: str, cell: Any, months: int) -> None:
    row = _row(["企业名称", "融资方式", "拟融资金额", header], ["杭州甲公司", "贷款", 500, cell])
    assert row.values["term_months"] == months and not row.problems


def test_contact_cells_are_checked_not_refused() -> None:
    headers = ["企业名称", "融资方式", "拟融资金额", "联系人", "职务", "手机", "邮箱"]
    good = _row(headers, ["杭州甲公司", "贷款", 500, "张三", "财务总监", "138-0013-8000", "a@b.cn"])
    assert {k: good.values[k] for k in ("contact_name", "contact_title", "contact_phone",
                                        "contact_email")} == {
        "contact_name": "张三", "contact_title": "财务总监", "contact_phone": "138-0013-8000",
        "contact_email": "a@b.cn",
    }  # fmt: skip
    bad = _row(headers, ["杭州甲公司", "贷款", 500, "张三", None, "12345", "not-mail"])
    assert not bad.problems and "contact_phone" not in bad.values
    assert [w.rule for w in bad.warnings] == [Rule.contact_format, Rule.contact_format]


def test_today_is_the_center_date_not_utc() -> None:
    evening_utc = datetime(2026, 12, 7, 20, 30, tzinfo=UTC)  # 04:30 on the 8th in Beijing
    assert center_today(evening_utc) == date(2026, 12, 8)
    headers = ["机构名称", "企业名称", "放款金额", "放款日期"]
    cells = ["甲银行", "杭州甲公司", 800, "2026-12-08"]
    at_center = _row(headers, cells, ImportKind.deals, center_today(evening_utc))
    assert not at_center.problems
    by_utc = _row(headers, cells, ImportKind.deals, evening_utc.date())
    assert [p.rule for p in by_utc.problems] == ["日期不能晚于今天"]
