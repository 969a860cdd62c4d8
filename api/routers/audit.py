"""The audit log, for administrators."""

from fastapi import APIRouter

from api.deps import Admin, PageDep, SessionDep
from api.schemas import AuditPublic, AuditVerifyOut, ListOf
from models import AuditLog
from models.paging import page_of
from services.audit.repository import verify_chain

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("", response_model=ListOf[AuditPublic])
def list_audit(session: SessionDep, _: Admin, page: PageDep) -> ListOf[AuditPublic]:
    """Audit rows, newest first."""
    rows, count = page_of(session, AuditLog, page.offset, page.limit)
    return ListOf(data=[AuditPublic.model_validate(r) for r in rows], count=count)


@router.get("/verify", response_model=AuditVerifyOut)
def verify(session: SessionDep, _: Admin) -> AuditVerifyOut:
    """Re-verify the hash chain."""
    report = verify_chain(session)
    return AuditVerifyOut(rows_checked=report.rows_checked, ok=report.first_broken_id is None,
                          first_broken_id=report.first_broken_id, reason=report.reason)  # fmt: skip
