"""CLI contracts for independent checks: `matchmaker plan set --year Y --indicator KEY --target N`
and `matchmaker report … --json` with `targets` and `previous_year` for each 表A.1 line; the
self-assessment and its sign-off from the command line."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select

from models import PlanTarget, ReportSignoff
from models.db import make_engine, session_scope
from models.migrate import upgrade_to_head
from services.evaluation import INDICATORS_BY_KEY, Period, create_period
from services.evaluation.indicators import GROUPS
from tests.services.evaluation import scenario

BIN = Path(sys.executable).parent / "matchmaker"


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'center.sqlite'}"
    engine = make_engine(url)
    upgrade_to_head(engine)
    with session_scope(engine) as session:
        scenario.build(session)
        create_period(session, "2025年度", Period.year(2025).start, Period.year(2025).end)
    engine.dispose()
    return url


def matchmaker(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"DATABASE_URL": url}
    return subprocess.run([str(BIN), *args], env=env, capture_output=True, text=True,
                          timeout=300, check=False)  # fmt: skip


def _targets(url: str) -> list[tuple[int, str, float]]:
    with Session(make_engine(url)) as session:
        rows = session.exec(select(PlanTarget)).all()
        return [(r.year, r.indicator_key, r.target) for r in rows]


def test_plan_set_and_report_json(db: str) -> None:
    done = matchmaker(db, "plan", "set", "--year", "2025", "--indicator", "credit_amount",
                      "--target", "1000")  # fmt: skip
    assert done.returncode == 0 and "撮合贷款金额（万元） = 1000" in done.stdout, done.stderr
    printed = matchmaker(db, "report", "--from", "2025-01-01", "--to", "2025-12-31", "--json")
    assert printed.returncode == 0, printed.stderr
    report = json.loads(printed.stdout)
    for group in GROUPS:  # every 表A.1 line has a target (or null) and last year's figure
        assert report["targets"][group].keys() == report[group].keys()
        assert report["previous_year"][group].keys() == report[group].keys()
    assert report["targets"]["科技信贷"]["撮合贷款金额（万元）"] == 1000.0
    assert report["targets"]["科技信贷"]["撮合贷款项目数量（项）"] is None
    assert report["previous_year"]["科技信贷"]["撮合贷款金额（万元）"] == 888.0
    lines = {line["key"]: line for line in report["lines"]}
    assert lines.keys() == set(INDICATORS_BY_KEY)
    assert (lines["credit_amount"]["target"], lines["credit_amount"]["progress"]) == (1000.0, 0.75)


def test_report_json_with_a_file_prints_the_same(db: str, tmp_path: Path) -> None:
    matchmaker(
        db, "plan", "set", "--year", "2025", "--indicator", "roadshow_events", "--target", "4"
    )
    args = ["report", "--from", "2025-01-01", "--to", "2025-12-31", "--json"]
    alone = json.loads(matchmaker(db, *args).stdout)
    with_file = matchmaker(db, *args, "--format", "xlsx", "--out", str(tmp_path / "r.xlsx"))
    assert json.loads(with_file.stdout) == alone
    assert alone["targets"]["其他科技金融服务活动"]["投融资路演活动场次（场）"] == 4.0


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (
            ["--year", "2025", "--indicator", "loans", "--target", "1"],
            "未知的表A.1指标“loans”，可选：",
        ),
        (["--year", "2025", "--indicator", "credit_amount", "--target", "-5"], "不小于 0"),
        (["--year", "1800", "--indicator", "credit_amount", "--target", "5"], "年度应在"),
    ],
)
def test_plan_set_refuses_in_chinese_and_changes_nothing(
    db: str, args: list[str], reason: str
) -> None:
    refused = matchmaker(db, "plan", "set", *args)
    assert refused.returncode == 2 and reason in refused.stderr, refused.stderr
    if "loans" in args:
        assert all(key in refused.stderr for key in INDICATORS_BY_KEY)  # lists the valid keys
    assert _targets(db) == []


def test_self_assessment_and_sign_off_from_the_command_line(db: str, tmp_path: Path) -> None:
    out = tmp_path / "自评报告.xlsx"
    made = matchmaker(db, "self-assessment", "--period", "2025年度", "--out", str(out))
    assert made.returncode == 0, made.stderr
    assert load_workbook(out).sheetnames[0] == "自评报告"
    signed = matchmaker(
        db, "sign-off", "--period", "2025年度", "--by", "张主任", "--role", "中心负责人"
    )
    assert signed.returncode == 0, signed.stderr
    with Session(make_engine(db)) as session:
        row = session.exec(select(ReportSignoff)).one()
    assert (row.signed_by, row.role) == ("张主任", "中心负责人")
    assert row.report_sha256 == hashlib.sha256(row.content).hexdigest()
    assert row.report_sha256 in signed.stdout
    missing = matchmaker(db, "sign-off", "--period", "2030年度", "--by", "x", "--role", "y")
    assert missing.returncode == 2 and "评价期间“2030年度”不存在" in missing.stderr
