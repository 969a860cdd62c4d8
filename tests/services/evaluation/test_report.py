"""The report: the xlsx figures equal the `--json` figures; the HTML renders with its charts."""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from PIL import Image
from sqlmodel import Session

from cli.evaluation import show_appendix_a
from models.db import make_engine, session_scope
from models.migrate import upgrade_to_head
from models.reference import ComplaintKind
from services.evaluation import (
    APPENDIX_A,
    Period,
    build_report,
    create_period,
    render_html,
    score_item,
    write_report,
)
from services.evaluation.charts import CURRENT_COLOR
from services.evaluation.indicators import GROUPS
from tests import factories as ef
from tests.services.evaluation import scenario
from tests.services.evaluation.scenario import EXPECTED_2025

YEAR = Period.year(2025)
CLI = "from cli import app; app()"


def _require(found: bool, what: str) -> None:
    """Skip outside CI when a system package is missing; in CI it is an error."""
    if found:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what} is not installed (apt-get install it in the test set-up)")
    pytest.skip(f"{what} not installed")


@pytest.fixture(scope="module")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite file holding the scenario, one scored 表B.1 item and open complaint items."""
    url = f"sqlite:///{tmp_path_factory.mktemp('report') / 'center.sqlite'}"
    engine = make_engine(url)
    upgrade_to_head(engine)
    with session_scope(engine) as session:
        scenario.build(session)
        ep = create_period(session, "2025年度", YEAR.start, YEAR.end, "市科技局")
        score_item(
            session, int(ep.id or 0), "b3_satisfaction", 88, "评审专家甲", evidence="问卷与访谈"
        )
        ef.complaint(session, ComplaintKind.complaint, content="放款进度未告知")
        ef.complaint(session, ComplaintKind.survey, satisfaction=4)
    engine.dispose()
    return url


def _cli(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"DATABASE_URL": db_url}
    return subprocess.run(
        [sys.executable, "-c", CLI, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def read_table_a(path: Path) -> dict[str, dict[str, object]]:
    """表A.1 from the workbook as {一级指标: {二级指标: value}}, the supplementary row left out."""
    sheet = load_workbook(path)["表A.1"]
    rows = list(sheet.iter_rows(values_only=True))
    start = next(n for n, row in enumerate(rows) if row[:3] == ("一级指标", "二级指标", "数值"))
    out: dict[str, dict[str, object]] = {}
    group = ""
    for g, name, value, note in (r[:4] for r in rows[start + 1 :]):
        group = str(g or group)  # merged cells: the group is on its first row only
        if note is None:
            out.setdefault(group, {})[str(name)] = value
    return out


def test_xlsx_figures_equal_the_json_figures(db_url: str, tmp_path: Path) -> None:
    out = tmp_path / "report.xlsx"
    result = _cli(
        db_url,
        "report",
        "--from",
        "2025-01-01",
        "--to",
        "2025-12-31",
        "--format",
        "xlsx",
        "--out",
        str(out),
        "--json",
    )
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    figures = {group: printed[group] for group in GROUPS}
    assert figures == EXPECTED_2025
    assert read_table_a(out) == figures
    assert sum(len(v) for v in figures.values()) == 17
    assert printed["targets"]["科技信贷"]["撮合贷款金额（万元）"] is None  # no plan in this file
    assert printed["previous_year"].keys() == figures.keys()


def test_json_alone_needs_no_output_file(db_url: str) -> None:
    result = _cli(db_url, "report", "--from", "2025-04-01", "--to", "2025-06-30", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["科技信贷"]["入驻银行机构（家）"] == 2


def test_drill_cli_exports_the_records_behind_a_figure(db_url: str, tmp_path: Path) -> None:
    out = tmp_path / "drill.csv"
    args = ["drill", "--from", "2025-01-01", "--to", "2025-12-31", "--out", str(out)]
    result = _cli(db_url, *args, "--indicator", "training_attendance")
    assert result.returncode == 0 and "已导出 2 条明细" in result.stdout, result.stderr


def test_the_workbook_has_every_part(db_url: str, tmp_path: Path) -> None:
    out = tmp_path / "report.xlsx"
    with Session(make_engine(db_url)) as session:
        write_report(build_report(session, YEAR), out, "xlsx")
    wb = load_workbook(out)
    assert wb.sheetnames == ["表A.1", "表B.1", "季度趋势", "明细", "投诉与改进"]
    trend: Any = wb["季度趋势"]  # openpyxl keeps a sheet's charts in `_charts`
    assert len(trend._charts) == len(APPENDIX_A)  # one native trend chart per indicator
    b_rows = {r[1]: r for r in wb["表B.1"].iter_rows(values_only=True) if r[1]}
    assert b_rows["满意度评价"][2] == 88 and b_rows["满意度评价"][7] == 80.0  # score, survey figure
    assert b_rows["服务场地"][2] is None
    drill = [r for r in wb["明细"].iter_rows(values_only=True) if r[1] == "撮合贷款金额（万元）"]
    assert len(drill) == 3
    open_rows = [
        r for r in wb["投诉与改进"].iter_rows(values_only=True) if r[4] == "放款进度未告知"
    ]
    assert len(open_rows) == 1


def test_cli_rejects_a_reversed_period_and_an_unknown_format(db_url: str, tmp_path: Path) -> None:
    bad = _cli(db_url, "report", "--from", "2025-12-31", "--to", "2025-01-01", "--json")
    assert bad.returncode != 0 and "早于" in bad.stderr
    fmt = _cli(
        db_url,
        "report",
        "--from",
        "2025-01-01",
        "--to",
        "2025-12-31",
        "--format",
        "pdf",
        "--out",
        str(tmp_path / "x.pdf"),
    )
    assert fmt.returncode == 2 and "不支持的报告格式" in fmt.stderr


def test_complaints_cli_round_trip(db_url: str, tmp_path: Path) -> None:
    copy = tmp_path / "c.sqlite"
    shutil.copy(db_url.removeprefix("sqlite:///"), copy)
    url = f"sqlite:///{copy}"
    added = _cli(url, "complaints", "add", "--kind", "投诉", "--content", "路演座位不足")
    assert added.returncode == 0, added.stderr
    case = re.search(r"#(\d+)", added.stdout)
    assert case is not None
    cid = case.group(1)
    assert _cli(url, "complaints", "move", cid, "--to", "handling").returncode == 0
    assert (
        _cli(
            url,
            "complaints",
            "measure",
            cid,
            "--description",
            "扩容场地",
            "--owner",
            "活动部",
            "--due",
            "2026-01-31",
        ).returncode
        == 0
    )
    refused = _cli(url, "complaints", "move", cid, "--to", "resolved")
    assert refused.returncode == 2 and "原因分析" in refused.stderr
    assert (
        _cli(
            url, "complaints", "move", cid, "--to", "已办结", "--root-cause", "报名人数预估不足"
        ).returncode
        == 0
    )
    listed = _cli(url, "complaints", "list", "--status", "resolved")
    assert (
        "路演座位不足" in listed.stdout
        and "扩容场地" in listed.stdout
        and "报名人数预估不足" in listed.stdout
    )


def test_score_cli_creates_the_period(db_url: str, tmp_path: Path) -> None:
    copy = tmp_path / "s.sqlite"
    shutil.copy(db_url.removeprefix("sqlite:///"), copy)
    url = f"sqlite:///{copy}"
    args = [
        "score-b",
        "--period",
        "2026上半年",
        "--item",
        "b2_premises",
        "--score",
        "90",
        "--by",
        "甲",
    ]
    assert _cli(url, *args).returncode == 2
    ok = _cli(url, *args, "--from", "2026-01-01", "--to", "2026-06-30", "--attach", "现场照片.jpg")
    assert ok.returncode == 0 and "服务场地 = 90" in ok.stdout, ok.stderr


def test_html_embeds_an_svg_chart_per_indicator(db_url: str) -> None:
    with Session(make_engine(db_url)) as session:
        page = render_html(build_report(session, YEAR))
    assert page.count("<svg ") == len(APPENDIX_A) and "data:image/png" not in page
    for indicator in APPENDIX_A:
        assert indicator.name in page
    assert "放款进度未告知" in page and "满意度评价" in page


def _chromium() -> str | None:
    return next(
        (p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None
    )


def test_html_report_renders_with_its_charts_in_headless_chromium(
    db_url: str, tmp_path: Path
) -> None:
    browser = _chromium()
    _require(browser is not None, "chromium")
    page, shot = tmp_path / "report.html", tmp_path / "shot.png"
    with Session(make_engine(db_url)) as session:
        write_report(build_report(session, YEAR), page, "html")
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                str(browser),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                f"--user-data-dir={profile}",
                f"--screenshot={shot}",
                "--window-size=1280,2000",
                page.as_uri(),
            ],
            capture_output=True,
            timeout=120,
            check=False,
        )
    assert shot.exists(), "chromium wrote no screenshot"
    image = Image.open(shot).convert("RGB")
    assert image.size == (1280, 2000)
    bar = tuple(int(CURRENT_COLOR[i : i + 2], 16) for i in (1, 3, 5))
    colors = [
        (n, rgb) for n, rgb in image.getcolors(maxcolors=1 << 20) or [] if isinstance(rgb, tuple)
    ]
    bar_pixels = sum(
        n for n, rgb in colors if all(abs(a - b) <= 8 for a, b in zip(rgb, bar, strict=True))
    )
    assert bar_pixels > 5000, "the trend charts' bars are not visible in the screenshot"


def test_demo_tour_prints_the_last_full_year(
    session: Session, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario.build(session)
    show_appendix_a(session)  # the latest deal closed 2026-01-01: the last full year is 2025
    printed = capsys.readouterr().out
    assert "表A.1 科技金融服务中心评价定量指标（2025年）" in printed
    assert re.search(r"撮合贷款金额（万元）\s+750\.00", printed)
    assert re.search(r"辅导企业在北交所上市数量（家）（补充）\s+1", printed)
