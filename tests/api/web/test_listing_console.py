"""Listing cultivation in the console, in Debian's Chromium: a matchmaker opens a record from the
board, moves its tier and records a milestone with its evidence; the database shows both."""

from typing import Any

from sqlmodel import Session, col, select

from models import ListingMilestone, ListingRecord, ListingTierChange
from models.db import make_engine
from models.reference import ListingMilestoneKind, ListingTier
from tests.api.web.conftest import Center, screenshot, sign_in

EVIDENCE = "股份有限公司营业执照（控制台测试）"


def _reserve_record(center: Center) -> int:
    """A record in the reserve tier with no share reform recorded yet."""
    engine = make_engine(center.database_url)
    with Session(engine) as session:
        reformed = select(ListingMilestone.listing_record_id).where(
            ListingMilestone.kind == ListingMilestoneKind.shareholding_reform
        )
        query = select(ListingRecord.id).where(
            ListingRecord.tier == ListingTier.reserve, col(ListingRecord.id).not_in(reformed)
        )
        found = session.exec(query.order_by(col(ListingRecord.id))).first()
    engine.dispose()
    assert found is not None, "生成的中心里没有储备层企业"
    return found


def test_a_matchmaker_moves_a_tier_and_records_a_milestone(browser: Any, center: Center) -> None:
    record_id = _reserve_record(center)
    page = sign_in(browser, center, "mm")
    page.goto("/console/listing")
    assert page.get_by_role("table", name="培育库分布").locator("tbody tr").count() == len(
        ListingTier
    )
    page.locator(f"a[href='/console/listing/{record_id}']").click()
    assert page.locator("#current-tier").inner_text() == "储备层"
    assert page.locator("details").count() >= 3  # the readiness per board, with its criteria
    tier_form = page.get_by_role("form", name="调整层级")
    tier_form.get_by_label("调整至").select_option("cultivation")
    tier_form.get_by_label("原因/说明（降级或人工调整必填）").fill("中心评估后人工纳入培育层")
    tier_form.get_by_label("人工调整（不满足准入或越级）").check()
    tier_form.get_by_role("button", name="调整层级").click()
    assert "已调整至培育层" in page.locator(".flash").inner_text()
    assert page.locator("#current-tier").inner_text() == "培育层"
    milestone_form = page.get_by_role("form", name="记录里程碑")
    milestone_form.get_by_label("里程碑").select_option("shareholding_reform")
    milestone_form.get_by_label("佐证材料").fill(EVIDENCE)
    milestone_form.get_by_role("button", name="记录里程碑").click()
    assert "已记录里程碑“股改”" in page.locator(".flash").inner_text()
    assert EVIDENCE in page.get_by_role("table", name="里程碑").inner_text()
    milestone_form = page.get_by_role("form", name="记录里程碑")
    milestone_form.get_by_label("里程碑").select_option("shareholding_reform")
    milestone_form.get_by_role("button", name="记录里程碑").click()
    assert "已记录过“股改”" in page.locator(".flash").inner_text()  # refused, shown in Chinese
    screenshot(page, "listing-record", full_page=True)
    engine = make_engine(center.database_url)
    with Session(engine) as session:
        changes = session.exec(select(ListingTierChange).where(
            ListingTierChange.listing_record_id == record_id)).all()  # fmt: skip
        reform = session.exec(select(ListingMilestone).where(
            ListingMilestone.listing_record_id == record_id,
            ListingMilestone.kind == ListingMilestoneKind.shareholding_reform)).all()  # fmt: skip
    engine.dispose()
    assert changes[-1].tier is ListingTier.cultivation and "人工纳入" in (changes[-1].note or "")
    assert [m.evidence for m in reform] == [EVIDENCE]
