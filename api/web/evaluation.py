"""Evaluator pages: 表A.1 for a chosen period against the annual plan and last year, with drill-down
and SVG charts; 表B.1 scoring with evidence files; the self-assessment and its sign-off; the
complaint list; the report export."""

import tempfile
from datetime import date
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, Form, HTTPException, Query, Request, Response, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from sqlmodel import Session
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from api.deps import PathId, SessionDep
from api.web.auth import EvaluationUser, Posted, StaffUser
from api.web.render import ConsoleRoute, redirect, render
from models import EvaluationPeriod, EvidenceFile
from models.clock import center_today
from models.crud import get_or_404
from models.paging import rows_of
from models.reference import APPENDIX_B, ComplaintKind, ComplaintStatus
from services.complaints import service as complaints
from services.evaluation import (
    INDICATORS_BY_KEY,
    Period,
    appendix_a,
    appendix_a_by_quarter,
    appendix_b,
    attach_evidence,
    build_report,
    create_period,
    plan_review,
    score_item,
    self_assessment_xlsx,
    set_target,
    sign_off,
    trend_charts,
    write_xlsx,
)
from services.evaluation import repository as repo
from services.evaluation.evidence import ACCEPTED, MAX_EVIDENCE_BYTES
from services.evaluation.indicators import APPENDIX_A, KIND_LABELS
from services.evaluation.plan import year_earlier
from services.evaluation.report import TITLE_A, TITLE_B, detail_text, render_html

router = APIRouter(route_class=ConsoleRoute)
Day = Annotated[date | None, Query()]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def chosen_period(start: date | None, end: date | None) -> Period:
    """The period asked for; the current calendar year (Beijing) by default."""
    this_year = Period.year(center_today().year)
    try:
        return Period(start or this_year.start, end or this_year.end)
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc


def _shortcuts() -> list[tuple[str, Period]]:
    year = center_today().year
    quarters = [(f"{year}年第{q}季度", Period.quarter(year, q)) for q in (1, 2, 3, 4)]
    return [(f"{year}年", Period.year(year)), (f"{year - 1}年", Period.year(year - 1)), *quarters]


def _charts(session: Session, period: Period) -> dict[str, str]:
    current = appendix_a_by_quarter(session, period)
    return trend_charts(current, appendix_a_by_quarter(session, year_earlier(period)))


@router.get("/evaluation")
def table_a(request: Request, session: SessionDep, _: EvaluationUser, start: Day = None,
            end: Day = None) -> Response:  # fmt: skip
    """表A.1 for the period against the plan and last year, each figure linking to its records."""
    period = chosen_period(start, end)
    result = appendix_a(session, period)
    return render(request, "evaluation.html", title=TITLE_A, period=period, result=result,
                  review=plan_review(session, period, result), shortcuts=_shortcuts(),
                  charts=_charts(session, period), indicators=APPENDIX_A)  # fmt: skip


@router.post("/evaluation/plan/{year}")
async def save_plan(request: Request, year: int, session: SessionDep, user: StaffUser,
                    _: Posted) -> Response:  # fmt: skip
    """Set the year's targets filled in on the form (blank lines keep their target)."""
    form = await request.form()
    filled = {i.key: str(form.get(f"target_{i.key}", "")).strip() for i in APPENDIX_A}
    done = await run_in_threadpool(_save_targets, session, year, filled, user.principal.username)
    back = f"/console/evaluation?start={year}-01-01&end={year}-12-31"
    return redirect(back, f"已设定 {done} 项 {year} 年度目标")


def _save_targets(session: Session, year: int, filled: dict[str, str], actor: str) -> int:
    done = 0
    for indicator in APPENDIX_A:
        if text := filled[indicator.key]:
            set_target(session, year, indicator.key, _float(text, indicator.name), actor)
            done += 1
    return done


@router.get("/evaluation/drill/{key}")
def drill(request: Request, key: str, session: SessionDep, _: EvaluationUser, start: Day = None,
          end: Day = None) -> Response:  # fmt: skip
    """The records behind one figure, with its quarterly trend beside last year's."""
    if key not in INDICATORS_BY_KEY:
        raise HTTPException(status_code=404, detail=f"指标“{key}”不存在")
    period = chosen_period(start, end)
    figure = appendix_a(session, period).figure(key)
    return render(request, "drill.html", title=figure.indicator.name, period=period,
                  figure=figure, kind_labels=KIND_LABELS, detail_text=detail_text,
                  chart=_charts(session, period)[key])  # fmt: skip


@router.get("/evaluation/report.{fmt}")
def report(fmt: str, session: SessionDep, _: EvaluationUser, start: Day = None,
           end: Day = None) -> Response:  # fmt: skip
    """The evaluation report as .xlsx (download), .html (a page with charts) or .json."""
    result = build_report(session, chosen_period(start, end))
    if fmt == "html":
        return HTMLResponse(render_html(result))
    if fmt == "json":
        return JSONResponse(result.as_json())
    if fmt != "xlsx":
        raise HTTPException(status_code=404, detail=f"不支持的报告格式“{fmt}”")
    folder = Path(tempfile.mkdtemp(prefix="mm-report-"))
    out = folder / f"evaluation-{result.period.start}-{result.period.end}.xlsx"
    write_xlsx(result, out)
    return FileResponse(out, filename=out.name, media_type=XLSX,
                        background=BackgroundTask(_remove, folder))  # fmt: skip


def _remove(folder: Path) -> None:
    for item in folder.iterdir():
        item.unlink()
    folder.rmdir()


