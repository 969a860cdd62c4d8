"""A demand's lifecycle: 待对接 → 对接中 → 已融资 / 已撤回 / 已过期, or 暂停; edits with history.

Every move and edit is a `DemandChange` row (field, old, new, who, when, why) and an audit row.
Matchmakers move demands by hand (console, API, CLI) with a reason; a confirmed deal linked to
one of the demand's matches raises its amount raised and closes it as 已融资 once the amount
reaches the demand's lower bound (a partial deal leaves it open with the remainder); the
nightly task expires demands whose deadline has passed.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session

from models import DemandChange, FinancingDemand
from models.base import utcnow
from models.errors import ConflictError, DomainError, NotFoundError
from models.reference import Collateral, Confidentiality, DemandStatus, FinancingType
from services.audit.repository import append_audit
from services.pipeline import repository as repo

MAX_NOTE = 300
NIGHTLY = "nightly"
#: The ways a matchmaker closes a demand (`matchmaker demands close --as …`).
CLOSING = (DemandStatus.funded, DemandStatus.withdrawn, DemandStatus.expired)
#: The fields a matchmaker may edit, with their Chinese names.
EDITABLE: dict[str, str] = {
    "amount_min_wan": "拟融资金额下限（万元）",
    "amount_max_wan": "拟融资金额上限（万元）",
    "financing_type": "融资方式",
    "collateral_offered": "担保方式",
    "deadline": "截止日期",
    "confidentiality": "保密级别",
}


@dataclass(frozen=True)
class DemandState:
    """A demand with its amount raised, the remainder and its change history (newest first)."""

    demand: FinancingDemand
    history: list[DemandChange]

    @property
    def remaining_wan(self) -> float:
        """What is still to raise to reach the demand's lower bound (万元)."""
        return self.demand.remaining_wan

    def as_json(self) -> dict[str, Any]:
        """The state as `matchmaker demands show --json` and the API give it."""
        d = self.demand
        status = DemandStatus(d.status)
        return {
            "id": d.id, "enterprise_id": d.enterprise_id, "status": status.value,
            "status_label": status.label, "financing_type": str(d.financing_type),
            "amount_min_wan": d.amount_min_wan, "amount_max_wan": d.amount_max_wan,
            "amount_raised_wan": d.amount_raised_wan, "remaining_wan": d.remaining_wan,
            "deadline": d.deadline.isoformat() if d.deadline else None,
            "collateral_offered": list(d.collateral_offered),
            "confidentiality": str(d.confidentiality),
            "open_for_matching": status.is_open_for_matching,
            "history": [change_json(c) for c in self.history],
        }  # fmt: skip


def change_json(change: DemandChange) -> dict[str, Any]:
    """One history row as JSON."""
    return {"field": change.field, "old": change.old_value, "new": change.new_value,
            "actor": change.actor, "at": change.at.isoformat(), "note": change.note}  # fmt: skip


_LABELLED: dict[str, Any] = {"status": DemandStatus, "financing_type": FinancingType,
                             "confidentiality": Confidentiality, "collateral_offered": Collateral}  # fmt: skip


def shown_value(field: str, text: str | None) -> str:
    """A history value as users read it (labels for codes; "—" for none)."""
    if not text:
        return "—"
    enum = _LABELLED.get(field)
    if enum is None:
        return text
    try:
        return "、".join(enum(part).label for part in text.split("、"))
    except ValueError:
        return text


def demand_state(session: Session, demand_id: int) -> DemandState:
    """The demand (404 when absent) with its history."""
    demand = _demand(session, demand_id)
    return DemandState(demand, repo.demand_history(session, demand_id))


def check_open_for_matching(session: Session, demand_id: int) -> FinancingDemand:
    """The demand, if it is 待对接 or 对接中 (404 when absent, 409 once closed or paused: no
    recommendations nor introductions)."""
    demand = _demand(session, demand_id)
    status = DemandStatus(demand.status)
    if not status.is_open_for_matching:
        raise ConflictError(
            f"融资需求 {demand_id} {status.label}，不再推荐机构或引荐", field="demand_id"
        )
    return demand


def _demand(session: Session, demand_id: int) -> FinancingDemand:
    demand = session.get(FinancingDemand, demand_id)
    if demand is None:
        raise NotFoundError(f"融资需求 {demand_id} 不存在", field="demand_id")
    return demand


