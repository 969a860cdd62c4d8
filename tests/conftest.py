"""Shared fixtures: a migrated database on SQLite and on real PostgreSQL, one transaction per test."""

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

import models
from models.db import make_engine
from models.migrate import upgrade_to_head

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"

# The `.env` that `make demo` writes (SECRET_KEY) is a developer's, not the tests': settings read
# in the tests and in every `matchmaker` subprocess (they inherit this environment) ignore it.
os.environ["MATCHMAKER_ENV_FILE"] = ""


def postgres_url() -> str | None:
    """The PostgreSQL server `make test` started; absent outside `make test` (tests skip)."""
    url = os.environ.get("TEST_POSTGRES_URL")
    if not url and os.environ.get("CI"):
        pytest.fail("TEST_POSTGRES_URL is not set under CI: run the suite through `make test`")
    return url


def create_postgres_database(name: str) -> str:
    """Create (or recreate) a database on the test server and return its URL."""
    base = postgres_url()
    if base is None:
        pytest.skip("PostgreSQL not available (run through `make test`)")
    admin = make_engine(base)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(base).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(name: str) -> None:
    """Drop a database `create_postgres_database` made."""
    admin = make_engine(postgres_url() or "")
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session", autouse=True)
def _anchors_outside_the_checkout(tmp_path_factory: pytest.TempPathFactory) -> None:
    """`matchmaker serve` anchors the audit chain as it starts: the servers tests start (which
    inherit this environment) must not append to the checkout's var/audit-anchors.jsonl."""
    anchors = tmp_path_factory.mktemp("anchors") / "audit-anchors.jsonl"
    os.environ.setdefault("AUDIT_ANCHOR_PATH", str(anchors))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test that needs one."""
    path = tmp_path_factory.mktemp("sqlite") / "template.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    upgrade_to_head(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_engine() -> Iterator[Engine]:
    """A migrated PostgreSQL database private to this xdist worker."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    url = create_postgres_database(f"mm_test_{worker}_{uuid.uuid4().hex[:6]}")
    engine = make_engine(url)
    upgrade_to_head(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[Engine]:
    """A migrated database on each backend (SQLite: a fresh file; PostgreSQL: shared per worker)."""
    if request.param == "sqlite":
        path = tmp_path / "db.sqlite"
        shutil.copy(sqlite_template, path)
        eng = make_engine(f"sqlite:///{path}")
        yield eng
        eng.dispose()
    else:
        yield request.getfixturevalue("postgres_engine")


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session inside an outer transaction rolled back after the test (savepoints inside)."""
    connection = engine.connect()
    outer = connection.begin()
    db = Session(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield db
    finally:
        db.close()
        outer.rollback()
        connection.close()


def _truncate_all(engine: Engine) -> None:
    """Empty every table but the change counter (its one row is what the triggers move)."""
    tables = [t for t in models.metadata.sorted_tables if t.name != "data_version"]
    names = ", ".join(f'"{t.name}"' for t in tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture
def committing_engine(engine: Engine) -> Iterator[Engine]:
    """An engine for tests whose code commits (API, CLI, workers); PostgreSQL is emptied after."""
    yield engine
    if engine.dialect.name == "postgresql":
        _truncate_all(engine)
