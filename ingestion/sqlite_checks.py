"""SQLite CHECK constraints for bulk INSERTs, verified once per chunk instead of once per row.

SQLite evaluates `CHECK (col IN ('a', 'b', …))` — what every enum column has — by building an
ephemeral table per row (~2 µs each; `financing_demand` has four, about a third of its
INSERT). `checked_executemany` inserts with `PRAGMA ignore_check_constraints` and then
evaluates the table's own CHECK clauses (read from its DDL as SQLite holds it) over the new
rows in one query, where each IN list is built once. A violation raises the IntegrityError
SQLite would have raised, naming the constraint, so a batch with one fails and rolls back
exactly as before; the pragma is put back whatever happens.
"""

from __future__ import annotations

import re
import sqlite3
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
    ignoring = connection.exec_driver_sql("PRAGMA ignore_check_constraints").scalar()
    connection.exec_driver_sql("PRAGMA ignore_check_constraints = ON")
    try:
        connection.exec_driver_sql(sql, params)
    finally:
        connection.exec_driver_sql(f"PRAGMA ignore_check_constraints = {int(bool(ignoring))}")
    _verify_checks(connection, quoted, top, checks)


def _verify_checks(
    connection: Connection, quoted: str, top: int, checks: list[tuple[str, str]]
) -> None:
    """Raise SQLite's own IntegrityError for the first new row (rowid > `top`) failing one.

    A CHECK fails when its expression is false, not when it is NULL: `NOT (expr)` is true
    exactly then.
    """
    failing = " OR ".join(f"NOT ({expr})" for _name, expr in checks)
    where = f"FROM {quoted} WHERE rowid > ? AND ({failing})"
    bad = connection.exec_driver_sql(f"SELECT rowid {where} LIMIT 1", (top,)).scalar()
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
