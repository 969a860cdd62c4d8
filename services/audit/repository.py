"""The only way to write the audit log: append a row chained to the previous one by SHA-256."""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session, col, select

from models.audit import AuditLog
from models.base import utcnow

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
