"""The `matchmaker` command line end to end, in a subprocess against a fresh SQLite file."""

import csv
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import Session, select

from api.security import secret_key_problem
from ingestion.uscc import is_valid_uscc
from models import Deal, Enterprise
from models.db import make_engine

BIN = Path(sys.executable).parent / "matchmaker"


def _run(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"DATABASE_URL": f"sqlite:///{db}", "CELERY_ALWAYS_EAGER": "1"}
    return subprocess.run(
        [str(BIN), *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("cli") / "demo.sqlite"
    result = _run(db, "demo", "--enterprises", "300", "--seed", "7")
    assert result.returncode == 0, result.stderr
    assert "统一社会信用代码校验通过 300 / 300" in result.stdout
    assert "隔离 3" in result.stdout and "校验码错误" in result.stdout
    assert "撮合贷款金额（万元）" in result.stdout
    return db


def test_demo_builds_a_center_with_valid_codes(demo_db: Path) -> None:
    with Session(make_engine(f"sqlite:///{demo_db}")) as session:
        codes = session.exec(select(Enterprise.uscc)).all()
        types = set(session.exec(select(Deal.deal_type)).all())
    # 300 generated, plus the new enterprises of the messy workbook the demo imports
    assert len(codes) > 300 and all(c and is_valid_uscc(c) for c in codes)
    assert types == {"loan", "equity"}


def test_export_deals_round_trips(demo_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "deals.csv"
    result = _run(demo_db, "export", "deals", "--format", "csv", "--out", str(out))
    assert result.returncode == 0, result.stderr
    with out.open(encoding="utf-8-sig") as fh:
        exported = {int(r["id"]): float(r["amount_wan"]) for r in csv.DictReader(fh)}
    with Session(make_engine(f"sqlite:///{demo_db}")) as session:
        in_db = {d.id: d.amount_wan for d in session.exec(select(Deal))}
    assert exported == in_db and len(in_db) > 0


def test_export_unknown_kind_fails_with_chinese_message(demo_db: Path, tmp_path: Path) -> None:
    result = _run(demo_db, "export", "secrets", "--out", str(tmp_path / "x.csv"))
    assert result.returncode == 2 and "未知的导出类型" in result.stderr


@pytest.mark.parametrize(
    ("key", "message"),
    [("secret", "过短"), ("changeme-changeme-changeme-changeme", "弱密钥"), ("k" * 40, "弱密钥")],
)
def test_serve_refuses_a_weak_secret_key(tmp_path: Path, key: str, message: str) -> None:
    env = os.environ | {"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}", "SECRET_KEY": key}
    result = subprocess.run([str(BIN), "serve", "--port", "1"], env=env, capture_output=True,
                            text=True, timeout=120, check=False)  # fmt: skip
    assert result.returncode == 2 and message in result.stderr and "SECRET_KEY" in result.stderr


def test_a_random_secret_key_is_accepted() -> None:
    assert secret_key_problem(secrets.token_urlsafe(48)) is None
    assert secret_key_problem(None) is None  # unset: `serve` makes an ephemeral one
