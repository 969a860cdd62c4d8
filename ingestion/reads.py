"""Bulk reads for a chunk: the rows whose key is in a list of values, 500 values a query.

On SQLite the statement text is built once and the results go through each column's own
result processor (as SQLAlchemy's would, but once per distinct value): compiling a 500-value
IN list costs SQLAlchemy more than running it costs SQLite. Other databases get SQLAlchemy's
select. IN lists are padded to full size, so each read keeps to one statement text (and SQLite
to one prepared statement).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from sqlalchemy import JSON, Connection, or_, select
from sqlmodel import Session

ColumnProcessor = Callable[[Sequence[Any]], list[Any]]
_SELECTS: dict[tuple[str, tuple[str, ...], str, int], tuple[str, list[Any]]] = {}
#: Values per IN list; the last list of a read is padded to it, so there is one statement text.
IN_SIZE = 500


def padded(items: list[Any], size: int) -> Iterator[list[Any]]:
    """Slices of `size` for IN lists; the last is padded with its last item to full size.

    Every query then has the same text, so SQLite keeps one prepared statement, not one per
    list length (its statement cache would otherwise fill with near-copies: memory, not speed).
    """
    for start in range(0, len(items), size):
        part = items[start : start + size]
        yield part + [part[-1]] * (size - len(part))


#: `(column, values)`: only rows whose column is empty (NULL or '') or one of the values.
Narrowing = tuple[str, list[Any]]


def select_in(
    session: Session,
    table: Any,
    columns: Sequence[str],
    key: str,
    values: list[Any],
    size: int = IN_SIZE,
    narrow: Narrowing | None = None,
) -> list[dict[str, Any]]:
    """The rows of `table` (these columns, as dicts) whose `key` column is one of `values`.

    `narrow` leaves out rows by a second column (see `Narrowing`); its values are padded to a
    multiple of `size`, so a read keeps to a few statement texts.
    """
    if not values:
        return []
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        query = select(*(table.c[c] for c in columns))
        if narrow is not None:
            query = query.where(_narrowing(table, narrow))
        return [
            dict(zip(columns, r, strict=True))
            for part in padded(values, size)
            for r in connection.execute(query.where(table.c[key].in_(part)))
        ]
    sql, processors = _sqlite_select(connection, table, tuple(columns), key, size)
    extra: tuple[Any, ...] = ()
    if narrow is not None:
        column, allowed = narrow
        extra = tuple(next(padded(allowed, max(size, -(-len(allowed) // size) * size)), []))
        quoted = connection.dialect.identifier_preparer.quote(table.c[column].name)
        sql += f" AND ({quoted} IS NULL OR {quoted} = ''"
        sql += f" OR {quoted} IN ({', '.join('?' * len(extra))}))" if extra else ")"
    rows: list[dict[str, Any]] = []
    for part in padded(values, size):
        found = connection.exec_driver_sql(sql, (*part, *extra)).fetchall()
        if found:
            rows.extend(_processed(found, columns, processors))
    return rows


def _narrowing(table: Any, narrow: Narrowing) -> Any:
    column, allowed = table.c[narrow[0]], narrow[1]
    return or_(column.is_(None), column == "", column.in_(allowed))


def select_where(
    session: Session, table: Any, columns: Sequence[str], where: str, params: Sequence[Any]
) -> list[dict[str, Any]]:
    """SQLite only: the rows (these columns, as dicts) matching a WHERE clause written in SQL."""
    connection = session.connection()
    head, processors = _sqlite_select_head(connection, table, tuple(columns))
    found = connection.exec_driver_sql(f"{head} WHERE {where}", tuple(params)).fetchall()
    return _processed(found, columns, processors) if found else []


def _sqlite_select(
    connection: Connection, table: Any, columns: tuple[str, ...], key: str, size: int
) -> tuple[str, list[Any]]:
    cached = _SELECTS.get((table.name, columns, key, size))
    if cached is None:
        head, processors = _sqlite_select_head(connection, table, columns)
        quote = connection.dialect.identifier_preparer.quote
        sql = f"{head} WHERE {quote(table.c[key].name)} IN ({', '.join('?' * size)})"
        cached = _SELECTS[(table.name, columns, key, size)] = (sql, processors)
    return cached


def _sqlite_select_head(
    connection: Connection, table: Any, columns: tuple[str, ...]
) -> tuple[str, list[Any]]:
    """'SELECT … FROM table' for these columns, and each column's result processor."""
    quote = connection.dialect.identifier_preparer.quote
    names = ", ".join(quote(table.c[c].name) for c in columns)
    processors = [_column_processor(table.c[c], connection.dialect) for c in columns]
    return f"SELECT {names} FROM {quote(table.name)}", processors


def _column_processor(column: Any, dialect: Any) -> ColumnProcessor | None:
    """The column's result processor applied to a whole column; None when there is none.

    Dates, timestamps and enum values repeat within a read, so each distinct value is
    processed once. JSON gives mutable lists and dicts: those are processed one by one, so
    that no two rows share one.
    """
    process = column.type._cached_result_processor(dialect, None)
    if process is None:
        return None
    if isinstance(column.type, JSON):
        return lambda values: list(map(process, values))

    def process_distinct(values: Sequence[Any]) -> list[Any]:
        try:
            table = {v: process(v) for v in set(values)}
        except TypeError:  # an unhashable value
            return list(map(process, values))
        return list(map(table.__getitem__, values))

    return process_distinct


def _processed(
    found: Sequence[Any], columns: Sequence[str], processors: list[Any]
) -> list[dict[str, Any]]:
    """Driver rows → dicts, each column through its result processor (a column at a time)."""
    if all(p is None for p in processors):
        return [dict(zip(columns, r, strict=True)) for r in found]
    values: list[Sequence[Any]] = list(zip(*found, strict=True))
    for position, process in enumerate(processors):
        if process is not None:
            values[position] = process(values[position])
    return [dict(zip(columns, r, strict=True)) for r in zip(*values, strict=True)]
