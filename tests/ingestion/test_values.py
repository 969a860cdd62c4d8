"""Amounts, dates and vocabularies as centers write them."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingestion.values import (
    parse_amount,
    parse_amount_range,
    parse_board,
    parse_date,
    parse_financing_type,
    parse_industry,
    parse_qualifications,
    parse_stage,
)
from models.reference import Board, FinancingType, Qualification, Stage


@pytest.mark.parametrize(
    ("text", "unit", "wan"),
    [
        ("500万元人民币", None, 500.0),
        ("3.5亿", None, 35000.0),
        ("1,200", None, 1200.0),
        ("222.2222万元人民币", None, 222.2222),
        ("1,200", "元", 0.12),
        (800, "万元", 800.0),
        ("３００万", None, 300.0),
        ("5000000元", None, 500.0),
        ("0.8亿元", "万元", 8000.0),
        ("50千万", None, 50000.0),
    ],
)
def test_amounts_become_wan(text: object, unit: str | None, wan: float) -> None:
    assert parse_amount(text, unit).wan == pytest.approx(wan)


def test_undisclosed_is_empty_with_a_note() -> None:
    amount = parse_amount("未披露")
    assert amount.wan is None and amount.note and "未披露" in amount.note


def test_foreign_currency_is_kept_and_flagged() -> None:
    amount = parse_amount("10万美元")
    assert amount.wan == 10.0 and amount.currency == "USD"
    assert amount.note and "外币" in amount.note


def test_garbage_amount_is_an_error_in_chinese() -> None:
    with pytest.raises(ValueError, match="金额"):
        parse_amount("五百万")


def test_amount_ranges() -> None:
    low, high = parse_amount_range("500-1000万")
    assert (low.wan, high.wan) == (500.0, 1000.0)
    low, high = parse_amount_range("1亿至2亿")
    assert (low.wan, high.wan) == (10000.0, 20000.0)
    with pytest.raises(ValueError, match="下限"):
        parse_amount_range("900-100万")


@given(
    st.integers(min_value=0, max_value=10**9), st.sampled_from(["元", "万元", "亿元", "万", "亿"])
)
def test_amount_with_unit_scales_exactly(number: int, unit: str) -> None:
    factor = {"元": 1e-4, "万元": 1.0, "万": 1.0, "亿元": 1e4, "亿": 1e4}[unit]
    assert parse_amount(f"{number:,}{unit}").wan == pytest.approx(number * factor, rel=1e-9)


@given(st.decimals(min_value=0, max_value=10**7, places=4, allow_nan=False))
def test_header_unit_applies_to_bare_numbers_only(number: object) -> None:
    text = f"{number}"
    assert parse_amount(text, "亿元").wan == pytest.approx(float(text) * 1e4, rel=1e-9, abs=1e-6)
    assert parse_amount(text + "万元", "亿元").wan == pytest.approx(float(text), rel=1e-9, abs=1e-6)


@given(st.text(max_size=12))
def test_amount_parser_never_crashes_on_noise(text: str) -> None:
    try:
        amount = parse_amount(text)
    except ValueError as exc:
        assert str(exc)  # a readable rule, never a traceback
    else:
        assert amount.wan is None or amount.wan >= 0


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2024-03-01", date(2024, 3, 1)),
        ("2024/3/1", date(2024, 3, 1)),
        ("2024年3月", date(2024, 3, 1)),
        ("2024年3月15日", date(2024, 3, 15)),
        ("2024.03", date(2024, 3, 1)),
        ("20240301", date(2024, 3, 1)),
        (45352, date(2024, 3, 1)),
        ("45352", date(2024, 3, 1)),
        ("２０２４－０３－０１", date(2024, 3, 1)),
        ("未知", None),
        ("", None),
    ],
)
def test_dates(cell: object, expected: date | None) -> None:
    assert parse_date(cell) == expected


def test_impossible_date_is_an_error() -> None:
    with pytest.raises(ValueError, match="日期"):
        parse_date("2024-02-30")


def test_vocabularies() -> None:
    assert parse_stage("种子期") is Stage.seed
    assert parse_stage("A轮") is Stage.startup
    assert parse_stage("Pre-IPO") is Stage.pre_ipo
    assert parse_financing_type("信用贷款") is FinancingType.loan
    assert parse_financing_type("股权融资") is FinancingType.equity
    assert parse_financing_type("投贷联动") is FinancingType.mixed
    assert parse_board("新三板") is Board.neeq_basic
    assert parse_qualifications("国家高新技术企业、专精特新")[0] == [
        Qualification.high_tech,
        Qualification.specialized,
    ]


@pytest.mark.parametrize(
    ("cell", "code"),
    [
        ("C39", "C39"),
        ("3911", "C3911"),
        ("I65 软件和信息技术服务业", "I65"),
        ("医药制造业", "C27"),
        ("制造业", "C"),
    ],
)
def test_industry_by_code_or_name(cell: str, code: str) -> None:
    assert parse_industry(cell) == code
