"""Resident institutions in the console (standard 6.2.1.2): who has an agreement in force,
commitments against the ledger for an agreement year, the yearly evaluation (staff) and
agreement renewal (admins). Evaluators may read."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Query, Request, Response

from api.deps import PathId, SessionDep
from api.web.auth import ConsoleUser, EvaluationUser, Posted
from api.web.render import ConsoleRoute, redirect, render
from models.clock import center_today
from models.errors import DomainError
from models.reference import UserRole
from services.institutions import service as institutions

router = APIRouter(route_class=ConsoleRoute)
Year = Annotated[int | None, Query(ge=2000, le=2100)]


def _actor(user: ConsoleUser, *roles: UserRole) -> str:
    if user.role not in roles:
        raise HTTPException(status_code=403, detail="仅限" + "、".join(r.label for r in roles))
    return user.principal.username


@router.get("/residents")
def residents_page(request: Request, _: EvaluationUser, session: SessionDep) -> Response:
    """Every institution with its agreement and whether it is in force today."""
    today = center_today()
    rows = institutions.residents(session, today)
    return render(request, "residents.html", title="入驻机构", rows=rows, today=today,
                  in_force=sum(r.in_force for r in rows))  # fmt: skip


@router.get("/residents/{institution_id}")
def resident_page(
    request: Request, institution_id: PathId, user: EvaluationUser, session: SessionDep,
    year: Year = None,
) -> Response:  # fmt: skip
    """Commitments against actuals for a year, the evaluations, renewal and agreement history."""
    year = year or center_today().year
    inst = institutions.institution(session, institution_id)
    try:
        result, problem = institutions.commitments_vs_actuals(session, institution_id, year), None
    except DomainError as exc:
        result, problem = None, exc.message
    return render(request, "resident.html", title=f"{inst.name} · 服务承诺", inst=inst,
                  year=year, result=result, problem=problem,
                  periods=institutions.agreement_periods(session, inst),
                  evaluations=institutions.evaluations(session, institution_id),
                  decisions=institutions.DECISIONS, labels=institutions.MEASURE_LABELS,
                  can_evaluate=user.is_staff, can_renew=user.role == UserRole.admin)  # fmt: skip


@router.post("/residents/{institution_id}/evaluate")
def evaluate(
    institution_id: PathId, user: Posted, session: SessionDep,
    year: Annotated[int, Form(ge=2000, le=2100)], decision: Annotated[str, Form(max_length=10)],
    note: Annotated[str, Form(max_length=500)],
) -> Response:  # fmt: skip
    """Record the yearly evaluation (staff)."""
    actor = _actor(user, UserRole.admin, UserRole.matchmaker)
    row = institutions.evaluate(session, institution_id, year, decision, note, actor)
    return redirect(f"/console/residents/{institution_id}?year={year}",
                    f"已记录 {year} 年度评价：{institutions.DECISIONS[row.decision]}")  # fmt: skip


@router.post("/residents/{institution_id}/renew")
def renew(
    institution_id: PathId, user: Posted, session: SessionDep,
    start: Annotated[date, Form()], end: Annotated[date | None, Form()] = None,
) -> Response:  # fmt: skip
    """Renew the agreement (admins)."""
    inst = institutions.renew(session, institution_id, start, end, _actor(user, UserRole.admin))
    return redirect(f"/console/residents/{institution_id}",
                    f"已续签 {inst.name}：{start} 至 {end or '长期'}")  # fmt: skip
