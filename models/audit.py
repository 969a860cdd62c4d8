"""Append-only, hash-chained audit log (standard 6.2.1.3 日志制度)."""

from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session
from sqlmodel import Field, SQLModel

from models.base import json_column, ts_column


class AuditImmutableError(RuntimeError):
    """Raised on any attempt to update or delete an audit row through the ORM."""


class AuditLog(SQLModel, table=True):
    """One write, or one read of a confidential record; `row_hash` chains to the previous row."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=ts_column())
    actor: str = Field(max_length=80, index=True)
    action: str = Field(max_length=40, description="create | update | delete | read | disclose …")
    entity: str = Field(max_length=40, index=True)
    entity_id: str | None = Field(default=None, max_length=40)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    prev_hash: str = Field(max_length=64)
    row_hash: str = Field(max_length=64, unique=True)


def _forbid(_mapper: Any, _connection: Any, target: AuditLog) -> None:
    raise AuditImmutableError(f"审计日志不可修改或删除（第 {target.id} 条）")


event.listen(AuditLog, "before_update", _forbid)
event.listen(AuditLog, "before_delete", _forbid)


def _forbid_bulk(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete):
        return
    if any(mapper.class_ is AuditLog for mapper in state.all_mappers):
        raise AuditImmutableError("审计日志不可批量修改或删除")


event.listen(Session, "do_orm_execute", _forbid_bulk)
