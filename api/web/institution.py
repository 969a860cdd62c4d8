"""Institution pages: its subscriptions and digest history, teasers, introduction requests, and
deals to confirm. An institution user sees only its own institution (404 for any other)."""

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, Response

from api.deps import PathId, SessionDep
from api.web import queries
from api.web.auth import InstitutionSide, Posted, own_institution
from api.web.matchmaker import today
from api.web.render import ConsoleRoute, redirect, render
from models import Institution
from models.reference import UserRole
from models.repositories.base import get_or_404
from models.services import pipeline
from models.services.disclosure import teaser

router = APIRouter(route_class=ConsoleRoute)
PAGE_SIZE = 25


@router.get("/institutions/{institution_id}")
def institution(request: Request, institution_id: PathId, session: SessionDep,
                user: InstitutionSide) -> Response:  # fmt: skip
    """The institution's home: subscriptions, digests, requests, deals to confirm."""
    own_institution(user, institution_id)
    inst = get_or_404(session, Institution, institution_id)
    return render(request, "institution.html", title=inst.name, inst=inst,
                  subscriptions=queries.subscriptions_of(session, institution_id),
                  digests=queries.digest_history(session, institution_id),
                  requests=queries.introduction_requests(session, institution_id),
                  to_confirm=queries.deals_to_confirm(session, institution_id),
                  deals=queries.deals_of(session, institution_id), today=today())  # fmt: skip


@router.get("/institutions/{institution_id}/teasers")
def teasers(request: Request, institution_id: PathId, session: SessionDep,
            user: InstitutionSide,
            page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> Response:  # fmt: skip
    """Open demands as anonymised teasers, each with a button to ask for an introduction."""
    own_institution(user, institution_id)
    inst = get_or_404(session, Institution, institution_id)
    rows, total = queries.open_teasers(session, (page - 1) * PAGE_SIZE, PAGE_SIZE)
    return render(request, "teasers.html", title=f"需求速览 · {inst.short_name or inst.name}",
                  inst=inst, teasers=[asdict(teaser(d, e)) for d, e in rows],
                  paging={"page": page, "pages": max(1, -(-total // PAGE_SIZE)), "total": total},
                  can_request=user.role == UserRole.institution)  # fmt: skip


@router.post("/institutions/{institution_id}/requests")
def request_introduction(institution_id: PathId, session: SessionDep, user: InstitutionSide,
                         _: Posted, demand_id: Annotated[int, Form(ge=1)],
                         message: Annotated[str | None, Form(max_length=200)] = None) -> Response:  # fmt: skip
    """Ask the center for an introduction to a demand's enterprise."""
    own_institution(user, institution_id)
    match = pipeline.request_introduction(session, demand_id=demand_id, principal=user.principal,
                                          message=message)  # fmt: skip
    return redirect(f"/console/institutions/{institution_id}#requests",
                    f"已提交引荐申请（需求 #{demand_id}，撮合记录 #{match.id}）")  # fmt: skip
