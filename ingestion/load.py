"""Batch loading: chunked bulk upserts, one outcome per row read, all-or-nothing per batch.

Rows are converted and resolved a chunk at a time. Each chunk first looks up, in bulk, the
existing records its rows may touch (one query per table), then decides every row in order
(later rows see the records earlier rows created), then writes: bulk INSERT … RETURNING for
new records, grouped UPDATEs for changed ones, and one `import_row` per row read. Nothing here
commits: the caller's unit of work does, so a failure anywhere leaves the database as it was.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from pydantic_core import PydanticUndefined
from sqlalchemy import JSON, Connection, bindparam, func, insert, select, update
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, SQLModel

from ingestion.validate import ParsedRow, Problem
from models import DuplicateCandidate, ImportBatch, ImportRow
from models.base import utcnow
from models.reference import ImportKind, ImportOutcome

CHUNK_SIZE = 2000
_EMPTY: tuple[Any, ...] = (None, [], "")
_MISSING = object()


class RowRejected(Exception):
    """A row that converts but cannot be loaded (its enterprise or institution is unknown …)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.rule)
        self.problem = problem


def _defaults_of(model: type[SQLModel]) -> tuple[dict[str, Any], dict[str, Callable[[], Any]]]:
    table_columns = set(model.__table__.c.keys())  # type: ignore[attr-defined]
    static: dict[str, Any] = {}
    factories: dict[str, Callable[[], Any]] = {}
    for name, info in model.model_fields.items():
        if name == "id" or name not in table_columns:
            continue
        if info.default_factory is not None:
            factories[name] = info.default_factory  # type: ignore[assignment]
        elif info.default is not PydanticUndefined:
            static[name] = info.default
    return static, factories


