"""A demand's lifecycle: moves with who and why, deals that raise the amount and close it, edits
with history, the nightly expiry, and the one predicate for "open for matching"."""

from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session, col, select

from models import AuditLog, DemandChange, FinancingDemand
from models.demand import open_for_matching
from models.errors import ConflictError, DomainError
from models.reference import DemandStatus, InstitutionKind
from services.disclosure.repository import teaser_filter
from services.pipeline import demands
from services.pipeline import service as pipeline
from tests import factories as f

MM = "mm_zhang"


def _history(session: Session, demand_id: int) -> list[tuple[str, str | None, str | None]]:
    rows = demands.demand_state(session, demand_id).history
    return [(c.field, c.old_value, c.new_value) for c in reversed(rows)]


def _audit(session: Session, demand_id: int) -> list[dict[str, object]]:
    query = select(AuditLog).where(
        AuditLog.entity == "demand", AuditLog.entity_id == str(demand_id)
    )
    return [a.detail | {"actor": a.actor} for a in session.exec(query.order_by(col(AuditLog.id)))]


def test_close_as_funded_then_reopen_records_who_and_why(session: Session) -> None:
    demand = f.demand(session, amount_min_wan=500.0, amount_max_wan=800.0)
    assert demand.status == DemandStatus.pending
    did = demand.id or 0
    closed = demands.close(session, did, as_status=DemandStatus.funded, amount_wan=600,
                           note="企业自行获得银行贷款", actor=MM)  # fmt: skip
    assert (closed.status, closed.amount_raised_wan, closed.remaining_wan) == ("funded", 600, 0)
    assert _history(session, did) == [("amount_raised_wan", "0", "600"),
                                      ("status", "pending", "funded")]  # fmt: skip
    assert _audit(session, did)[-1] == {"from": "pending", "to": "funded", "note": "企业自行获得银行贷款",
                                        "amount_raised_wan": 600, "actor": MM}  # fmt: skip
    with pytest.raises(ConflictError, match="已结案（已融资）"):
        demands.close(session, did, as_status=DemandStatus.withdrawn, note="重复", actor=MM)
    reopened = demands.reopen(session, did, note="放款未到位", actor=MM)
    assert reopened.status == DemandStatus.pending  # never introduced: 待对接
    state = demands.demand_state(session, did).as_json()
    assert state["status_label"] == "待对接" and state["history"][0]["note"] == "放款未到位"


def test_refused_moves_change_nothing(session: Session) -> None:
    demand = f.demand(session)
    did = demand.id or 0
    with pytest.raises(DomainError, match="请填写原因"):
        demands.close(session, did, as_status=DemandStatus.withdrawn, note="  ", actor=MM)
    with pytest.raises(DomainError, match="须填写融资金额"):
        demands.close(session, did, as_status=DemandStatus.funded, note="放款", actor=MM)
    with pytest.raises(DomainError, match="只有结案为“已融资”"):
        demands.close(
            session, did, as_status=DemandStatus.withdrawn, amount_wan=5, note="撤", actor=MM
        )
    with pytest.raises(ConflictError, match="无需重新开放"):
        demands.reopen(session, did, note="开", actor=MM)
    session.refresh(demand)
    assert demand.status == DemandStatus.pending and _history(session, did) == []


def test_a_partial_deal_leaves_the_rest_open_and_the_covering_one_closes(session: Session) -> None:
    bank = f.institution(session, kind=InstitutionKind.bank)
    other = f.institution(session, kind=InstitutionKind.bank)
    demand = f.demand(session, amount_min_wan=800.0, amount_max_wan=800.0)
    did = demand.id or 0
    first = pipeline.introduce(session, demand_id=did, institution_id=bank.id or 0, actor=MM)
    assert demands.demand_state(session, did).demand.status == DemandStatus.open  # 对接中
    pipeline.record_deal(session, match_id=first.id or 0, amount_wan=300, closed_on=date(2025, 6, 1),
                         actor=MM)  # fmt: skip
    state = demands.demand_state(session, did)
    assert (state.demand.status, state.demand.amount_raised_wan, state.remaining_wan) == (
        DemandStatus.open, 300, 500)  # fmt: skip
    second = pipeline.introduce(session, demand_id=did, institution_id=other.id or 0, actor=MM)
    pipeline.record_deal(session, match_id=second.id or 0, amount_wan=500,
                         closed_on=date(2025, 7, 1), actor=MM)  # fmt: skip
    state = demands.demand_state(session, did)
    assert (state.demand.status, state.demand.amount_raised_wan, state.remaining_wan) == (
        DemandStatus.funded, 800, 0)  # fmt: skip
    with pytest.raises(ConflictError, match="已融资，不再推荐机构或引荐"):
        pipeline.introduce(session, demand_id=did, institution_id=bank.id or 0, actor=MM)


