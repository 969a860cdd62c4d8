"""Engine construction and the session boundary: services never commit, `session_scope` does."""

import select
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DisconnectionError
from sqlmodel import Session, create_engine

from models.settings import get_settings


def normalize_database_url(url: str) -> str:
    """Map plain `postgresql://` URLs to the psycopg 3 driver the project installs."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _sqlite_connect_listener(lock_timeout: float) -> Callable[[Any, Any], None]:
    """Set up each new SQLite connection; a write waits at most `lock_timeout` s for the lock
    (then "database is locked": `api.errors` answers 503)."""

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, open transactions, so SAVEPOINTs work (SQLAlchemy's recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(lock_timeout * 1000)}")
        cursor.close()

    return on_connect


@contextmanager
def foreign_keys_off_on_sqlite(connection: Any) -> Iterator[None]:
    """Migrate with SQLite's foreign keys off (its recipe for rebuilding a table others refer
    to), outside any transaction; afterwards every reference must still hold."""
    raw = connection.connection.dbapi_connection if connection.dialect.name == "sqlite" else None
    if raw is None:
        yield
        return
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
        broken = raw.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"迁移后有 {len(broken)} 条记录的外键引用失效：{broken[:3]}")
    finally:
        raw.execute("PRAGMA foreign_keys=ON")


#: `Connection.info` key: the connection's change count when its transaction began (a
#: transaction whose count is still that has written nothing; see `sqlite_transaction_clean`).
_CHANGES_AT_BEGIN = "sqlite_changes_at_begin"


def _on_sqlite_begin(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN")
    connection.info[_CHANGES_AT_BEGIN] = connection.connection.dbapi_connection.total_changes


def _on_sqlite_begin_immediate(connection: Any) -> None:
    # Take the write lock up front: a read transaction that later writes cannot be refused
    # with SQLITE_BUSY when another process wrote meanwhile; it waits (busy_timeout) instead.
    connection.exec_driver_sql("BEGIN IMMEDIATE")
    connection.info[_CHANGES_AT_BEGIN] = connection.connection.dbapi_connection.total_changes


def sqlite_transaction_clean(connection: Any) -> bool:
    """Whether the SQLite transaction on ``connection`` has changed no row yet (False when its
    beginning was not seen: an engine not made by `make_engine`, or another database)."""
    if connection.dialect.name != "sqlite":
        return False
    begun = connection.info.get(_CHANGES_AT_BEGIN)
    return begun is not None and connection.connection.dbapi_connection.total_changes == begun


# A pooled PostgreSQL connection is replaced after this many seconds (at its next checkout): a
# server or proxy that drops idle sessions silently is then never met by a request.
POOL_RECYCLE_S = 1800
CONNECT_TIMEOUT_S = 10


def _closed_by_server(dbapi_connection: Any) -> bool:
    """True when the server has hung up on an idle pooled connection, seen without a round trip.

    Between requests a healthy connection has nothing to read: every result was read up to
    ReadyForQuery. A server that ends the session (restart, `pg_terminate_backend`, an idle
    timeout) sends its FATAL error and closes the socket, so the socket turns readable. Anything
    readable counts as hung up: at worst a live connection is replaced.
    """
    if getattr(dbapi_connection, "closed", False) or getattr(dbapi_connection, "broken", False):
        return True
    poller = select.poll()
    poller.register(dbapi_connection.fileno(), select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))


def _on_postgres_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    # The pool discards a connection refused here and checks out another (a fresh one after a
    # restart): what `pool_pre_ping` does, without its `SELECT 1` round trip on every checkout.
    if _closed_by_server(dbapi_connection):
        raise DisconnectionError("the server closed the pooled connection")


def make_engine(
    url: str | None = None,
    echo: bool = False,
    *,
    serialized: bool = False,
    lock_timeout: float | None = None,
    **options: Any,
) -> Engine:
    """Build an engine for `url` (default: settings); SQLite gets foreign keys and WAL.

    `serialized` (SQLite only) takes the write lock at BEGIN, so concurrent requests queue, each
    for at most `lock_timeout` s; PostgreSQL pooled connections are checked at checkout.
    """
    url = normalize_database_url(url or get_settings().database_url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False}, **options)
        wait = get_settings().db_lock_timeout if lock_timeout is None else lock_timeout
        event.listen(engine, "connect", _sqlite_connect_listener(wait))
        event.listen(
            engine, "begin", _on_sqlite_begin_immediate if serialized else _on_sqlite_begin
        )
        return engine
    if "connect_timeout" not in parsed.query:
        options["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_S} | options.get(
            "connect_args", {}
        )
    engine = create_engine(url, echo=echo, **({"pool_recycle": POOL_RECYCLE_S} | options))
    event.listen(engine, "checkout", _on_postgres_checkout)
    return engine


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
