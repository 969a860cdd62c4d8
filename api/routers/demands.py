"""Financing demands: full records for staff and evaluators; teasers for institutions."""

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import func
from sqlalchemy.orm import load_only
from sqlmodel import col, select

from api.deps import CurrentPrincipal, PageDep, PathId, SessionDep, Staff, StaffOrEvaluator
from api.reads import row_or_404
from api.routing import OffloadedRoute, on_loop, read_only
from api.schemas import DemandForInstitution, DemandIn, DemandPublic, DemandTeaser, ListOf
from api.views import demand_for_institution
from models import Enterprise, FinancingDemand
from models.reference import DemandStatus, FinancingType
from models.repositories.audit import append_audit
from models.repositories.base import create, get_or_404
from models.repositories.listing_queries import demand_query, page_rows, paginate
from models.services.disclosure import teaser

router = APIRouter(route_class=OffloadedRoute, tags=["demands"])


def _only(model: Any, *names: str) -> Any:
    """Load only these columns of `model`; touching any other attribute raises (no lazy load)."""
    return load_only(*(getattr(model, name) for name in names), raiseload=True)


# What `teaser` reads of a demand and its enterprise, and no more.
TEASER_COLUMNS = (
    _only(FinancingDemand, "id", "financing_type", "round_stage", "amount_min_wan",
          "amount_max_wan"),
    _only(Enterprise, "id", "stage", "industry_code", "sei_category", "region_code"),
)  # fmt: skip


@router.get("/demands", response_model=ListOf[DemandPublic])
@read_only
def list_demands(
    session: SessionDep,
    _: StaffOrEvaluator,
    page: PageDep,
    status: DemandStatus | None = None,
    financing_type: FinancingType | None = None,
    enterprise_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
) -> ListOf[DemandPublic]:
    """Demands, newest first."""
    query = demand_query(status, financing_type, enterprise_id)
    rows, count = paginate(session, query, page.offset, page.limit)
    return ListOf(data=[DemandPublic.model_validate(r, from_attributes=True) for r in rows],
                  count=count)  # fmt: skip


@router.get("/demands/{demand_id}", response_model=DemandPublic)
@read_only
def get_demand(demand_id: PathId, session: SessionDep, _: StaffOrEvaluator) -> DemandPublic:
    """One demand."""
    return DemandPublic.model_validate(row_or_404(session, FinancingDemand, demand_id),
                                       from_attributes=True)  # fmt: skip


@router.post("/demands", response_model=DemandPublic, status_code=201)
def create_demand(body: DemandIn, session: SessionDep, principal: Staff) -> DemandPublic:
    """Register a demand by hand."""
    get_or_404(session, Enterprise, body.enterprise_id)
    demand = create(session, FinancingDemand, body)
    append_audit(session, actor=principal.username, action="create", entity="demand",
                 entity_id=demand.id)  # fmt: skip
    return DemandPublic.model_validate(demand, from_attributes=True)


@router.get("/teasers", response_model=ListOf[DemandTeaser])
@read_only
def list_teasers(session: SessionDep, _: CurrentPrincipal, page: PageDep) -> ListOf[DemandTeaser]:
    """Open demands as anonymised teasers."""
    is_open = FinancingDemand.status == DemandStatus.open
    query = (
        select(FinancingDemand, Enterprise)
        .join(Enterprise, col(Enterprise.id) == col(FinancingDemand.enterprise_id))
        .where(is_open)
        .order_by(col(FinancingDemand.id).desc())
        .options(*TEASER_COLUMNS)
    )
    # Every demand has its enterprise (a required foreign key): count without the join.
    total = select(func.count()).select_from(FinancingDemand).where(is_open)
    rows, count = page_rows(session, query, page.offset, page.limit, total)
    data = [DemandTeaser.model_validate(teaser(d, e), from_attributes=True) for d, e, _ in rows]
    return ListOf(data=data, count=count)


@router.get("/teasers/{demand_id}", response_model=DemandForInstitution)
@on_loop
def get_teaser(
    demand_id: PathId, session: SessionDep, principal: CurrentPrincipal
) -> DemandForInstitution:
    """A demand as the caller may see it: details only with the enterprise's consent."""
    return demand_for_institution(session, principal, demand_id)
