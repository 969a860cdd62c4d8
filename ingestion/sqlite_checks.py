"""SQLite CHECK constraints for bulk writes, verified once per chunk instead of once per row.

SQLite evaluates `CHECK (col IN ('a', 'b', …))` — what every enum column has — by building an
ephemeral table per row (~2 µs each; `financing_demand` has four, about a third of its
INSERT). `checked_executemany` inserts with `PRAGMA ignore_check_constraints` and then
evaluates the table's own CHECK clauses (read from its DDL as SQLite holds it) over the new
rows in one query, where each IN list is built once. A violation raises the IntegrityError
SQLite would have raised, naming the constraint, so a batch with one fails and rolls back
exactly as before; the pragma is put back whatever happens.

Setting the pragma expires every statement the connection has prepared, so an import that
set it around each INSERT re-prepared all its queries every chunk (~9,500 instructions a
demand row). An import therefore ignores the checks for its whole load (`checks_ignored`),
and every write inside verifies its own rows: `checked_executemany` the new ones,
`verify_rows` the updated ones.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError


def checked_executemany(connection: Connection, table: Any, sql: str, params: list[Any]) -> None:
    """SQLite: run an INSERT for many rows, then check the table's CHECK constraints on them."""
    checks = _check_clauses(connection, table.name)
    if not checks:
        connection.exec_driver_sql(sql, params)
        return
    quoted = connection.dialect.identifier_preparer.quote(table.name)
    top = connection.exec_driver_sql(f"SELECT max(rowid) FROM {quoted}").scalar() or 0
    with checks_ignored(connection):
        connection.exec_driver_sql(sql, params)
    _verify_checks(connection, quoted, "rowid > ?", (top,), checks)


@contextmanager
def checks_ignored(connection: Connection) -> Iterator[None]:
    """SQLite skips CHECK constraints inside (unless it already did); put back on the way out.

    Whoever writes inside must verify the rows (`checked_executemany`, `verify_rows`).
    Nothing happens on other databases.
    """
    if connection.dialect.name != "sqlite" or _ignoring(connection):
        yield
        return
    connection.exec_driver_sql("PRAGMA ignore_check_constraints = ON")
    try:
        yield
    finally:
        connection.exec_driver_sql("PRAGMA ignore_check_constraints = OFF")


def verify_rows(connection: Connection, table: Any, ids: list[int]) -> None:
    """Check the table's CHECK constraints on these rows, if SQLite is skipping them now."""
    if not ids or connection.dialect.name != "sqlite" or not _ignoring(connection):
        return
    checks = _check_clauses(connection, table.name)
    if not checks:
        return
    quoted = connection.dialect.identifier_preparer.quote(table.name)
    for start in range(0, len(ids), _IDS_PER_QUERY):
        part = tuple(ids[start : start + _IDS_PER_QUERY])
        where = f"rowid IN ({', '.join('?' for _ in part)})"
        _verify_checks(connection, quoted, where, part, checks)


_IDS_PER_QUERY = 500


def _ignoring(connection: Connection) -> bool:
    return bool(connection.exec_driver_sql("PRAGMA ignore_check_constraints").scalar())


def _verify_checks(
    connection: Connection,
    quoted: str,
    rows: str,
    params: tuple[Any, ...],
    checks: list[tuple[str, str]],
) -> None:
    """Raise SQLite's own IntegrityError for the first of the `rows` (a WHERE condition on
    `params`) failing one.

    A CHECK fails when its expression is false, not when it is NULL: `NOT (expr)` is true
    exactly then.
    """
    failing = " OR ".join(f"NOT ({expr})" for _name, expr in checks)
    where = f"FROM {quoted} WHERE {rows} AND ({failing})"
    bad = connection.exec_driver_sql(f"SELECT rowid {where} LIMIT 1", params).scalar()
    if bad is None:
        return
    for name, expr in checks:
        query = f"SELECT 1 FROM {quoted} WHERE rowid = ? AND NOT ({expr})"
        if connection.exec_driver_sql(query, (bad,)).scalar():
            message = f"CHECK constraint failed: {name}"
            raise IntegrityError(f"INSERT INTO {quoted}", None, sqlite3.IntegrityError(message))


_CHECK_KEYWORD = re.compile(r"\bCHECK\s*\(", re.IGNORECASE)
_CONSTRAINT_NAME = re.compile(r"CONSTRAINT\s+[\"`\[]?(\w+)[\"`\]]?\s*$", re.IGNORECASE)


def _check_clauses(connection: Connection, table_name: str) -> list[tuple[str, str]]:
    """The (name, expression) of each CHECK constraint in the table's DDL as SQLite holds it.

    Remembered with the DBAPI connection (`Connection.info`) per schema version: reading
    `sqlite_master` costs more than the check itself.
    """
    version = connection.exec_driver_sql("PRAGMA schema_version").scalar()
    known: dict[tuple[Any, str], list[tuple[str, str]]] = connection.info.setdefault(
        "ingestion_check_clauses", {}
    )
    if (version, table_name) not in known:
        ddl = connection.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table_name,)
        ).scalar()
        if len(known) >= 64:
            known.clear()
        known[(version, table_name)] = parse_check_clauses(ddl) if ddl else []
    return known[(version, table_name)]


def parse_check_clauses(ddl: str) -> list[tuple[str, str]]:
    """Every `[CONSTRAINT name] CHECK (expr)` of a CREATE TABLE statement, quotes respected.

    An unnamed constraint is named by its expression (as SQLite's error message names it).
    """
    found: list[tuple[str, str]] = []
    position = 0
    while match := _CHECK_KEYWORD.search(ddl, position):
        if _inside_quotes(ddl, match.start()):
            position = match.end()
            continue
        end = _closing_paren(ddl, match.end() - 1)
        expr = ddl[match.end() : end].strip()
        named = _CONSTRAINT_NAME.search(ddl[: match.start()])
        found.append((named.group(1) if named else expr, expr))
        position = end + 1
    return found


def _inside_quotes(text: str, stop: int) -> bool:
    quote: str | None = None
    for ch in text[:stop]:
        if quote is None and ch in "'\"`[":
            quote = "]" if ch == "[" else ch
        elif ch == quote:
            quote = None
    return quote is not None


def _closing_paren(text: str, start: int) -> int:
    """The index of the parenthesis closing the one at `start` (quoted text skipped)."""
    depth, quote = 0, None
    for index in range(start, len(text)):
        ch = text[index]
        if quote is not None:
            if ch == quote:
                quote = None
        elif ch in "'\"`":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return index
    raise ValueError("unbalanced parentheses in table DDL")