@router.get("/evaluation/appendix-b")
def table_b(request: Request, session: SessionDep, _: EvaluationUser,
            period_id: Annotated[int | None, Query(ge=1)] = None) -> Response:  # fmt: skip
    """表B.1 of an evaluation period: the scoring form, with 满意度 from the surveys."""
    periods = rows_of(session, EvaluationPeriod, "-starts_on")
    chosen = (
        get_or_404(session, EvaluationPeriod, period_id) if period_id else next(iter(periods), None)
    )
    window = Period(chosen.starts_on, chosen.ends_on) if chosen else chosen_period(None, None)
    chosen_id = int(chosen.id or 0) if chosen else 0
    return render(request, "scoring.html", title=TITLE_B, periods=periods, chosen=chosen,
                  b=appendix_b(session, chosen, window), items=APPENDIX_B,
                  evidence=repo.evidence_for_period(session, chosen_id),
                  signoffs=repo.signoffs_for_period(session, chosen_id),
                  accepted=ACCEPTED, max_mb=MAX_EVIDENCE_BYTES // (1024 * 1024))  # fmt: skip


@router.post("/evaluation/appendix-b/{period_id}/evidence")
def upload_evidence(period_id: PathId, session: SessionDep, user: StaffUser, _: Posted,
                    item_code: Annotated[str, Form(max_length=40)],
                    file: Annotated[UploadFile, File()]) -> Response:  # fmt: skip
    """Attach an evidence file to a 表B.1 item (staff only)."""
    data = file.file.read(MAX_EVIDENCE_BYTES + 1)
    row = attach_evidence(session, period_id, item_code, file.filename or "", data,
                          user.principal.username)  # fmt: skip
    return redirect(f"/console/evaluation/appendix-b?period_id={period_id}",
                    f"已上传佐证材料“{row.filename}”（SHA-256 {row.sha256[:12]}…）")  # fmt: skip


@router.get("/evaluation/evidence/{evidence_id}")
def evidence_file(evidence_id: PathId, session: SessionDep, _: EvaluationUser) -> Response:
    """An evidence file as uploaded."""
    row = get_or_404(session, EvidenceFile, evidence_id)
    return Response(row.content, media_type=row.content_type, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(row.filename)}"})  # fmt: skip


@router.get("/evaluation/periods/{period_id}/self-assessment.xlsx")
def self_assessment(period_id: PathId, session: SessionDep, _: EvaluationUser) -> Response:
    """The period's 自评报告, pre-filled from 表A.1 and 表B.1 (download)."""
    period = get_or_404(session, EvaluationPeriod, period_id)
    name = quote(f"自评报告-{period.name}.xlsx")
    return Response(self_assessment_xlsx(session, period), media_type=XLSX,
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"})  # fmt: skip


@router.post("/evaluation/periods/{period_id}/sign-off")
def sign(period_id: PathId, session: SessionDep, user: EvaluationUser, _: Posted,
         role: Annotated[str, Form(min_length=1, max_length=80)]) -> Response:  # fmt: skip
    """Sign the period's self-assessment as it stands."""
    row = sign_off(session, period_id, user.principal.username, role)
    return redirect(f"/console/evaluation/appendix-b?period_id={period_id}",
                    f"已签署自评报告（SHA-256 {row.report_sha256}）")  # fmt: skip


@router.post("/evaluation/appendix-b/{period_id}")
async def score(request: Request, period_id: PathId, session: SessionDep, user: EvaluationUser,
                _: Posted) -> Response:  # fmt: skip
    """Record every score filled in on the form (blank items are left as they are)."""
    form = await request.form()
    filled = {item.code: (str(form.get(f"score_{item.code}", "")).strip(),
                          str(form.get(f"evidence_{item.code}", "")).strip() or None)
              for item in APPENDIX_B}  # fmt: skip
    done = await run_in_threadpool(_record_scores, session, period_id, filled,
                                   user.principal.username)  # fmt: skip
    return redirect(
        f"/console/evaluation/appendix-b?period_id={period_id}", f"已保存 {done} 项评分"
    )


def _record_scores(
    session: Session, period_id: int, filled: dict[str, tuple[str, str | None]], actor: str
) -> int:
    done = 0
    for item in APPENDIX_B:
        value, evidence = filled[item.code]
        if value:
            score_item(session, period_id, item.code, _float(value, item.name), actor,
                       evidence=evidence)  # fmt: skip
            done += 1
    return done


def _float(text: str, name: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise HTTPException(
            status_code=422, detail=f"“{name}”的得分应为数字，实际为“{text}”"
        ) from None


@router.post("/evaluation/periods")
def new_period(session: SessionDep, user: EvaluationUser, _: Posted,
               name: Annotated[str, Form(min_length=2, max_length=100)],
               starts_on: Annotated[date, Form()], ends_on: Annotated[date, Form()]) -> Response:  # fmt: skip
    """Open an evaluation period to score."""
    period = create_period(session, name, starts_on, ends_on, evaluator=user.principal.username)
    return redirect(
        f"/console/evaluation/appendix-b?period_id={period.id}", f"已新建评价期间“{name}”"
    )


@router.get("/complaints")
def complaint_list(request: Request, session: SessionDep, _: EvaluationUser,
                   status: ComplaintStatus | None = None,
                   kind: ComplaintKind | None = None) -> Response:  # fmt: skip
    """Complaints, suggestions and survey answers, newest first."""
    rows = complaints.list_cases(session, status=status, kind=kind, limit=200)
    return render(request, "complaints.html", title="投诉与意见", rows=rows, status=status,
                  kind=kind, statuses=list(ComplaintStatus), kinds=list(ComplaintKind))  # fmt: skip
