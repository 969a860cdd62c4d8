"""The console end to end in Debian's Chromium: import, rank, introduce, record a deal, and see
表A.1 grow; institutions confined to their own pages; screenshots of the main pages."""

import random
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from ingestion.uscc import make_uscc
from tests.api.web.conftest import Center, screenshot, sign_in
from tests.workers.processes import Fleet, fleet, service_env

DEAL_WAN = 1234.5


def _figure(page: Any, key: str) -> float:
    text = page.locator(f"tr[data-key='{key}'] .figure-value").inner_text()
    return float(text.replace(",", ""))


def _roster(folder: Path) -> Path:
    """Three good enterprises and one row without a name (quarantined)."""
    rng = random.Random(8)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["企业名称", "统一社会信用代码", "注册资本（万元）"])
    for name in (
        "杭州云栖量子测控科技有限公司",
        "苏州微纳光刻材料有限公司",
        "合肥星链智能装备有限公司",
    ):
        sheet.append([name, make_uscc(rng, "330100"), 1200])
    sheet.append([None, make_uscc(rng, "320500"), 800])
    path = folder / "企业名录.xlsx"
    book.save(path)
    return path


def _import(page: Any, roster: Path) -> None:
    page.goto("/console/imports")
    page.get_by_label("文件").set_input_files(str(roster))
    page.get_by_role("button", name="上传并预览").click()
    page.wait_for_selector("#preview-title")
    page.get_by_role("button", name="确认导入").click()
    page.wait_for_selector("#summary-title")
    assert page.locator("[data-count='rows_read']").inner_text() == "4"
    assert page.locator("[data-count='inserted']").inner_text() == "3"
    assert page.locator("[data-count='quarantined']").inner_text() == "1"
    assert "必填" in page.locator(".summary-text").inner_text()
    link = page.get_by_role("link", name=re.compile("下载隔离数据")).get_attribute("href")
    download = page.request.get(link or "")
    assert download.status == 200 and download.body()[:2] == b"PK"
    screenshot(page, "import-summary")


def _ranked(page: Any, demand_id: int) -> Any:
    page.goto(f"/console/demands/{demand_id}")
    items = page.locator(".rank-item")
    assert items.count() >= 10
    names = {items.nth(i).locator(".institution-name").inner_text() for i in range(items.count())}
    assert len(names) >= 10
    for i in range(items.count()):
        assert items.nth(i).locator(".reasons li").count() >= 1
    screenshot(page, "demand-ranking")
    return items.first


def test_matchmaker_deal_grows_appendix_a(browser: Any, center: Center, tmp_path: Path) -> None:
    evaluator = sign_in(browser, center, "eva")
    evaluator.goto("/console/evaluation")
    before = _figure(evaluator, "credit_amount")
    matchmaker = sign_in(browser, center, "mm")
    screenshot(matchmaker, "home")
    _import(matchmaker, _roster(tmp_path))
    first = _ranked(matchmaker, center.demand_id)
    first.get_by_role("button", name=re.compile("^引荐")).click()
    assert "已引荐" in matchmaker.locator(".flash").inner_text()
    row = matchmaker.locator(".pipeline-table tbody tr").first
    row.get_by_label("成交金额（万元）").fill(str(DEAL_WAN))
    row.get_by_role("button", name="记录成交").click()  # above the demand's upper bound
    assert "超出需求金额上限" in matchmaker.locator(".flash").inner_text()
    row = matchmaker.locator(".pipeline-table tbody tr").first
    row.get_by_label("成交金额（万元）").fill(str(DEAL_WAN))
    row.get_by_label("金额超出需求上限，已核实").check()
    row.get_by_role("button", name="记录成交").click()
    assert "已记录成交" in matchmaker.locator(".flash").inner_text()
    assert "成交" in matchmaker.locator(".pipeline-table tbody tr").first.inner_text()
    matchmaker.goto("/console/pipeline")
    screenshot(matchmaker, "pipeline-board")
    evaluator.reload()
    assert _figure(evaluator, "credit_amount") == round(before + DEAL_WAN, 2)
    screenshot(evaluator, "evaluation-appendix-a", full_page=True)


def test_institution_sees_only_its_own_pages(browser: Any, center: Center) -> None:
    page = sign_in(browser, center, "inst_a")
    assert page.url.endswith(f"/console/institutions/{center.own_institution}")
    assert page.locator("h2#subscriptions").is_visible()
    screenshot(page, "institution")
    response = page.goto(f"/console/institutions/{center.other_institution}")
    assert response is not None and response.status == 404
    assert "不存在" in page.locator(".error-message").inner_text()
    response = page.goto(f"/console/institutions/{center.other_institution}/teasers")
    assert response is not None and response.status == 404
    response = page.goto(f"/console/demands/{center.demand_id}")
    assert response is not None and response.status == 403
    page.goto(f"/console/institutions/{center.own_institution}/teasers")
    assert page.get_by_role("button", name=re.compile("申请引荐")).count() > 0


@pytest.fixture
def slate_worker(center: Center, tmp_path: Path) -> Iterator[Fleet]:
    """A real `celery worker` on the console's broker and the center's database."""
    if center.broker_url is None:
        pytest.skip("Redis not available (run through `make test`)")
    env = service_env(center.database_url, center.broker_url, 1)
    with fleet(env, tmp_path, workers=1) as group:
        yield group


