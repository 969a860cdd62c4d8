"""Closing a demand in the console: a matchmaker closes it as 已融资 with the amount and a reason;
the page shows the status, the amount raised and the history, and no longer ranks institutions."""

from typing import Any

from tests.api.web.conftest import Center, screenshot, sign_in


def test_matchmaker_closes_a_demand_as_funded(browser: Any, center: Center) -> None:
    page = sign_in(browser, center, "mm")
    page.goto("/console/demands?status=pending")
    page.locator("table tbody tr a", has_text="需求 #").first.click()
    demand_url = page.url
    assert page.locator("#demand-status").inner_text() == "待对接"
    assert page.get_by_text("不再推荐机构").count() == 0
    page.get_by_label("结案方式").select_option(label="已融资")
    page.get_by_label("结案原因").fill("企业已获银行放款，来电确认")
    page.get_by_role("button", name="结案").click()
    assert "须填写融资金额" in page.locator(".flash").inner_text()  # refused: nothing changed
    assert page.locator("#demand-status").inner_text() == "待对接"
    page.get_by_label("结案方式").select_option(label="已融资")
    page.get_by_label("融资金额（万元，已融资时填写）").fill("300")
    page.get_by_label("结案原因").fill("企业已获银行放款，来电确认")
    page.get_by_role("button", name="结案").click()
    assert "已结案：已融资" in page.locator(".flash").inner_text()
    assert page.url.split("#")[0] == demand_url.split("#")[0]
    assert page.locator("#demand-status").inner_text() == "已融资"
    assert page.locator("#amount-raised").inner_text() == "300"
    assert page.locator(".rank-item").count() == 0
    assert "不再推荐机构" in page.locator("#ranking + p").inner_text()
    history = page.locator("table.history tbody tr").first.inner_text()
    assert "已融资" in history and "企业已获银行放款" in history and "mm" in history
    screenshot(page, "demand-closed")
    page.get_by_label("重新开放原因").fill("放款被银行撤销")
    page.get_by_role("button", name="重新开放").click()
    assert "已重新开放：待对接" in page.locator(".flash").inner_text()
    assert page.get_by_text("不再推荐机构").count() == 0
    page.goto("/console/deals/unlinked")
    assert page.locator("#unlinked-deals").is_visible()
