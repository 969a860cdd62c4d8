"""Importing the policy catalogue (``ingestion.policy_kind`` reads and converts the rows)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlmodel import Session

from ingestion.headers import Header
from ingestion.policy_kind import (
    POLICY_SYNONYMS,
    map_policy_headers,
    parse_policy_row,
    policy_column,
    policy_values,
)
from ingestion.readers import open_source
from ingestion.validate import ParsedRow, Problem, RowRejected
from models.crud import validated
from models.policy import Policy
from models.reference import ImportOutcome
from services.audit.repository import append_audit
from services.imports import repository
from services.imports.load import ImportSummary
from services.imports.service import file_sha256


class PolicyLoader:
    """Upserts policies by (发文机关, 政策名称); the `Loader` protocol `services.imports.service` drives."""

    def __init__(self, session: Session, _kind: Any = None, writer: Any = None) -> None:
        self.session = session
        self.writer = writer
        self.related: dict[str, int] = {}
        self.touched: set[int] = set()

    def prefetch(self, _rows: Any) -> None:
        """Nothing to prefetch: the catalogue is small."""

    def handle(self, row: ParsedRow) -> tuple[ImportOutcome, int]:
        """Insert, update or leave one policy; a second row on it in the batch is a merge."""
        values = policy_values(row)
        try:
            fresh = validated(Policy, values)
        except Exception as exc:  # InvalidDataError carries the Chinese reason
            raise RowRejected(
                Problem(policy_column(row, "policy_title"), values["title"], str(exc))
            ) from exc
        existing = repository.policy_by_key(self.session, fresh.issuer, fresh.title)
        if existing is None:
            self.session.add(fresh)
            self.session.flush()
            assert fresh.id is not None
            self.touched.add(fresh.id)
            return ImportOutcome.inserted, fresh.id
        return self._update(existing, fresh), existing.id or 0

    def _update(self, existing: Policy, fresh: Policy) -> ImportOutcome:
        duplicate = existing.id in self.touched
        changed = False
        for name in Policy.model_fields:
            if name in ("id", "created_at"):
                continue
            new, old = getattr(fresh, name), getattr(existing, name)
            if duplicate and old not in (None, [], {}):
                continue  # a second row of the batch only fills what the first left empty
            if new not in (None, [], {}) and old != new:
                setattr(existing, name, new)
                changed = True
        self.session.add(existing)
        self.session.flush()
        self.touched.add(existing.id or 0)
        if duplicate:
            return ImportOutcome.merged
        return ImportOutcome.updated if changed else ImportOutcome.unchanged

    def flush(self) -> None:
        """Rows are written as they are decided; only the provenance rows wait."""
        if self.writer is not None:
            self.writer.flush({}, {})


def import_policies(
    session: Session, path: Path, sheet: str | None = None, user: str = "system"
) -> ImportSummary:
    """Import a policy-catalogue spreadsheet (.xlsx/.csv) as one audited batch; never commits.

    Returns the usual summary (``batch_id`` 0: the batch is recorded in the audit log until the
    kind is registered with ``import_batch``). Raises ``DomainError`` for an unreadable file.
    """
    source = open_source(path, None, sheet, [s for syns in POLICY_SYNONYMS.values() for s in syns])
    try:
        summary = ImportSummary(
            0, path.name, file_sha256(path), "policies", encoding=source.encoding
        )
        summary.notes.extend(source.notes)
        loader = PolicyLoader(session)
        for current in source.sheets:
            _import_sheet(loader, summary, current.name, current.columns, current.rows)
    finally:
        source.close()
    reasons = list(summary.quarantine_samples)
    append_audit(session, actor=user, action="import", entity="policy", entity_id=None,
                 detail={"file_name": path.name, "sha256": summary.sha256, "kind": "policies",
                         "rows_read": summary.rows_read, "inserted": summary.inserted,
                         "updated": summary.updated, "unchanged": summary.unchanged,
                         "merged": summary.merged, "quarantined": summary.quarantined,
                         "quarantine_reasons": reasons})  # fmt: skip
    return summary


def _import_sheet(
    loader: PolicyLoader, summary: ImportSummary, name: str, columns: list[list[Header]], rows: Any
) -> None:
    header = map_policy_headers(columns)
    summary.sheets.append(name or "(CSV)")
    summary.unmapped_columns.extend(c for c in header.unmapped if c not in summary.unmapped_columns)
    for number, cells in rows:
        row = parse_policy_row(number, name, cells, header)
        if not row.problems:
            try:
                outcome, _id = loader.handle(row)
            except RowRejected as exc:
                row.problems.append(exc.problem)
            else:
                summary.count(outcome)
                continue
        summary.count(ImportOutcome.quarantined)
        summary.quarantine_samples.append(row.reason())