def test_a_queued_slate_finishes_while_the_page_waits(
    browser: Any, center: Center, slate_worker: Fleet
) -> None:
    page = sign_in(browser, center, "mm")
    page.goto("/console/roadshows")
    page.get_by_label("活动名称").fill("2026年第9期科技企业投融资路演·智能制造专场")
    page.get_by_label("首日日期").fill((date.today() + timedelta(days=10)).isoformat())
    page.get_by_label("每厅每场次路演数").fill("3")
    page.get_by_label("邀请路演企业数").fill("8")
    page.get_by_label("邀请投资机构数").fill("5")
    page.get_by_role("button", name="创建").click()
    assert "已创建路演活动" in page.locator(".flash").inner_text()
    page.get_by_label("求解时限（秒）").fill("5")
    page.get_by_role("button", name="运行排程").click()
    assert "已提交排程任务" in page.locator(".flash").inner_text()  # the request did not solve
    status = page.locator("#slate-run")
    assert status.get_attribute("data-status") in ("queued", "running")
    assert page.locator("table.slate").count() == 0
    page.wait_for_selector("#slate-run[data-status='done']", timeout=90_000)  # polled, reloaded
    assert "排程完成" in page.locator("#slate-run").inner_text(), slate_worker.logs()
    assert page.locator("table.slate tbody tr").count() > 0
    screenshot(page, "roadshow-slate", full_page=True)
    export = page.locator("a", has_text="导出排程").get_attribute("href")
    response = page.request.get(export or "")
    assert response.status == 200 and response.headers["content-type"] == "application/zip"


def test_evaluator_pages(browser: Any, center: Center) -> None:
    page = sign_in(browser, center, "eva")
    page.get_by_role("link", name=re.compile("明细")).nth(1).click()
    assert page.locator("table tbody tr").count() >= 1
    page.goto("/console/evaluation/appendix-b")
    page.get_by_label("总体定位和服务方向", exact=True).fill("8.5")
    page.get_by_role("button", name="保存评分").click()
    assert "已保存 1 项评分" in page.locator(".flash").inner_text()
    screenshot(page, "evaluation-appendix-b")
    page.goto("/console/complaints")
    screenshot(page, "complaints")
    response = page.request.get(page.url.split("/console")[0] + "/console/evaluation/report.xlsx")
    assert response.status == 200 and len(response.body()) > 1000


def test_search_and_login_pages(browser: Any, center: Center) -> None:
    page = browser.new_page(base_url=center.base_url, viewport={"width": 1366, "height": 900})
    page.goto("/console/demands")
    assert "/console/login" in page.url
    screenshot(page, "login")
    page = sign_in(browser, center, "mm")
    page.goto("/console/enterprises")
    page.get_by_label("企业名称或统一社会信用代码").fill("科技")
    page.get_by_role("button", name="检索").click()
    assert page.locator("table tbody tr").count() >= 1
    screenshot(page, "enterprise-search")
    page.goto(f"/console/consents?enterprise_id={center.enterprise_id}")
    page.get_by_label("授权对象（入驻机构）").select_option(str(center.own_institution))
    page.get_by_role("button", name="记录授权").click()
    assert "已记录授权" in page.locator(".flash").inner_text()


def test_the_content_security_policy_breaks_nothing(browser: Any, center: Center) -> None:
    """The console's pages under its CSP: no violation reported, the script runs (confirm
    prompts, the error page's back link), the headers are there."""
    page = sign_in(browser, center, "mm")
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text)
            if "Content Security Policy" in m.text else None)  # fmt: skip
    response = page.goto("/console/imports")
    assert response is not None
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"
    asked: list[str] = []
    page.on("dialog", lambda d: (asked.append(d.message), d.dismiss()))
    confirm = page.locator("form[data-confirm] button[type=submit]")
    if confirm.count():
        confirm.first.click()
        assert asked  # console.js ran and asked first
    for path in ("/console/", f"/console/demands/{center.demand_id}", "/console/enterprises"):
        page.goto(path)
    page.goto("/console/enterprises")
    page.goto("/console/demands/999999999")  # the error page
    page.get_by_role("link", name="返回上一页").click()
    page.wait_for_load_state()
    assert page.url.endswith("/console/enterprises")
    assert violations == []


def _subscribe(page: Any, low: str, high: str) -> None:
    """Fill the subscription form with its pickers and submit it."""
    form = page.locator("form[action$='/subscriptions']")
    if not form.is_visible():
        page.get_by_text("新建订阅").click()
    form.get_by_label("订阅名称").fill("深圳成长期制造业贷款项目")
    form.get_by_label("贷款").check()
    form.get_by_label("投贷联动").check()
    form.get_by_label("成长期").check()
    form.get_by_label("行业（可多选，不选为不限）").select_option(["C", "2"])
    form.get_by_label("地区（可多选，不选为不限）").select_option(label="深圳市")
    form.get_by_label("金额下限（万元）").fill(low)
    form.get_by_label("金额上限（万元）").fill(high)
    form.get_by_label("推送频率").select_option(label="每日")
    form.get_by_label("接收邮箱").fill("dealflow@bank-a.example")
    form.get_by_role("button", name="创建订阅").click()


def test_an_institution_subscribes_with_chinese_pickers(browser: Any, center: Center) -> None:
    page = sign_in(browser, center, "inst_a")
    page.goto(f"/console/institutions/{center.own_institution}")
    rows = page.locator("#subscriptions + table tbody tr")
    before = rows.count()
    _subscribe(page, "3000", "500")
    assert "不能大于上限" in page.locator(".flash").inner_text()  # refused in Chinese
    assert rows.count() == before  # and nothing was written
    _subscribe(page, "500", "3000")
    assert "已创建订阅“深圳成长期制造业贷款项目”" in page.locator(".flash").inner_text()
    assert rows.count() == before + 1
    text = rows.filter(has_text="深圳成长期制造业贷款项目").inner_text()
    assert "贷款、投贷联动" in text and "成长期" in text and "每日" in text
    screenshot(page, "institution-subscription", full_page=True)
    other = page.goto(f"/console/institutions/{center.other_institution}")
    assert other is not None and other.status == 404
