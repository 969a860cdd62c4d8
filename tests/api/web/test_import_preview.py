"""The import preview and the template download in Debian's Chromium: a template per kind, an
upload shown before it loads (mapped columns, first rows, warnings), cancelled without a trace,
then confirmed, with its warnings and contacts on the summary and the batch page."""

import re
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from tests.api.web.conftest import Center, screenshot, sign_in
from tests.ingestion.helpers import write_xlsx


def _district_workbook(folder: Path) -> Path:
    return write_xlsx(folder / "西湖区融资需求.xlsx", {"融资需求": [
        ["企业名称", "所属行业", "融资方式", "拟融资金额（万元）", "期限", "联系人", "联系电话"],
        ["杭州预览测试智能科技有限公司", "人工智能", "信用贷款", 600, "1年", "赵六", "13812345678"],
        ["杭州预览测试医疗器械有限公司", "医疗器械", "贷款", 3_000_000, 12, "钱七", "13912345678"],
    ]})  # fmt: skip


def _batch_count(page: Any) -> int:
    page.goto("/console/imports")
    return page.locator("table").first.locator("tbody tr td a[href^='/console/imports/']").count()


def _preview(page: Any, workbook: Path) -> None:
    page.goto("/console/imports")
    page.get_by_label("文件").set_input_files(str(workbook))
    page.get_by_role("button", name="上传并预览").click()
    page.wait_for_selector("#preview-title")


def test_template_download_and_preview_before_loading(
    browser: Any, center: Center, tmp_path: Path
) -> None:
    page = sign_in(browser, center, "mm")
    page.goto("/console/imports")
    with page.expect_download() as info:
        page.get_by_role("link", name="融资需求模板").click()
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    assert saved.name == "导入模板-融资需求.xlsx"
    assert load_workbook(saved).sheetnames == ["数据", "填写说明"]

    before = _batch_count(page)
    _preview(page, _district_workbook(tmp_path))
    columns = page.locator(".preview-columns tbody tr")
    mapped = {columns.nth(i).locator("td").first.inner_text():
              columns.nth(i).locator("td").nth(1).inner_text() for i in range(columns.count())}  # fmt: skip
    assert mapped["联系人"] == "联系人" and mapped["期限"] == "融资期限"
    assert page.locator("[data-count='preview_rows']").inner_text() == "2"
    assert page.locator("[data-count='preview_refused']").inner_text() == "1"
    assert "将隔离：" in page.locator(".preview-rows tbody tr").nth(1).inner_text()
    assert page.locator(".warnings-table tr[data-rule='amount_unit']").count() == 1
    screenshot(page, "import-preview", full_page=True)
    page.get_by_role("button", name="取消").click()
    assert "未写入任何数据" in page.locator(".flash").inner_text()
    assert _batch_count(page) == before  # the preview and the cancel loaded nothing

    _preview(page, _district_workbook(tmp_path))
    page.get_by_role("button", name="确认导入").click()
    page.wait_for_selector("#summary-title")
    assert page.locator("[data-count='inserted']").inner_text() == "1"
    assert page.locator("[data-count='quarantined']").inner_text() == "1"
    assert page.locator("[data-count='contacts_stored']").inner_text() == "1"
    assert page.locator(".warnings-table tr[data-rule='amount_unit']").count() == 1
    page.goto("/console/imports")
    page.locator("table").first.locator("tbody tr td a").first.click()
    assert re.search(r"/console/imports/\d+$", page.url)
    assert "1 位" in page.locator("[data-count='contacts_stored']").inner_text()
    assert "疑为以“元”填写" in page.locator(".warnings-table").inner_text()
