"""An evaluator, in Debian's Chromium, sees the year against its plan and the year before, downloads
the self-assessment and finds target versus actual and year over year in it, then signs it off;
staff attach evidence to a 表B.1 item."""

import hashlib
import re
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlmodel import Session

from models.db import make_engine
from services.evaluation import Period, create_period, latest_full_year, plan_review, set_target
from services.evaluation.plan import PlanLine
from tests.api.web.conftest import Center, screenshot, sign_in

PDF = "%PDF-1.7\n% 服务团队花名册\n".encode()


@pytest.fixture(scope="module")
def planned(center: Center) -> tuple[int, int, PlanLine]:
    """A plan for the last full year (credit_amount twice its actual) and its evaluation period."""
    engine = make_engine(center.database_url)
    with Session(engine) as session:
        year = latest_full_year(session)
        actual = plan_review(session, Period.year(year)).line("credit_amount").actual
        set_target(session, year, "credit_amount", float(actual) * 2, "admin")
        period = create_period(session, f"{year}年度自评", Period.year(year).start,
                               Period.year(year).end, "eva")  # fmt: skip
        session.commit()
        line = plan_review(session, Period.year(year)).line("credit_amount")
        period_id = int(period.id or 0)
    engine.dispose()
    return year, period_id, line


def _cell(page: Any, key: str, css: str) -> str:
    return str(page.locator(f"tr[data-key='{key}'] td.{css}").inner_text())


def test_evaluator_downloads_the_self_assessment_with_plan_and_last_year(
    browser: Any, center: Center, planned: tuple[int, int, PlanLine], tmp_path: Path
) -> None:
    year, period_id, line = planned
    page = sign_in(browser, center, "eva")
    page.goto(f"/console/evaluation?start={year}-01-01&end={year}-12-31")
    assert _cell(page, "credit_amount", "progress") == "50.0%"
    assert float(_cell(page, "credit_amount", "target").replace(",", "")) == line.target
    assert float(_cell(page, "credit_amount", "previous").replace(",", "")) == line.previous
    assert page.locator("svg.trend text", has_text="上年同期").count() >= 18
    assert page.locator("form.plan-form").count() == 0  # evaluators read the plan, staff set it
    screenshot(page, "evaluation-plan", full_page=True)

    page.goto(f"/console/evaluation/appendix-b?period_id={period_id}")
    with page.expect_download() as download:
        page.get_by_role("link", name="下载自评报告（.xlsx）").click()
    out = tmp_path / "self-assessment.xlsx"
    download.value.save_as(out)
    book = load_workbook(out)
    assert book.sheetnames[0] == "自评报告"
    header = next(r for r in book["表A.1"].iter_rows(values_only=True) if r[0] == "一级指标")
    assert header[4:9] == ("年度目标", "年初至期末累计", "目标完成率", "上年同期", "同比增减")
    row = next(
        r for r in book["表A.1"].iter_rows(values_only=True) if r[1] == "撮合贷款金额（万元）"
    )
    assert (row[4], row[6], row[7], row[8]) == (line.target, 0.5, line.previous, line.change)
    cover = [r[1] for r in book["自评报告"].iter_rows(min_row=4, values_only=True)]
    assert any("撮合贷款金额（万元） 目标" in str(text) and "50.0%" in str(text) for text in cover)
    assert any("上年同期" in str(text) for text in cover)

    page.get_by_label("签署身份").fill("评价专家")
    page.get_by_role("button", name="签署当前自评报告").click()
    flash = page.locator(".flash").inner_text()
    digest = re.search(r"SHA-256 ([0-9a-f]{64})", flash)
    assert (
        digest is not None and page.locator("table.signoffs", has_text=digest.group(1)).count() == 1
    )
    assert page.locator("form[action$='/evidence']").count() == 0  # no upload for evaluators


def test_staff_attach_evidence_to_an_appendix_b_item(
    browser: Any, center: Center, planned: tuple[int, int, PlanLine], tmp_path: Path
) -> None:
    _, period_id, _ = planned
    evidence = tmp_path / "团队花名册.pdf"
    evidence.write_bytes(PDF)
    page = sign_in(browser, center, "mm")
    page.goto(f"/console/evaluation/appendix-b?period_id={period_id}")
    page.get_by_label("二级指标", exact=True).select_option("b1_team")
    page.get_by_label(re.compile("^文件")).set_input_files(str(evidence))
    page.get_by_role("button", name="上传佐证材料").click()
    assert "已上传佐证材料“团队花名册.pdf”" in page.locator(".flash").inner_text()
    listed = page.locator("table.evidence tbody tr", has_text="团队花名册.pdf")
    assert hashlib.sha256(PDF).hexdigest() in listed.inner_text()
    wrong = tmp_path / "名单.exe"
    wrong.write_bytes(b"MZ\x90\x00")
    page.get_by_label(re.compile("^文件")).set_input_files(str(wrong))
    page.get_by_role("button", name="上传佐证材料").click()
    assert "类型不受理" in page.content()
    page.goto(f"/console/evaluation/appendix-b?period_id={period_id}")
    assert page.locator("table.evidence tbody tr").count() == 1
