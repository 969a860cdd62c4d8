"""A report made on a machine without any Chinese font shows its chart words: they are text in the
workbook's chart XML and `<text>` in the page's SVG, and nothing that draws glyphs is loaded."""

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest

from models.db import make_engine, session_scope
from models.migrate import upgrade_to_head
from services.evaluation import APPENDIX_A, Period, create_period, set_target
from tests.services.evaluation import scenario

DRAWING = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
CHART = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"
SVG = "{http://www.w3.org/2000/svg}"
RENDER = """
import sys
from pathlib import Path
from models.db import make_engine
from sqlmodel import Session
from services.evaluation import Period, build_report, write_report
with Session(make_engine(sys.argv[1])) as session:
    report = build_report(session, Period.year(2025))
    write_report(report, Path(sys.argv[2]) / "report.xlsx", "xlsx")
    write_report(report, Path(sys.argv[2]) / "report.html", "html")
loaded = sorted(m for m in sys.modules if m.split(".")[0] == "matplotlib")
print("loaded:", ",".join(loaded))
"""


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 2025 report rendered in a process whose fontconfig knows no font directory at all."""
    folder = tmp_path_factory.mktemp("nofonts")
    url = f"sqlite:///{folder / 'center.sqlite'}"
    engine = make_engine(url)
    upgrade_to_head(engine)
    with session_scope(engine) as session:
        scenario.build(session)
        set_target(session, 2025, "credit_amount", 1000, "计划员")
        create_period(session, "2025年度", Period.year(2025).start, Period.year(2025).end)
    engine.dispose()
    fonts_conf = folder / "fonts.conf"
    fonts_conf.write_text("<?xml version='1.0'?><fontconfig></fontconfig>", encoding="utf-8")
    env = os.environ | {"FONTCONFIG_FILE": str(fonts_conf), "HOME": str(folder),
                        "XDG_DATA_HOME": str(folder), "MPLCONFIGDIR": str(folder)}  # fmt: skip
    done = subprocess.run([sys.executable, "-c", RENDER, url, str(folder)], env=env,
                          capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "loaded:", done.stdout  # no font-drawing chart library was needed
    return folder


def chart_texts(xlsx: Path) -> list[set[str]]:
    """Every word of every chart in the workbook: rich text runs and cached strings."""
    with zipfile.ZipFile(xlsx) as book:
        names = sorted(n for n in book.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n))
        trees = [ElementTree.fromstring(book.read(n)) for n in names]
    return [
        {e.text or "" for e in tree.iter(f"{DRAWING}t")}
        | {e.text or "" for e in tree.iter(f"{CHART}v")}
        for tree in trees
    ]


def test_the_xlsx_charts_carry_their_chinese_words(rendered: Path) -> None:
    charts = chart_texts(rendered / "report.xlsx")
    assert len(charts) == len(APPENDIX_A) + 1  # a trend chart per line and the plan's progress
    trends = {w for words in charts for w in words if "｜" in w}
    assert trends == {f"{i.group}｜{i.name}" for i in APPENDIX_A}
    amount = next(words for words in charts if "科技信贷｜撮合贷款金额（万元）" in words)
    assert {"万元", "季度", "本期", "上年同期", "2025Q1", "2025Q4"} <= amount
    progress = next(words for words in charts if "2025年 年度目标完成率" in words)
    assert {"目标完成率", "撮合贷款金额（万元）", "参与科技金融培训活动人数（人次）"} <= progress


def test_the_html_charts_are_svg_text(rendered: Path) -> None:
    page = (rendered / "report.html").read_text(encoding="utf-8")
    svgs = re.findall(r"<svg .*?</svg>", page, flags=re.S)
    assert len(svgs) == len(APPENDIX_A) and "<img" not in page
    words = [{t.text for t in ElementTree.fromstring(svg).iter(f"{SVG}text")} for svg in svgs]
    for indicator, texts in zip(APPENDIX_A, words, strict=True):
        assert {f"{indicator.group}｜{indicator.name}", indicator.unit, "本期", "上年同期"} <= texts
        assert {"2025Q1", "2025Q2", "2025Q3", "2025Q4"} <= texts
