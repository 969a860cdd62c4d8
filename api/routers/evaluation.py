"""Evaluation: 表A.1 figures with drill-down, the annual plan, 表B.1 scores with evidence files, the
report, the self-assessment and its sign-off, for evaluators and staff."""

import tempfile
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from api.deps import PathId, SessionDep, Staff, StaffOrEvaluator
from api.schemas import StrictIn
from models import EvaluationPeriod, EvidenceFile
from models.crud import get_or_404
from models.errors import DomainError, NotFoundError
from services.evaluation.appendix_a import appendix_a, appendix_a_by_quarter, drill_down
from services.evaluation.appendix_b import appendix_b, create_period, score_item
from services.evaluation.evidence import MAX_EVIDENCE_BYTES, attach_evidence, sign_off
from services.evaluation.indicators import APPENDIX_A, Period
from services.evaluation.plan import plan_review, set_target
from services.evaluation.report import build_report, write_report
from services.evaluation.self_assessment import self_assessment_xlsx

router = APIRouter(prefix="/evaluation", tags=["evaluation"])
FromDay = Annotated[date, Query(alias="from", description="期间起始日（含）")]
ToDay = Annotated[date, Query(alias="to", description="期间结束日（含）")]
INDICATOR_KEYS = frozenset(i.key for i in APPENDIX_A)
MEDIA = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html; charset=utf-8",
    "json": "application/json",
}
Year = Annotated[int, PathParam(ge=1990, le=2100)]


class FigureOut(BaseModel):
    """One 二级指标 of 表A.1."""

    key: str
    group: str
    name: str
    unit: str
    supplementary: bool
    value: float
    record_count: int
    records: list[dict[str, Any]] | None = None


class AppendixAOut(BaseModel):
    """表A.1 for a period."""

    period: dict[str, str]
    figures: list[FigureOut]


class ScoreIn(StrictIn):
    """An evaluator's score for one 二级指标 of 表B.1."""

    item_code: str = Field(min_length=1, max_length=40)
    score: float = Field(ge=0, le=1000)
    evidence: str | None = Field(default=None, max_length=5000)
    attachments: list[str] = Field(default_factory=list, max_length=20)


class PeriodIn(StrictIn):
    """An evaluation period."""

    name: str = Field(min_length=1, max_length=100)
    starts_on: date
    ends_on: date


class PeriodOut(BaseModel):
    """An evaluation period."""

    id: int
    name: str
    starts_on: date
    ends_on: date


MAX_SPAN_DAYS = 366 * 10


def _period(start: date, end: date) -> Period:
    if end < start:
        raise DomainError(f"期间结束日 {end} 早于开始日 {start}", field="to")
    if start.year < 1990 or end.year > 2100:
        raise DomainError("评价期间须在 1990–2100 年之间", field="from")
    if (end - start).days > MAX_SPAN_DAYS:
        raise DomainError("评价期间最长 10 年", field="to")
    return Period(start, end)


@router.get("/appendix-a", response_model=AppendixAOut)
def get_appendix_a(session: SessionDep, _: StaffOrEvaluator, start: FromDay, end: ToDay,
                   records: bool = False) -> AppendixAOut:  # fmt: skip
    """表A.1 for the period (`records=true` adds the records behind each figure)."""
    payload = appendix_a(session, _period(start, end)).as_payload(with_records=records)
    return AppendixAOut.model_validate(payload)


@router.get("/appendix-a/quarters", response_model=list[AppendixAOut])
def get_quarters(
    session: SessionDep, _: StaffOrEvaluator, start: FromDay, end: ToDay
) -> list[AppendixAOut]:
    """表A.1 per calendar quarter of the period (the trend)."""
    series = appendix_a_by_quarter(session, _period(start, end))
    return [AppendixAOut.model_validate(a.as_payload(with_records=False)) for a in series]


@router.get("/appendix-a/{key}/records", response_model=list[dict[str, Any]])
def get_drill_down(key: str, session: SessionDep,
                   _: StaffOrEvaluator, start: FromDay, end: ToDay) -> list[dict[str, Any]]:  # fmt: skip
    """The deals, enterprises, institutions or events behind one figure."""
    if key not in INDICATOR_KEYS:
        raise NotFoundError(f"没有名为“{key}”的指标", field="key")
    records = drill_down(appendix_a(session, _period(start, end)), key)
    return [
        {"kind": r.kind, "id": r.id, "label": r.label, "detail": dict(r.detail)} for r in records
    ]


@router.post("/periods", response_model=PeriodOut, status_code=201)
def open_period(body: PeriodIn, session: SessionDep, principal: StaffOrEvaluator) -> PeriodOut:
    """Open an evaluation period."""
    row = create_period(session, body.name, body.starts_on, body.ends_on, principal.username)
    return PeriodOut.model_validate(row, from_attributes=True)


@router.put("/periods/{period_id}/scores", response_model=dict[str, Any])
def put_score(
    period_id: PathId, body: ScoreIn, session: SessionDep, principal: StaffOrEvaluator
) -> dict[str, Any]:
    """Record or replace the score of one 表B.1 item, with evidence and attachments."""
    score_item(session, period_id, body.item_code, body.score, principal.username,
                 evidence=body.evidence, attachments=body.attachments)  # fmt: skip
    return _appendix_b(session, period_id)


