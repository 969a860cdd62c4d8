"""CLI contracts of issue 23's faithful import: `import --json` with `warnings` and
`contacts_stored`, `template KIND --out`, `export contacts` (administrators only, audited)."""

import csv
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, func, select
from typer.testing import CliRunner

import models.db
from cli import app
from models import AuditLog, ContactPerson
from models.db import make_engine
from models.settings import get_settings
from tests import factories
from tests.ingestion.helpers import write_xlsx

WARNING_KEYS = {"sheet", "row", "column", "value", "rule", "message"}


@pytest.fixture
def db(tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "cli.sqlite"
    shutil.copy(sqlite_template, path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    get_settings.cache_clear()
    models.db._engine = None
    yield path
    if models.db._engine is not None:
        models.db._engine.dispose()
    models.db._engine = None
    get_settings.cache_clear()


def _count(path: Path, model: type) -> int:
    engine = make_engine(f"sqlite:///{path}")
    try:
        with Session(engine) as session:
            return session.exec(select(func.count()).select_from(model)).one()
    finally:
        engine.dispose()


def _import_demands(tmp_path: Path) -> dict:
    book = write_xlsx(tmp_path / "需求.xlsx", {"需求": [
        ["企业名称", "所属行业", "融资方式", "拟融资金额（元）", "期限", "联系人", "手机", "邮箱"],
        ["杭州和雷实业股份有限公司", "医疗器械", "贷款", 8_000_000, "2年", "张三", "13800138000",
         "z@example.com"],
        ["杭州场地汇科技有限公司", "会展服务", "贷款", 600, None, "李四", None, None],
    ]})  # fmt: skip
    result = CliRunner().invoke(app, ["import", str(book), "--json"])
    assert result.exit_code == 0, result.output
    summary: dict = json.loads(result.output)
    return summary


def test_import_json_lists_warnings_and_contacts(db: Path, tmp_path: Path) -> None:
    summary = _import_demands(tmp_path)
    assert (summary["inserted"], summary["quarantined"], summary["contacts_stored"]) == (1, 1, 1)
    (warning,) = summary["warnings"]
    assert set(warning) == WARNING_KEYS
    assert (warning["sheet"], warning["row"], warning["column"], warning["value"]) == (
        "需求", 3, "拟融资金额(元)", 600)  # fmt: skip
    assert warning["rule"] == "amount_unit" and "疑为以“万元”填写" in warning["message"]
    assert _count(db, ContactPerson) == 1


def test_template_writes_a_workbook_that_imports(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "模板.xlsx"
    result = CliRunner().invoke(app, ["template", "融资需求", "--out", str(out)])
    assert result.exit_code == 0, result.output
    book = load_workbook(out)
    assert book.sheetnames == ["数据", "填写说明"]
    header = [c.value for c in book["数据"][1]]
    assert header[:3] == ["企业名称", "融资方式", "拟融资金额（万元）"] and "联系人" in header
    imported = CliRunner().invoke(app, ["import", str(out), "--json"])
    assert json.loads(imported.output)["inserted"] == 1
    unknown = CliRunner().invoke(app, ["template", "贷款", "--out", str(out)])
    assert unknown.exit_code == 2 and "未知的导入类型" in unknown.output


def test_export_contacts_is_for_administrators_and_audited(db: Path, tmp_path: Path) -> None:
    _import_demands(tmp_path)
    engine = make_engine(f"sqlite:///{db}")
    with Session(engine) as session:
        factories.user(session, username="admin1", role="admin")
        factories.user(session, username="mm1", role="matchmaker")
        session.commit()
    engine.dispose()
    audits = _count(db, AuditLog)
    refused = tmp_path / "refused.csv"
    result = CliRunner().invoke(app, ["export", "contacts", "--format", "csv", "--out",
                                      str(refused), "--user", "mm1"])  # fmt: skip
    assert result.exit_code == 2 and "仅限管理员" in result.output
    assert not refused.exists() and _count(db, AuditLog) == audits
    out = tmp_path / "contacts.csv"
    result = CliRunner().invoke(app, ["export", "contacts", "--format", "csv", "--out",
                                      str(out), "--user", "admin1"])  # fmt: skip
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["enterprise_name"], r["name"], r["phone"]) for r in rows] == [
        ("杭州和雷实业股份有限公司", "张三", "13800138000")]  # fmt: skip
    xlsx = tmp_path / "contacts.xlsx"
    assert CliRunner().invoke(app, ["export", "contacts", "--format", "xlsx", "--out",
                                    str(xlsx)]).exit_code == 0  # fmt: skip
    assert load_workbook(xlsx).active.max_row == 2  # type: ignore[union-attr]
    engine = make_engine(f"sqlite:///{db}")
    with Session(engine) as session:
        logged = session.exec(select(AuditLog).where(AuditLog.entity == "contact_person")).all()
    engine.dispose()
    assert [(a.actor, a.action, a.detail["rows"]) for a in logged] == [
        ("admin1", "disclose", 1), ("cli", "disclose", 1)]  # fmt: skip
