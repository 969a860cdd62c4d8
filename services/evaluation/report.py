"""The evaluation report: 表A.1 and 表B.1 with their exact names, quarterly trends, drill-down and
open complaint items, as an `.xlsx` workbook (openpyxl) or a self-contained `.html` page (jinja2)."""

import base64
import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from itertools import pairwise
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from openpyxl import Workbook
from openpyxl.drawing.image import Image as XlImage
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from sqlmodel import Session

from ingestion.safe_cells import append_row, csv_row
from models import EvaluationPeriod
from models.base import utcnow
from models.errors import DomainError
from services.complaints.service import OpenItems, open_items
from services.evaluation import repository as repo
from services.evaluation.appendix_a import appendix_a, appendix_a_by_quarter
from services.evaluation.appendix_b import (
    DEFAULT_SCHEME,
    SATISFACTION_CODE,
    AppendixB,
    ItemScore,
    ScoringScheme,
    appendix_b,
)
from services.evaluation.charts import cjk_font, trend_charts
from services.evaluation.indicators import (
    APPENDIX_A,
    KIND_LABELS,
    AppendixA,
    DrillRecord,
    Figure,
    Period,
    beijing_day,
)

TITLE_A = "表A.1 科技金融服务中心评价定量指标"
TITLE_B = "表B.1 科技金融服务中心评价定性指标"
SUPPLEMENTARY_NOTE = "补充行：表A.1 早于北交所设立，未单列；不计入 17 项二级指标"
HEADER_FILL = PatternFill("solid", fgColor="DDE7F3")
HTML_DRILL_LIMIT = 200


@dataclass(frozen=True)
class EvaluationReport:
    """Everything the report shows, computed once; writers only lay it out."""

    period: Period
    appendix_a: AppendixA
    quarters: tuple[AppendixA, ...]
    appendix_b: AppendixB
    open_items: OpenItems
    today: date
    generated_at: datetime = field(default_factory=utcnow)

    @cached_property
    def charts(self) -> Mapping[str, bytes]:
        """Quarterly trend chart (PNG) per indicator key."""
        return trend_charts(self.quarters)


def build_report(
    session: Session,
    period: Period,
    *,
    scheme: ScoringScheme = DEFAULT_SCHEME,
    evaluation_period: EvaluationPeriod | None = None,
    today: date | None = None,
) -> EvaluationReport:
    """Compute the report for `period`; 表B.1 scores come from `evaluation_period`, or the
    evaluation period spanning exactly the same dates when none is given."""
    ep = evaluation_period or repo.period_spanning(session, period.start, period.end)
    day = today or beijing_day(utcnow())
    return EvaluationReport(
        period=period,
        appendix_a=appendix_a(session, period),
        quarters=tuple(appendix_a_by_quarter(session, period)),
        appendix_b=appendix_b(session, ep, period, scheme),
        open_items=open_items(session, min(period.end, day)),
        today=day,
    )


