"""The review queue of possible duplicate enterprises: list, merge, or keep apart for good."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from ingestion.brands import is_brand_like
from ingestion.normalize import normalize_company_name
from models import (
    Attendance,
    Consent,
    ContactPerson,
    Deal,
    DuplicateCandidate,
    Enterprise,
    EventParticipant,
    FinancingDemand,
    ListingRecord,
    SlateItem,
)
from models.base import utcnow
from models.errors import ConflictError, NotFoundError
from models.feedback import Complaint
from models.ingest_support import EnterpriseAlias, EnterpriseChange
from services.audit.repository import append_audit
from services.imports import repository

#: Every (table, column) that points at an enterprise; a merge moves them all.
ENTERPRISE_REFERENCES: tuple[tuple[Any, str], ...] = (
    (FinancingDemand, "enterprise_id"),
    (ListingRecord, "enterprise_id"),
    (Deal, "enterprise_id"),
    (Attendance, "enterprise_id"),
    (EventParticipant, "enterprise_id"),
    (SlateItem, "enterprise_id"),
    (ContactPerson, "enterprise_id"),
    (Consent, "enterprise_id"),
    (Complaint, "enterprise_id"),
    (EnterpriseAlias, "enterprise_id"),
    (EnterpriseChange, "enterprise_id"),
)


def pending_candidates(session: Session, limit: int = 200) -> list[dict[str, Any]]:
    """Pending pairs with both names, most similar first."""
    out = []
    for cand in repository.pending_pairs(session, limit):
        kept, other = (
            session.get(Enterprise, cand.enterprise_id),
            session.get(Enterprise, cand.candidate_id),
        )
        out.append(
            {
                "id": cand.id,
                "enterprise_id": cand.enterprise_id,
                "enterprise_name": kept.legal_name if kept else None,
                "candidate_id": cand.candidate_id,
                "candidate_name": other.legal_name if other else None,
                "similarity": round(cand.similarity, 1),
                "batch_id": cand.batch_id,
            }
        )
    return out


def _pending(session: Session, candidate_id: int) -> DuplicateCandidate:
    cand = session.get(DuplicateCandidate, candidate_id)
    if cand is None:
        raise NotFoundError(f"疑似重复记录 {candidate_id} 不存在")
    if cand.status != "pending":
        raise ConflictError(f"疑似重复记录 {candidate_id} 已处理（{cand.status}）")
    return cand


def merge_candidate(session: Session, candidate_id: int, user: str) -> int:
    """Merge the pair's newer enterprise into the older one; return the id kept.

    Blank fields of the kept record are filled from the other (a brand the other was created
    under becomes the kept one's short name, if it has none); every reference moves over;
    the other record is deleted; import rows that pointed at it now point at the kept one. The
    pair itself is deleted with it (it references the deleted record); the audit log keeps the
    decision, who made it and the similarity.
    """
    cand = _pending(session, candidate_id)
    kept = session.get(Enterprise, cand.enterprise_id)
    gone = session.get(Enterprise, cand.candidate_id)
    if kept is None or gone is None:
        raise NotFoundError("疑似重复记录所指的企业已不存在")
    detail = {"merged_id": gone.id, "merged_name": gone.legal_name, "similarity": cand.similarity,
              "candidate": cand.id, "batch_id": cand.batch_id}  # fmt: skip
    _fill_blanks(kept, gone)
    if kept.short_name is None and is_brand_like(gone.legal_name):  # a brand, now confirmed
        kept.short_name = gone.legal_name[:100]
    # The pair row points at the record about to go, so it goes too; the audit row keeps it.
    _move_references(session, gone_id=cand.candidate_id, kept_id=cand.enterprise_id)
    _remember_name(session, gone, kept)
    session.flush()
    session.delete(gone)
    session.flush()
    if kept.uscc is None and gone.uscc:
        kept.uscc = gone.uscc
        session.add(kept)
        session.flush()
    append_audit(
        session, actor=user, action="merge", entity="enterprise", entity_id=kept.id, detail=detail
    )
    assert kept.id is not None
    return kept.id


def _remember_name(session: Session, gone: Enterprise, kept: Enterprise) -> None:
    """Keep the merged record's name as an alias of the kept one (a later row may use it)."""
    if gone.legal_name == kept.legal_name or kept.id is None:
        return
    if repository.alias_named(session, gone.legal_name) is None:
        session.add(
            EnterpriseAlias(
                enterprise_id=kept.id,
                legal_name=gone.legal_name,
                normalized_name=normalize_company_name(gone.legal_name)[:200],
                merged_from_id=gone.id,
            )
        )


def _fill_blanks(kept: Enterprise, gone: Enterprise) -> None:
    for name in Enterprise.model_fields:
        if name in ("id", "uscc", "created_at", "updated_at", "legal_name", "normalized_name"):
            continue
        if getattr(kept, name) in (None, []) and getattr(gone, name) not in (None, []):
            setattr(kept, name, getattr(gone, name))
    kept.updated_at = utcnow()


def _move_references(session: Session, *, gone_id: int, kept_id: int) -> None:
    for model, column in ENTERPRISE_REFERENCES:
        try:
            with session.begin_nested():
                repository.repoint(session, model, column, gone_id, kept_id)
        except IntegrityError as exc:
            raise ConflictError(
                f"两家企业都有{model.__tablename__}记录且不能并存，请先手工处理后再合并"
            ) from exc
    repository.mark_rows_merged(session, gone_id, kept_id)
    for other in repository.pairs_with(session, gone_id):
        session.delete(other)


def reject_candidate(session: Session, candidate_id: int, user: str) -> None:
    """Keep the pair apart for good: the same pair is not proposed again."""
    cand = _pending(session, candidate_id)
    cand.status, cand.decided_by, cand.decided_at = "rejected", user, utcnow()
    session.add(cand)
    session.flush()
    append_audit(
        session, actor=user, action="reject_duplicate", entity="duplicate_candidate",
        entity_id=cand.id, detail={"enterprise_id": cand.enterprise_id, "candidate_id": cand.candidate_id},
    )  # fmt: skip
