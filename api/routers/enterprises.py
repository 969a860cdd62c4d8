"""Enterprises: staff see everything, evaluators no personal data, institutions only with consent."""

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import CurrentPrincipal, PageDep, PathId, SessionDep, Staff, StaffOrEvaluator
from api.schemas import ContactPublic, EnterpriseDetail, EnterpriseIn, EnterprisePublic, ListOf
from ingestion.normalize import normalize_company_name
from models import Enterprise
from models.paging import enterprise_page
from services.audit.repository import create_audited
from services.disclosure.service import EnterpriseView, enterprise_view

router = APIRouter(prefix="/enterprises", tags=["enterprises"])


def enterprise_out(view: EnterpriseView) -> EnterpriseDetail | EnterprisePublic:
    """The enterprise with its contact persons, or without personal data."""
    if view.contacts is None:
        return EnterprisePublic.model_validate(view.enterprise, from_attributes=True)
    contacts = [ContactPublic.model_validate(c, from_attributes=True) for c in view.contacts]
    detail = EnterpriseDetail.model_validate(view.enterprise, from_attributes=True)
    return detail.model_copy(update={"contacts": contacts})


@router.get("", response_model=ListOf[EnterprisePublic])
def list_enterprises(
    session: SessionDep,
    _: StaffOrEvaluator,
    page: PageDep,
    q: Annotated[str | None, Query(max_length=100)] = None,
    region: Annotated[str | None, Query(max_length=6)] = None,
    industry: Annotated[str | None, Query(max_length=5)] = None,
) -> ListOf[EnterprisePublic]:
    """Search enterprises by name or USCC, region and industry prefix."""
    rows, count = enterprise_page(session, page.offset, page.limit, q, region, industry)
    return ListOf(data=[EnterprisePublic.model_validate(r, from_attributes=True) for r in rows],
                  count=count)  # fmt: skip


@router.get("/{enterprise_id}", response_model=EnterpriseDetail | EnterprisePublic)
def get_enterprise(
    enterprise_id: PathId, session: SessionDep, principal: CurrentPrincipal
) -> EnterpriseDetail | EnterprisePublic:
    """One enterprise, as much of it as the caller may see."""
    return enterprise_out(enterprise_view(session, principal, enterprise_id))


@router.post("", response_model=EnterprisePublic, status_code=201)
def create_enterprise(
    body: EnterpriseIn, session: SessionDep, principal: Staff
) -> EnterprisePublic:
    """Register an enterprise by hand (imports are the usual way)."""
    data = body.model_dump() | {"normalized_name": normalize_company_name(body.legal_name)}
    ent = create_audited(session, Enterprise, data, actor=principal.username, entity="enterprise")
    return EnterprisePublic.model_validate(ent, from_attributes=True)