def write_report(report: EvaluationReport, out: Path, fmt: str) -> Path:
    """Write the report as `xlsx` or `html` to `out`."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "xlsx":
        write_xlsx(report, out)
    elif fmt == "html":
        out.write_text(render_html(report), encoding="utf-8")
    else:
        raise DomainError(f"不支持的报告格式“{fmt}”，可选：xlsx、html", field="format")
    return out


# --- xlsx ------------------------------------------------------------------------------------


def write_xlsx(report: EvaluationReport, out: Path) -> None:
    """The workbook: 表A.1, 表B.1, 季度趋势 (table and chart images), 明细, 投诉与改进."""
    wb = Workbook()
    _sheet_a(wb.active or wb.create_sheet(), report)
    _sheet_b(wb.create_sheet(), report)
    _sheet_trend(wb.create_sheet(), report)
    _sheet_drill(wb.create_sheet(), report)
    _sheet_open(wb.create_sheet(), report)
    wb.save(out)


def _heading(ws: Worksheet, title: str, report: EvaluationReport, header: list[str]) -> None:
    append_row(ws, [title])
    ws["A1"].font = Font(bold=True, size=14)
    append_row(
        ws, [f"评价期间：{report.period.label}（{report.period.start} 至 {report.period.end}）"]
    )
    append_row(ws, header)
    for cell in ws[3]:
        cell.font, cell.fill = Font(bold=True), HEADER_FILL


def _sheet_a(ws: Worksheet, report: EvaluationReport) -> None:
    ws.title = "表A.1"
    _heading(
        ws, f"{TITLE_A}（{report.period.label}）", report, ["一级指标", "二级指标", "数值", "备注"]
    )
    group_start: dict[str, int] = {}
    for fig in report.appendix_a.figures:
        note = SUPPLEMENTARY_NOTE if fig.indicator.supplementary else None
        append_row(ws, [fig.indicator.group, fig.indicator.name, fig.value, note])
        group_start.setdefault(fig.indicator.group, ws.max_row)
        if isinstance(fig.value, float):
            ws.cell(ws.max_row, 3).number_format = "#,##0.00"
    _merge_groups(ws, group_start, ws.max_row)
    _widths(ws, [22, 46, 16, 50])


def _merge_groups(ws: Worksheet, starts: dict[str, int], last_row: int) -> None:
    rows = [*starts.values(), last_row + 1]
    for first, after in pairwise(rows):
        if after - 1 > first:
            ws.merge_cells(start_row=first, start_column=1, end_row=after - 1, end_column=1)
        ws.cell(first, 1).alignment = Alignment(vertical="center")


B_HEADER = [
    "一级指标",
    "二级指标",
    "得分",
    "项内权重",
    "佐证说明",
    "附件",
    "评分人",
    "满意度问卷计算值",
]


def _sheet_b(ws: Worksheet, report: EvaluationReport) -> None:
    ws.title = "表B.1"
    b = report.appendix_b
    _heading(ws, f"{TITLE_B}（满分 {b.scheme.scale_max:g}）", report, B_HEADER)
    group_start: dict[str, int] = {}
    for item in b.items:
        append_row(ws, _b_row(item, b))
        group_start.setdefault(item.item.group, ws.max_row)
    _merge_groups(ws, group_start, ws.max_row)
    append_row(ws, [])
    for g in b.groups:
        subtotal = f"小计（权重 {g.weight:g}，已评 {g.scored_items}/{g.total_items} 项）"
        append_row(ws, [g.group, subtotal, g.score])
    append_row(ws, ["综合得分", "按一级指标权重加权" if b.complete else "尚未全部评分", b.total])
    _satisfaction_rows(ws, report)
    _widths(ws, [16, 40, 10, 10, 40, 30, 12, 18])


def _b_row(item: ItemScore, b: AppendixB) -> list[object]:
    computed = b.satisfaction.score if item.item.code == SATISFACTION_CODE else None
    attachments = "\n".join(item.attachments) or None
    return [
        item.item.group,
        item.item.name,
        item.score,
        item.weight,
        item.evidence,
        attachments,
        item.scored_by,
        computed,
    ]


def _satisfaction_rows(ws: Worksheet, report: EvaluationReport) -> None:
    s = report.appendix_b.satisfaction
    append_row(ws, [])
    append_row(ws, ["满意度问卷", "有效问卷（份）", s.responses])
    append_row(ws, ["满意度问卷", "平均满意度（1–5）", s.mean_rating])
    append_row(ws, ["满意度问卷", "满意率（4–5 分占比）", s.satisfied_share])


def _sheet_trend(ws: Worksheet, report: EvaluationReport) -> None:
    ws.title = "季度趋势"
    labels = [q.period.short_label for q in report.quarters]
    _heading(ws, f"{TITLE_A} 季度趋势", report, ["一级指标", "二级指标", *labels])
    for indicator in APPENDIX_A:
        append_row(
            ws,
            [indicator.group, indicator.name, *[q.value(indicator.key) for q in report.quarters]],
        )
    _widths(ws, [22, 46, *[12] * len(labels)])
    first_row = ws.max_row + 3
    for n, indicator in enumerate(APPENDIX_A):
        image = XlImage(io.BytesIO(report.charts[indicator.key]))
        image.width, image.height = 462, 286
        row, col = first_row + (n // 3) * 15, 1 + (n % 3) * 8
        ws.add_image(image, f"{get_column_letter(col)}{row}")


DRILL_HEADER = ["一级指标", "二级指标", "记录类型", "记录ID", "名称", "详情"]


def drill_rows(result: AppendixA, key: str | None = None) -> Iterator[list[object]]:
    """Drill-down rows (DRILL_HEADER) for every figure, or only for indicator `key`."""
    for fig in result.figures:
        if key is not None and fig.indicator.key != key:
            continue
        for rec in fig.records:
            kind = KIND_LABELS[rec.kind]
            yield [
                fig.indicator.group,
                fig.indicator.name,
                kind,
                rec.id,
                rec.label,
                detail_text(rec),
            ]


def write_drill_csv(result: AppendixA, out: Path, key: str | None = None) -> int:
    """Export the drill-down (all figures, or one) as CSV in UTF-8 with BOM; return the row count."""
    out.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with out.open("w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.writer(fh)
        writer.writerow(csv_row(DRILL_HEADER))
        for row in drill_rows(result, key):
            writer.writerow(csv_row(row))
            count += 1
    return count


def _sheet_drill(ws: Worksheet, report: EvaluationReport) -> None:
    ws.title = "明细"
    _heading(ws, "各项指标的明细记录", report, DRILL_HEADER)
    for row in drill_rows(report.appendix_a):
        append_row(ws, row)
    _widths(ws, [22, 46, 14, 10, 40, 90])


def _sheet_open(ws: Worksheet, report: EvaluationReport) -> None:
    ws.title = "投诉与改进"
    _heading(
        ws,
        f"截至 {report.open_items.as_of} 未办结的投诉、意见建议与改进措施",
        report,
        ["编号", "类型", "状态", "受理日期", "内容", "原因分析"],
    )
    for c in report.open_items.cases:
        append_row(
            ws,
            [
                c.id,
                c.kind.label,
                report.open_items.state_of(c),
                beijing_day(c.received_at).isoformat(),
                c.content,
                c.root_cause,
            ],
        )
    append_row(ws, [])
    append_row(ws, ["措施编号", "所属事项", "改进措施", "责任人", "完成期限", "是否逾期"])
    for cell in ws[ws.max_row]:
        cell.font, cell.fill = Font(bold=True), HEADER_FILL
    for m in report.open_items.measures:
        overdue = "已逾期" if m.id in report.open_items.overdue_measure_ids else "未到期"
        append_row(
            ws, [m.id, m.complaint_id, m.description, m.owner, m.due_on.isoformat(), overdue]
        )
    _widths(ws, [10, 12, 40, 12, 14, 40])


def _widths(ws: Worksheet, widths: list[int]) -> None:
    for n, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(n)].width = width


def detail_text(record: DrillRecord) -> str:
    """A drill-down record's details as `键：值；…` for one spreadsheet cell."""
    return "；".join(f"{k}：{v}" for k, v in record.detail.items() if v is not None)


