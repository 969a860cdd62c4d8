"""Migration 0008_accounts rewrites existing usernames to their normalised form, and stops on two
names that normalise alike."""

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from models.db import make_engine
from models.migrate import alembic_config


def _at_0006(tmp_path: Path, names: list[str]) -> str:
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    command.upgrade(alembic_config(url), "0006")
    engine = make_engine(url)
    with engine.begin() as conn:
        for name in names:
            conn.execute(text("INSERT INTO app_user (username, password_hash, role, active, "
                              "created_at) VALUES (:n, 'x', 'admin', 1, '2026-01-01 00:00:00')"),
                         {"n": name})  # fmt: skip
    engine.dispose()
    return url


def test_existing_usernames_are_normalised(tmp_path: Path) -> None:
    url = _at_0006(tmp_path, [" Admin ", "ＭＭ", "eva"])
    command.upgrade(alembic_config(url), "head")
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT username, token_version, failed_logins FROM app_user "
                                 "ORDER BY id")).all()  # fmt: skip
    engine.dispose()
    assert [tuple(r) for r in rows] == [("admin", 0, 0), ("mm", 0, 0), ("eva", 0, 0)]


def test_colliding_usernames_stop_the_upgrade(tmp_path: Path) -> None:
    url = _at_0006(tmp_path, ["admin1", "ADMIN1"])
    with pytest.raises(RuntimeError, match="规范化后相同"):
        command.upgrade(alembic_config(url), "head")