def test_edit_records_each_field_and_a_bad_edit_changes_nothing(session: Session) -> None:
    demand = f.demand(session, amount_min_wan=300.0, amount_max_wan=500.0)
    did = demand.id or 0
    demands.edit(session, did, {"amount_max_wan": 900, "financing_type": "投贷联动",
                                "collateral_offered": "知识产权质押,信用", "deadline": "2026-03-31",
                                "confidentiality": "保密"}, note="企业调整融资计划", actor=MM)  # fmt: skip
    session.refresh(demand)
    assert (demand.amount_max_wan, demand.financing_type, demand.deadline) == (
        900, "mixed", date(2026, 3, 31))  # fmt: skip
    assert demand.collateral_offered == ["ip_pledge", "none"]
    fields = {c[0]: c[1:] for c in _history(session, did)}
    assert fields["amount_max_wan"] == ("500", "900")
    assert fields["confidentiality"] == ("teaser", "confidential")
    assert demands.shown_value("collateral_offered", fields["collateral_offered"][1]) == (
        "知识产权质押、信用/无抵押")  # fmt: skip
    before = _history(session, did)
    for bad, message in [({"amount_min_wan": 1000}, "大于上限"), ({"deadline": "明年"}, "截止日期"),
                         ({"status": "funded"}, "不能修改字段"), ({"amount_max_wan": 900}, "没有需要修改")]:  # fmt: skip
        with pytest.raises(DomainError, match=message):
            demands.edit(session, did, bad, note="试试", actor=MM)
    session.refresh(demand)
    assert demand.amount_min_wan == 300 and _history(session, did) == before


def test_nightly_expiry_uses_the_deadline_and_leaves_closed_demands(session: Session) -> None:
    past = f.demand(session, deadline=date(2025, 12, 30))
    paused = f.demand(session, deadline=date(2025, 12, 1))
    demands.pause(session, paused.id or 0, note="企业暂缓", actor=MM)
    today = f.demand(session, deadline=date(2025, 12, 31))
    funded = f.demand(session, deadline=date(2025, 1, 1), status=DemandStatus.funded)
    expired = demands.expire_overdue(session, date(2025, 12, 31))
    assert expired == [past.id, paused.id]
    statuses = {d.id: d.status for d in session.exec(select(FinancingDemand))}
    assert statuses[today.id] == DemandStatus.pending and statuses[funded.id] == DemandStatus.funded
    assert _history(session, past.id or 0)[-1] == ("status", "pending", "expired")
    assert demands.expire_overdue(session, date(2025, 12, 31)) == []  # idempotent


def test_one_predicate_for_open_for_matching(session: Session) -> None:
    rows = {s: f.demand(session, status=s).id for s in DemandStatus}
    wanted = {rows[DemandStatus.pending], rows[DemandStatus.open]}
    found = set(session.exec(select(FinancingDemand.id).where(open_for_matching())))
    assert found & set(rows.values()) == wanted
    teasers = set(session.exec(select(FinancingDemand.id).where(teaser_filter(None))))
    assert teasers & set(rows.values()) == wanted
    assert {s for s in DemandStatus if s.is_open_for_matching} == DemandStatus.open_for_matching()
    assert DemandStatus.closed_statuses() == {DemandStatus.funded, DemandStatus.withdrawn,
                                              DemandStatus.expired}  # fmt: skip


def test_history_rows_are_in_time_order(session: Session) -> None:
    demand = f.demand(session)
    did = demand.id or 0
    demands.pause(session, did, note="一", actor=MM)
    demands.reopen(session, did, note="二", actor="mm_li")
    history = demands.demand_state(session, did).history
    assert [c.note for c in history] == ["二", "一"] and history[0].actor == "mm_li"
    assert all(c.at <= datetime.now(UTC) for c in history)
    assert session.exec(select(DemandChange).where(DemandChange.demand_id == did)).all()
