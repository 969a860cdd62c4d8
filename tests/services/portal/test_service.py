"""The portal's rules: an enterprise user works on its own enterprise only; a refused input leaves
the database unchanged; a survey once per closed introduction; complaints with their handling;
invitations single-use and expiring."""

from datetime import date, timedelta

import pytest
from sqlmodel import Session, func, select

from models import Complaint, EnterpriseInvitation, FinancingDemand, User
from models.base import utcnow
from models.errors import DomainError, ForbiddenError, NotFoundError
from models.reference import ComplaintKind, ComplaintStatus, DemandStatus, PipelineStage, UserRole
from services.accounts import service as accounts
from services.complaints import service as complaints
from services.pipeline import service as pipeline
from services.portal import service as portal
from tests import factories

PASSWORD = "portal-service-2026"


def _principal(session: Session, **over: object) -> accounts.Principal:
    return accounts.principal_of(factories.enterprise_user(session, **over))


def _count(session: Session, model: type) -> int:
    return int(session.exec(select(func.count()).select_from(model)).one())


def test_a_demand_starts_pending_and_a_refused_one_stores_nothing(session: Session) -> None:
    me = _principal(session)
    fields = {"financing_type": "loan", "amount_min_wan": 500.0, "amount_max_wan": 300.0}
    with pytest.raises(DomainError, match="下限 500 万元大于上限 300 万元"):
        portal.submit_demand(session, me, fields)
    with pytest.raises(DomainError, match="已过"):
        portal.submit_demand(session, me, fields | {"amount_max_wan": 900.0,
                                                    "deadline": date(2020, 1, 1)})  # fmt: skip
    assert _count(session, FinancingDemand) == 0
    demand = portal.submit_demand(session, me, fields | {"amount_max_wan": 900.0})
    assert (demand.status, demand.enterprise_id) == (DemandStatus.pending, me.enterprise_id)


def test_another_enterprises_demand_is_not_found(session: Session) -> None:
    mine, theirs = _principal(session), factories.demand(session)
    with pytest.raises(NotFoundError):
        portal.edit_demand(session, mine, theirs.id or 0, {"amount_max_wan": 999}, None)
    with pytest.raises(ForbiddenError):
        portal.demands(session, accounts.Principal("mm", UserRole.matchmaker))


def test_a_survey_is_answered_once_per_closed_introduction(session: Session) -> None:
    me = _principal(session)
    demand = factories.demand(session, enterprise_id=me.enterprise_id)
    match = factories.match(session, demand)
    with pytest.raises(DomainError, match="尚未结束"):
        portal.answer_survey(session, me, match.id or 0, 5, "")
    pipeline.move_match(session, match.id or 0, PipelineStage.closed_lost, match.version,
                        actor="mm")  # fmt: skip
    [intro] = portal.introductions(session, me)
    assert intro.survey_due and intro.institution == portal.HIDDEN_INSTITUTION
    answer = portal.answer_survey(session, me, match.id or 0, 2, "机构反馈慢")
    assert (answer.kind, answer.satisfaction, answer.match_id) == (
        ComplaintKind.survey,
        2,
        match.id,
    )
    with pytest.raises(DomainError, match="已提交"):
        portal.answer_survey(session, me, match.id or 0, 5, "")
    assert _count(session, Complaint) == 1


def test_complaints_show_their_handling_to_their_enterprise_only(session: Session) -> None:
    me, other = _principal(session), _principal(session)
    case = portal.file_complaint(session, me, ComplaintKind.complaint, "撮合专员未回电")
    complaints.move(session, case.id or 0, ComplaintStatus.handling, "mm")
    complaints.add_measure(session, case.id or 0, "24 小时内回电", "李四",
                           utcnow().date() + timedelta(days=7), "mm")  # fmt: skip
    [(row, measures)] = portal.complaints_of(session, me)
    assert row.status == ComplaintStatus.handling and [m.description for m in measures] == [
        "24 小时内回电"
    ]
    assert portal.complaints_of(session, other) == []
    with pytest.raises(DomainError):
        portal.file_complaint(session, me, ComplaintKind.survey, "5 分")


def test_an_invitation_is_single_use_expiring_and_stored_hashed(session: Session) -> None:
    ent = factories.enterprise(session)
    invitation, token = accounts.invite_enterprise_user(session, ent.id or 0, "mm", hours=1)
    assert token not in invitation.token_hash and len(invitation.token_hash) == 64
    with pytest.raises(DomainError, match="密码"):
        accounts.accept_invitation(session, token, "qiye", "short")
    assert _count(session, User) == 0 and invitation.used_at is None  # nothing left behind
    user = accounts.accept_invitation(session, token, "qiye", PASSWORD, "a@qiye.example")
    assert (user.role, user.enterprise_id, user.email) == (
        UserRole.enterprise,
        ent.id,
        "a@qiye.example",
    )
    with pytest.raises(DomainError, match="已使用"):
        accounts.accept_invitation(session, token, "qiye2", PASSWORD)
    late, late_token = accounts.invite_enterprise_user(session, ent.id or 0, "mm")
    late.expires_at = utcnow() - timedelta(minutes=1)
    session.add(late)
    with pytest.raises(DomainError, match="过期"):
        accounts.accept_invitation(session, late_token, "qiye3", PASSWORD)
    assert _count(session, EnterpriseInvitation) == 2 and _count(session, User) == 1
