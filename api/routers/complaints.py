"""Complaints, suggestions and surveys (standard 7.2): anyone may submit; staff handle them."""

from datetime import date

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from api.deps import CurrentPrincipal, PathId, SessionDep, Staff, StaffOrEvaluator
from api.schemas import ListOf, StrictIn
from models.reference import ComplaintKind, ComplaintStatus, UserRole
from services.complaints import service as complaints

router = APIRouter(prefix="/complaints", tags=["complaints"])


class ComplaintIn(StrictIn):
    """A complaint, suggestion or survey answer."""

    kind: ComplaintKind
    content: str = Field(min_length=1, max_length=5000)
    enterprise_id: int | None = Field(default=None, ge=1, le=2_147_483_647)
    satisfaction: int | None = Field(default=None, ge=1, le=5)


class ComplaintOut(BaseModel):
    """A complaint with its handling status."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: ComplaintKind
    content: str
    status: ComplaintStatus
    satisfaction: int | None
    root_cause: str | None


class MoveIn(StrictIn):
    """Move a complaint along received → handling → resolved."""

    to: ComplaintStatus
    root_cause: str | None = Field(default=None, max_length=2000)


class MeasureIn(StrictIn):
    """An improvement measure with owner and due date."""

    description: str = Field(min_length=1, max_length=500)
    owner: str = Field(min_length=1, max_length=80)
    due_on: date


@router.post("", response_model=ComplaintOut, status_code=201)
def submit(body: ComplaintIn, session: SessionDep, principal: CurrentPrincipal) -> ComplaintOut:
    """Submit through the channel; an institution submits as itself."""
    institution = principal.institution_id if principal.role == UserRole.institution else None
    row = complaints.submit(session, body.kind, body.content, submitter=principal.username,
                            enterprise_id=body.enterprise_id, institution_id=institution,
                            satisfaction=body.satisfaction)  # fmt: skip
    return ComplaintOut.model_validate(row)


@router.get("", response_model=ListOf[ComplaintOut])
def list_complaints(
    session: SessionDep, _: StaffOrEvaluator, status: ComplaintStatus | None = None
) -> ListOf[ComplaintOut]:
    """Complaints, optionally by status."""
    rows = [
        ComplaintOut.model_validate(r)
        for r in complaints.list_cases(session, status=status, limit=500)
    ]
    return ListOf(data=rows, count=len(rows))


@router.post("/{complaint_id}/moves", response_model=ComplaintOut)
def move(complaint_id: PathId, body: MoveIn, session: SessionDep, principal: Staff) -> ComplaintOut:
    """Advance the handling status (with the root cause when known)."""
    row = complaints.move(
        session, complaint_id, body.to, principal.username, root_cause=body.root_cause
    )
    return ComplaintOut.model_validate(row)


@router.post("/{complaint_id}/measures", response_model=dict[str, int], status_code=201)
def add_measure(
    complaint_id: PathId, body: MeasureIn, session: SessionDep, principal: Staff
) -> dict[str, int]:
    """Add an improvement measure."""
    measure = complaints.add_measure(session, complaint_id, body.description, body.owner, body.due_on,
                                     principal.username)  # fmt: skip
    return {"id": measure.id or 0}
