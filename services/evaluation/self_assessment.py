"""The 自评报告 (self-assessment) an evaluator submits: an `.xlsx` workbook pre-filled from 表A.1
(with the annual plan and last year) and 表B.1, with a cell for the center's narrative beside each
section, the evidence list with SHA-256, and the sign-off block."""

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet
from sqlmodel import Session

from ingestion.safe_cells import append_row
from models import EvaluationPeriod
from models.clock import center_date
from services.evaluation import repository as repo
from services.evaluation.indicators import Period
from services.evaluation.report import (
    EvaluationReport,
    build_report,
    core_sheets,
    heading,
    widths,
)

TITLE = "科技金融服务中心自评报告"
NARRATIVE = "（请在此填写自评说明）"
NARRATIVE_FILL = PatternFill("solid", fgColor="FFF8DC")


def self_assessment_xlsx(session: Session, period: EvaluationPeriod) -> bytes:
    """The self-assessment of an evaluation period as `.xlsx` bytes."""
    report = build_report(
        session, Period(period.starts_on, period.ends_on), evaluation_period=period
    )
    wb = Workbook()
    _cover(wb.active or wb.create_sheet(), report, period)
    core_sheets(wb, report)
    _evidence_sheet(wb.create_sheet(), report)
    _signoff_sheet(wb.create_sheet(), session, report, period)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def sections(report: EvaluationReport) -> list[tuple[str, str]]:
    """The report's sections with the figures pre-filled for each."""
    plan, b = report.plan, report.appendix_b
    planned = [line for line in plan.lines if line.target is not None]
    progress = "；".join(
        f"{line.indicator.name} 目标 {line.target:g}，完成 {line.year_to_date:g}"
        f"（{(line.progress or 0) * 100:.1f}%）"
        for line in planned
    )
    yoy = "；".join(
        f"{line.indicator.group}｜{line.indicator.name} {line.actual:g}（上年同期 {line.previous:g}）"
        for line in plan.lines
        if not line.indicator.supplementary
    )
    s = b.satisfaction
    return [
        ("一、年度计划完成情况", progress or f"{plan.plan_year or '本期间'} 未设定年度目标"),
        (f"二、定量指标（表A.1）与上年同期（{plan.previous_period.label}）", yoy),
        ("三、定性指标（表B.1）自评",
         f"综合得分 {b.total if b.total is not None else '—'}；已评 "
         f"{sum(g.scored_items for g in b.groups)}/{len(b.items)} 项"),
        ("四、服务对象满意度",
         f"有效问卷 {s.responses} 份；平均 {s.mean_rating if s.mean_rating is not None else '—'} / 5"),
        ("五、存在的问题与改进措施",
         f"未办结投诉与意见 {len(report.open_items.cases)} 件，改进措施 "
         f"{len(report.open_items.measures)} 项（见评价报告“投诉与改进”）"),
        ("六、佐证材料", f"已上传 {len(report.evidence)} 份（见“佐证材料”工作表，附 SHA-256）"),
    ]  # fmt: skip


def _cover(ws: Worksheet, report: EvaluationReport, period: EvaluationPeriod) -> None:
    ws.title = "自评报告"
    heading(ws, f"{TITLE}（{period.name}）", report, ["章节", "系统预填数据", "自评说明"])
    for title, filled in sections(report):
        append_row(ws, [title, filled, NARRATIVE])
        for cell in ws[ws.max_row]:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.cell(ws.max_row, 3).fill = NARRATIVE_FILL
        ws.cell(ws.max_row, 1).font = Font(bold=True)
    widths(ws, [34, 80, 60])


def _evidence_sheet(ws: Worksheet, report: EvaluationReport) -> None:
    ws.title = "佐证材料"
    header = [
        "表B.1指标代码",
        "二级指标",
        "文件名",
        "类型",
        "大小（字节）",
        "SHA-256",
        "上传人",
        "上传日期",
    ]
    heading(ws, "表B.1 佐证材料清单", report, header)
    names = {i.item.code: i.item.name for i in report.appendix_b.items}
    for e in report.evidence:
        append_row(ws, [e.item_code, names.get(e.item_code), e.filename, e.content_type, e.size,
                        e.sha256, e.uploaded_by, center_date(e.uploaded_at).isoformat()])  # fmt: skip
    widths(ws, [18, 30, 30, 20, 12, 66, 12, 12])


def _signoff_sheet(
    ws: Worksheet, session: Session, report: EvaluationReport, period: EvaluationPeriod
) -> None:
    ws.title = "签署"
    heading(ws, "签署记录", report, ["签署人", "签署身份", "签署时间（UTC）", "所签文件 SHA-256"])
    for s in repo.signoffs_for_period(session, int(period.id or 0)):
        append_row(ws, [s.signed_by, s.role, s.signed_at.strftime("%Y-%m-%d %H:%M"),
                        s.report_sha256])  # fmt: skip
    append_row(ws, [])
    append_row(ws, ["中心负责人（签字）：", None, "日期：", None])
    widths(ws, [20, 20, 20, 66])
