"""Financing demands: full records for staff and evaluators; teasers for institutions."""

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import CurrentPrincipal, PageDep, PathId, SessionDep, Staff, StaffOrEvaluator
from api.routers.enterprises import enterprise_out
from api.schemas import DemandForInstitution, DemandIn, DemandPublic, DemandTeaser, ListOf
from models import Enterprise, FinancingDemand
from models.crud import get_or_404
from models.paging import demand_page
from models.reference import DemandStatus, FinancingType
from services.audit.repository import create_audited
from services.disclosure.service import demand_view, visible_teasers

router = APIRouter(tags=["demands"])


@router.get("/demands", response_model=ListOf[DemandPublic])
def list_demands(
    session: SessionDep,
    _: StaffOrEvaluator,
    page: PageDep,
    status: DemandStatus | None = None,
    financing_type: FinancingType | None = None,
    enterprise_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
) -> ListOf[DemandPublic]:
    """Demands, newest first."""
    rows, count = demand_page(session, page.offset, page.limit, status, financing_type,
                              enterprise_id)  # fmt: skip
    return ListOf(data=[DemandPublic.model_validate(r, from_attributes=True) for r in rows],
                  count=count)  # fmt: skip


@router.get("/demands/{demand_id}", response_model=DemandPublic)
def get_demand(demand_id: PathId, session: SessionDep, _: StaffOrEvaluator) -> DemandPublic:
    """One demand."""
    demand = get_or_404(session, FinancingDemand, demand_id)
    return DemandPublic.model_validate(demand, from_attributes=True)


@router.post("/demands", response_model=DemandPublic, status_code=201)
def create_demand(body: DemandIn, session: SessionDep, principal: Staff) -> DemandPublic:
    """Register a demand by hand."""
    get_or_404(session, Enterprise, body.enterprise_id)
    demand = create_audited(
        session, FinancingDemand, body, actor=principal.username, entity="demand"
    )
    return DemandPublic.model_validate(demand, from_attributes=True)


@router.get("/teasers", response_model=ListOf[DemandTeaser])
def list_teasers(
    session: SessionDep, principal: CurrentPrincipal, page: PageDep
) -> ListOf[DemandTeaser]:
    """Open demands as anonymised teasers (confidential ones only to institutions the enterprise
    chose)."""
    rows, count = visible_teasers(session, principal, page.offset, page.limit)
    data = [DemandTeaser.model_validate(t, from_attributes=True) for t in rows]
    return ListOf(data=data, count=count)


@router.get("/teasers/{demand_id}", response_model=DemandForInstitution)
def get_teaser(
    demand_id: PathId, session: SessionDep, principal: CurrentPrincipal
) -> DemandForInstitution:
    """A demand as the caller may see it: details only with the enterprise's consent."""
    view = demand_view(session, principal, demand_id)
    out = DemandForInstitution(
        teaser=DemandTeaser.model_validate(view.teaser, from_attributes=True)
    )
    if view.details is not None:
        out.demand = DemandPublic.model_validate(view.demand, from_attributes=True)
        out.enterprise = enterprise_out(view.details)
    return out
