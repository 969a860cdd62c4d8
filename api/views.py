"""Role-aware views: what of an enterprise or a demand each caller may see, logged when disclosed."""

from typing import Any

from sqlalchemy import Row
from sqlmodel import Session

from api.reads import contact_rows, row_or_404
from api.schemas import (
    ContactPublic,
    DemandForInstitution,
    DemandPublic,
    DemandTeaser,
    EnterpriseDetail,
    EnterprisePublic,
)
from models import Enterprise, FinancingDemand
from models.base import utcnow
from models.errors import NotFoundError
from models.reference import ConsentScope, DemandStatus, UserRole
from services.accounts.service import Principal
from services.audit.repository import append_audit
from services.disclosure.service import active_consent, log_disclosure, may_see_teaser, teaser

STAFF_ROLES = frozenset({UserRole.admin, UserRole.matchmaker})


def _detail(session: Session, ent: Enterprise | Row[Any]) -> EnterpriseDetail:
    contacts = [
        ContactPublic.model_validate(c, from_attributes=True)
        for c in contact_rows(session, ent.id or 0)
    ]
    return EnterpriseDetail.model_validate(ent, from_attributes=True).model_copy(
        update={"contacts": contacts}
    )


def _consented(
    session: Session, principal: Principal, enterprise_id: int, scope: ConsentScope
) -> bool:
    if principal.institution_id is None:
        return False
    return (
        active_consent(session, enterprise_id, principal.institution_id, scope, utcnow())
        is not None
    )


def enterprise_view(
    session: Session, principal: Principal, enterprise_id: int
) -> EnterpriseDetail | EnterprisePublic:
    """Staff: everything (the read of contacts is logged); evaluators: no personal data;
    institutions: only with consent (404 otherwise), and each disclosure is logged."""
    if principal.role in STAFF_ROLES:
        return _staff_view(session, principal, enterprise_id)
    ent = session.get(Enterprise, enterprise_id)
    if ent is None:
        raise NotFoundError(f"企业 {enterprise_id} 不存在")
    if principal.role == UserRole.evaluator:
        return EnterprisePublic.model_validate(ent, from_attributes=True)
    return _institution_view(session, principal, ent)


def _staff_view(session: Session, principal: Principal, enterprise_id: int) -> EnterpriseDetail:
    """Everything, from a row (nothing here is written back) unless this unit of work has the
    entity loaded already (a demand's view); the read is logged."""
    ent: Enterprise | Row[Any] | None = session.identity_map.get(
        session.identity_key(Enterprise, enterprise_id)
    )
    if ent is None:
        ent = row_or_404(session, Enterprise, enterprise_id, f"企业 {enterprise_id} 不存在")
    detail = _detail(session, ent)
    # Logged last: the chain is locked from the append to the commit, so keep that short.
    append_audit(session, actor=principal.username, action="read", entity="enterprise",
                 entity_id=enterprise_id, detail={"fields": ["contacts"]})  # fmt: skip
    return detail


def _institution_view(
    session: Session, principal: Principal, ent: Enterprise
) -> EnterpriseDetail | EnterprisePublic:
    eid, inst = ent.id or 0, principal.institution_id or 0
    if not _consented(session, principal, eid, ConsentScope.details):
        raise NotFoundError(f"企业 {eid} 不存在")
    if not _consented(session, principal, eid, ConsentScope.contacts):
        log_disclosure(session, actor=principal.username, institution_id=inst,
                       enterprise_id=eid, scope=ConsentScope.details)  # fmt: skip
        return EnterprisePublic.model_validate(ent, from_attributes=True)
    detail = _detail(session, ent)
    # Logged last (details, then contacts): the chain is locked from the append to the commit.
    log_disclosure(session, actor=principal.username, institution_id=inst, enterprise_id=eid,
                   scope=ConsentScope.details)  # fmt: skip
    log_disclosure(session, actor=principal.username, institution_id=inst, enterprise_id=eid,
                   scope=ConsentScope.contacts)  # fmt: skip
    return detail


def demand_for_institution(
    session: Session, principal: Principal, demand_id: int
) -> DemandForInstitution:
    """The teaser of a demand; its details and enterprise only where consent covers them.

    Only an open demand has a teaser (for staff too: they read `/demands`), and a confidential
    one only for staff and the institutions its enterprise chose: 404 for everyone else."""
    demand = session.get(FinancingDemand, demand_id)
    ent = session.get(Enterprise, demand.enterprise_id) if demand else None
    visible = demand is not None and (
        may_see_teaser(session, demand, principal.institution_id, utcnow())
        or (principal.role in STAFF_ROLES and demand.status == DemandStatus.open)
    )
    if demand is None or ent is None or not visible:
        raise NotFoundError(f"融资需求 {demand_id} 不存在")
    view = DemandForInstitution(
        teaser=DemandTeaser.model_validate(teaser(demand, ent), from_attributes=True)
    )
    if principal.role in STAFF_ROLES or _consented(
        session, principal, ent.id or 0, ConsentScope.details
    ):
        view.demand = DemandPublic.model_validate(demand, from_attributes=True)
        view.enterprise = enterprise_view(session, principal, ent.id or 0)
    return view