# --- html ------------------------------------------------------------------------------------


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("services.evaluation", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = _number
    env.filters["detail"] = detail_text
    env.filters["bjday"] = beijing_day
    return env


def _number(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _rows_a(report: EvaluationReport) -> Iterator[tuple[Figure, int]]:
    """Each figure with its group's rowspan on the group's first row (0 elsewhere)."""
    figures = report.appendix_a.figures
    for n, fig in enumerate(figures):
        first = n == 0 or figures[n - 1].indicator.group != fig.indicator.group
        span = sum(1 for f in figures if f.indicator.group == fig.indicator.group) if first else 0
        yield fig, span


def render_html(report: EvaluationReport) -> str:
    """The report as one self-contained HTML page (charts as embedded PNG)."""
    charts = {k: base64.b64encode(v).decode("ascii") for k, v in report.charts.items()}
    return (
        _environment()
        .get_template("report.html")
        .render(
            r=report,
            title_a=TITLE_A,
            title_b=TITLE_B,
            rows_a=list(_rows_a(report)),
            indicators=APPENDIX_A,
            charts=charts,
            kind_labels=KIND_LABELS,
            drill_limit=HTML_DRILL_LIMIT,
            supplementary_note=SUPPLEMENTARY_NOTE,
            satisfaction_code=SATISFACTION_CODE,
            font_missing=cjk_font() is None,
        )
    )


# --- markdown (notebooks, terminals) ----------------------------------------------------------


def table_a_markdown(result: AppendixA) -> str:
    """表A.1 as a Markdown table, the supplementary 北交所 row marked."""
    lines = [
        f"**{TITLE_A}（{result.period.label}）**",
        "",
        "| 一级指标 | 二级指标 | 数值 |",
        "| --- | --- | ---: |",
    ]
    for fig in result.figures:
        extra = "（补充）" if fig.indicator.supplementary else ""
        lines.append(
            f"| {fig.indicator.group} | {fig.indicator.name}{extra} | {_number(fig.value)} |"
        )
    return "\n".join(lines)


def table_b_markdown(b: AppendixB) -> str:
    """表B.1 as a Markdown table with the survey-computed 满意度 beside the evaluator's score."""
    lines = [
        f"**{TITLE_B}（满分 {b.scheme.scale_max:g}）**",
        "",
        "| 一级指标 | 二级指标 | 得分 | 佐证说明 |",
        "| --- | --- | ---: | --- |",
    ]
    for i in b.items:
        note = i.evidence or ""
        if i.item.code == SATISFACTION_CODE:
            note += f"（问卷计算值 {_number(b.satisfaction.score)}，有效问卷 {b.satisfaction.responses} 份）"
        lines.append(f"| {i.item.group} | {i.item.name} | {_number(i.score)} | {note} |")
    lines.append(
        f"| 综合得分 | {'按一级指标权重加权' if b.complete else '尚未全部评分'} | {_number(b.total)} | |"
    )
    return "\n".join(lines)


def drill_markdown(fig: Figure, limit: int = 10) -> str:
    """The first `limit` records behind a figure as a Markdown table."""
    lines = [
        f"**{fig.indicator.group}｜{fig.indicator.name}：{_number(fig.value)}**（{len(fig.records)} 条记录）",
        "",
        "| 类型 | ID | 名称 | 详情 |",
        "| --- | ---: | --- | --- |",
    ]
    for rec in fig.records[:limit]:
        lines.append(f"| {KIND_LABELS[rec.kind]} | {rec.id} | {rec.label} | {detail_text(rec)} |")
    return "\n".join(lines)
