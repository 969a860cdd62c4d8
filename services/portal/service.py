"""The enterprise portal (standard 6.1.2.2, 7.2.1): what an enterprise user does for its own
enterprise, and only for it.

Every function takes the caller's `Principal` and works on the principal's enterprise: a record
of another enterprise is "not found", as if it did not exist. An introduction shows its stage;
the institution's name only while a consent of the enterprise to it is in force, and never an
institution's or the center's notes. A new demand starts 待对接 (`services.pipeline.demands`).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session

from models import Complaint, Consent, FinancingDemand, ImprovementMeasure, Match
from models.base import utcnow
from models.clock import center_today
from models.errors import DomainError, ForbiddenError, NotFoundError
from models.reference import (
    ComplaintKind,
    ConsentScope,
    DemandStatus,
    InstitutionKind,
    PipelineStage,
    UserRole,
)
from services.accounts.service import Principal
from services.audit.repository import create_audited
from services.complaints import repository as complaints_repo
from services.complaints import service as complaints
from services.disclosure import service as disclosure
from services.pipeline import demands as lifecycle
from services.portal import repository as repo

PORTAL_EVIDENCE = "企业通过门户自主授权"
HIDDEN_INSTITUTION = "（授权后显示机构名称）"


def enterprise_of(principal: Principal) -> int:
    """The enterprise an enterprise user acts for (403 for every other caller)."""
    if principal.role != UserRole.enterprise or principal.enterprise_id is None:
        raise ForbiddenError("仅限企业用户访问")
    return principal.enterprise_id


# --- demands


def demands(session: Session, principal: Principal) -> Sequence[FinancingDemand]:
    """The enterprise's demands, newest first."""
    return repo.demands_of(session, enterprise_of(principal))


def own_demand(session: Session, principal: Principal, demand_id: int) -> FinancingDemand:
    """One of the enterprise's demands (404 for any other)."""
    demand = session.get(FinancingDemand, demand_id)
    if demand is None or demand.enterprise_id != enterprise_of(principal):
        raise NotFoundError(f"融资需求 {demand_id} 不存在")
    return demand


def submit_demand(
    session: Session, principal: Principal, fields: dict[str, Any]
) -> FinancingDemand:
    """Register a demand of the enterprise (already checked against the API's strict schema):
    it starts 待对接, names the caller's enterprise whatever `fields` say."""
    enterprise_id = enterprise_of(principal)
    low, high = fields["amount_min_wan"], fields["amount_max_wan"]
    if low > high:
        raise DomainError(
            f"融资金额下限 {low:g} 万元大于上限 {high:g} 万元", field="amount_min_wan"
        )
    if high <= 0:
        raise DomainError("拟融资金额上限须大于 0", field="amount_max_wan")
    deadline = fields.get("deadline")
    if isinstance(deadline, date) and deadline < center_today():
        raise DomainError(f"截止日期 {deadline} 已过", field="deadline")
    data = {**fields, "enterprise_id": enterprise_id, "status": DemandStatus.pending,
            "source_ref": None}  # fmt: skip
    return create_audited(session, FinancingDemand, data, actor=principal.username, entity="demand")


def edit_demand(
    session: Session,
    principal: Principal,
    demand_id: int,
    changes: dict[str, Any],
    note: str | None,
) -> FinancingDemand:
    """Edit one of the enterprise's open or paused demands (each change a history row)."""
    demand = own_demand(session, principal, demand_id)
    if DemandStatus(demand.status) in DemandStatus.closed_statuses():
        raise DomainError(f"需求已{DemandStatus(demand.status).label}，不能再修改", field="status")
    return lifecycle.edit(session, demand_id, changes, note=note or "企业自行修改",
                          actor=principal.username)  # fmt: skip


# --- introductions


@dataclass(frozen=True)
class Introduction:
    """A match as its enterprise sees it: stage, and the institution only under consent."""

    match_id: int
    demand_id: int
    stage: PipelineStage
    institution_id: int
    institution: str
    institution_kind: str
    consented: bool
    requested: bool  # an institution asked and waits for the enterprise's consent
    introduced_at: datetime | None
    closed_at: datetime | None
    survey_due: bool


