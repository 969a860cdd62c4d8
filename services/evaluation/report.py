"""The evaluation report: 表A.1 and 表B.1 with their exact names, the annual plan (target versus
actual, year over year), quarterly trends, drill-down and open complaint items, as an `.xlsx`
workbook (openpyxl, native charts) or a self-contained `.html` page (jinja2, SVG charts).

Chart words are text in both (chart XML in the workbook, `<text>` in the page), so they show on a
machine without any Chinese font installed where the report is made."""

import csv
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from itertools import pairwise
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.chart.data_source import AxDataSource, StrData, StrRef, StrVal
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.worksheet.worksheet import Worksheet
from sqlmodel import Session

from ingestion.safe_cells import append_row, csv_row
from models import EvaluationPeriod, EvidenceFile
from models.base import utcnow
from models.clock import center_date
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
from services.evaluation.charts import CURRENT_LABEL, PREVIOUS_LABEL, trend_charts
from services.evaluation.indicators import (
    APPENDIX_A,
    KIND_LABELS,
    AppendixA,
    DrillRecord,
    Figure,
    Period,
)
from services.evaluation.plan import PlanLine, PlanReview, plan_review, year_earlier

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
    previous_quarters: tuple[AppendixA, ...]  # the same quarters a year earlier
    plan: PlanReview
    appendix_b: AppendixB
    evidence: tuple[EvidenceFile, ...]
    open_items: OpenItems
    today: date
    generated_at: datetime = field(default_factory=utcnow)

    @cached_property
    def charts(self) -> Mapping[str, str]:
        """Quarterly trend chart (SVG) per indicator key."""
        return trend_charts(self.quarters, self.previous_quarters)

    def as_json(self) -> dict[str, object]:
        """表A.1's 17 lines as {一级指标: {二级指标: value}} with the plan's `targets` and the
        `previous_year` figures in the same shape, and every line by key under `lines`."""
        return {**self.appendix_a.as_json(), **self.plan.as_json()}


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
    day = today or center_date(utcnow())
    current = appendix_a(session, period)
    evidence = () if ep is None else tuple(repo.evidence_for_period(session, int(ep.id or 0)))
    return EvaluationReport(
        period=period,
        appendix_a=current,
        quarters=tuple(appendix_a_by_quarter(session, period)),
        previous_quarters=tuple(appendix_a_by_quarter(session, year_earlier(period))),
        plan=plan_review(session, period, current),
        appendix_b=appendix_b(session, ep, period, scheme),
        evidence=evidence,
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
    if wb.active is not None:
        wb.remove(wb.active)
    core_sheets(wb, report)
    _sheet_drill(wb.create_sheet(), report)
    _sheet_open(wb.create_sheet(), report)
    wb.save(out)


def core_sheets(wb: Workbook, report: EvaluationReport) -> None:
    """Append 表A.1 (with the plan and its chart), 表B.1 and 季度趋势 (native charts) to `wb`."""
    _sheet_a(wb.create_sheet(), report)
    _sheet_b(wb.create_sheet(), report)
    _sheet_trend(wb.create_sheet(), report)


def heading(ws: Worksheet, title: str, report: EvaluationReport, header: list[str]) -> None:
    """Title, period line and a bold header row (row 3)."""
    append_row(ws, [title])
    ws["A1"].font = Font(bold=True, size=14)
    append_row(
        ws, [f"评价期间：{report.period.label}（{report.period.start} 至 {report.period.end}）"]
    )
    append_row(ws, header)
    for cell in ws[3]:
        cell.font, cell.fill = Font(bold=True), HEADER_FILL


PLAN_HEADER = ["年度目标", "年初至期末累计", "目标完成率", "上年同期", "同比增减"]


def _sheet_a(ws: Worksheet, report: EvaluationReport) -> None:
    ws.title = "表A.1"
    header = ["一级指标", "二级指标", "数值", "备注", *PLAN_HEADER]
    heading(ws, f"{TITLE_A}（{report.period.label}）", report, header)
    group_start: dict[str, int] = {}
    for fig in report.appendix_a.figures:
        note = SUPPLEMENTARY_NOTE if fig.indicator.supplementary else None
        line = report.plan.line(fig.indicator.key)
        append_row(
            ws, [fig.indicator.group, fig.indicator.name, fig.value, note, *_plan_cells(line)]
        )
        group_start.setdefault(fig.indicator.group, ws.max_row)
        for column in (3, 5, 6, 8):
            ws.cell(ws.max_row, column).number_format = "#,##0.##"
        for column in (7, 9):
            ws.cell(ws.max_row, column).number_format = "0.0%"
    _merge_groups(ws, group_start, ws.max_row)
    widths(ws, [22, 46, 16, 30, 14, 16, 12, 14, 12])
    _progress_chart(ws, report, first=4, last=ws.max_row)


def _plan_cells(line: PlanLine) -> list[object]:
    return [line.target, line.year_to_date, line.progress, line.previous, line.change]


def _progress_chart(ws: Worksheet, report: EvaluationReport, first: int, last: int) -> None:
    """A native bar chart of each line's 目标完成率 (its words come from the sheet's cells)."""
    chart = BarChart()
    chart.type = "bar"
    chart.title = f"{report.period.label} 年度目标完成率"
    chart.y_axis.title = "目标完成率"
    chart.x_axis.title = "二级指标"
    chart.y_axis.number_format = "0%"
    chart.add_data(Reference(ws, min_col=7, min_row=first - 1, max_row=last), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=2, min_row=first, max_row=last))
    _show_axes(chart)
    _cache_labels(chart, ws)
    chart.width, chart.height = 22, 12
    ws.add_chart(chart, f"K{first}")


