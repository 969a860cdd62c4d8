"""Financing demands: full records for staff and evaluators; teasers for institutions."""

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import func, select

from api.deps import STAFF, CurrentPrincipal, PageDep, PathId, SessionDep, Staff, StaffOrEvaluator
from api.reads import columns_of, row_or_404, validated
from api.schemas import DemandForInstitution, DemandIn, DemandPublic, DemandTeaser, ListOf
from api.views import demand_for_institution
from models import Enterprise, FinancingDemand
from models.base import utcnow
from models.crud import create, get_or_404
from models.paging import demand_query, page_rows
from models.reference import DemandStatus, FinancingType
from services.accounts.service import Principal
from services.audit.repository import append_audit
from services.disclosure.service import chosen_by, teaser, teaser_filter

router = APIRouter(tags=["demands"])


_DEMAND: Any = FinancingDemand.__table__  # type: ignore[attr-defined]
_ENTERPRISE: Any = Enterprise.__table__  # type: ignore[attr-defined]
DEMAND_COLUMNS = columns_of(FinancingDemand, DemandPublic)
_IS_OPEN = _DEMAND.c.status == DemandStatus.open
# Open demands with what `teaser` reads of each and of its enterprise, and no more: the names do
# not overlap, so one row serves as both.
OPEN_TEASERS = (
    select(_DEMAND.c.id, _DEMAND.c.financing_type, _DEMAND.c.round_stage,
           _DEMAND.c.amount_min_wan, _DEMAND.c.amount_max_wan, _ENTERPRISE.c.stage,
           _ENTERPRISE.c.industry_code, _ENTERPRISE.c.sei_category, _ENTERPRISE.c.region_code)
    .join_from(_DEMAND, _ENTERPRISE, _ENTERPRISE.c.id == _DEMAND.c.enterprise_id)
    .where(_IS_OPEN)
    .order_by(_DEMAND.c.id.desc())
)  # fmt: skip
# Every demand has its enterprise (a required foreign key): count without the join.
OPEN_COUNT = select(func.count()).select_from(_DEMAND).where(_IS_OPEN)


def _visible_to(session: SessionDep, principal: Principal) -> tuple[Any, Any]:
    """The teaser list and its count for the caller: staff see every open demand; anyone else
    (institutions, evaluators) confidential ones only of enterprises that chose it."""
    if principal.role in STAFF:
        return OPEN_TEASERS, OPEN_COUNT
    where = teaser_filter(chosen_by(session, principal.institution_id, utcnow()))
    return OPEN_TEASERS.where(where), select(func.count()).select_from(_DEMAND).where(where)


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
    query = demand_query(status, financing_type, enterprise_id, DEMAND_COLUMNS)
    rows, count = page_rows(session, query, page.offset, page.limit)
    return ListOf(data=validated(DemandPublic, rows), count=count)


@router.get("/demands/{demand_id}", response_model=DemandPublic)
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
def list_teasers(
    session: SessionDep, principal: CurrentPrincipal, page: PageDep
) -> ListOf[DemandTeaser]:
    """Open demands as anonymised teasers (confidential ones only to institutions the enterprise
    chose)."""
    query, count_query = _visible_to(session, principal)
    rows, count = page_rows(session, query, page.offset, page.limit, count_query)
    data = [DemandTeaser.model_validate(teaser(r, r), from_attributes=True) for r in rows]
    return ListOf(data=data, count=count)


@router.get("/teasers/{demand_id}", response_model=DemandForInstitution)
def get_teaser(
    demand_id: PathId, session: SessionDep, principal: CurrentPrincipal
) -> DemandForInstitution:
    """A demand as the caller may see it: details only with the enterprise's consent."""
    return demand_for_institution(session, principal, demand_id)