@router.get("/periods/{period_id}/appendix-b", response_model=dict[str, Any])
def get_appendix_b(period_id: PathId, session: SessionDep, _: StaffOrEvaluator) -> dict[str, Any]:
    """表B.1 for the period, with 满意度 from surveys beside the evaluator's score."""
    return _appendix_b(session, period_id)


def _appendix_b(session: SessionDep, period_id: int) -> dict[str, Any]:
    period = get_or_404(session, EvaluationPeriod, period_id)
    window = Period(period.starts_on, period.ends_on)
    return appendix_b(session, period, window).as_payload()


@router.get(
    "/report",
    response_class=Response,
    responses={200: {"content": {m: {} for m in MEDIA.values()}}},
)
def get_report(session: SessionDep, _: StaffOrEvaluator, start: FromDay, end: ToDay,
               format: Literal["xlsx", "html", "json"] = "xlsx") -> Response:  # fmt: skip
    """The evaluation report (表A.1 with plan and last year, 表B.1, trends, open items) as xlsx,
    html, or json (表A.1 with `targets` and `previous_year`)."""
    report = build_report(session, _period(start, end))
    if format == "json":
        return JSONResponse(report.as_json())
    with tempfile.TemporaryDirectory() as tmp:
        out = write_report(report, Path(tmp) / f"report.{format}", format)
        content = out.read_bytes()
    name = f"evaluation-{start.isoformat()}-{end.isoformat()}.{format}"
    return Response(content, media_type=MEDIA[format],
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})  # fmt: skip


class TargetIn(StrictIn):
    """The target of one 表A.1 line for a year."""

    target: float = Field(ge=0, le=1e12)


@router.get("/plan", response_model=dict[str, Any])
def get_plan(
    session: SessionDep, _: StaffOrEvaluator, start: FromDay, end: ToDay
) -> dict[str, Any]:
    """The period against the annual plan and the same period a year earlier."""
    return plan_review(session, _period(start, end)).as_json()


@router.put("/plan/{year}/{key}", response_model=dict[str, Any])
def put_target(year: Year, key: str, body: TargetIn, session: SessionDep,
               principal: Staff) -> dict[str, Any]:  # fmt: skip
    """Set the target of 表A.1 line `key` for `year`."""
    row = set_target(session, year, key, body.target, principal.username)
    return {"year": row.year, "indicator": row.indicator_key, "target": row.target}


class EvidenceOut(BaseModel):
    """An evidence file attached to a 表B.1 item."""

    id: int
    period_id: int
    item_code: str
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str


@router.post("/periods/{period_id}/evidence", response_model=EvidenceOut, status_code=201)
def upload_evidence(
    period_id: PathId,
    session: SessionDep,
    principal: Staff,
    item_code: Annotated[str, Form(min_length=1, max_length=40)],
    file: Annotated[UploadFile, File(description="pdf / png / jpg / docx / xlsx / doc / xls")],
) -> EvidenceOut:
    """Attach an evidence file to a 表B.1 item (staff only; kept with its SHA-256)."""
    data = file.file.read(MAX_EVIDENCE_BYTES + 1)
    row = attach_evidence(session, period_id, item_code, file.filename or "", data,
                          principal.username)  # fmt: skip
    return EvidenceOut.model_validate(row, from_attributes=True)


@router.get("/evidence/{evidence_id}", response_class=Response)
def get_evidence(evidence_id: PathId, session: SessionDep, _: StaffOrEvaluator) -> Response:
    """An evidence file as uploaded, its SHA-256 in the `Digest` header."""
    row = get_or_404(session, EvidenceFile, evidence_id)
    return Response(row.content, media_type=row.content_type, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(row.filename)}",
        "Digest": f"sha-256={row.sha256}",
    })  # fmt: skip


@router.get("/periods/{period_id}/self-assessment", response_class=Response,
            responses={200: {"content": {MEDIA["xlsx"]: {}}}})  # fmt: skip
def get_self_assessment(period_id: PathId, session: SessionDep, _: StaffOrEvaluator) -> Response:
    """The period's 自评报告 (xlsx), pre-filled from 表A.1 and 表B.1."""
    content = self_assessment_xlsx(session, get_or_404(session, EvaluationPeriod, period_id))
    return Response(content, media_type=MEDIA["xlsx"], headers={
        "Content-Disposition": f'attachment; filename="self-assessment-{period_id}.xlsx"'})  # fmt: skip


class SignOffIn(StrictIn):
    """The role in which the signer signs (e.g. 中心负责人)."""

    role: str = Field(min_length=1, max_length=80)


@router.post("/periods/{period_id}/sign-offs", response_model=dict[str, Any], status_code=201)
def post_sign_off(period_id: PathId, body: SignOffIn, session: SessionDep,
                  principal: StaffOrEvaluator) -> dict[str, Any]:  # fmt: skip
    """Sign the period's self-assessment as it stands; the signed file's SHA-256 is recorded."""
    row = sign_off(session, period_id, principal.username, body.role)
    return {"id": row.id, "signed_by": row.signed_by, "role": row.role,
            "signed_at": row.signed_at.isoformat(), "report_sha256": row.report_sha256}  # fmt: skip
