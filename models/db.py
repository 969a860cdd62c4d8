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


def _on_sqlite_begin(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN")


def _on_sqlite_begin_immediate(connection: Any) -> None:
    # Take the write lock up front: a read transaction that later writes cannot be refused
    # with SQLITE_BUSY when another process wrote meanwhile; it waits (busy_timeout) instead.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


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
    if "connect_timeout" not in parsed.query:  # a new connection may be made on the event loop
        options["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_S} | options.get(
            "connect_args", {}
        )
    engine = create_engine(url, echo=echo, **({"pool_recycle": POOL_RECYCLE_S} | options))
    event.listen(engine, "checkout", _on_postgres_checkout)
    return engine


# `Session.info` key: set while a unit of work runs on the event loop (`api.routing`), where it
# must not wait for a lock. A step that would wait raises `WouldWait` instead.
NO_WAIT = "no_wait"


class WouldWait(Exception):
    """A unit of work marked `NO_WAIT` reached a lock another transaction holds."""


class ReadOnlySession(Session):
    """A session that refuses to flush changes: the unit of work of a read-only request.

    It runs on `reader_engine`'s connections, each statement its own transaction, so a write
    through it would not be atomic with anything else: it is refused, before any SQL is sent.
    """

    def flush(self, objects: Any = None) -> None:
        """Refuse pending changes (an autoflush with nothing pending does nothing, as before)."""
        if self.new or self.dirty or self.deleted:
            raise RuntimeError("a read-only session cannot write")
        super().flush(objects)


def _refuse_writes(
    _conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool
) -> None:
    if context is not None and (context.isinsert or context.isupdate or context.isdelete):
        raise RuntimeError(f"a read-only connection cannot write: {statement[:60]}")


def reader_engine(engine: Engine) -> Engine | None:
    """`engine` in autocommit mode for read-only units of work (PostgreSQL; None otherwise).

    Under READ COMMITTED, PostgreSQL's default, each statement of a transaction reads its own
    snapshot anyway, so a read-only unit of work sees exactly what it would inside
    BEGIN … COMMIT; without them it saves two round trips. The connections are the same pool's
    (the mode is set on checkout and reset on return, without I/O). Insert, update and delete
    statements are refused on it. Use it only while `reads_per_statement(engine)` holds.
    """
    if engine.dialect.name != "postgresql":
        return None
    reader = engine.execution_options(isolation_level="AUTOCOMMIT")
    event.listen(reader, "before_cursor_execute", _refuse_writes)
    return reader


def reads_per_statement(engine: Engine) -> bool:
    """True when `engine`'s transactions are known to be READ COMMITTED (after its first
    connection: the server's default is read then), where autocommit reads see the same."""
    dialect: Any = engine.dialect
    level = (engine.get_execution_options().get("isolation_level") or dialect.isolation_level
             or getattr(dialect, "default_isolation_level", None))  # fmt: skip
    return level == "READ COMMITTED"


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