class IdSet:
    """A set of record ids held as a bitmap: one bit per id up to the largest seen.

    The batch-wide 'already landed on' sets grow with every record a batch touches; as a
    Python `set` that is ~60 bytes an id (+6 MB at 100,000 rows), as a bitmap 12.5 KB per
    100,000 ids. Negative (pending) ids live in a small set until the chunk is written.
    """

    def __init__(self) -> None:
        self.bits = bytearray()
        self.temps: set[int] = set()

    def add(self, row_id: int) -> None:
        """Add one id."""
        if row_id < 0:
            self.temps.add(row_id)
            return
        byte = row_id >> 3
        if byte >= len(self.bits):
            self.bits.extend(bytes(byte + 1 - len(self.bits) + len(self.bits) // 2))
        self.bits[byte] |= 1 << (row_id & 7)

    def __contains__(self, row_id: object) -> bool:
        if not isinstance(row_id, int):
            return False
        if row_id < 0:
            return row_id in self.temps
        byte = row_id >> 3
        return byte < len(self.bits) and bool(self.bits[byte] >> (row_id & 7) & 1)

    def update(self, ids: Iterable[int]) -> None:
        """Add several ids."""
        for row_id in ids:
            self.add(row_id)

    def difference_update(self, ids: Iterable[int]) -> None:
        """Remove several ids (absent ones are ignored)."""
        for row_id in ids:
            if row_id < 0:
                self.temps.discard(row_id)
            elif (row_id >> 3) < len(self.bits):
                self.bits[row_id >> 3] &= ~(1 << (row_id & 7)) & 0xFF


_INSERTS: dict[tuple[str, tuple[str, ...]], tuple[str, list[Any]]] = {}


def _sqlite_insert(
    connection: Connection, table: Any, keys: tuple[str, ...]
) -> tuple[str, list[Any]]:
    """The driver-level INSERT for these columns and each column's bind processor (cached)."""
    cached = _INSERTS.get((table.name, keys))
    if cached is None:
        quote = connection.dialect.identifier_preparer.quote
        columns = [table.c[k] for k in keys]
        sql = (
            f"INSERT INTO {quote(table.name)} ({', '.join(quote(c.name) for c in columns)}) "
            f"VALUES ({', '.join('?' for _ in columns)})"
        )
        processors = [_memoised(c, connection.dialect) for c in columns]
        cached = _INSERTS[(table.name, keys)] = (sql, processors)
    return cached


def _memoised(column: Any, dialect: Any) -> Callable[[Any], Any] | None:
    """The column's bind processor, remembering its results for repeated values.

    Enum checks and timestamp formatting cost microseconds per value while a chunk repeats a
    handful of enum members and one timestamp; JSON values (dicts, lists) are not memoised.
    """
    process = column.type._cached_bind_processor(dialect)
    if process is None or isinstance(column.type, JSON):
        return process
    memo: dict[Any, Any] = {}

    def memoised(value: Any) -> Any:
        key = (value.__class__, value)  # 1, 1.0 and True are equal keys otherwise
        try:
            found = memo.get(key, _MISSING)
        except TypeError:  # unhashable
            return process(value)
        if found is _MISSING:
            if len(memo) >= 1024:
                memo.clear()
            found = memo[key] = process(value)
        return found

    return memoised


def bulk_insert(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    """INSERT many rows in one executemany; on SQLite straight to the driver.

    SQLAlchemy's executemany spends ~20 µs a row building parameters; on SQLite the same
    conversion (each column's own bind processor: enums, JSON, timestamps) is done here in a
    tight loop and the tuples go to `sqlite3.executemany` as they are.
    """
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        connection.execute(insert(table), rows)
        return
    first = rows[0].keys()
    present = first if all(r.keys() == first for r in rows) else {k for r in rows for k in r}
    keys = tuple(c.key for c in table.c if c.key != "id" and c.key in present)
    sql, processors = _sqlite_insert(connection, table, keys)
    plan = list(zip(keys, processors, strict=True))
    params = [
        tuple(v if (v := row.get(k)) is None or p is None else p(v) for k, p in plan)
        for row in rows
    ]
    connection.exec_driver_sql(sql, params)


class TableStore:
    """The rows of one table a chunk works on: cached, pending insert, or changed.

    Ids of pending rows are negative until `flush`; `touched` keeps, for the whole batch,
    every id a row of this batch has already landed on (so a second row is a duplicate).
    """

    def __init__(
        self, session: Session, model: type[SQLModel], columns: Iterable[str] | None = None
    ) -> None:
        self.session = session
        self.model = model
        self.table: Any = model.__table__  # type: ignore[attr-defined]
        self._static, self._factories = _defaults_of(model)
        self._stamps = [n for n, make in self._factories.items() if make is utcnow]
        self._factories = {n: m for n, m in self._factories.items() if m is not utcnow}
        self.new_chunk()
        self.cache: dict[int, dict[str, Any]] = {}
        self.pending: dict[int, dict[str, Any]] = {}
        self.dirty: dict[int, dict[str, Any]] = {}
        self.touched = IdSet()
        self.children: list[tuple[TableStore, str]] = []
        self._temp = itertools.count(-1, -1)
        self._stamp = "updated_at" in self.table.c
        # The columns rows are compared on (all by default): fewer means cheaper reads.
        wanted = ["id", *(c for c in columns or () if c != "id")]
        self._select = select(*(self.table.c[c] for c in wanted)) if columns else select(self.table)

    def new_chunk(self) -> None:
        """Take the time once for the chunk: its new and changed rows are stamped with it."""
        self.now = utcnow()
        self._chunk_static = self._static | dict.fromkeys(self._stamps, self.now)

    def defaults(self) -> dict[str, Any]:
        """The default of every column that has one (timestamps: the chunk's time)."""
        return self._chunk_static | {name: make() for name, make in self._factories.items()}

    def fetch(self, where: ColumnElement[bool]) -> list[dict[str, Any]]:
        """Load rows matching `where` into the cache and return them."""
        result = self.session.execute(self._select.where(where))
        keys = list(result.keys())
        rows = [dict(zip(keys, r, strict=True)) for r in result]
        for row in rows:
            self.cache.setdefault(row["id"], row)
        return [self.cache[row["id"]] for row in rows]

    def fetch_ids(self, ids: Iterable[int]) -> None:
        """Bulk-load the saved rows among `ids` not cached yet (500 per query)."""
        missing = sorted({i for i in ids if i > 0 and i not in self.cache})
        for chunk in _chunks(missing, 500):
            self.fetch(self.table.c.id.in_(chunk))

    def get(self, row_id: int) -> dict[str, Any]:
        """The current values of a row (loaded on a cache miss)."""
        if row_id not in self.cache:
            self.fetch(self.table.c.id == row_id)
        return self.cache[row_id]

    def insert(self, values: dict[str, Any]) -> int:
        """Queue a new row; return its temporary (negative) id."""
        temp = next(self._temp)
        row = self.defaults() | values
        self.pending[temp] = self.cache[temp] = row
        self.touched.add(temp)
        return temp

    def apply(self, row_id: int, values: dict[str, Any], *, fill_only: bool) -> bool:
        """Set non-empty `values` on a row (only its empty fields if `fill_only`); True if changed."""
        current = self.get(row_id)
        changes = {
            k: v
            for k, v in values.items()
            if v not in _EMPTY
            and current.get(k) != v
            and not (fill_only and current.get(k) not in _EMPTY)
        }
        self.touched.add(row_id)
        if not changes:
            return False
        current.update(changes)
        if row_id > 0:
            if self._stamp:
                changes["updated_at"] = self.now
            self.dirty.setdefault(row_id, {}).update(changes)
        return True

    def flush(self) -> dict[int, int]:
        """Write pending inserts and updates; return temporary id → database id."""
        mapping = self._insert_pending()
        for child, column in self.children:
            for row in child.pending.values():
                if isinstance(row.get(column), int) and row[column] < 0:
                    row[column] = mapping[row[column]]
        self._write_updates()
        self.cache.clear()
        self.pending.clear()
        self.dirty.clear()
        self.new_chunk()
        return mapping

    def _insert_pending(self) -> dict[int, int]:
        if not self.pending:
            return {}
        temps = list(self.pending)
        rows = [self.pending[t] for t in temps]
        if self.session.connection().dialect.name == "sqlite":
            ids = self._insert_sqlite(rows)
        else:
            statement = insert(self.table).returning(self.table.c.id, sort_by_parameter_order=True)
            ids = [r[0] for r in self.session.execute(statement, rows)]
        mapping = dict(zip(temps, ids, strict=True))
        self.touched.difference_update(temps)
        self.touched.update(ids)
        return mapping

    def _insert_sqlite(self, rows: list[dict[str, Any]]) -> list[int]:
        """One executemany; ids follow max(id) (SQLite's rowid rule, under our write lock)."""
        connection = self.session.connection()
        top = connection.execute(select(func.max(self.table.c.id))).scalar() or 0
        bulk_insert(self.session, self.table, rows)
        count, last = connection.execute(
            select(func.count(), func.max(self.table.c.id)).where(self.table.c.id > top)
        ).one()
        if count != len(rows) or last != top + len(rows):
            raise RuntimeError(f"unexpected ids after bulk insert into {self.table.name}")
        return list(range(top + 1, top + 1 + len(rows)))

    def _write_updates(self) -> None:
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
        for row_id, changes in self.dirty.items():
            groups[tuple(sorted(changes))].append({"_id": row_id, **changes})
        for columns, params in groups.items():
            statement = (
                update(self.table)
                .where(self.table.c.id == bindparam("_id"))
                .values({c: bindparam(c) for c in columns})
            )
            self.session.connection().execute(statement, params)


class KeyedStore(TableStore):
    """A `TableStore` whose rows are found by natural keys, loaded per parent in bulk."""

    def __init__(
        self,
        session: Session,
        model: type[SQLModel],
        keys_of: Callable[[dict[str, Any]], Iterable[Hashable]],
        parent_column: str | None = None,
        key_columns: tuple[str, ...] | None = None,
    ) -> None:
        super().__init__(session, model)
        self.keys_of = keys_of
        self.parent_column = parent_column
        self.by_key: dict[Hashable, int] = {}
        self._loaded: set[int] = set()
        self._all_loaded = False
        # With `key_columns` (what `keys_of` reads), loading a parent's rows reads only their
        # keys; whole rows are read for the keys a chunk asks for (`fetch_keys`) or on a miss.
        self._keys_select = (
            select(*(self.table.c[c] for c in ("id", *key_columns))) if key_columns else None
        )

    def load_for(self, parent_ids: Iterable[int]) -> None:
        """Bulk-load the existing rows of these parents (or the whole table if unparented)."""
        if self.parent_column is None:
            if not self._all_loaded:
                self._register(self.fetch(self.table.c.id.is_not(None)))
                self._all_loaded = True
            return
        wanted = {p for p in parent_ids if p > 0} - self._loaded
        for chunk in _chunks(sorted(wanted), 500):
            where = self.table.c[self.parent_column].in_(chunk)
            self._register(
                self._keys_of_saved(where) if self._keys_select is not None else self.fetch(where)
            )
        self._loaded |= wanted

    def _keys_of_saved(self, where: ColumnElement[bool]) -> list[dict[str, Any]]:
        assert self._keys_select is not None
        result = self.session.execute(self._keys_select.where(where))
        keys = list(result.keys())
        return [dict(zip(keys, r, strict=True)) for r in result]

    def fetch_keys(self, keys: Iterable[Hashable]) -> None:
        """Bulk-load the whole saved rows these keys (already loaded by `load_for`) point at."""
        self.fetch_ids(self.by_key[k] for k in keys if k in self.by_key)

    def _register(self, rows: list[dict[str, Any]]) -> None:
        for row in sorted(rows, key=lambda r: r["id"]):
            for key in self.keys_of(row):
                self.by_key[key] = row["id"]

    def find(self, key: Hashable, parent_id: int | None = None) -> int | None:
        """The id of the row with this key, loading the parent's rows first if need be."""
        if parent_id is not None:
            self.load_for([parent_id])
        elif self.parent_column is None:
            self.load_for([])
        return self.by_key.get(key)

    def insert(self, values: dict[str, Any]) -> int:
        """Queue a new row and index it under its keys."""
        temp = super().insert(values)
        for key in self.keys_of(self.cache[temp]):
            self.by_key[key] = temp
        return temp

    def flush(self) -> dict[int, int]:
        """Write, then forget the per-chunk key index (the next chunk reloads what it needs)."""
        mapping = super().flush()
        self.by_key.clear()
        self._loaded.clear()
        self._all_loaded = False
        return mapping


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    """Slices of `size` for IN lists; the last is padded with its last item to full size.

    Every query then has the same text, so SQLite keeps one prepared statement, not one per
    list length (its statement cache would otherwise fill with near-copies: memory, not speed).
    """
    for start in range(0, len(items), size):
        part = items[start : start + size]
        yield part + [part[-1]] * (size - len(part))


def upsert_keyed(
    store: KeyedStore, key: Hashable, values: dict[str, Any], parent_id: int | None = None
) -> tuple[ImportOutcome, int]:
    """Insert, update or leave a keyed row; a second row of the batch on it is a merge."""
    existing = store.find(key, parent_id)
    if existing is None:
        return ImportOutcome.inserted, store.insert(values)
    duplicate = existing in store.touched
    changed = store.apply(existing, values, fill_only=duplicate)
    if duplicate:
        return ImportOutcome.merged, existing
    return (ImportOutcome.updated if changed else ImportOutcome.unchanged), existing


# ---------------------------------------------------------------------------------------------
# The batch
# ---------------------------------------------------------------------------------------------


@dataclass(slots=True)
class ImportSummary:
    """What an import did; the outcome counters add up to `rows_read`."""

    batch_id: int
    file_name: str
    sha256: str
    kind: str
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    merged: int = 0
    quarantined: int = 0
    review: int = 0
    sheets: list[str] = field(default_factory=list)
    encoding: str | None = None
    skipped_blank: int = 0
    skipped_subtotal: list[str] = field(default_factory=list)
    unmapped_columns: list[str] = field(default_factory=list)
    fuzzy_headers: dict[str, str] = field(default_factory=dict)
    related: dict[str, int] = field(default_factory=dict)
    quarantine_samples: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    previous_batch_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (what `--json` prints)."""
        return asdict(self)

    def count(self, outcome: ImportOutcome) -> None:
        """Add one row with `outcome` to the counters."""
        setattr(self, outcome.value, getattr(self, outcome.value) + 1)
        self.rows_read += 1


@dataclass(slots=True)
class Pending:
    """One `import_row` waiting for its entity's database id."""

    values: dict[str, Any]
    temp: bool


class BatchWriter:
    """Buffers the per-row provenance and the review pairs of one batch."""

    def __init__(self, session: Session, batch: ImportBatch, summary: ImportSummary) -> None:
        self.session = session
        self.batch = batch
        self.summary = summary
        self.rows: list[Pending] = []
        self.reviews: list[tuple[int, int, float]] = []

    def record(self, row: ParsedRow, outcome: ImportOutcome, entity_id: int | None) -> None:
        """Count a decided row and queue its `import_row`."""
        reason = ("备注：" + "；".join(row.notes))[:1000] if row.notes else None
        self._queue(row, outcome, entity_id, reason)

    def quarantine(self, row: ParsedRow, problems: list[Problem] | None = None) -> None:
        """Count a quarantined row, keeping its original cells and the reasons."""
        if problems:
            row.problems.extend(problems)
        reason = row.reason()
        if len(self.summary.quarantine_samples) < 5:
            self.summary.quarantine_samples.append(reason)
        self._queue(row, ImportOutcome.quarantined, None, reason[:1000])

    def _queue(
        self, row: ParsedRow, outcome: ImportOutcome, entity: int | None, reason: str | None
    ) -> None:
        self.summary.count(outcome)
        values = {
            "batch_id": self.batch.id, "sheet": row.sheet, "row_number": row.number,
            "outcome": outcome, "entity_id": entity, "reason": reason, "raw": row.raw,
        }  # fmt: skip
        self.rows.append(Pending(values, entity is not None and entity < 0))

    def flush(self, mapping: dict[int, int], enterprise_mapping: dict[int, int]) -> None:
        """Write queued rows (temporary ids replaced) and new review pairs."""
        for pending in self.rows:
            if pending.temp:
                pending.values["entity_id"] = mapping[pending.values["entity_id"]]
        bulk_insert(
            self.session,
            ImportRow.__table__,  # type: ignore[attr-defined]
            [p.values for p in self.rows],
        )
        self.rows.clear()
        self._flush_reviews(enterprise_mapping)

    def _flush_reviews(self, mapping: dict[int, int]) -> None:
        pairs: dict[tuple[int, int], float] = {}
        for a, b, score in self.reviews:
            pairs.setdefault((mapping.get(a, a), mapping.get(b, b)), score)
        self.reviews.clear()
        if not pairs:
            return
        firsts = sorted({a for a, _ in pairs})
        table = DuplicateCandidate.__table__  # type: ignore[attr-defined]
        query = select(table.c.enterprise_id, table.c.candidate_id)
        known = {
            (a, b) for a, b in self.session.execute(query.where(table.c.enterprise_id.in_(firsts)))
        }
        fresh = [
            {"enterprise_id": a, "candidate_id": b, "similarity": s, "batch_id": self.batch.id,
             "status": "pending"}
            for (a, b), s in pairs.items() if (a, b) not in known and a != b
        ]  # fmt: skip
        if fresh:
            self.session.connection().execute(insert(table), fresh)
        self.summary.review += len(fresh)


def new_batch(
    session: Session, *, file_name: str, sha256: str, kind: ImportKind, sheet: str | None, user: str
) -> tuple[ImportBatch, int | None]:
    """Create the batch row (for its id) and find an earlier batch of the same file."""
    previous: int | None = session.execute(
        select(ImportBatch.id)  # type: ignore[call-overload]
        .where(ImportBatch.sha256 == sha256, ImportBatch.status == "done")
        .order_by(ImportBatch.id.desc())  # type: ignore[union-attr]
        .limit(1)
    ).scalar()
    batch = ImportBatch(file_name=file_name[:255], sha256=sha256, kind=kind, sheet=sheet, user=user)
    session.add(batch)
    session.flush()
    return batch, previous


def close_batch(session: Session, batch: ImportBatch, summary: ImportSummary) -> None:
    """Copy the counters onto the batch row and mark it done."""
    for name in ("rows_read", "inserted", "updated", "unchanged", "merged", "quarantined"):
        setattr(batch, name, getattr(summary, name))
    batch.unmapped_columns = summary.unmapped_columns
    batch.finished_at = datetime.now(tz=utcnow().tzinfo)
    batch.status = "done"
    session.add(batch)
    session.flush()
