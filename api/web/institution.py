"""Institution pages: its subscriptions and digest history, teasers, introduction requests, and
deals to report. An institution user sees only its own institution (404 for any other), and an
enterprise's name only while the enterprise's consent covers it (each showing audited)."""

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, Response

from api.deps import PathId, SessionDep
from api.web.auth import InstitutionSide, Posted, own_institution
from api.web.matchmaker import today
from api.web.render import ConsoleRoute, redirect, render
from models import Deal, Institution, Subscription
from models.base import utcnow
from models.crud import get_or_404
from models.paging import rows_of
from models.reference import UserRole
from services.digests.repository import digest_history
from services.disclosure.repository import open_teasers
from services.disclosure.service import chosen_by, disclosed_names, teaser
from services.pipeline import repository as pipeline_repo
from services.pipeline import service as pipeline

router = APIRouter(route_class=ConsoleRoute)
PAGE_SIZE = 25


@router.get("/institutions/{institution_id}")
def institution(request: Request, institution_id: PathId, session: SessionDep,
                user: InstitutionSide) -> Response:  # fmt: skip
    """The institution's home: subscriptions, digests, requests, deals to report and reported.

    An enterprise's name shows only where its consent (details) to the institution is in force
    now, and each name shown is written to the audit log (staff see every name)."""
    own_institution(user, institution_id)
    inst = get_or_404(session, Institution, institution_id)

    def names(ids: set[int]) -> dict[int, str]:
        return disclosed_names(session, actor=user.principal.username,
                               institution_id=institution_id, enterprise_ids=ids)  # fmt: skip

    return render(request, "institution.html", title=inst.name, inst=inst,
                  subscriptions=rows_of(session, Subscription, "id", institution_id=institution_id),
                  digests=digest_history(session, institution_id),
                  requests=pipeline_repo.introduction_requests(session, institution_id),
                  to_confirm=pipeline_repo.deals_to_confirm(
                      session, institution_id, None if user.is_staff else names),
                  deals=rows_of(session, Deal, "-closed_on", 30, institution_id=institution_id),
                  today=today())  # fmt: skip


@router.get("/institutions/{institution_id}/teasers")
def teasers(request: Request, institution_id: PathId, session: SessionDep,
            user: InstitutionSide,
            page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> Response:  # fmt: skip
    """Open demands as anonymised teasers, each with a button to ask for an introduction: what
    the institution may see (confidential ones only of the enterprises that chose it)."""
    own_institution(user, institution_id)
    inst = get_or_404(session, Institution, institution_id)
    chosen = chosen_by(session, institution_id, utcnow())
    rows, total = open_teasers(session, (page - 1) * PAGE_SIZE, PAGE_SIZE, chosen)
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
