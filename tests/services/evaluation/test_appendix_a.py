"""表A.1 known answers: each figure of the constructed scenario equals the value built into it."""

import csv
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import Session

from models import Deal, Match
from models.base import utcnow
from models.clock import center_today
from models.reference import DealLink, DealType, EventKind
from services.evaluation import (
    APPENDIX_A,
    STANDARD_INDICATORS,
    Period,
    appendix_a,
    appendix_a_by_quarter,
    is_brokered,
    last_full_year,
    write_drill_csv,
)
from tests import factories as f
from tests.services.evaluation import scenario
from tests.services.evaluation.scenario import EXPECTED_2025, EXPECTED_BSE_2025

YEAR = Period.year(2025)


@pytest.fixture
def sc(session: Session) -> scenario.Scenario:
    return scenario.build(session)


def _ids(session: Session, key: str, period: Period = YEAR) -> set[int]:
    return {r.id for r in appendix_a(session, period).figure(key).records}


def test_the_17_figures_equal_the_constructed_answers(
    session: Session, sc: scenario.Scenario
) -> None:
    result = appendix_a(session, YEAR)
    assert result.as_json() == EXPECTED_2025
    assert result.value("listed_bse") == EXPECTED_BSE_2025


def test_the_table_has_17_standard_rows_with_the_exact_names() -> None:
    names = [(i.group, i.name) for i in STANDARD_INDICATORS]
    assert len(names) == 17 and len(APPENDIX_A) == 18
    assert names[3] == ("科技信贷", "服务企业数量（家）")
    assert names[7] == ("创业投融资", "服务企业数量（家）")
    assert {i.unit for i in APPENDIX_A} == {"家", "万元", "项", "场", "人次"}


def test_deal_closed_before_its_introduction_does_not_count(
    session: Session, sc: scenario.Scenario
) -> None:
    brokered = _ids(session, "credit_projects")
    assert sc.ids["d2"] not in brokered  # introduced 05-10, closed 05-01
    assert sc.ids["d8"] not in brokered  # introduced 07-01 Beijing time, closed 06-30
    assert sc.ids["d3"] not in brokered  # no match at all


def test_deals_on_the_boundary_days_count(session: Session, sc: scenario.Scenario) -> None:
    brokered = _ids(session, "credit_projects")
    assert {sc.ids["d4"], sc.ids["d5"]} <= brokered  # closed 01-01 and 12-31 (introduced same day)
    assert brokered == {sc.ids["d1"], sc.ids["d4"], sc.ids["d5"]}
    assert _ids(session, "credit_projects", Period.year(2024)) == {sc.ids["d6"]}
    assert sc.ids["d7"] in _ids(session, "credit_projects", Period.year(2026))


def test_institution_whose_agreement_ended_mid_period(
    session: Session, sc: scenario.Scenario
) -> None:
    bank_b = sc.banks["B"].id
    assert bank_b in _ids(session, "credit_banks")
    assert bank_b in _ids(session, "credit_banks", Period.quarter(2025, 2))
    assert bank_b not in _ids(session, "credit_banks", Period.quarter(2025, 3))
    assert appendix_a(session, Period.quarter(2025, 3)).value("credit_banks") == 1
    assert appendix_a(session, Period.year(2026)).value("credit_banks") == 2  # A and C


def test_enterprise_served_by_two_institutions_counts_once_per_line(
    session: Session, sc: scenario.Scenario
) -> None:
    credit = _ids(session, "credit_enterprises")
    venture = _ids(session, "venture_enterprises")
    e = {k: v.id for k, v in sc.ents.items()}
    assert credit == {e["E1"], e["E2"], e["E4"], e["E5"], e["E6"]}  # E1 by banks A and B
    assert venture == {e["E1"], e["E10"]}  # E10 by P1 and A1; E1 again, in the other line


def test_enterprise_listed_on_star_market_after_coaching(
    session: Session, sc: scenario.Scenario
) -> None:
    assert _ids(session, "listed_chinext_star") == {sc.ids["L1"], sc.ids["L2"]}
    assert _ids(session, "listed_main") == {sc.ids["L3"]}  # not L8, listed before its coaching
    assert _ids(session, "listed_bse") == {sc.ids["L7"]}
    assert _ids(session, "coached_unlisted") == {sc.ids["L9"], sc.ids["L10"], sc.ids["L12"]}
    assert sc.ids["L1"] in _ids(session, "listed_chinext_star", Period.quarter(2025, 2))


def test_training_with_repeat_attendees_counts_each_attendance(
    session: Session, sc: scenario.Scenario
) -> None:
    result = appendix_a(session, YEAR)
    assert result.value("training_attendance") == 5  # p1, p2 twice each, p3 once
    assert {r.id: r.detail["人次"] for r in result.figure("training_attendance").records} == {
        sc.ids["t1"]: 3,
        sc.ids["t2"]: 2,
    }
    assert _ids(session, "roadshow_events") == {sc.ids["r1"], sc.ids["r3"]}  # r3 is 01-01 Beijing


def test_drill_down_lists_the_deals_behind_the_amount(
    session: Session, sc: scenario.Scenario
) -> None:
    fig = appendix_a(session, YEAR).figure("credit_amount")
    assert sum(float(r.detail["金额（万元）"] or 0) for r in fig.records) == fig.value == 750.0
    assert all(r.kind == "deal" and r.label for r in fig.records)