def _note(note: str | None) -> str:
    text = (note or "").strip()
    if not text:
        raise DomainError("请填写原因（备注），记入需求历史与审计日志", field="note")
    if len(text) > MAX_NOTE:
        raise DomainError(f"原因不能超过 {MAX_NOTE} 个字符", field="note")
    return text


def _record(
    session: Session, demand: FinancingDemand, field: str, old: object, new: object,
    actor: str, note: str | None,
) -> None:  # fmt: skip
    record_change(session, demand.id or 0, field, old, new, actor=actor, note=note)


def record_change(
    session: Session, demand_id: int, field: str, old: object, new: object, *, actor: str,
    note: str | None,
) -> None:  # fmt: skip
    """One history row of a demand (also written by an import that updates a numbered demand)."""
    session.add(DemandChange(demand_id=demand_id, field=field, old_value=_text(old),
                             new_value=_text(new), actor=actor, note=note, at=utcnow()))  # fmt: skip


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        return "、".join(str(v) for v in value)[:300]
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)[:300]


def _move(
    session: Session, demand: FinancingDemand, to: DemandStatus, actor: str, note: str | None,
    **detail: object,
) -> FinancingDemand:  # fmt: skip
    old = DemandStatus(demand.status)
    demand.status, demand.updated_at = to, utcnow()
    session.add(demand)
    _record(session, demand, "status", old.value, to.value, actor, note)
    append_audit(session, actor=actor, action="demand_status", entity="demand",
                 entity_id=demand.id, detail={"from": old.value, "to": to.value,
                                              "note": note, **detail})  # fmt: skip
    session.flush()
    return demand


def _active_status(session: Session, demand: FinancingDemand) -> DemandStatus:
    """对接中 once any match of the demand was introduced, 待对接 before."""
    introduced = repo.has_introduction(session, demand.id or 0)
    return DemandStatus.open if introduced else DemandStatus.pending


def close(
    session: Session,
    demand_id: int,
    *,
    as_status: DemandStatus,
    note: str | None,
    actor: str,
    amount_wan: float | None = None,
) -> FinancingDemand:
    """Close a demand as 已融资 (with the amount raised: `amount_wan`, else its linked deals'
    total), 已撤回 or 已过期. Only a demand not closed yet."""
    text = _note(note)
    if as_status not in CLOSING:
        raise DomainError("结案方式应为：已融资（funded）、已撤回（withdrawn）、已过期（expired）",
                          field="as_status")  # fmt: skip
    demand = _demand(session, demand_id)
    _check_not_closed(demand)
    if as_status is not DemandStatus.funded:
        if amount_wan is not None:
            raise DomainError("只有结案为“已融资”时才填写融资金额", field="amount_wan")
        return _move(session, demand, as_status, actor, text)
    raised = amount_wan if amount_wan is not None else demand.amount_raised_wan
    if raised <= 0:
        raise DomainError("结案为“已融资”须填写融资金额（万元，大于 0）：该需求尚无关联的成交",
                          field="amount_wan")  # fmt: skip
    _set_raised(session, demand, raised, actor, text)
    return _move(session, demand, DemandStatus.funded, actor, text, amount_raised_wan=raised)


def _check_not_closed(demand: FinancingDemand) -> None:
    status = DemandStatus(demand.status)
    if status in DemandStatus.closed_statuses():
        raise ConflictError(f"融资需求 {demand.id} 已结案（{status.label}），如需继续对接请先重新开放",
                            field="status")  # fmt: skip


def _set_raised(
    session: Session, demand: FinancingDemand, raised: float, actor: str, note: str | None
) -> None:
    if raised != demand.amount_raised_wan:
        _record(session, demand, "amount_raised_wan", demand.amount_raised_wan, raised, actor, note)
        demand.amount_raised_wan = raised


def pause(session: Session, demand_id: int, *, note: str | None, actor: str) -> FinancingDemand:
    """Pause an open demand (暂停): it leaves recommendations, teasers and digests meanwhile."""
    text = _note(note)
    demand = _demand(session, demand_id)
    if not DemandStatus(demand.status).is_open_for_matching:
        raise ConflictError(f"只有待对接或对接中的需求可以暂停（当前：{DemandStatus(demand.status).label}）",
                            field="status")  # fmt: skip
    return _move(session, demand, DemandStatus.paused, actor, text)


