"""The first run as a newcomer meets it (issue #22): the demo is the default database, a database
without the schema gives one Chinese line, and the help is Chinese throughout."""

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import typer
from alembic import command as alembic_command
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from cli import app
from models.db import normalize_database_url
from models.migrate import alembic_config
from models.settings import Settings
from tests.conftest import create_postgres_database

BIN = Path(sys.executable).parent / "matchmaker"
CJK = re.compile(r"[\u4e00-\u9fff]")


def _run(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`matchmaker` in `cwd` with no DATABASE_URL of its own: the default (or `.env`) decides."""
    base = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SECRET_KEY"}}
    return subprocess.run([str(BIN), *args], cwd=cwd, env=base | env, capture_output=True,
                          text=True, timeout=300, check=False)  # fmt: skip


def _commands(command: Any, path: str = "matchmaker") -> list[tuple[str, Any]]:
    found = [(path, command)]
    for name, child in getattr(command, "commands", {}).items():
        found += _commands(child, f"{path} {name}")
    return found


@pytest.mark.parametrize(
    "args",
    [
        ("users", "list"),
        ("recommend", "1"),
        ("export", "deals", "--out", "deals.csv"),
        ("listing", "board"),
        ("audit", "verify"),
        ("report", "--from", "2025-01-01", "--to", "2025-12-31", "--json"),
        ("serve", "--port", "1"),
    ],
)
def test_a_database_without_the_schema_gives_one_chinese_line(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    result = _run(tmp_path, *args, DATABASE_URL=url)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stderr.strip().splitlines() == [
        f"错误：数据库 {url} 尚未建表或版本过旧，请先运行 matchmaker init-db"
    ]


def test_an_older_schema_gives_the_same_line(tmp_path: Path) -> None:
    """A database from before the accounts migration: "no such column" becomes the same line,
    and `serve` refuses it at start-up."""
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    cfg = alembic_config(url)
    accounts = ScriptDirectory.from_config(cfg).get_revision("0008_accounts")
    assert accounts is not None
    alembic_command.upgrade(cfg, str(accounts.down_revision))
    for args in (("users", "list"), ("serve", "--port", "1")):
        result = _run(tmp_path, *args, DATABASE_URL=url)
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
        assert result.stderr.strip() == (
            f"错误：数据库 {url} 尚未建表或版本过旧，请先运行 matchmaker init-db"
        )


@pytest.mark.postgres
def test_a_postgres_database_without_the_schema_gives_one_chinese_line(tmp_path: Path) -> None:
    url = create_postgres_database(f"mm_firstrun_{uuid.uuid4().hex[:6]}")
    result = _run(tmp_path, "users", "list", DATABASE_URL=url)
    shown = make_url(normalize_database_url(url)).render_as_string(hide_password=True)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.strip() == (
        f"错误：数据库 {shown} 尚未建表或版本过旧，请先运行 matchmaker init-db"
    )


def test_the_demo_is_the_database_every_later_command_uses(tmp_path: Path) -> None:
    """What `make demo` runs, then a README command as written: both on `var/matchmaker.sqlite`."""
    demo = _run(tmp_path, "demo", "--fresh", "--enterprises", "50", CELERY_ALWAYS_EAGER="1")
    assert demo.returncode == 0, demo.stderr
    assert "sqlite:///var/matchmaker.sqlite" in demo.stdout
    created = _run(tmp_path, "users", "create", "--username", "newcomer", "--password",
                   "Tiger-lily-harbour-42", "--role", "matchmaker")  # fmt: skip
    assert created.returncode == 0, created.stderr
    listed = _run(tmp_path, "users", "list")
    assert listed.returncode == 0 and "newcomer" in listed.stdout, listed.stderr
    assert (tmp_path / "var" / "matchmaker.sqlite").exists()
    # `make demo` again rebuilds it; the anchors signed for the old chain go with it
    key = {"SECRET_KEY": "first-run-test-" + "k" * 40}
    assert _run(tmp_path, "audit", "anchor", **key).returncode == 0
    again = _run(tmp_path, "demo", "--fresh", "--enterprises", "50", CELERY_ALWAYS_EAGER="1",
                 **key)  # fmt: skip
    assert "已写入审计锚点" in again.stdout  # the new center's chain is anchored
    assert again.returncode == 0, again.stderr
    assert "newcomer" not in _run(tmp_path, "users", "list").stdout
    verified = _run(tmp_path, "audit", "verify", **key)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_a_dotenv_database_url_is_read_by_the_commands(tmp_path: Path) -> None:
    """Outside the tests (`MATCHMAKER_ENV_FILE` unset) a DATABASE_URL in `./.env` is honoured."""
    (tmp_path / ".env").write_text("DATABASE_URL=sqlite:///var/other.sqlite\n", encoding="utf-8")
    base = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "MATCHMAKER_ENV_FILE"}}
    result = subprocess.run([str(BIN), "init-db"], cwd=tmp_path, env=base, capture_output=True,
                            text=True, timeout=120, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "sqlite:///var/other.sqlite" in result.stdout


def test_the_tests_ignore_a_developers_dotenv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The `.env` of `make demo` (SECRET_KEY, perhaps a DATABASE_URL) never reaches a test."""
    (tmp_path / ".env").write_text(
        "SECRET_KEY=from-the-dotenv-" + "x" * 40 + "\nDATABASE_URL=sqlite:///var/other.sqlite\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    for name in ("SECRET_KEY", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.secret_key is None
    assert settings.database_url == "sqlite:///var/matchmaker.sqlite"
    monkeypatch.delenv("MATCHMAKER_ENV_FILE")
    assert Settings().database_url == "sqlite:///var/other.sqlite"


def test_every_command_and_option_has_chinese_help() -> None:
    root = typer.main.get_command(app)
    missing = []
    for path, command in _commands(root):
        if not CJK.search(command.help or ""):
            missing.append(path)
        ctx = typer.Context(command, info_name=path)
        for param in command.get_params(ctx):
            text = getattr(param, "help", None) or ""
            if not CJK.search(text):
                missing.append(f"{path} {param.opts[0] if param.opts else param.name}")
    assert missing == []