def _show_axes(chart: BarChart | LineChart) -> None:
    chart.x_axis.delete = False
    chart.y_axis.delete = False


def _cache_labels(chart: BarChart | LineChart, ws: Worksheet) -> None:
    """Copy the series names and category labels from their cells into the chart XML as
    strings (strRef with a cache), so every viewer shows them without recomputing."""
    for series in chart.series:
        if series.tx is not None and series.tx.strRef is not None:
            series.tx.strRef = _cached(ws, series.tx.strRef.f)
        if series.cat is not None and series.cat.numRef is not None:
            series.cat = AxDataSource(strRef=_cached(ws, series.cat.numRef.f))


def _cached(ws: Worksheet, ref: str) -> StrRef:
    first_col, first_row, last_col, last_row = range_boundaries(ref.split("!")[-1])
    rows = ws.iter_rows(min_row=first_row, max_row=last_row, min_col=first_col,
                        max_col=last_col, values_only=True)  # fmt: skip
    points = [StrVal(idx=n, v=str(value)) for n, value in enumerate(v for row in rows for v in row)]
    return StrRef(f=ref, strCache=StrData(ptCount=len(points), pt=points))


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
    heading(ws, f"{TITLE_B}（满分 {b.scheme.scale_max:g}）", report, B_HEADER)
    group_start: dict[str, int] = {}
    for item in b.items:
        append_row(ws, _b_row(item, report))
        group_start.setdefault(item.item.group, ws.max_row)
    _merge_groups(ws, group_start, ws.max_row)
    append_row(ws, [])
    for g in b.groups:
        subtotal = f"小计（权重 {g.weight:g}，已评 {g.scored_items}/{g.total_items} 项）"
        append_row(ws, [g.group, subtotal, g.score])
    append_row(ws, ["综合得分", "按一级指标权重加权" if b.complete else "尚未全部评分", b.total])
    _satisfaction_rows(ws, report)
    widths(ws, [16, 40, 10, 10, 40, 30, 12, 18])


def evidence_lines(report: EvaluationReport, code: str) -> list[str]:
    """An item's attachments: the stored links, then uploaded files with their SHA-256."""
    item = next(i for i in report.appendix_b.items if i.item.code == code)
    files = [f"{e.filename}（SHA-256 {e.sha256}）" for e in report.evidence if e.item_code == code]
    return [*item.attachments, *files]


def _b_row(item: ItemScore, report: EvaluationReport) -> list[object]:
    b = report.appendix_b
    computed = b.satisfaction.score if item.item.code == SATISFACTION_CODE else None
    attachments = "\n".join(evidence_lines(report, item.item.code)) or None
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


