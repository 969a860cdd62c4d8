"""The 入驻机构 pages in Debian's Chromium: from the nav to an institution in force, its signed
commitments against the ledger for the agreement year, and a yearly evaluation recorded."""

import re
from typing import Any

from tests.api.web.conftest import Center, screenshot, sign_in


def test_matchmaker_reads_commitments_and_records_an_evaluation(
    browser: Any, center: Center
) -> None:
    page = sign_in(browser, center, "mm")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="入驻机构").click()
    in_force = int(
        re.search(r"在约的机构 (\d+) 家", page.locator("main p.muted").first.inner_text())[1]
    )  # type: ignore[index]
    assert 0 < in_force < page.locator("main table tbody tr").count()
    page.locator("main table tbody tr", has_text="在约").first.get_by_role(
        "link", name="承诺与履约"
    ).click()
    lines = page.locator("table.commitments tbody tr")
    assert lines.count() >= 1 and "年度" in lines.first.inner_text()
    assert re.search(r"实绩|需人工核实|\d", page.locator("table.commitments").inner_text())
    screenshot(page, "resident-commitments")
    page.get_by_label("评价意见").fill("履约基本到位")
    page.get_by_label(re.compile("年度评价结论")).select_option("keep")
    page.get_by_role("button", name="记录评价").click()
    assert "年度评价：保留" in page.locator(".flash").inner_text()
    assert "履约基本到位" in page.locator("main").inner_text()
