"""`matchmaker import` and `matchmaker duplicates …` through Typer's runner, on a temp SQLite file."""

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from sqlmodel import Session, select
from typer.testing import CliRunner

import models.db
from cli.ingest import register
from models import ImportBatch
from models.settings import get_settings
from tests.ingestion.helpers import huge_cell_xlsx, write_csv


@pytest.fixture
def app(
    tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[typer.Typer]:
    path = tmp_path / "cli.sqlite"
    shutil.copy(sqlite_template, path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    get_settings.cache_clear()
    models.db._engine = None
    cli = typer.Typer()
    register(cli)
    yield cli
    if models.db._engine is not None:
        models.db._engine.dispose()
    models.db._engine = None
    get_settings.cache_clear()


ROWS = [
    ["企业名称", "统一社会信用代码", "注册资本"],
    ["深圳市华芯科技有限公司", "", "500万"],
    ["深圳市华芯电子有限公司", "", "100万"],
    ["深圳市坏码有限公司", "91440300MA5DC0QX0Y", "1"],
]


def test_import_json_then_duplicates(app: typer.Typer, tmp_path: Path) -> None:
    runner = CliRunner()
    path = write_csv(tmp_path / "e.csv", ROWS)
    result = runner.invoke(app, ["import", str(path), "--json", "--user", "王专员"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert {k: summary[k] for k in ("rows_read", "inserted", "quarantined", "review")} == {
        "rows_read": 3, "inserted": 2, "quarantined": 1, "review": 1,
    }  # fmt: skip
    assert {"batch_id", "updated", "unchanged", "merged"} <= set(summary)
    listed = runner.invoke(app, ["duplicates", "list", "--json"])
    (pair,) = json.loads(listed.output)
    assert runner.invoke(app, ["duplicates", "reject", str(pair["id"])]).exit_code == 0
    assert "没有待复核" in runner.invoke(app, ["duplicates", "list"]).output
    again = runner.invoke(app, ["duplicates", "merge", str(pair["id"])])
    assert again.exit_code == 2 and "已处理" in again.output


def test_readable_summary_and_quarantine_file(app: typer.Typer, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "e.csv", ROWS, "gbk")
    out = tmp_path / "q.xlsx"
    result = CliRunner().invoke(app, ["import", str(path), "--quarantine-out", str(out)])
    assert result.exit_code == 0, result.output
    assert "读取 3 行：新增 2" in result.output and "隔离 1" in result.output
    assert "第4行" in result.output and "校验码" in result.output and out.exists()


def test_bad_kind_is_a_chinese_error(app: typer.Typer, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "e.csv", ROWS)
    result = CliRunner().invoke(app, ["import", str(path), "--kind", "nonsense"])
    assert result.exit_code == 2 and "未知的导入类型" in result.output


def _batches() -> int:
    with Session(models.db.get_engine()) as session:
        return len(session.exec(select(ImportBatch)).all())


def test_import_refuses_a_zip_bomb_with_the_upload_message(
    app: typer.Typer, tmp_path: Path
) -> None:
    """Issue #21, finding 6: the command line refuses as the upload does, naming the limit."""
    bomb = huge_cell_xlsx(tmp_path / "bomb.xlsx", b"A" * (1 << 20), 200, shared=True)
    result = CliRunner().invoke(app, ["import", str(bomb)])
    assert result.exit_code == 2
    assert "错误：文件“bomb.xlsx”中的 xl/sharedStrings.xml 压缩比为" in result.output
    assert "超过 100 倍的上限" in result.output
    assert _batches() == 0


def test_import_refuses_501_columns_and_an_oversized_field(
    app: typer.Typer, tmp_path: Path
) -> None:
    wide = write_csv(
        tmp_path / "wide.csv", [[*ROWS[0], *[f"备注{i}" for i in range(498)]], ROWS[1]]
    )
    result = CliRunner().invoke(app, ["import", str(wide)])
    assert (
        result.exit_code == 2
        and "错误：文件“wide.csv”的表头有 501 列，超过上限 500 列" in result.output
    )
    long = write_csv(tmp_path / "long.csv", [ROWS[0], ["甲科技有限公司", "", "1" * 40_000]])
    result = CliRunner().invoke(app, ["import", str(long)])
    assert result.exit_code == 2
    assert (
        "错误：文件“long.csv”第2行“注册资本”列的内容（40,000 个字符）超过每个单元格 32,767 个字符的上限"
        in result.output
    )
    assert _batches() == 0


def test_import_json_lists_the_change_set_and_the_rows_held(
    app: typer.Typer, tmp_path: Path
) -> None:
    runner = CliRunner()
    header = ["企业名称", "统一社会信用代码", "成立日期", "所在区域"]
    firms = [
        ["杭州星星科技有限公司", "", "2016-05-01", "杭州"],
        ["杭州星星电子有限公司", "", "2017-07-01", "杭州"],
    ]
    assert (
        runner.invoke(
            app, ["import", str(write_csv(tmp_path / "a.csv", [header, *firms]))]
        ).exit_code
        == 0
    )
    rows = [header, ["杭州星星科技有限公司", "", "2015-05-01", "杭州"], ["星星", "", "", "杭州"]]
    result = runner.invoke(app, ["import", str(write_csv(tmp_path / "b.csv", rows)), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert (summary["held"], summary["changes_total"], summary["rows_read"]) == (1, 1, 2)
    assert summary["held_rows"][0]["row"] == 3 and summary["held_rows"][0]["value"] == "星星"
    assert {k: summary["changes"][0][k] for k in ("field", "old", "new")} == {
        "field": "founded_on", "old": "2016-05-01", "new": "2015-05-01",
    }  # fmt: skip
