"""Every standard of every board at its boundary: just met, just missed, and missing data.

The figures are built by hand from the rule texts (not from the JSON), so a wrong threshold in the
data fails here. Missing data must give *unknown*, never *unmet*.
"""

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from models.reference import Board
from services.listing import EnterpriseFacts, Verdict, load_criteria
from services.listing.evaluate import evaluate_set
from tests.services.listing.helpers import AS_OF, facts, patch

Patch = Callable[[EnterpriseFacts], EnterpriseFacts]


@dataclass(frozen=True)
class Case:
    board: Board
    set_id: str
    met: EnterpriseFacts
    missed: Patch
    missing: Patch
    met_verdict: Verdict = Verdict.met


def _flat(
    revenue: float, net_profit: float, **more: float | None
) -> dict[int, dict[str, float | None]]:
    return {y: {"revenue": revenue, "net_profit": net_profit, **more} for y in (2023, 2024, 2025)}


BSE_COMMON = {"neeq_months": 12.0, "neeq_innovation": True}
NEEQ_BASIC = {"founded_on": AS_OF.replace(year=2024)}  # two full years

CASES = [
    # --- 主板 (上交所/深交所 3.1.2) ---
    Case(
        Board.main,
        "main_2024_1",
        facts(
            {
                2023: {"revenue": 1, "net_profit": 5000, "operating_cash_flow": 6000},
                2024: {"revenue": 1, "net_profit": 5000, "operating_cash_flow": 6000},
                2025: {"revenue": 1, "net_profit": 10000, "operating_cash_flow": 8000},
            }
        ),
        lambda f: patch(f, {2025: {"net_profit_deducted": 9999.99}}),
        lambda f: patch(f, {2023: {"operating_cash_flow": None}}),
    ),
    Case(
        Board.main,
        "main_2024_2",
        facts(_flat(60000, 1, operating_cash_flow=25000 / 3), market_value=500000),
        lambda f: patch(f, market_value=499999),
        lambda f: patch(f, market_value=None),
    ),
    Case(
        Board.main,
        "main_2024_3",
        facts(_flat(100000, 1), market_value=1000000),
        lambda f: patch(f, {2025: {"revenue": 99999}}),
        lambda f: patch(f, {2025: {"net_profit_deducted": None}}),
    ),
    # --- 科创板 2.1.2 ---
    Case(
        Board.star,
        "star_1a",
        facts({2024: {"net_profit": 2500}, 2025: {"net_profit": 2500}}, market_value=100000),
        lambda f: patch(f, {2025: {"net_profit_deducted": 2499}}),
        lambda f: patch(f, {2024: {"net_profit": None, "net_profit_deducted": None}}),
    ),
    Case(
        Board.star,
        "star_1b",
        facts({2025: {"revenue": 10000, "net_profit": 1}}, market_value=100000),
        lambda f: patch(f, {2025: {"revenue": 9999}}),
        lambda f: patch(f, market_value=None),
    ),
    Case(
        Board.star,
        "star_2",
        facts(_flat(20000, -500, rd_expense=3000), market_value=150000),
        lambda f: patch(f, {2023: {"rd_expense": 2999}}),
        lambda f: patch(f, {2023: {"rd_expense": None}}),
    ),
    Case(
        Board.star,
        "star_3",
        facts(_flat(30000, -1, operating_cash_flow=10000 / 3), market_value=200000),
        lambda f: patch(f, {2025: {"operating_cash_flow": 10000 / 3 - 1}}),
        lambda f: patch(f, {2024: {"operating_cash_flow": None}}),
    ),
    Case(
        Board.star,
        "star_4",
        facts(_flat(30000, -1), market_value=300000),
        lambda f: patch(f, market_value=299999),
        lambda f: patch(f, {2025: {"revenue": None}}),
    ),
    Case(
        Board.star,
        "star_5",  # the technology criterion always needs a person's judgement
        facts(_flat(0, -5000), market_value=400000),
        lambda f: patch(f, market_value=399999),
        lambda f: patch(f, market_value=None),
        met_verdict=Verdict.unknown,
    ),
    # --- 创业板 2.1.2 (2024) ---
    Case(
        Board.chinext,
        "chinext_2024_1",
        facts({2024: {"net_profit": 4000}, 2025: {"net_profit": 6000}}),
        lambda f: patch(f, {2025: {"net_profit_deducted": 5999}}),
        lambda f: patch(f, {2024: {"net_profit_deducted": None}}),
    ),
    Case(
        Board.chinext,
        "chinext_2024_2",
        facts({2025: {"revenue": 40000, "net_profit": 1}}, market_value=150000),
        lambda f: patch(f, {2025: {"net_profit": 0}}),
        lambda f: patch(f, market_value=None),
    ),
    Case(
        Board.chinext,
        "chinext_2024_3",
        facts({2025: {"revenue": 30000, "net_profit": -9000}}, market_value=500000),
        lambda f: patch(f, {2025: {"revenue": 29999}}),
        lambda f: patch(f, {2025: {"revenue": None}}),
    ),
    # --- 北交所 2.1.2 / 2.1.3 ---
    Case(
        Board.bse,
        "bse_1a",
        facts(
            {y: {"net_profit": 1500, "weighted_roe": 8, "net_assets": 5000} for y in (2024, 2025)},
            market_value=20000,
            **BSE_COMMON,
        ),
        lambda f: patch(f, neeq_months=11.0),
        lambda f: patch(f, neeq_innovation=None),
    ),
    Case(
        Board.bse,
        "bse_1b",
        facts(
            {2025: {"net_profit": 2500, "weighted_roe": 8, "net_assets": 5000}},
            market_value=20000,
            **BSE_COMMON,
        ),
        lambda f: patch(f, {2025: {"weighted_roe": 7.99}}),
        lambda f: patch(f, {2025: {"weighted_roe": None}}),
    ),
    Case(
        Board.bse,
        "bse_2",
        facts(
            {
                2024: {"revenue": 10000},
                2025: {"revenue": 13000, "operating_cash_flow": 1, "net_assets": 5000},
            },
            market_value=40000,
            **BSE_COMMON,
        ),
        lambda f: patch(f, {2025: {"revenue": 12999}}),
        lambda f: patch(f, {2025: {"operating_cash_flow": None}}),
    ),
    Case(
        Board.bse,
        "bse_3",
        facts(
            {
                2024: {"revenue": 20000, "rd_expense": 1600},
                2025: {"revenue": 20000, "rd_expense": 1600, "net_assets": 5000},
            },
            market_value=80000,
            **BSE_COMMON,
        ),
        lambda f: patch(f, {2025: {"net_assets": 4999}}),
        lambda f: patch(f, {2024: {"rd_expense": None}}),
    ),
    Case(
        Board.bse,
        "bse_4",
        facts(
            {2024: {"rd_expense": 2500}, 2025: {"rd_expense": 2500, "net_assets": 5000}},
            market_value=150000,
            **BSE_COMMON,
        ),
        lambda f: patch(f, neeq_innovation=False),
        lambda f: patch(f, neeq_months=None),
    ),
    # --- 新三板创新层 (分层管理办法) ---
    Case(
        Board.neeq_innovation,
        "neeq_innovation_1",
        facts(
            {
                2024: {"net_profit": 1000, "weighted_roe": 6},
                2025: {
                    "net_profit": 1000,
                    "weighted_roe": 6,
                    "share_capital": 2000,
                    "net_assets": 0,
                },
            }
        ),
        lambda f: patch(f, {2025: {"share_capital": 1999}}),
        lambda f: patch(f, {2024: {"weighted_roe": None}}),
    ),
    Case(
        Board.neeq_innovation,
        "neeq_innovation_2",
        facts(
            {
                2023: {"revenue": 6000},
                2024: {"revenue": 7800},
                2025: {"revenue": 10140, "share_capital": 2000, "net_assets": 10},
            }
        ),
        lambda f: patch(f, {2025: {"revenue": 10139}}),
        lambda f: patch(f, {2023: {"revenue": None}}),
    ),
    Case(
        Board.neeq_innovation,
        "neeq_innovation_3",
        facts(
            {
                2024: {"rd_expense": 1250, "equity_financing": 2000},
                2025: {"rd_expense": 1250, "equity_financing": 2000, "net_assets": 10},
            },
            market_value=30000,
        ),
        lambda f: patch(f, {2025: {"net_assets": -1}}),
        lambda f: patch(f, {2025: {"equity_financing": None}}),
    ),
    Case(
        Board.neeq_innovation,
        "neeq_innovation_4",
        facts({2025: {"share_capital": 5000, "net_assets": 10}}, market_value=30000),
        lambda f: patch(f, {2025: {"share_capital": 4999}}),
        lambda f: patch(f, market_value=None),
        met_verdict=Verdict.unknown,
    ),
    # --- 新三板基础层 (挂牌规则 第二十一条) ---
    Case(
        Board.neeq_basic,
        "neeq_basic_1a",
        facts(
            {
                2024: {"net_profit": 400},
                2025: {"net_profit": 400, "share_capital": 500, "net_assets": 500},
            },
            **NEEQ_BASIC,
        ),
        lambda f: patch(f, {2024: {"net_profit_deducted": 399.99}}),
        lambda f: patch(f, founded_on=None),
    ),
    Case(
        Board.neeq_basic,
        "neeq_basic_1b",
        facts({2025: {"net_profit": 600, "share_capital": 500, "net_assets": 500}}, **NEEQ_BASIC),
        lambda f: patch(f, {2025: {"net_assets": 499}}),
        lambda f: patch(f, {2025: {"share_capital": None}}),
    ),
    Case(
        Board.neeq_basic,
        "neeq_basic_2a",
        facts(
            {
                2024: {"revenue": 2750},
                2025: {"revenue": 3300, "share_capital": 500, "net_assets": 500},
            },
            **NEEQ_BASIC,
        ),
        lambda f: patch(f, {2025: {"revenue": 3299}}),
        lambda f: patch(f, {2024: {"revenue": None}}),
    ),
    Case(
        Board.neeq_basic,
        "neeq_basic_2b",
        facts(
            {
                2024: {"revenue": 5000, "operating_cash_flow": 1},
                2025: {
                    "revenue": 5000,
                    "operating_cash_flow": 1,
                    "share_capital": 500,
                    "net_assets": 500,
                },
            },
            **NEEQ_BASIC,
        ),
        lambda f: patch(f, {2024: {"operating_cash_flow": 0}}),
        lambda f: patch(f, {2024: {"operating_cash_flow": None}}),
    ),
    Case(
        Board.neeq_basic,
        "neeq_basic_3",
        facts(
            {
                2024: {"revenue": 3000, "rd_expense": 150},
                2025: {"revenue": 3000, "rd_expense": 150, "share_capital": 500, "net_assets": 500},
            },
            **NEEQ_BASIC,
        ),
        lambda f: patch(f, founded_on=AS_OF.replace(year=2024, month=7)),
        lambda f: patch(f, {2025: {"rd_expense": None}}),
    ),
    Case(
        Board.neeq_basic,
        "neeq_basic_4",
        facts(
            {
                2024: {"rd_expense": 500, "equity_financing": 1000},
                2025: {
                    "rd_expense": 500,
                    "equity_financing": 1000,
                    "share_capital": 500,
                    "net_assets": 500,
                },
            },
            **NEEQ_BASIC,
        ),
        lambda f: patch(f, {2024: {"equity_financing": 999}}),
        lambda f: patch(f, {2024: {"equity_financing": None}}),
    ),
    Case(
        Board.neeq_basic,
        "neeq_basic_5",
        facts({2025: {"share_capital": 500, "net_assets": 500}}, market_value=10000, **NEEQ_BASIC),
        lambda f: patch(f, market_value=9999),
        lambda f: patch(f, market_value=None),
    ),
    # --- 区域性股权市场 (中心默认条件) ---
    Case(
        Board.regional,
        "regional_default",
        facts({2025: {"revenue": 1, "net_assets": 1}}, founded_on=AS_OF.replace(year=2025)),
        lambda f: patch(f, {2025: {"revenue": 0}}),
        lambda f: patch(f, {2025: {"net_assets": None}}),
    ),
]


def _verdict(case: Case, f: EnterpriseFacts) -> Verdict:
    book = load_criteria()
    spec = book.boards[case.board]
    criteria_set = next(s for s in spec.sets_on(AS_OF) if s.id == case.set_id)
    return evaluate_set(criteria_set, spec.common, f).verdict


@pytest.mark.parametrize("case", CASES, ids=[c.set_id for c in CASES])
def test_just_met(case: Case) -> None:
    assert _verdict(case, case.met) is case.met_verdict


@pytest.mark.parametrize("case", CASES, ids=[c.set_id for c in CASES])
def test_just_missed(case: Case) -> None:
    assert _verdict(case, case.missed(case.met)) is Verdict.unmet


@pytest.mark.parametrize("case", CASES, ids=[c.set_id for c in CASES])
def test_missing_data_is_unknown_not_unmet(case: Case) -> None:
    assert _verdict(case, case.missing(case.met)) is Verdict.unknown


def test_every_standard_in_force_has_a_boundary_case() -> None:
    book = load_criteria()
    in_force = {s.id for spec in book.boards.values() for s in spec.sets_on(AS_OF)}
    assert in_force == {c.set_id for c in CASES}
