"""Bulk INSERTs for a chunk: one executemany per table, on SQLite straight to the driver.

SQLAlchemy's executemany spends ~20 µs a row building parameters. On SQLite the same
conversion — each column's own bind processor (enums, JSON, timestamps) — is done here a
column at a time: a chunk's column holds a handful of distinct enum members and one
timestamp, so each distinct value is converted once and the rest are dictionary look-ups.
Tuples are taken from the row dicts with `operator.itemgetter` (in C) and go to
`sqlite3.executemany` as they are (`ingestion.sqlite_checks` checks them). Other databases
get SQLAlchemy's own executemany.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Boolean, Connection, Integer, Numeric, insert
from sqlmodel import Session

from ingestion.sqlite_checks import checked_executemany

ColumnConverter = Callable[[Sequence[Any]], Sequence[Any]]
_INSERTS: dict[tuple[str, tuple[str, ...]], tuple[str, list[ColumnConverter | None]]] = {}


def bulk_insert(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    """INSERT many rows (dicts by column key) in one executemany; on SQLite via the driver."""
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        connection.execute(insert(table), rows)
        return
    keys, tuples = rows_as_tuples(table, rows)
    keys, columns = _without_null_columns(table, keys, tuples)
    sql, converters = sqlite_insert(connection, table, keys)
    checked_executemany(connection, table, sql, convert_columns(columns, converters))


def sqlite_insert(
    connection: Connection, table: Any, keys: tuple[str, ...]
) -> tuple[str, list[ColumnConverter | None]]:
    """The driver-level INSERT for these columns and each column's converter (cached)."""
    cached = _INSERTS.get((table.name, keys))
    if cached is None:
        quote = connection.dialect.identifier_preparer.quote
        columns = [table.c[k] for k in keys]
        sql = (
            f"INSERT INTO {quote(table.name)} ({', '.join(quote(c.name) for c in columns)}) "
            f"VALUES ({', '.join('?' for _ in columns)})"
        )
        converters = [column_converter(c, connection.dialect) for c in columns]
        cached = _INSERTS[(table.name, keys)] = (sql, converters)
    return cached


def _without_null_columns(
    table: Any, keys: tuple[str, ...], tuples: list[tuple[Any, ...]]
) -> tuple[tuple[str, ...], list[Sequence[Any]]]:
    """The columns (transposed, in C) less those NULL in every row that have no DDL default.

    pysqlite binds a NULL through its adapter protocol (~1,350 instructions); a column left
    out of the INSERT is NULL for nothing. A new enterprise leaves ~10 of its columns empty.
    """
    columns: list[Sequence[Any]] = list(zip(*tuples, strict=True))
    keep = [
        i
        for i, values in enumerate(columns)
        if values.count(None) < len(values) or table.c[keys[i]].server_default is not None
    ] or [0]
    if len(keep) == len(keys):
        return keys, columns
    return tuple(keys[i] for i in keep), [columns[i] for i in keep]


def convert_columns(
    columns: list[Sequence[Any]], converters: list[ColumnConverter | None]
) -> list[tuple[Any, ...]]:
    """Apply each column's converter to its values; the rows' tuples back (zipped in C)."""
    for position, convert in enumerate(converters):
        if convert is not None:
            columns[position] = convert(columns[position])
    return list(zip(*columns, strict=True))


def column_converter(column: Any, dialect: Any) -> ColumnConverter | None:
    """The column's bind processor applied to a whole column; None when there is none.

    Enums, dates and timestamps repeat within a chunk, so each distinct value is processed
    once. JSON values (lists, dicts) are unhashable: `[]`, the common default, is written
    directly, others are serialised one by one. Numbers and booleans are processed one by one
    too (1, 1.0 and True are one key to a dict). None stays None (SQL NULL) throughout.
    """
    process = column.type._cached_bind_processor(dialect)
    if process is None:
        return None
    if isinstance(column.type, JSON):
        empty = process([])

        def convert_json(values: Sequence[Any]) -> list[Any]:
            return [
                v if v is None else empty if v == [] and type(v) is list else process(v)
                for v in values
            ]

        return convert_json
    if isinstance(column.type, Boolean | Integer | Numeric):
        return lambda values: [v if v is None else process(v) for v in values]

    def convert_distinct(values: Sequence[Any]) -> list[Any]:
        try:
            table = {v: None if v is None else process(v) for v in set(values)}
        except TypeError:  # an unhashable value
            return [v if v is None else process(v) for v in values]
        return list(map(table.__getitem__, values))

    return convert_distinct


def rows_as_tuples(table: Any, rows: list[dict[str, Any]]) -> tuple[tuple[str, ...], list[Any]]:
    """The columns the rows hold (table order, no `id`) and each row's values in that order.

    When every row has the keys of the first (same count, all present) one `itemgetter`
    builds the tuples in C; otherwise a key a row lacks is None (the column's NULL).
    """
    first = rows[0]
    keys = _ordered_keys(table, first)
    if len(keys) > 1 and len(keys) == len(first) and all(map(len(first).__eq__, map(len, rows))):
        try:
            return keys, list(map(itemgetter(*keys), rows))
        except KeyError:  # a row with other keys than the first
            pass
    keys = _ordered_keys(table, {k for row in rows for k in row})
    return keys, [tuple(row.get(k) for k in keys) for row in rows]


def _ordered_keys(table: Any, present: Any) -> tuple[str, ...]:
    return tuple(c.key for c in table.c if c.key != "id" and c.key in present)