def introductions(session: Session, principal: Principal) -> list[Introduction]:
    """The enterprise's introductions and the institutions' requests, newest first."""
    enterprise_id, now = enterprise_of(principal), utcnow()
    chosen = disclosure.consenting_institutions(session, enterprise_id, now)
    rows = []
    for match, name, kind, requested in repo.matches_of(session, enterprise_id):
        consented = match.institution_id in chosen
        closed = PipelineStage(match.stage).is_closed and match.introduced_at is not None
        rows.append(Introduction(
            match.id or 0, match.demand_id, PipelineStage(match.stage), match.institution_id,
            name if consented else HIDDEN_INSTITUTION, InstitutionKind(kind).label, consented,
            bool(requested) and not consented and match.introduced_at is None,
            match.introduced_at, match.closed_at,
            closed and complaints_repo.survey_of_match(session, match.id or 0) is None,
        ))  # fmt: skip
    return rows


def own_match(session: Session, principal: Principal, match_id: int) -> Match:
    """A match of one of the enterprise's demands that the enterprise was told of (404 else)."""
    known = {i.match_id: i for i in introductions(session, principal)}
    match = session.get(Match, match_id)
    if match is None or match_id not in known:
        raise NotFoundError(f"对接记录 {match_id} 不存在")
    return match


# --- consent


def consents(session: Session, principal: Principal) -> Sequence[Any]:
    """The enterprise's consents with the institution's name, newest first."""
    return repo.consents_of(session, enterprise_of(principal))


def institutions(session: Session) -> list[tuple[int, str]]:
    """The institutions an enterprise may grant consent to (id, name)."""
    return repo.institution_names(session)


def grant(
    session: Session, principal: Principal, institution_id: int, scopes: list[ConsentScope],
    expires_at: datetime | None = None,
) -> Consent:  # fmt: skip
    """The enterprise consents to disclose `scopes` to one institution (audited)."""
    if not scopes:
        raise DomainError("请至少选择一项授权范围", field="scopes")
    return disclosure.record_consent(session, enterprise_id=enterprise_of(principal),
                                     institution_id=institution_id, scopes=scopes,
                                     expires_at=expires_at, actor=principal.username,
                                     evidence=PORTAL_EVIDENCE)  # fmt: skip


def grant_for_match(
    session: Session, principal: Principal, match_id: int, scopes: list[ConsentScope]
) -> Consent:
    """Consent to the institution of one of the enterprise's matches (its name unseen yet)."""
    match = own_match(session, principal, match_id)
    return grant(session, principal, match.institution_id, scopes)


def revoke(session: Session, principal: Principal, consent_id: int) -> Consent:
    """Revoke one of the enterprise's consents from now on (404 for any other)."""
    consent = session.get(Consent, consent_id)
    if consent is None or consent.enterprise_id != enterprise_of(principal):
        raise NotFoundError(f"授权 {consent_id} 不存在")
    return disclosure.revoke_consent(session, consent_id, principal.username)


# --- satisfaction surveys and complaints


def answer_survey(
    session: Session, principal: Principal, match_id: int, satisfaction: int, comment: str
) -> Complaint:
    """Answer the satisfaction survey of a closed introduction, once."""
    intro = next((i for i in introductions(session, principal) if i.match_id == match_id), None)
    if intro is None:
        raise NotFoundError(f"对接记录 {match_id} 不存在")
    if not intro.survey_due:
        done = complaints_repo.survey_of_match(session, match_id) is not None
        raise DomainError("该对接的满意度调查已提交" if done else "对接尚未结束，暂无满意度调查",
                          field="match_id")  # fmt: skip
    if not 1 <= satisfaction <= 5:
        raise DomainError("满意度应为 1–5", field="satisfaction")
    match = session.get(Match, match_id)
    return complaints.submit(session, ComplaintKind.survey, comment.strip() or "（无文字意见）",
                             submitter=principal.username, enterprise_id=enterprise_of(principal),
                             institution_id=match.institution_id if match else None,
                             satisfaction=satisfaction, match_id=match_id)  # fmt: skip


def file_complaint(
    session: Session, principal: Principal, kind: ComplaintKind, content: str
) -> Complaint:
    """File a complaint or suggestion as the enterprise."""
    if kind == ComplaintKind.survey:
        raise DomainError("满意度调查请在对接记录中填写", field="kind")
    if not content.strip():
        raise DomainError("请填写内容", field="content")
    return complaints.submit(session, kind, content.strip(), submitter=principal.username,
                             enterprise_id=enterprise_of(principal))  # fmt: skip


def complaints_of(
    session: Session, principal: Principal
) -> list[tuple[Complaint, Sequence[ImprovementMeasure]]]:
    """The enterprise's complaints, suggestions and answers, with their handling."""
    return complaints.cases_of_enterprise(session, enterprise_of(principal))
