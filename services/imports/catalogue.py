"""The policy catalogue as the console keeps it: an all-or-nothing import and the starter list.

The starter catalogue (`models/data/policies_starter.csv`) holds national and provincial measures
with their issuing document numbers (文号) and validity; every row is marked 待核实 (to verify):
the center checks each against the document before quoting it. Services never commit.
"""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session

from models.errors import DomainError
from services.imports.load import ImportSummary
from services.imports.policies import import_policies

STARTER_CATALOGUE = Path(__file__).resolve().parents[2] / "models" / "data" / "policies_starter.csv"
MAX_REASONS = 20


class CatalogueRefused(DomainError):
    """A catalogue file with at least one bad row: nothing was stored; `reasons` names each row."""

    def __init__(self, file_name: str, reasons: list[str]) -> None:
        shown = reasons[:MAX_REASONS]
        more = f"；另有 {len(reasons) - len(shown)} 行有误" if len(reasons) > len(shown) else ""
        super().__init__(f"政策目录“{file_name}”有 {len(reasons)} 行有误，未导入任何政策："
                         + "；".join(shown) + more, field="file")  # fmt: skip
        self.reasons = reasons


def import_catalogue(
    session: Session, path: Path, user: str, *, file_name: str | None = None
) -> ImportSummary:
    """Import a catalogue spreadsheet whole, or not at all (`CatalogueRefused` with row reasons)."""
    savepoint = session.begin_nested()
    try:
        summary = import_policies(session, path, user=user)
    except DomainError:
        savepoint.rollback()
        raise
    if summary.quarantined:
        savepoint.rollback()
        raise CatalogueRefused(file_name or path.name, list(summary.quarantine_samples))
    savepoint.commit()
    return summary


def load_starter(session: Session, user: str) -> ImportSummary:
    """Import (or refresh) the starter catalogue of real measures, each marked 待核实."""
    return import_catalogue(session, STARTER_CATALOGUE, user)