def test_flows_add_up_over_quarters_and_years(session: Session, sc: scenario.Scenario) -> None:
    quarters = appendix_a_by_quarter(session, YEAR)
    assert [q.period.short_label for q in quarters] == ["2025Q1", "2025Q2", "2025Q3", "2025Q4"]
    for key in (
        "credit_amount",
        "credit_projects",
        "venture_amount",
        "listed_chinext_star",
        "roadshow_attendance",
        "training_events",
    ):
        assert sum(q.value(key) for q in quarters) == appendix_a(session, YEAR).value(key)


def test_an_empty_database_gives_zeros(session: Session) -> None:
    values = appendix_a(session, YEAR).as_json()
    assert all(v == 0 for group in values.values() for v in group.values())


def test_last_full_year() -> None:
    assert last_full_year(date(2026, 6, 30)) == 2025
    assert last_full_year(date(2025, 12, 31)) == 2025
    assert last_full_year(date(2026, 1, 1)) == 2025


# --- invariants ---------------------------------------------------------------------------------

days = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))


@given(days, days)
def test_quarters_partition_any_period(a: date, b: date) -> None:
    period = Period(min(a, b), max(a, b))
    quarters = period.quarters()
    assert quarters[0].start == period.start and quarters[-1].end == period.end
    for prev, nxt in pairwise(quarters):
        assert (nxt.start - prev.end).days == 1
        assert (
            prev.start.year == prev.end.year
            and (prev.start.month - 1) // 3 == (prev.end.month - 1) // 3
        )


@given(
    days,
    st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
    ),
)
def test_brokered_iff_introduced_on_or_before_the_close_day_in_beijing(
    closed: date, intro: datetime
) -> None:
    deal = Deal(deal_type=DealType.loan, amount_wan=1, closed_on=closed, enterprise_id=1,
                institution_id=1, link_status=DealLink.linked)  # fmt: skip
    match = Match(demand_id=1, institution_id=1, introduced_at=intro)
    beijing_day = (intro.timestamp() + 8 * 3600) // 86400
    assert is_brokered(deal, match) == (beijing_day <= (closed - date(1970, 1, 1)).days)
    queued = deal.model_copy(update={"link_status": DealLink.unlinked})
    assert not is_brokered(queued, match)  # only a linked deal is 撮合
    assert not is_brokered(deal, Match(demand_id=1, institution_id=1))
    assert not is_brokered(deal, None)


def test_payload_for_the_api_carries_every_figure_and_its_records(
    session: Session, sc: scenario.Scenario
) -> None:
    payload = appendix_a(session, YEAR).as_payload()
    assert payload["period"] == {"start": "2025-01-01", "end": "2025-12-31", "label": "2025年"}
    by_key = {f["key"]: f for f in payload["figures"]}
    assert len(by_key) == 18 and by_key["listed_bse"]["supplementary"] is True
    amount = by_key["credit_amount"]
    assert (amount["value"], amount["unit"], amount["record_count"]) == (750.0, "万元", 3)
    assert {r["id"] for r in amount["records"]} == {sc.ids["d1"], sc.ids["d4"], sc.ids["d5"]}
    assert "records" not in appendix_a(session, YEAR).as_payload(with_records=False)["figures"][0]


def test_drill_down_exports_as_csv(session: Session, sc: scenario.Scenario, tmp_path: Path) -> None:
    result = appendix_a(session, YEAR)
    out = tmp_path / "drill.csv"
    assert write_drill_csv(result, out, "credit_enterprises") == 5
    with out.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {int(r["记录ID"]) for r in rows} == {
        r.id for r in result.figure("credit_enterprises").records
    }
    assert {r["二级指标"] for r in rows} == {"服务企业数量（家）"}
    assert rows[0]["一级指标"] == "科技信贷" and any("引荐#" in r["详情"] for r in rows)
    total = write_drill_csv(result, tmp_path / "all.csv")
    assert total == sum(len(f.records) for f in result.figures)


def test_events_count_once_held_ended_in_the_period_with_attendance(session: Session) -> None:
    """A roadshow counts when it has ended (by the period's end and by now) and its attendance
    is recorded: not one scheduled for next week, nor one nobody recorded, nor one running past
    the period's end."""
    now = utcnow()
    today = center_today()
    period = Period(today - timedelta(days=30), today + timedelta(days=30))  # it holds today
    held = f.event(session, EventKind.roadshow, now - timedelta(days=3))
    f.attend(session, held, "甲", "乙")
    next_week = f.event(session, EventKind.roadshow, now + timedelta(days=7))
    f.attend(session, next_week, "甲")  # registered in advance: not attendance yet held
    f.event(session, EventKind.roadshow, now - timedelta(days=5))  # no attendance recorded
    result = appendix_a(session, period)
    assert {r.id for r in result.figure("roadshow_events").records} == {held.id}
    assert result.value("roadshow_attendance") == 2
    overnight = f.event(session, EventKind.training, datetime(2025, 12, 31, 14, tzinfo=UTC),
                        ends_at=datetime(2025, 12, 31, 17, tzinfo=UTC))  # fmt: skip
    f.attend(session, overnight, "丙")  # ends 01:00 on 1 January in Beijing
    assert appendix_a(session, YEAR).value("training_events") == 0
