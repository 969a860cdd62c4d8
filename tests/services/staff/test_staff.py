"""Staff roster, posts, qualifications, training records and each matchmaker's workload."""

from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session, select

from models import AuditLog, StaffQualification, TrainingRecord
from models.errors import DomainError, NotFoundError
from models.reference import PipelineStage, UserRole
from services.pipeline import service as pipeline
from services.staff import service as staff
from tests import factories as f

AT = datetime(2026, 3, 2, 2, tzinfo=UTC)


def test_post_qualification_and_training_make_the_staff_file(session: Session) -> None:
    mm = f.user(session, username="mm_wang")
    staff.set_post(session, mm.id or 0, "撮合专员", "科技信贷对接", actor="admin")
    staff.set_post(session, mm.id or 0, "撮合主管", None, actor="admin")
    staff.add_qualification(session, mm.id or 0, {"name": "证券从业资格", "obtained_on": "2020-05-01"},
                            actor="admin")  # fmt: skip
    for day, hours in (("2026-01-15", 6), ("2025-11-02", 3.5)):
        staff.add_training(session, mm.id or 0, {"day": day, "topic": "科创板规则",
                                                 "hours": hours}, actor="admin")  # fmt: skip
    file = staff.staff_file(session, mm.id or 0)
    assert (file.profile and file.profile.post, len(file.qualifications)) == ("撮合主管", 1)
    assert [t.day for t in file.trainings] == [date(2026, 1, 15), date(2025, 11, 2)]
    assert file.training_hours == 9.5
    row = next(r for r in staff.roster(session, 2026) if r.user.id == mm.id)
    assert row.training_hours == 6
    actions = session.exec(select(AuditLog.action).where(AuditLog.entity == "app_user")).all()
    assert sorted(actions) == ["add_qualification", "add_training", "add_training",
                               "set_post", "set_post"]  # fmt: skip


def test_refused_training_leaves_nothing(session: Session) -> None:
    mm = f.user(session)
    with pytest.raises(DomainError):
        staff.add_training(session, mm.id or 0, {"day": "2026-01-15", "topic": "x", "hours": 0},
                           actor="admin")  # fmt: skip
    with pytest.raises(DomainError, match="晚于今天"):
        staff.add_training(session, mm.id or 0, {"day": "2999-01-01", "topic": "规则", "hours": 2},
                           actor="admin")  # fmt: skip
    with pytest.raises(DomainError, match="早于取得日期"):
        staff.add_qualification(session, mm.id or 0, {"name": "证券从业资格", "obtained_on": "2022-01-01",
                                                       "expires_on": "2021-01-01"}, actor="admin")  # fmt: skip
    assert session.exec(select(TrainingRecord)).all() == []
    assert session.exec(select(StaffQualification)).all() == []
    inst_user = f.user(session, role=UserRole.evaluator)
    with pytest.raises(NotFoundError, match="工作人员"):
        staff.set_post(session, inst_user.id or 0, "评价", None, actor="admin")


def test_workload_counts_moves_and_deals_by_introducer(session: Session) -> None:
    f.user(session, username="mm_a")
    f.user(session, username="mm_b")
    bank = f.institution(session)
    for amount, introducer in ((400, "mm_a"), (300, "mm_a"), (200, "mm_b")):
        demand = f.demand(session, amount_min_wan=amount, amount_max_wan=amount)
        match = pipeline.introduce(session, demand_id=demand.id or 0, institution_id=bank.id or 0,
                                   actor=introducer, at=AT)  # fmt: skip
        pipeline.move_match(session, match.id or 0, PipelineStage.meeting, match.version,
                            actor="mm_b", at=AT)  # fmt: skip
        if amount > 200:  # mm_b records it, mm_a introduced it: the deal is mm_a's
            pipeline.record_deal(session, match_id=match.id or 0, amount_wan=amount,
                                 closed_on=date(2026, 4, 1), actor="mm_b")  # fmt: skip
    rows = {w.username: w.as_json() for w in staff.workload(session, staff.parse_period("2026"))}
    assert rows["mm_a"] == {"username": "mm_a", "introductions": 2, "meetings": 0, "deals": 2,
                            "amount_wan": 700.0}  # fmt: skip
    assert rows["mm_b"] == {"username": "mm_b", "introductions": 1, "meetings": 3, "deals": 0,
                            "amount_wan": 0.0}  # fmt: skip
    q2 = {w.username: w for w in staff.workload(session, staff.parse_period("2026Q2"))}
    assert (q2["mm_a"].introductions, q2["mm_a"].deals) == (0, 2)
    with pytest.raises(DomainError, match="期间"):
        staff.parse_period("26年")
    with pytest.raises(DomainError, match="超出"):
        staff.parse_period("0000")
