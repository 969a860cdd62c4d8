"""Matchmaker pages: enterprise and demand search, the demand page with ranked institutions,
introductions, pipeline moves and deals, the pipeline board, and consent recording."""

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, Response

from api.deps import PathId, SessionDep
from api.routers.enterprises import enterprise_out
from api.web.auth import InstitutionSide, Posted, StaffUser
from api.web.render import ConsoleRoute, back_url, redirect, render
from models import Enterprise, FinancingDemand, Institution
from models.base import utcnow
from models.clock import center_today, center_zone
from models.crud import get_or_404
from models.paging import demand_page, enterprise_names, enterprise_page, rows_of
from models.reference import (
    Collateral,
    Confidentiality,
    ConsentScope,
    DealStatus,
    DemandStatus,
    FinancingType,
    PipelineStage,
    industry_name,
    region_name,
)
from services.disclosure import service as disclosure
from services.disclosure.repository import latest_consents
from services.pipeline import demands as lifecycle
from services.pipeline import repository as pipeline_repo
from services.pipeline import service as pipeline
from services.recommendations.service import recommend_for_demand

router = APIRouter(route_class=ConsoleRoute)
PAGE_SIZE = 25
RANKED = 20
Search = Annotated[str | None, Query(max_length=100)]


def _pager(page: int, total: int) -> dict[str, int]:
    return {"page": page, "pages": max(1, -(-total // PAGE_SIZE)), "total": total}


@router.get("/enterprises")
def enterprises(request: Request, session: SessionDep, _: StaffUser, q: Search = None,
                region: Annotated[str | None, Query(max_length=6)] = None,
                industry: Annotated[str | None, Query(max_length=5)] = None,
                page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> Response:  # fmt: skip
    """Search enterprises by name or USCC, region and industry prefix."""
    rows, total = enterprise_page(session, (page - 1) * PAGE_SIZE, PAGE_SIZE, q, region, industry)
    return render(request, "enterprises.html", title="企业检索", rows=rows, q=q or "",
                  region=region or "", industry=industry or "", paging=_pager(page, total),
                  industry_name=industry_name, region_name=region_name)  # fmt: skip


@router.get("/enterprises/{enterprise_id}")
def enterprise(request: Request, enterprise_id: PathId, session: SessionDep,
               user: StaffUser) -> Response:  # fmt: skip
    """One enterprise (the read of its contacts is audited), its demands, and consent recording."""
    view = enterprise_out(disclosure.enterprise_view(session, user.principal, enterprise_id))
    return render(request, "enterprise.html", title=view.legal_name, ent=view,
                  demands=rows_of(session, FinancingDemand, enterprise_id=enterprise_id),
                  institutions=rows_of(session, Institution, "name"), scopes=list(ConsentScope),
                  industry_name=industry_name, region_name=region_name)  # fmt: skip


@router.get("/demands")
def demands(request: Request, session: SessionDep, _: StaffUser,
            status: DemandStatus | None = None, financing_type: FinancingType | None = None,
            enterprise_id: Annotated[int | None, Query(ge=1)] = None,
            page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> Response:  # fmt: skip
    """Demands filtered by status, financing type and enterprise."""
    rows, total = demand_page(session, (page - 1) * PAGE_SIZE, PAGE_SIZE, status,
                              financing_type, enterprise_id)  # fmt: skip
    names = enterprise_names(session, {d.enterprise_id for d in rows})
    return render(request, "demands.html", title="融资需求", rows=rows, names=names,
                  status=status, financing_type=financing_type, enterprise_id=enterprise_id,
                  statuses=list(DemandStatus), types=list(FinancingType),
                  paging=_pager(page, total))  # fmt: skip


@router.get("/demands/{demand_id}")
def demand(request: Request, demand_id: PathId, session: SessionDep, _: StaffUser) -> Response:
    """A demand: ranked institutions and products with reasons and why-nots, and its pipeline."""
    state = lifecycle.demand_state(session, demand_id)
    item = state.demand
    ent = get_or_404(session, Enterprise, item.enterprise_id)
    ranking = (recommend_for_demand(session, demand_id, k=RANKED)
               if DemandStatus(item.status).is_open_for_matching else None)  # fmt: skip
    return render(request, "demand.html", title=f"融资需求 #{demand_id}", demand=item, ent=ent,
                  ranking=ranking, matches=pipeline_repo.demand_matches(session, demand_id),
                  stages=PipelineStage, today=today(), history=state.history,
                  closing=lifecycle.CLOSING, financing_types=list(FinancingType),
                  collaterals=list(Collateral), confidentialities=list(Confidentiality),
                  field_names={"status": "状态", "amount_raised_wan": "已融资（万元）",
                               **lifecycle.EDITABLE}, shown=lifecycle.shown_value)  # fmt: skip


@router.post("/demands/{demand_id}/introduce")
def introduce(demand_id: PathId, session: SessionDep, user: StaffUser, _: Posted,
              institution_id: Annotated[int, Form(ge=1)],
              kind: Annotated[str, Form(pattern="^(loan|equity)$")],
              offer_id: Annotated[int, Form(ge=1)]) -> Response:  # fmt: skip
    """引荐: introduce the enterprise to the institution for this product or mandate."""
    match = pipeline.introduce(session, demand_id=demand_id, institution_id=institution_id,
                               actor=user.principal.username,
                               loan_product_id=offer_id if kind == "loan" else None,
                               mandate_id=offer_id if kind == "equity" else None)  # fmt: skip
    return redirect(
        f"/console/demands/{demand_id}#match-{match.id}", f"已引荐（撮合记录 #{match.id}）"
    )


@router.post("/matches/{match_id}/move")
def move(request: Request, match_id: PathId, session: SessionDep, user: InstitutionSide,
         _: Posted, to_stage: Annotated[PipelineStage, Form()],
         expected_version: Annotated[int, Form(ge=1)]) -> Response:  # fmt: skip
    """Move a match (409 page-message when someone else moved it first); an institution may
    only decline its own."""
    match = pipeline.move_as(session, user.principal, match_id, to_stage, expected_version)
    return redirect(back_url(request), f"撮合记录 #{match_id} 已转到“{match.stage.label}”")


@router.post("/matches/{match_id}/deal")
def record_deal(request: Request, match_id: PathId, session: SessionDep, user: InstitutionSide,
                _: Posted, amount_wan: Annotated[float, Form(gt=0, le=10_000_000)],
                closed_on: Annotated[date, Form()],
                confirm_out_of_range: Annotated[bool, Form()] = False) -> Response:  # fmt: skip
    """Staff record the deal the match produced (closes it as won); an institution files a
    claim a matchmaker confirms before it counts."""
    deal = pipeline.deal_as(session, user.principal, match_id=match_id, amount_wan=amount_wan,
                            closed_on=closed_on, confirm_out_of_range=confirm_out_of_range)  # fmt: skip
    if deal.status == DealStatus.claimed:
        return redirect(back_url(request),
                        f"已申报成交 #{deal.id}：{amount_wan:g} 万元，待撮合专员确认")  # fmt: skip
    return redirect(back_url(request), f"已记录成交 #{deal.id}：{amount_wan:g} 万元")


@router.post("/deals/{deal_id}/confirm")
def confirm_deal(deal_id: PathId, session: SessionDep, user: StaffUser, _: Posted,
                 confirm_out_of_range: Annotated[bool, Form()] = False) -> Response:  # fmt: skip
    """Confirm an institution's claimed deal: it counts from now on."""
    pipeline.confirm_deal(session, deal_id, actor=user.principal.username,
                          confirm_out_of_range=confirm_out_of_range)  # fmt: skip
    return redirect("/console/#claims", f"已确认成交 #{deal_id}")


@router.post("/deals/{deal_id}/reject")
def reject_deal(deal_id: PathId, session: SessionDep, user: StaffUser, _: Posted,
                reason: Annotated[str | None, Form(max_length=300)] = None) -> Response:  # fmt: skip
    """Reject an institution's claimed deal: it never counts."""
    pipeline.reject_deal(session, deal_id, actor=user.principal.username, reason=reason or None)
    return redirect("/console/#claims", f"已驳回成交申报 #{deal_id}")


@router.get("/pipeline")
def pipeline_board(request: Request, session: SessionDep, _: StaffUser) -> Response:
    """The pipeline board: one column per stage."""
    return render(request, "pipeline.html", title="撮合看板", board=pipeline_repo.pipeline_board(session),
                  stages=PipelineStage)  # fmt: skip


@router.get("/consents")
def consents(request: Request, session: SessionDep, _: StaffUser,
             enterprise_id: Annotated[int | None, Query(ge=1)] = None) -> Response:  # fmt: skip
    """Recorded consents, and the form to record one."""
    return render(request, "consents.html", title="企业授权记录", rows=latest_consents(session),
                  institutions=rows_of(session, Institution, "name"), scopes=list(ConsentScope),
                  enterprise_id=enterprise_id, now=utcnow())  # fmt: skip


@router.post("/consents")
def record_consent(session: SessionDep, user: StaffUser, _: Posted,
                   enterprise_id: Annotated[int, Form(ge=1)],
                   institution_id: Annotated[int, Form(ge=1)],
                   scopes: Annotated[list[ConsentScope], Form(min_length=1)],
                   expires_on: Annotated[date | None, Form()] = None,
                   evidence: Annotated[str | None, Form(max_length=300)] = None) -> Response:  # fmt: skip
    """Record the enterprise's consent to disclose `scopes` to one institution."""
    expires = (
        datetime.combine(expires_on, datetime.max.time(), center_zone()) if expires_on else None
    )
    consent = disclosure.record_consent(session, enterprise_id=enterprise_id,
                                        institution_id=institution_id, scopes=scopes,
                                        expires_at=expires, actor=user.principal.username,
                                        evidence=evidence or None)  # fmt: skip
    return redirect("/console/consents", f"已记录授权 #{consent.id}")


@router.post("/consents/{consent_id}/revoke")
def revoke_consent(consent_id: PathId, session: SessionDep, user: StaffUser, _: Posted) -> Response:
    """Revoke a consent from now on."""
    disclosure.revoke_consent(session, consent_id, user.principal.username)
    return redirect("/console/consents", f"已撤回授权 #{consent_id}")


def today() -> date:
    """Today at the center (the default close day of a deal)."""
    return center_today()
