"""Criteria are data: a threshold changed in a copy of the JSON changes the verdict, no code change."""

import json
from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from models.reference import Board
from services.listing import BoardStatus, Verdict, assess, load_criteria
from services.listing.criteria import CRITERIA_PATH
from services.listing.evaluate import evaluate_board
from tests.services.listing.helpers import facts, patch

STAR_1B = facts({2025: {"revenue": 11000, "net_profit": 100}}, market_value=120000)


def _copy_with(tmp_path: Path, set_id: str, label: str, threshold: float) -> Path:
    data = json.loads(CRITERIA_PATH.read_text(encoding="utf-8"))
    for board in data["boards"].values():
        for s in board["sets"]:
            for c in s["criteria"]:
                if s["id"] == set_id and c.get("label") == label:
                    c["threshold"] = threshold
    path = tmp_path / "criteria.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def _star_1b(book_path: Path | None) -> Verdict:
    book = load_criteria(book_path)
    result = evaluate_board(Board.star, book.boards[Board.star], STAR_1B)
    return next(s for s in result.sets if s.set_id == "star_1b").verdict


def test_changing_a_threshold_in_the_data_changes_the_verdict(tmp_path: Path) -> None:
    assert _star_1b(None) is Verdict.met
    stricter = _copy_with(tmp_path, "star_1b", "最近一年营业收入", 12000)
    assert _star_1b(stricter) is Verdict.unmet


def test_the_gap_is_written_in_chinese() -> None:
    short = patch(STAR_1B, {2025: {"revenue": 8000}})
    result = evaluate_board(Board.star, load_criteria().boards[Board.star], short)
    details = [c.detail for s in result.sets if s.set_id == "star_1b" for c in s.criteria]
    assert "最近一年营业收入 0.8 亿元，距 1 亿元差 0.2 亿元" in details


def test_the_standards_in_force_follow_the_evaluation_day() -> None:
    # 5 000 万 over two years met 创业板 standard 1 before the 2024 revision, not after it.
    years = (2022, 2023, 2024, 2025)
    f = facts({y: {"net_profit": 2500, "revenue": 100} for y in years}, market_value=1000)
    book = load_criteria()
    before = patch(f, as_of=date(2024, 4, 29))
    after = patch(f, as_of=date(2026, 6, 30))
    assert (
        evaluate_board(Board.chinext, book.boards[Board.chinext], before).status
        is BoardStatus.ready
    )
    assert (
        evaluate_board(Board.chinext, book.boards[Board.chinext], after).status
        is BoardStatus.not_ready
    )


def test_lower_of_basis_an_unreported_deducted_profit_can_only_fail() -> None:
    # reported 9 000 万 with no 扣非 figure: cannot prove ≥ 6 000 万 is met, but −1 proves "为正" unmet
    f = facts({2024: {"net_profit": 5000}, 2025: {"net_profit": 9000, "net_profit_deducted": None}})
    result = evaluate_board(Board.chinext, load_criteria().boards[Board.chinext], f)
    assert result.status is BoardStatus.possibly_ready
    negative = patch(f, {2025: {"net_profit": -1}})
    result = evaluate_board(Board.chinext, load_criteria().boards[Board.chinext], negative)
    first = next(s for s in result.sets if s.set_id == "chinext_2024_1")
    assert first.verdict is Verdict.unmet


def test_no_figures_at_all_is_unknown_everywhere_and_no_board_is_recommended() -> None:
    readiness = assess(facts({}), load_criteria())
    for board in readiness.boards:
        assert board.status is not BoardStatus.ready
        assert all(s.count(Verdict.unmet) == 0 for s in board.sets), board.board
    assert readiness.recommendation.board is None


def test_recommendation_prefers_a_ready_board_in_the_configured_order() -> None:
    f = facts(
        {2024: {"net_profit": 5000}, 2025: {"net_profit": 6000, "revenue": 50000}},
        market_value=200000,
    )
    readiness = assess(f, load_criteria())
    assert readiness.board(Board.star).status is BoardStatus.ready
    assert readiness.recommendation.board is Board.star


def test_recommendation_falls_back_to_the_nearest_board() -> None:
    f = facts(
        {
            2024: {"revenue": 2000, "net_profit": 100},
            2025: {"revenue": 2200, "net_profit": 150, "net_assets": 800, "share_capital": 1000},
        },
        founded_on=date(2015, 1, 1),
    )
    readiness = assess(f, load_criteria())
    rec = readiness.recommendation
    assert rec.board is not None and rec.status is not None
    assert rec.board in (Board.regional, Board.neeq_basic)


def test_a_malformed_criteria_file_is_refused(tmp_path: Path) -> None:
    data = json.loads(CRITERIA_PATH.read_text(encoding="utf-8"))
    data["boards"]["star"]["sets"][0]["criteria"][0]["op"] = "≈"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ValidationError):
        load_criteria(bad)


def test_every_set_cites_a_rule_an_article_and_a_date() -> None:
    for spec in load_criteria().boards.values():
        for s in spec.sets:
            assert s.sources and all(src.rule and src.article for src in s.sources)
            assert "起施行" in s.citation()
