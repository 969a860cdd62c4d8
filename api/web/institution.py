"""Institution pages: its subscriptions and digest history, teasers, introduction requests, and
deals to report. An institution user sees only its own institution (404 for any other), and an
enterprise's name only while the enterprise's consent covers it (each showing audited)."""

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, Response

from api.deps import PathId, SessionDep, SettingsDep
from api.web.auth import InstitutionSide, Posted, own_institution
from api.web.matchmaker import today
from api.web.render import ConsoleRoute, redirect, render
from models import Deal, Institution, Subscription
from models.base import utcnow
from models.crud import get_or_404
from models.errors import DomainError
from models.paging import rows_of
from models.reference import (
    CITIES,
    INDUSTRY_SECTIONS,
    PROVINCES,
    STRATEGIC_EMERGING_INDUSTRIES,
    FinancingType,
    Stage,
    UserRole,
)
from services.digests import subscriptions as subscription_service
from services.digests.checks import WebhookPolicy
from services.digests.confirmations import CONFIRM_TASK
from services.digests.repository import digest_history
from services.disclosure.repository import open_teasers
from services.disclosure.service import chosen_by, disclosed_names, teaser
from services.jobs import enqueue
from services.pipeline import repository as pipeline_repo
from services.pipeline import service as pipeline

router = APIRouter(route_class=ConsoleRoute)
PAGE_SIZE = 25
# The subscription form's pickers: codes the digest criteria take, with their Chinese names.
PICKERS = {
    "financing_types": FinancingType.labels(),
    "stages": Stage.labels(),
    "sectors": {s.code: f"{s.code} {s.name}" for s in INDUSTRY_SECTIONS}
    | {k: f"战略性新兴产业：{v}" for k, v in STRATEGIC_EMERGING_INDUSTRIES.items()},
    "regions": {c[:2]: n for c, n in PROVINCES.items()} | {c[:4]: n for c, n in CITIES.items()},
    "frequencies": subscription_service.FREQUENCIES,
}


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
                  today=today(), pickers=PICKERS)  # fmt: skip


def _amount(value: str, field: str) -> float | None:
    text = value.strip().replace(",", "")
    if not text:
        return None
    try:
        return float(text)
    except ValueError as exc:
        raise DomainError(f"金额应为数字（万元），收到“{value}”", field=field) from exc


@router.post("/institutions/{institution_id}/subscriptions")
def subscribe(institution_id: PathId, session: SessionDep, settings: SettingsDep,
              user: InstitutionSide, _: Posted, name: Annotated[str, Form(max_length=100)],
              email: Annotated[str, Form(max_length=120)] = "",
              frequency: Annotated[str, Form(max_length=10)] = "weekly",
              financing_types: Annotated[list[str], Form()] = [],  # noqa: B006 (FastAPI copies)
              stages: Annotated[list[str], Form()] = [],  # noqa: B006
              sectors: Annotated[list[str], Form()] = [],  # noqa: B006
              regions: Annotated[list[str], Form()] = [],  # noqa: B006
              min_amount_wan: Annotated[str, Form(max_length=20)] = "",
              max_amount_wan: Annotated[str, Form(max_length=20)] = "") -> Response:  # fmt: skip
    """Subscribe the institution to digests (institution users for their own; staff for any)."""
    own_institution(user, institution_id)
    get_or_404(session, Institution, institution_id)
    data = {"institution_id": institution_id, "name": name, "email": email or None,
            "frequency": frequency, "financing_types": financing_types, "stages": stages,
            "sectors": sectors, "regions": regions,
            "min_amount_wan": _amount(min_amount_wan, "min_amount_wan"),
            "max_amount_wan": _amount(max_amount_wan, "max_amount_wan")}  # fmt: skip
    sub, _secret = subscription_service.create_subscription(
        session, data, actor=user.principal.username, by_staff=user.is_staff,
        policy=WebhookPolicy.from_settings(settings), now=utcnow(),
        daily_limit=settings.subscription_confirm_daily_limit,
    )  # fmt: skip
    if not sub.email_confirmed:
        enqueue(session, CONFIRM_TASK, sub.id)
    note = "" if sub.email_confirmed else "；确认码已发往该邮箱，确认后开始推送"
    return redirect(f"/console/institutions/{institution_id}#subscriptions",
                    f"已创建订阅“{sub.name}”{note}")  # fmt: skip


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
