"""The only way to write the audit log: append a row chained to the previous one by SHA-256."""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import func, text
from sqlmodel import Session, SQLModel, col, select

from models.audit import AuditLog
from models.base import utcnow
from models.crud import create

GENESIS = "0" * 64


def _utc_naive(moment: datetime) -> datetime:
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _canonical(row: AuditLog) -> bytes:
    at = _utc_naive(row.at).isoformat(timespec="microseconds")
    body = [at, row.actor, row.action, row.entity, row.entity_id, row.detail, row.prev_hash]
    return json.dumps(body, ensure_ascii=False, sort_keys=True, default=str).encode()


def row_digest(row: AuditLog) -> str:
    """The SHA-256 a row must carry, given its content and its predecessor's hash."""
    return hashlib.sha256(_canonical(row)).hexdigest()


# Built once: an audited read appends on every request.
_LOCK_CHAIN = text("SELECT pg_advisory_xact_lock(7426001)")
_LAST_HASH = select(AuditLog.row_hash).order_by(col(AuditLog.id).desc()).limit(1)


def _lock_chain(session: Session) -> None:
    """Take the chain's lock until the transaction ends (PostgreSQL; SQLite's BEGIN IMMEDIATE
    already serialises writers)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_LOCK_CHAIN)


def append_audit(
    session: Session,
    *,
    actor: str,
    action: str,
    entity: str,
    entity_id: str | int | None = None,
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditLog:
    """Append one audit row; serialised per database so the chain never forks."""
    _lock_chain(session)
    # Only the hash: the chain needs nothing else of the previous row. A statement of its own,
    # after the lock: its snapshot then includes the row of the lock's previous holder.
    last = session.exec(_LAST_HASH).first()
    row = AuditLog(
        at=at or utcnow(),
        actor=actor,
        action=action,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        detail=detail or {},
        prev_hash=last if last is not None else GENESIS,
        row_hash="",
    )
    row.row_hash = row_digest(row)
    session.add(row)
    session.flush()
    return row


# --- anchors (services/audit/anchor.py)


def chain_length(session: Session) -> int:
    """How many rows the audit log has."""
    return int(session.exec(select(func.count()).select_from(AuditLog)).one())


def chain_link(session: Session, position: int | None = None) -> tuple[int, str] | None:
    """Id and hash of the row at 1-based `position` in id order (default: the last row)."""
    query = select(AuditLog.id, AuditLog.row_hash)
    if position is None:
        query = query.order_by(col(AuditLog.id).desc()).limit(1)
    else:
        query = query.order_by(col(AuditLog.id)).offset(position - 1).limit(1)
    row = session.exec(query).first()
    return (int(row[0] or 0), row[1]) if row is not None else None


@dataclass(frozen=True)
class ChainReport:
    """Outcome of `verify_chain`: rows checked and the first broken row, if any."""

    rows_checked: int
    first_broken_id: int | None
    reason: str | None


def verify_chain(session: Session) -> ChainReport:
    """Recompute every hash in id order; report the first row whose content or link is off."""
    prev = GENESIS
    count = 0
    for row in session.exec(select(AuditLog).order_by(col(AuditLog.id))):
        count += 1
        if row.prev_hash != prev:
            return ChainReport(count, row.id, "前序哈希不一致（链断裂）")
        if row_digest(row) != row.row_hash:
            return ChainReport(count, row.id, "内容哈希不一致（记录被篡改）")
        prev = row.row_hash
    return ChainReport(count, None, None)


# --- console and API writes

T = TypeVar("T", bound=SQLModel)


def create_audited(
    session: Session,
    model_cls: type[T],
    data: dict[str, Any] | SQLModel,
    *,
    actor: str,
    entity: str,
) -> T:
    """Validate and insert a row (`models.crud.create`), and log its creation."""
    row = create(session, model_cls, data)
    append_audit(session, actor=actor, action="create", entity=entity, entity_id=row.id)  # type: ignore[attr-defined]
    return row
