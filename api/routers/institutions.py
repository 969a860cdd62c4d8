"""Institutions with their loan products and mandates; an institution sees only its own."""

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query

from api.deps import Admin, CurrentPrincipal, PageDep, PathId, SessionDep, Staff, confined_to
from api.schemas import (
    EvaluationIn,
    InstitutionEvaluationPublic,
    InstitutionIn,
    InstitutionPublic,
    ListOf,
    LoanProductIn,
    LoanProductPublic,
    MandateIn,
    MandatePublic,
    RenewalIn,
)
from models import Institution, InvestmentMandate, LoanProduct
from models.clock import center_today
from models.crud import get_or_404
from models.paging import page_of, rows_of
from models.reference import UserRole
from services.accounts.service import Principal
from services.audit.repository import create_audited
from services.institutions import service as institutions

router = APIRouter(prefix="/institutions", tags=["institutions"])


def own_institution(principal: Principal, institution_id: int) -> None:
    """404 for an institution user asking about another institution."""
    if principal.role == UserRole.institution and principal.institution_id != institution_id:
        raise HTTPException(status_code=404, detail=f"入驻机构 {institution_id} 不存在")


def may_edit(principal: Principal, institution_id: int) -> None:
    """Admins edit every institution; institution users only their own."""
    own_institution(principal, institution_id)
    if principal.role not in (UserRole.admin, UserRole.institution):
        raise HTTPException(status_code=403, detail="仅限管理员或本机构用户")


@router.get("", response_model=ListOf[InstitutionPublic])
def list_institutions(
    session: SessionDep, principal: CurrentPrincipal, page: PageDep
) -> ListOf[InstitutionPublic]:
    """Resident institutions (an institution user sees its own)."""
    own = confined_to(principal)
    rows, count = page_of(session, Institution, page.offset, page.limit, "id", id=own)
    return ListOf(
        data=[InstitutionPublic.model_validate(r, from_attributes=True) for r in rows], count=count
    )


@router.get("/{institution_id}", response_model=InstitutionPublic)
def get_institution(
    institution_id: PathId, session: SessionDep, principal: CurrentPrincipal
) -> InstitutionPublic:
    """One institution."""
    own_institution(principal, institution_id)
    return InstitutionPublic.model_validate(
        get_or_404(session, Institution, institution_id), from_attributes=True
    )


@router.post("", response_model=InstitutionPublic, status_code=201)
def create_institution(
    body: InstitutionIn, session: SessionDep, principal: Admin
) -> InstitutionPublic:
    """Register a resident institution."""
    inst = create_audited(session, Institution, body, actor=principal.username,
                          entity="institution")  # fmt: skip
    return InstitutionPublic.model_validate(inst, from_attributes=True)


@router.get("/{institution_id}/products", response_model=ListOf[LoanProductPublic])
def list_products(
    institution_id: PathId, session: SessionDep, principal: CurrentPrincipal
) -> ListOf[LoanProductPublic]:
    """An institution's loan products."""
    own_institution(principal, institution_id)
    get_or_404(session, Institution, institution_id)
    rows = rows_of(session, LoanProduct, "id", institution_id=institution_id)
    data = [LoanProductPublic.model_validate(r, from_attributes=True) for r in rows]
    return ListOf(data=data, count=len(data))


@router.post("/{institution_id}/products", response_model=LoanProductPublic, status_code=201)
def create_product(
    institution_id: PathId, body: LoanProductIn, session: SessionDep, principal: CurrentPrincipal
) -> LoanProductPublic:
    """Add a loan product."""
    may_edit(principal, institution_id)
    get_or_404(session, Institution, institution_id)
    data = body.model_dump() | {"institution_id": institution_id}
    product = create_audited(session, LoanProduct, data, actor=principal.username,
                             entity="loan_product")  # fmt: skip
    return LoanProductPublic.model_validate(product, from_attributes=True)


@router.get("/{institution_id}/mandates", response_model=ListOf[MandatePublic])
def list_mandates(
    institution_id: PathId, session: SessionDep, principal: CurrentPrincipal
) -> ListOf[MandatePublic]:
    """An institution's investment mandates."""
    own_institution(principal, institution_id)
    get_or_404(session, Institution, institution_id)
    rows = rows_of(session, InvestmentMandate, "id", institution_id=institution_id)
    data = [MandatePublic.model_validate(r, from_attributes=True) for r in rows]
    return ListOf(data=data, count=len(data))


@router.post("/{institution_id}/mandates", response_model=MandatePublic, status_code=201)
def create_mandate(
    institution_id: PathId, body: MandateIn, session: SessionDep, principal: CurrentPrincipal
) -> MandatePublic:
    """Add an investment mandate."""
    may_edit(principal, institution_id)
    get_or_404(session, Institution, institution_id)
    data = body.model_dump() | {"institution_id": institution_id}
    mandate = create_audited(session, InvestmentMandate, data, actor=principal.username,
                             entity="mandate")  # fmt: skip
    return MandatePublic.model_validate(mandate, from_attributes=True)


@router.get("/{institution_id}/commitments")
def commitments(
    institution_id: PathId,
    session: SessionDep,
    principal: CurrentPrincipal,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> dict[str, Any]:
    """The signed commitments of an agreement year (default: this year) against the ledger."""
    own_institution(principal, institution_id)
    year = year or center_today().year
    return institutions.commitments_vs_actuals(session, institution_id, year).as_json()


@router.get("/{institution_id}/evaluations", response_model=ListOf[InstitutionEvaluationPublic])
def list_evaluations(
    institution_id: PathId, session: SessionDep, principal: CurrentPrincipal
) -> ListOf[InstitutionEvaluationPublic]:
    """The institution's yearly evaluations, latest first."""
    own_institution(principal, institution_id)
    rows = institutions.evaluations(session, institution_id)
    data = [InstitutionEvaluationPublic.model_validate(r) for r in rows]
    return ListOf(data=data, count=len(data))


@router.post(
    "/{institution_id}/evaluations", response_model=InstitutionEvaluationPublic, status_code=201
)
def evaluate(
    institution_id: PathId, body: EvaluationIn, session: SessionDep, principal: Staff
) -> InstitutionEvaluationPublic:
    """Record the yearly evaluation (staff only): scores and a keep / warn / exit decision."""
    row = institutions.evaluate(session, institution_id, body.year, body.decision, body.note,
                                principal.username)  # fmt: skip
    return InstitutionEvaluationPublic.model_validate(row)


@router.post("/{institution_id}/renewals", response_model=InstitutionPublic)
def renew(
    institution_id: PathId, body: RenewalIn, session: SessionDep, principal: Admin
) -> InstitutionPublic:
    """Renew the resident agreement (admins only); the replaced period is kept."""
    inst = institutions.renew(session, institution_id, body.start, body.end, principal.username)
    return InstitutionPublic.model_validate(inst, from_attributes=True)
