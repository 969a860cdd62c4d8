"""Migrations take an empty database to head, and the models never drift from them."""

import uuid
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

import models
from models.db import make_engine
from models.migrate import upgrade_to_head
from tests.conftest import create_postgres_database


def schema_drift(engine: Engine) -> list[Any]:
    """Differences between the models and the migrated database (empty when in step)."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, models.metadata))


def test_sqlite_empty_to_head_without_drift(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.sqlite'}")
    upgrade_to_head(engine)
    assert set(inspect(engine).get_table_names()) >= set(models.metadata.tables)
    assert schema_drift(engine) == []
    upgrade_to_head(engine)  # idempotent: already at head
    engine.dispose()


@pytest.mark.postgres
def test_postgres_empty_to_head_without_drift() -> None:
    engine = make_engine(create_postgres_database(f"mm_migr_{uuid.uuid4().hex[:8]}"))
    upgrade_to_head(engine)
    assert set(inspect(engine).get_table_names()) >= set(models.metadata.tables)
    assert schema_drift(engine) == []
    engine.dispose()


def test_drift_check_notices_a_missing_column(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'drift.sqlite'}")
    upgrade_to_head(engine)
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE enterprise DROP COLUMN patents"))
    drift = schema_drift(engine)
    assert any(d[0] == "add_column" and d[3].name == "patents" for d in drift)
    engine.dispose()
