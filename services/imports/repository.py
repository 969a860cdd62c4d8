"""The SQL of imports: bulk reads and writes of a chunk, batches, the review queue, quarantine.

Plain SQLAlchemy Core, the same statements on SQLite and PostgreSQL. Rows are read and written
as dicts keyed by column; `table` is a model's `__table__`.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache, partial
from itertools import chain, repeat
from sqlite3 import SQLITE_LIMIT_VARIABLE_NUMBER as VARIABLES
from typing import Any

from sqlalchemy import (
    ARRAY,
    JSON,
    String,
    any_,
    bindparam,
    func,
    or_,
    type_coerce,
    union_all,
    update,
)
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select

from models import (
    DuplicateCandidate,
    Enterprise,
    EnterpriseChange,
    FinancingDemand,
    ImportBatch,
    ImportRow,
    ImportWarning,
    Institution,
)
from models.ingest_support import EnterpriseAlias
from models.policy import Policy
from models.reference import DemandStatus, ImportOutcome

#: Values per IN list.
IN_SIZE = 500
#: Rows per INSERT statement on SQLite (at most its limit of bound parameters allows).
ROWS_A_STATEMENT = 100
#: `(column, values)`: only rows whose column is empty (NULL or '') or one of the values.
Narrowing = tuple[str, list[Any]]


def _parts(items: list[Any], size: int = IN_SIZE) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _dicts(session: Session, query: Any, columns: Sequence[str], params: Any = None) -> list[Any]:
    rows = session.connection().execute(query, params).all()
    return [dict(zip(columns, r, strict=True)) for r in rows]


def select_all(session: Session, table: Any, columns: Sequence[str]) -> list[dict[str, Any]]:
    """Every row of `table` (these columns)."""
    return _dicts(session, select(*(table.c[c] for c in columns)), columns)


def select_in(
    session: Session,
    table: Any,
    columns: Sequence[str],
    key: str,
    values: list[Any],
    narrow: Narrowing | None = None,
) -> list[dict[str, Any]]:
    """The rows of `table` (these columns) whose `key` column is one of `values`.

    On PostgreSQL the values go as one array (`= ANY`): psycopg parses a statement of more than
    50 parameters anew each time, in Python (~1 ms for 500)."""
    query = select(*(table.c[c] for c in columns))
    arrays = session.connection().dialect.name == "postgresql"
    if narrow is not None:
        column = table.c[narrow[0]]
        query = query.where(or_(column.is_(None), column == "", _in(column, narrow[1], arrays)))
    parts = [values] if arrays and values else _parts(values)
    return [row for part in parts for row in _dicts(session, query.where(_in(table.c[key], part, arrays)), columns)]  # fmt: skip


def _in(column: Any, values: list[Any], arrays: bool) -> Any:
    return column == any_(bindparam(None, values, ARRAY(column.type))) if arrays else column.in_(values)  # fmt: skip


def insert_rows(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    """INSERT many rows (dicts by column key; missing is NULL) in driver form: one COPY on
    PostgreSQL; on SQLite multi-row VALUES as long as its bound parameters allow (a statement
    per row evaluated the CHECK constraints' IN lists anew each time: twice the cost)."""
    if not rows:
        return
    connection = session.connection()
    dialect, keys = connection.dialect, set().union(*rows)
    columns = [c for c in table.c if c.key in keys]
    converted = []  # column by column (bind processing memoised), zipped into rows
    for column in columns:
        cells = list(map(dict.get, rows, repeat(column.key)))
        process = column.type.dialect_impl(dialect).bind_processor(dialect)
        if isinstance(column.type, JSON):  # JSON text, None as 'null' (as SQLAlchemy writes it)
            process = partial(_json_text, dialect._json_serializer or json.dumps)
        elif process is not None:
            process = lru_cache(maxsize=None, typed=True)(process)
        converted.append(cells if process is None else list(map(process, cells)))
    values = list(zip(*converted, strict=True))
    prep, cursor = dialect.identifier_preparer, connection.connection.cursor()
    into = f"{prep.format_table(table)} ({', '.join(prep.format_column(c) for c in columns)})"
    try:
        if dialect.name == "postgresql":
            with cursor.copy(f"COPY {into} FROM STDIN") as copy:
                for row_values in values:
                    copy.write_row(row_values)
            return
        per = min(ROWS_A_STATEMENT, cursor.connection.getlimit(VARIABLES) // len(columns))
        one, full = f"({', '.join('?' * len(columns))})", len(values) - len(values) % per
        for start in range(0, full, per):  # one statement, prepared once
            cursor.execute(f"INSERT INTO {into} VALUES {', '.join([one] * per)}",
                           list(chain.from_iterable(values[start : start + per])))  # fmt: skip
        cursor.executemany(f"INSERT INTO {into} VALUES {one}", values[full:])
    except dialect.loaded_dbapi.Error as exc:  # as SQLAlchemy raises it (IntegrityError …)
        raise DBAPIError.instance(into, None, exc, dialect.loaded_dbapi.Error) from exc


def _json_text(dumps: Any, value: Any) -> str:
    return "[]" if value == [] else dumps(value)  # the empty list: what most list columns hold


def insert_returning_ids(session: Session, table: Any, rows: list[dict[str, Any]]) -> list[int]:
    """INSERT many rows with new ids, returned in the order of `rows`: drawn from the table's
    sequence on PostgreSQL; on SQLite those after the highest, the batch holding the write lock."""
    if session.connection().dialect.name == "postgresql":
        sequence = func.nextval(func.pg_get_serial_sequence(table.name, "id"))
        query = select(sequence).select_from(func.generate_series(1, len(rows)))
        ids = list(session.connection().execute(query).scalars())
    else:
        top = session.connection().execute(select(func.max(table.c.id))).scalar() or 0
        ids = list(range(top + 1, top + 1 + len(rows)))
    insert_rows(session, table, [row | {"id": i} for row, i in zip(rows, ids, strict=True)])
    return ids


def update_rows(session: Session, table: Any, changes: dict[int, dict[str, Any]]) -> None:
    """UPDATE rows by id: one executemany per set of changed columns."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for row_id, values in changes.items():
        groups[tuple(sorted(values))].append({"_id": row_id, **values})
    for columns, params in groups.items():
        statement = (
            update(table)
            .where(table.c.id == bindparam("_id"))
            .values({c: bindparam(c) for c in columns})
        )
        session.connection().execute(statement, params)


def previous_batch(session: Session, sha256: str) -> int | None:
    """The latest finished batch of a file with these bytes."""
    query = (
        select(ImportBatch.id)
        .where(ImportBatch.sha256 == sha256, ImportBatch.status == "done")
        .order_by(col(ImportBatch.id).desc())
        .limit(1)
    )
    return session.exec(query).first()


def institution_names(session: Session) -> list[tuple[int, str, str]]:
    """(id, name, kind) of every institution."""
    query = select(Institution.id, Institution.name, Institution.kind)
    return [(int(i or 0), name, str(kind)) for i, name, kind in session.exec(query)]


def enterprises_in_blocks(
    session: Session, columns: tuple[str, ...], brands: list[str]
) -> list[dict[str, Any]]:
    """Enterprises whose stored normalised name starts with one of `brands`.

    As index range scans, `BLOCKS` a query: `name >= brand AND name < brand + U+10FFFF` (LIKE
    'brand%' cannot use SQLite's index); the same on PostgreSQL under a C collation. A record
    may come more than once.
    """
    query = _block_query(columns)
    rows: list[dict[str, Any]] = []
    for part in _parts(brands, BLOCKS):
        part += [part[-1]] * (BLOCKS - len(part))  # one statement, compiled once
        params = {f"lo{i}": b for i, b in enumerate(part)}
        params |= {f"hi{i}": b + "\U0010ffff" for i, b in enumerate(part)}
        rows.extend(_dicts(session, query, columns, params))
    return rows


BLOCKS = 200


@lru_cache(maxsize=16)
def _block_query(columns: tuple[str, ...]) -> Any:
    """One SELECT per range, joined by UNION ALL: each an index range scan (PostgreSQL scans
    the whole table for 200 ranges joined by OR)."""
    table = Enterprise.__table__  # type: ignore[attr-defined]
    name, read = table.c.normalized_name, [table.c[c] for c in columns]
    return union_all(*(
        select(*read).where(name >= bindparam(f"lo{i}"), name < bindparam(f"hi{i}"))
        for i in range(BLOCKS)
    ))  # fmt: skip


def any_alias(session: Session) -> bool:
    """Whether any merged name (曾用名) is recorded."""
    return session.exec(select(EnterpriseAlias.id).limit(1)).first() is not None


def alias_named(session: Session, name: str) -> EnterpriseAlias | None:
    """The alias recorded for this legal name, if any."""
    return session.exec(select(EnterpriseAlias).where(EnterpriseAlias.legal_name == name)).first()


def quarantined_rows(session: Session, batch_id: int) -> list[ImportRow]:
    """The quarantined rows of a batch, in sheet and row order."""
    query = (
        select(ImportRow)
        .where(ImportRow.batch_id == batch_id, ImportRow.outcome == ImportOutcome.quarantined)
        .order_by(col(ImportRow.sheet), col(ImportRow.row_number))
    )
    return list(session.exec(query))


def warnings_of(session: Session, batch_id: int, limit: int) -> list[ImportWarning]:
    """A batch's stored warnings, in sheet and row order."""
    query = (
        select(ImportWarning)
        .where(ImportWarning.batch_id == batch_id)
        .order_by(col(ImportWarning.sheet), col(ImportWarning.row_number), col(ImportWarning.id))
        .limit(limit)
    )
    return list(session.exec(query))


def batch_entity_ids(
    session: Session, batch_id: int, outcome: ImportOutcome | None = None
) -> list[int]:
    """The records a batch's loaded rows touched (its deals, for a deals batch); only those
    of rows with `outcome` if given."""
    query = select(ImportRow.entity_id).where(
        ImportRow.batch_id == batch_id,
        ImportRow.outcome != ImportOutcome.quarantined,
        col(ImportRow.entity_id).is_not(None),
    )
    if outcome is not None:
        query = query.where(ImportRow.outcome == outcome)
    return sorted({i for i in session.exec(query) if i is not None})


def pending_pairs(session: Session, limit: int) -> list[DuplicateCandidate]:
    """Pending duplicate pairs, most similar first."""
    query = (
        select(DuplicateCandidate)
        .where(DuplicateCandidate.status == "pending")
        .order_by(col(DuplicateCandidate.similarity).desc(), col(DuplicateCandidate.id))
        .limit(limit)
    )
    return list(session.exec(query))


def repoint(session: Session, model: Any, column: str, gone_id: int, kept_id: int) -> None:
    """Point every `model.column` = `gone_id` at `kept_id`."""
    attr = getattr(model, column)
    session.execute(update(model).where(attr == gone_id).values({column: kept_id}))


def mark_rows_merged(session: Session, gone_id: int, kept_id: int) -> None:
    """Import rows that landed on `gone_id` now land, merged, on `kept_id`."""
    session.execute(
        update(ImportRow)
        .where(col(ImportRow.entity_id) == gone_id)
        .values(entity_id=kept_id, outcome=ImportOutcome.merged)
    )


def pairs_with(session: Session, enterprise_id: int) -> Iterable[DuplicateCandidate]:
    """Every duplicate pair one side of which is this enterprise."""
    query = select(DuplicateCandidate).where(
        (col(DuplicateCandidate.enterprise_id) == enterprise_id)
        | (col(DuplicateCandidate.candidate_id) == enterprise_id)
    )
    return list(session.exec(query))


def policy_by_key(session: Session, issuer: str, title: str) -> Policy | None:
    """The policy of this issuer and title."""
    query = select(Policy).where(Policy.issuer == issuer, Policy.title == title)
    return session.exec(query).first()


def enterprise_names(session: Session) -> list[tuple[int, str, str, str | None, str | None]]:
    """(id, legal name, normalised name, short name, region) of every enterprise, the region
    being its 行政区划代码, else its USCC's registration code (what a brand look-up needs)."""
    table = Enterprise.__table__  # type: ignore[attr-defined]
    columns = ("id", "legal_name", "normalized_name", "short_name", "region_code", "uscc")
    rows = session.connection().execute(select(*(table.c[c] for c in columns)))
    return [
        (int(i), name, norm, short, region or (uscc[2:8] if uscc else None))
        for i, name, norm, short, region, uscc in rows
    ]


def open_demand_ranges(
    session: Session, enterprise_ids: list[int]
) -> list[tuple[int, int, str, float, float]]:
    """(enterprise id, demand id, financing type, amount low, high) of these enterprises' open
    demands.

    The type is read as plain text (no enum conversion per row), the amounts as stored."""
    table = FinancingDemand.__table__  # type: ignore[attr-defined]
    kind = type_coerce(table.c.financing_type, String)
    columns: list[Any] = [
        table.c.enterprise_id,
        table.c.id,
        kind,
        table.c.amount_min_wan,
        table.c.amount_max_wan,
    ]
    query = select(*columns).where(
        table.c.status.in_(sorted(s.value for s in DemandStatus.open_for_matching()))
    )
    connection = session.connection()
    return [
        (ent_id, demand_id, kind, low, high)
        for part in _parts(enterprise_ids)
        for ent_id, demand_id, kind, low, high in connection.execute(
            query.where(table.c.enterprise_id.in_(part))
        )
    ]


def held_rows(session: Session, batch_id: int) -> list[ImportRow]:
    """The rows of a batch held for review, in sheet and row order."""
    query = (
        select(ImportRow)
        .where(ImportRow.batch_id == batch_id, ImportRow.outcome == ImportOutcome.review)
        .order_by(col(ImportRow.sheet), col(ImportRow.row_number))
    )
    return list(session.exec(query))


def batch_changes(session: Session, batch_id: int) -> list[tuple[EnterpriseChange, str]]:
    """The change set of a batch with each enterprise's legal name, in row order."""
    query = (
        select(EnterpriseChange, Enterprise.legal_name)
        .join(Enterprise, col(Enterprise.id) == EnterpriseChange.enterprise_id)
        .where(EnterpriseChange.batch_id == batch_id)
        .order_by(
            col(EnterpriseChange.sheet), col(EnterpriseChange.row_number), col(EnterpriseChange.id)
        )
    )
    return [(change, name) for change, name in session.exec(query)]