def reopen(session: Session, demand_id: int, *, note: str | None, actor: str) -> FinancingDemand:
    """Reopen a paused or closed demand: 对接中 if it was ever introduced, else 待对接."""
    text = _note(note)
    demand = _demand(session, demand_id)
    if DemandStatus(demand.status).is_open_for_matching:
        raise ConflictError(f"融资需求 {demand_id} 正在对接，无需重新开放", field="status")
    return _move(session, demand, _active_status(session, demand), actor, text)


def mark_introduced(session: Session, demand_id: int, actor: str) -> None:
    """待对接 → 对接中 at the demand's first introduction."""
    demand = _demand(session, demand_id)
    if demand.status == DemandStatus.pending:
        _move(session, demand, DemandStatus.open, actor, "首次引荐机构")


def apply_deals(
    session: Session, demand_id: int, actor: str, note: str, *, corrected: bool = False
) -> FinancingDemand:
    """After a confirmed deal was linked to one of the demand's matches: the amount raised is
    the linked confirmed deals' total (never less than a matchmaker recorded, unless a linked
    deal was `corrected`: then exactly the total); reaching the lower bound closes an open or
    paused demand as 已融资."""
    demand = _demand(session, demand_id)
    total = repo.linked_deal_total(session, demand_id)
    raised = total if corrected else max(total, demand.amount_raised_wan)
    _set_raised(session, demand, raised, actor, note)
    session.add(demand)
    covered = raised >= demand.amount_min_wan
    if covered and DemandStatus(demand.status) not in DemandStatus.closed_statuses():
        return _move(session, demand, DemandStatus.funded, actor, note, amount_raised_wan=raised)
    session.flush()
    return demand


def edit(
    session: Session, demand_id: int, changes: dict[str, Any], *, note: str | None, actor: str
) -> FinancingDemand:
    """Edit a demand's amount, type, collateral, deadline or confidentiality; each changed
    field is a history row. A refused edit changes nothing."""
    text = _note(note)
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise DomainError(f"不能修改字段：{'、'.join(unknown)}", field=unknown[0])
    demand = _demand(session, demand_id)
    values = {name: _clean(name, value) for name, value in changes.items()}
    low = values.get("amount_min_wan", demand.amount_min_wan)
    high = values.get("amount_max_wan", demand.amount_max_wan)
    if low > high:
        raise DomainError(
            f"融资金额下限 {low:g} 万元大于上限 {high:g} 万元", field="amount_min_wan"
        )
    changed = {k: v for k, v in values.items() if getattr(demand, k) != v}
    if not changed:
        raise DomainError("没有需要修改的内容", field="changes")
    for name, value in changed.items():
        _record(session, demand, name, _plain(getattr(demand, name)), _plain(value), actor, text)
        setattr(demand, name, value)
    demand.updated_at = utcnow()
    session.add(demand)
    append_audit(session, actor=actor, action="update", entity="demand", entity_id=demand_id,
                 detail={"fields": sorted(changed), "note": text})  # fmt: skip
    session.flush()
    return demand


def _plain(value: object) -> object:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return [str(v) for v in value]
    return value if value is None or isinstance(value, float) else str(value)


def _clean(name: str, value: Any) -> Any:
    """One edited value, checked and typed (a Chinese error naming the field otherwise)."""
    label = EDITABLE[name]
    try:
        if name in ("amount_min_wan", "amount_max_wan"):
            amount = float(value)
            if amount <= 0 or amount >= 10_000_000:
                raise ValueError
            return amount
        if name == "financing_type":
            return FinancingType.from_label(str(value))
        if name == "confidentiality":
            return Confidentiality.from_label(str(value))
        if name == "collateral_offered":
            items = value if isinstance(value, list) else str(value).replace("，", ",").split(",")
            return [Collateral.from_label(str(i)).value for i in items if str(i).strip()]
        if name == "deadline":
            return None if value in (None, "") else date.fromisoformat(str(value))
    except (TypeError, ValueError):
        raise DomainError(f"{label}的值“{value}”无效", field=name) from None
    raise AssertionError(name)  # pragma: no cover - EDITABLE lists every field above


def expire_overdue(session: Session, today: date) -> list[int]:
    """Expire every open or paused demand whose deadline is before `today` (the center's date);
    the ids expired."""
    expired = []
    for demand in repo.overdue_demands(session, today):
        note = f"截止日期 {demand.deadline} 已过"
        _move(session, demand, DemandStatus.expired, NIGHTLY, note)
        expired.append(demand.id or 0)
    return expired
