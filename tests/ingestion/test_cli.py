"""`matchmaker import` and `matchmaker duplicates …` through Typer's runner, on a temp SQLite file."""

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

import models.db
from api.cli.ingest import register
from models.settings import get_settings
from tests.ingestion.helpers import write_csv


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
