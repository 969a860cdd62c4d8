"""Engine construction and the session boundary: services never commit, `session_scope` does."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

from models.settings import get_settings


def normalize_database_url(url: str) -> str:
    """Map plain `postgresql://` URLs to the psycopg 3 driver the project installs."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not pysqlite, open transactions, so SAVEPOINTs work (SQLAlchemy's recipe).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _on_sqlite_begin(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN")


def _on_sqlite_begin_immediate(connection: Any) -> None:
    # Take the write lock up front: a read transaction that later writes cannot be refused
    # with SQLITE_BUSY when another process wrote meanwhile; it waits (busy_timeout) instead.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(
    url: str | None = None, echo: bool = False, *, serialized: bool = False, **options: Any
) -> Engine:
    """Build an engine for `url` (default: settings); SQLite gets foreign keys and WAL.

    `serialized` (SQLite only) makes every transaction take the write lock at BEGIN: the
    server uses it, so concurrent requests queue instead of failing with "database is locked".
    `options` go to `create_engine` (pool sizes, say).
    """
    url = normalize_database_url(url or get_settings().database_url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False}, **options)
        event.listen(engine, "connect", _on_sqlite_connect)
        event.listen(
            engine, "begin", _on_sqlite_begin_immediate if serialized else _on_sqlite_begin
        )
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True, **options)


_engine: Engine | None = None


def get_engine() -> Engine:
    """The process-wide engine, created on first use."""
    global _engine
    if _engine is None:
        _engine = make_engine(echo=get_settings().sql_echo)
    return _engine


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with Session(engine or get_engine()) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
