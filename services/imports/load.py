"""Batch loading: chunked bulk upserts, one outcome per row read, all-or-nothing per batch.

Rows are converted and resolved a chunk at a time. Each chunk first looks up, in bulk, the
existing records its rows may touch (one query per table), then decides every row in order
(later rows see the records earlier rows created), then writes: bulk inserts (ids drawn first) for
new records, grouped UPDATEs for changed ones, and one `import_row` per row read. Nothing here
commits: the caller's unit of work does, so a failure anywhere leaves the database as it was.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Hashable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from pydantic_core import PydanticUndefined
from sqlmodel import Session, SQLModel

from ingestion.raw_json import stored_raw
from ingestion.validate import ParsedRow, Problem, RowWarning, Rule
from models import DuplicateCandidate, EnterpriseChange, ImportBatch, ImportRow, ImportWarning
from models.base import utcnow
from models.reference import ImportKind, ImportOutcome
from services.imports import repository
from services.imports.repository import Narrowing, select_in

CHUNK_SIZE = 2000
#: What counts as no value: a row never sets one, a duplicate row fills only these.
EMPTY_VALUES: tuple[Any, ...] = (None, [], "")


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
        self.touched: set[int] = set()
        self.children: list[tuple[TableStore, str]] = []
        self._temp = itertools.count(-1, -1)
        self._stamp = "updated_at" in self.table.c
        # The columns rows are compared on (all by default): fewer means cheaper reads.
        names = [c for c in columns or () if c != "id"] or [c.key for c in self.table.c]
        self.columns = ("id", *(c for c in names if c != "id"))

    def new_chunk(self) -> None:
        """Take the time once for the chunk: its new and changed rows are stamped with it."""
        self.now = utcnow()
        self._chunk_static = self._static | dict.fromkeys(self._stamps, self.now)

    def defaults(self) -> dict[str, Any]:
        """The default of every column that has one (timestamps: the chunk's time)."""
        row = self._chunk_static.copy()
        for name, make in self._factories.items():
            row[name] = make()
        return row

    def fetch_in(self, column: str, values: list[Any]) -> list[dict[str, Any]]:
        """Load the rows whose `column` is one of `values` into the cache and return them."""
        return self._cached(select_in(self.session, self.table, self.columns, column, values))

    def seed(self, rows: Iterable[dict[str, Any]]) -> None:
        """Cache rows read elsewhere (holding at least `columns`), unless cached already."""
        cache = self.cache
        for row in rows:
            cache.setdefault(row["id"], row)

    def _cached(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Rows just read, as the cache holds them (a row already cached keeps its changes)."""
        cache = self.cache
        for row in rows:
            cache.setdefault(row["id"], row)
        return [cache[row["id"]] for row in rows]

    def fetch_ids(self, ids: Iterable[int]) -> None:
        """Bulk-load the saved rows among `ids` not cached yet (500 per query)."""
        cache = self.cache
        self.fetch_in("id", sorted({i for i in ids if i > 0 and i not in cache}))

    def get(self, row_id: int) -> dict[str, Any]:
        """The current values of a row (loaded on a cache miss)."""
        if row_id not in self.cache:
            self.fetch_in("id", [row_id])
        return self.cache[row_id]

    def insert(self, values: dict[str, Any]) -> int:
        """Queue a new row; return its temporary (negative) id."""
        temp = next(self._temp)
        row = self.defaults()
        row.update(values)
        self.pending[temp] = self.cache[temp] = row
        self.touched.add(temp)
        return temp

    def apply(self, row_id: int, values: dict[str, Any], *, fill_only: bool) -> bool:
        """Set non-empty `values` on a row (only its empty fields if `fill_only`); True if changed."""
        current = self.cache.get(row_id) or self.get(row_id)
        empty, held = EMPTY_VALUES, current.get
        if fill_only:
            changes = {k: v for k, v in values.items() if v not in empty and held(k) in empty}
        else:
            changes = {k: new for k, (_old, new) in self.differences(row_id, values).items()}
        self.touched.add(row_id)
        if not changes:
            return False
        current.update(changes)
        if row_id > 0:
            if self._stamp:
                changes["updated_at"] = self.now
            self.dirty.setdefault(row_id, {}).update(changes)
        return True

    def differences(self, row_id: int, values: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
        """field → (old, new) for the non-empty `values` that differ from the row's."""
        current = self.cache.get(row_id) or self.get(row_id)
        return {
            k: (current.get(k), v)
            for k, v in values.items()
            if v not in EMPTY_VALUES and current.get(k) != v
        }

    def flush(self) -> dict[int, int]:
        """Write pending inserts and updates; return temporary id → database id."""
        mapping = self._insert_pending()
        if mapping:
            for child, column in self.children:
                for row in child.pending.values():
                    parent = row.get(column)
                    if type(parent) is int and parent < 0:
                        row[column] = mapping[parent]
        repository.update_rows(self.session, self.table, self.dirty)
        self.cache.clear()
        self.pending.clear()
        self.dirty.clear()
        self.new_chunk()
        return mapping

    def _insert_pending(self) -> dict[int, int]:
        if not self.pending:
            return {}
        temps = list(self.pending)
        ids = repository.insert_returning_ids(self.session, self.table, list(self.pending.values()))
        mapping = dict(zip(temps, ids, strict=True))
        self.touched.difference_update(temps)
        self.touched.update(ids)
        return mapping


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
        self._key_columns = ("id", *key_columns) if key_columns else None

    def load_for(self, parent_ids: Iterable[int], narrow: Narrowing | None = None) -> None:
        """Bulk-load the existing rows of these parents (or the whole table if unparented).

        `narrow` (with `key_columns` only) leaves out the rows no key asked for in this chunk
        can land on: only their keys are read, and a chunk ends before another one asks.
        """
        if self.parent_column is None:
            if not self._all_loaded:
                rows = repository.select_all(self.session, self.table, self.columns)
                self._register(self._cached(rows))
                self._all_loaded = True
            return
        wanted = sorted({p for p in parent_ids if p > 0} - self._loaded)
        if self._key_columns is not None:
            rows = select_in(
                self.session, self.table, self._key_columns, self.parent_column, wanted,
                narrow=narrow,
            )  # fmt: skip
        else:
            rows = self.fetch_in(self.parent_column, wanted)
        self._register(rows)
        self._loaded.update(wanted)

    def mark_loaded(self, parent_ids: Iterable[int]) -> None:
        """Treat these parents' rows as loaded (the caller knows none of them can be hit)."""
        self._loaded.update(parent_ids)

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
            if self.parent_column is None or (parent_id > 0 and parent_id not in self._loaded):
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
    held: int = 0
    held_rows: list[dict[str, Any]] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)
    changes_total: int = 0
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
    contacts_stored: int = 0
    warnings: list[RowWarning] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (what `--json` prints)."""
        return asdict(self)

    def count(self, outcome: ImportOutcome) -> None:
        """Add one row with `outcome` to the counters."""
        name = _COUNTER[outcome]
        setattr(self, name, getattr(self, name) + 1)
        self.rows_read += 1


#: Outcome → its counter (a dict look-up: an enum's `.value` is a Python-level descriptor);
#: rows held for review are `held` (`review` counts the duplicate-enterprise pairs).
_COUNTER = {outcome: str(outcome.value) for outcome in ImportOutcome} | {
    ImportOutcome.review: "held"
}
#: Rows held for review, and enterprise changes, listed in the summary (all are stored).
LISTED = 500


#: One `import_row` waiting for its flush: outcome, entity id, reason, and the row (its cells).
Queued = tuple[ImportOutcome, int | None, str | None, ParsedRow]


class BatchWriter:
    """Buffers the per-row provenance and the review pairs of one batch."""

    def __init__(self, session: Session, batch: ImportBatch, summary: ImportSummary) -> None:
        self.session = session
        self.batch = batch
        self.summary = summary
        self.rows: list[Queued] = []
        self.reviews: list[tuple[int, int, float]] = []
        self.changes: list[dict[str, Any]] = []
        self._warnings_stored = 0

    def record(self, row: ParsedRow, outcome: ImportOutcome, entity_id: int | None) -> None:
        """Count a decided row and queue its `import_row`."""
        reason = None
        if row.notes:
            reason = ("备注：" + "；".join(row.notes))[:1000]
            self._warnings_of(row)
        self.summary.count(outcome)
        self.rows.append((outcome, entity_id, reason, row))

    def _warnings_of(self, row: ParsedRow) -> None:
        """The row's warnings, and the loader's remarks on it as warnings of their own."""
        listed = self.summary.warnings
        listed.extend(row.warnings)
        noted = {f"列“{w.column}”：{w.message}" for w in row.warnings}
        listed.extend(RowWarning(row.sheet, row.number, "", None, Rule.load_note, note)
                      for note in row.notes if note not in noted)  # fmt: skip

    def quarantine(self, row: ParsedRow, problems: list[Problem] | None = None) -> None:
        """Count a quarantined row, keeping its original cells and the reasons."""
        if problems:
            row.problems.extend(problems)
        reason = row.reason()
        self.summary.warnings.extend(row.warnings)
        if len(self.summary.quarantine_samples) < 5:
            self.summary.quarantine_samples.append(reason)
        self.summary.count(ImportOutcome.quarantined)
        self.rows.append((ImportOutcome.quarantined, None, reason[:1000], row))

    def hold(self, row: ParsedRow, problem: Problem) -> None:
        """Count a row held for review (it loaded nothing), keeping its cells and the reason."""
        reason = problem.describe(row.number, row.sheet)
        if len(self.summary.held_rows) < LISTED:
            self.summary.held_rows.append(
                {"sheet": row.sheet, "row": row.number, "column": problem.column,
                 "value": problem.value, "rule": problem.rule, "message": reason}
            )  # fmt: skip
        self.summary.count(ImportOutcome.review)
        self.rows.append((ImportOutcome.review, None, reason[:1000], row))

    def flush(self, mapping: dict[int, int], enterprise_mapping: dict[int, int]) -> None:
        """Write the queued `import_row`s (temporary entity ids → the database's, via `mapping`;
        long text cells clipped by `stored_raw`) and the new review pairs."""
        rows, self.rows = self.rows, []
        repository.insert_rows(self.session, ImportRow.__table__, [  # type: ignore[attr-defined]
            {"batch_id": self.batch.id, "sheet": row.sheet, "row_number": row.number,
             "outcome": outcome, "entity_id": mapping[e] if e is not None and e < 0 else e,
             "reason": reason, "raw": stored_raw(row.raw)}
            for outcome, e, reason, row in rows
        ])  # fmt: skip
        self._flush_warnings()
        self._flush_reviews(enterprise_mapping)
        self._flush_changes()

    def change(
        self, row: ParsedRow, enterprise: dict[str, Any], changes: dict[str, Any],
        labels: dict[str, str],
    ) -> None:  # fmt: skip
        """Queue the fields a row changes on a stored enterprise (`enterprise`: its values
        before; `labels`: the fields' Chinese names)."""
        summary = self.summary
        for name, new in changes.items():
            entry = {"enterprise_id": enterprise["id"], "legal_name": enterprise.get("legal_name"),
                     "sheet": row.sheet, "row": row.number, "field": name,
                     "label": labels.get(name, name), "old": _shown(enterprise.get(name)),
                     "new": _shown(new)}  # fmt: skip
            self.changes.append(entry)
            summary.changes_total += 1
            if len(summary.changes) < LISTED:
                summary.changes.append(entry)

    def _flush_changes(self) -> None:
        changes, self.changes = self.changes, []
        repository.insert_rows(self.session, EnterpriseChange.__table__, [  # type: ignore[attr-defined]
            {"batch_id": self.batch.id, "enterprise_id": c["enterprise_id"], "sheet": c["sheet"],
             "row_number": c["row"], "field": c["field"], "old_value": c["old"],
             "new_value": c["new"], "created_at": utcnow()}
            for c in changes
        ])  # fmt: skip

    def _flush_warnings(self) -> None:
        """Store the warnings listed since the last flush (the batch page reads them)."""
        fresh = self.summary.warnings[self._warnings_stored :]
        self._warnings_stored = len(self.summary.warnings)
        repository.insert_rows(self.session, ImportWarning.__table__, [  # type: ignore[attr-defined]
            {"batch_id": self.batch.id, "sheet": w.sheet, "row_number": w.row,
             "column": w.column[:200], "value": None if w.value is None else str(w.value)[:200],
             "rule": w.rule, "message": w.message[:500]}
            for w in fresh
        ])  # fmt: skip

    def _flush_reviews(self, mapping: dict[int, int]) -> None:
        pairs: dict[tuple[int, int], float] = {}
        for a, b, score in self.reviews:
            pairs.setdefault((mapping.get(a, a), mapping.get(b, b)), score)
        self.reviews.clear()
        if not pairs:
            return
        firsts = sorted({a for a, _ in pairs})
        table = DuplicateCandidate.__table__  # type: ignore[attr-defined]
        columns = ("enterprise_id", "candidate_id")
        known = {
            (r["enterprise_id"], r["candidate_id"])
            for r in select_in(self.session, table, columns, "enterprise_id", firsts)
        }
        fresh = [
            {"enterprise_id": a, "candidate_id": b, "similarity": s, "batch_id": self.batch.id,
             "status": "pending"}
            for (a, b), s in pairs.items() if (a, b) not in known and a != b
        ]  # fmt: skip
        repository.insert_rows(self.session, table, fresh)
        self.summary.review += len(fresh)


def _shown(value: Any) -> str | None:
    """A field's value as a change set stores it: text ('、' between list items), ≤ 500 chars."""
    if value in EMPTY_VALUES:
        return None
    if isinstance(value, list | tuple):
        return "、".join(map(str, value))[:500]
    return str(getattr(value, "value", value))[:500]


def new_batch(
    session: Session, *, file_name: str, sha256: str, kind: ImportKind, sheet: str | None, user: str
) -> tuple[ImportBatch, int | None]:
    """Create the batch row (for its id) and find an earlier batch of the same file."""
    previous = repository.previous_batch(session, sha256)
    batch = ImportBatch(file_name=file_name[:255], sha256=sha256, kind=kind, sheet=sheet, user=user)
    session.add(batch)
    session.flush()
    return batch, previous


def close_batch(session: Session, batch: ImportBatch, summary: ImportSummary) -> None:
    """Copy the counters onto the batch row and mark it done."""
    names = ("rows_read", "inserted", "updated", "unchanged", "merged", "quarantined",
             "contacts_stored")  # fmt: skip
    for name in names:
        setattr(batch, name, getattr(summary, name))
    batch.unmapped_columns = summary.unmapped_columns
    batch.finished_at = datetime.now(tz=utcnow().tzinfo)
    batch.status = "done"
    session.add(batch)
    session.flush()