# Lines that are a state at the period's end (or over it) rather than a flow within it.
STOCK_KEYS = frozenset({"credit_banks", "venture_institutions", "coached_unlisted"})


def _sheet_trend(ws: Worksheet, report: EvaluationReport) -> None:
    """Per line two rows (本期, 上年同期) by quarter, and a native chart of each line."""
    ws.title = "季度趋势"
    labels = [q.period.short_label for q in report.quarters]
    heading(ws, f"{TITLE_A} 季度趋势", report, ["一级指标", "二级指标", "系列", *labels])
    rows: dict[str, int] = {}
    for indicator in APPENDIX_A:
        for series, quarters in ((CURRENT_LABEL, report.quarters),
                                 (PREVIOUS_LABEL, report.previous_quarters)):  # fmt: skip
            values = [q.value(indicator.key) for q in quarters][: len(labels)]
            append_row(ws, [indicator.group, indicator.name, series, *values])
        rows[indicator.key] = ws.max_row - 1
    widths(ws, [22, 46, 10, *[12] * len(labels)])
    first_row = ws.max_row + 3
    for n, indicator in enumerate(APPENDIX_A):
        chart = _trend_chart(ws, indicator.key, rows[indicator.key], len(labels))
        chart.title = f"{indicator.group}｜{indicator.name}"
        chart.y_axis.title = indicator.unit
        row, col = first_row + (n // 3) * 16, 1 + (n % 3) * 9
        ws.add_chart(chart, f"{get_column_letter(col)}{row}")


def _trend_chart(ws: Worksheet, key: str, row: int, quarters: int) -> BarChart | LineChart:
    chart: BarChart | LineChart = LineChart() if key in STOCK_KEYS else BarChart()
    data = Reference(ws, min_col=3, max_col=3 + quarters, min_row=row, max_row=row + 1)
    chart.add_data(data, from_rows=True, titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=4, max_col=3 + quarters, min_row=3, max_row=3))
    chart.x_axis.title = "季度"
    chart.width, chart.height = 12, 7.5
    _show_axes(chart)
    _cache_labels(chart, ws)
    return chart


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
    heading(ws, "各项指标的明细记录", report, DRILL_HEADER)
    for row in drill_rows(report.appendix_a):
        append_row(ws, row)
    widths(ws, [22, 46, 14, 10, 40, 90])


def _sheet_open(ws: Worksheet, report: EvaluationReport) -> None:
    ws.title = "投诉与改进"
    heading(
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
                center_date(c.received_at).isoformat(),
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
    widths(ws, [10, 12, 40, 12, 14, 40])


def widths(ws: Worksheet, sizes: list[int]) -> None:
    """Set the widths of the first columns."""
    for n, width in enumerate(sizes, start=1):
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
    env.filters["bjday"] = center_date
    env.filters["pct"] = _percent
    return env


def _number(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _percent(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "—"
    return f"{value * 100:+.1f}%" if signed else f"{value * 100:.1f}%"


def _rows_a(report: EvaluationReport) -> Iterator[tuple[Figure, int]]:
    """Each figure with its group's rowspan on the group's first row (0 elsewhere)."""
    figures = report.appendix_a.figures
    for n, fig in enumerate(figures):
        first = n == 0 or figures[n - 1].indicator.group != fig.indicator.group
        span = sum(1 for f in figures if f.indicator.group == fig.indicator.group) if first else 0
        yield fig, span


def render_html(report: EvaluationReport) -> str:
    """The report as one self-contained HTML page (charts as inline SVG)."""
    return (
        _environment()
        .get_template("report.html")
        .render(
            r=report,
            title_a=TITLE_A,
            title_b=TITLE_B,
            rows_a=list(_rows_a(report)),
            indicators=APPENDIX_A,
            charts=report.charts,
            evidence_lines=evidence_lines,
            kind_labels=KIND_LABELS,
            drill_limit=HTML_DRILL_LIMIT,
            supplementary_note=SUPPLEMENTARY_NOTE,
            satisfaction_code=SATISFACTION_CODE,
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
