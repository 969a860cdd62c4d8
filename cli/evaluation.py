"""Evaluation commands: the 表A.1/表B.1 report, the annual plan, 表B.1 scoring, the self-assessment
and its sign-off, and the complaint channel (7.2)."""

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import Session

from cli.listing import pad
from models import EvaluationPeriod
from models.clock import center_date, center_today
from models.db import session_scope
from models.errors import DomainError
from models.reference import APPENDIX_B_BY_CODE, ComplaintKind, ComplaintStatus
from services.complaints import repository as complaints_repo
from services.complaints import service as complaints
from services.evaluation import (
    DEFAULT_SCHEME,
    INDICATORS_BY_KEY,
    AppendixA,
    Period,
    ScoringScheme,
    appendix_a,
    build_report,
    create_period,
    last_full_year,
    plan_review,
    score_item,
    self_assessment_xlsx,
    set_target,
    sign_off,
    write_drill_csv,
    write_report,
)
from services.evaluation import repository as repo

complaints_app = typer.Typer(
    help="投诉与意见反馈渠道（标准 7.2）：受理 → 处理中 → 已办结，原因分析与改进措施。",
    no_args_is_help=True,
)
plan_app = typer.Typer(
    help="年度工作计划（标准 6.2.1.1）：表A.1 各行的年度目标。", no_args_is_help=True
)


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"日期应为 YYYY-MM-DD，实际为“{text}”", param_hint=option) from exc


def report(
    date_from: Annotated[str, typer.Option("--from", help="期间开始日 YYYY-MM-DD（含）")],
    date_to: Annotated[str, typer.Option("--to", help="期间结束日 YYYY-MM-DD（含）")],
    fmt: Annotated[str, typer.Option("--format", help="xlsx 或 html")] = "xlsx",
    out: Annotated[Path | None, typer.Option("--out", help="输出文件")] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="打印表A.1 的 17 项二级指标，及各行 targets、previous_year（JSON）"
        ),
    ] = False,
    period_name: Annotated[
        str | None, typer.Option("--period", help="表B.1 评分所属的评价期间名称")
    ] = None,
    scheme_file: Annotated[
        Path | None, typer.Option("--scheme", help="评分方案 JSON（满分、权重）")
    ] = None,
) -> None:
    """Write the evaluation report for a period (表A.1, 表B.1, trends, drill-down, open items)."""
    period = _period(date_from, date_to)
    if out is None and not as_json:
        raise typer.BadParameter("请指定 --out 输出文件，或使用 --json", param_hint="--out")
    scheme = ScoringScheme.from_file(scheme_file) if scheme_file else DEFAULT_SCHEME
    with session_scope() as session:
        _report(session, period, fmt, out, as_json, period_name, scheme)


def _period(date_from: str, date_to: str) -> Period:
    start, end = _day(date_from, "--from"), _day(date_to, "--to")
    if end < start:
        raise typer.BadParameter(f"结束日 {end} 早于开始日 {start}", param_hint="--to")
    return Period(start, end)


def _report(
    session: Session,
    period: Period,
    fmt: str,
    out: Path | None,
    as_json: bool,
    period_name: str | None,
    scheme: ScoringScheme,
) -> None:
    if out is None:
        figures = appendix_a(session, period)
        payload = {**figures.as_json(), **plan_review(session, period, figures).as_json()}
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    ep = repo.period_by_name(session, period_name) if period_name else None
    if period_name and ep is None:
        raise DomainError(f"评价期间“{period_name}”不存在", field="period")
    result = build_report(session, period, scheme=scheme, evaluation_period=ep)
    write_report(result, out, fmt)
    if as_json:
        typer.echo(json.dumps(result.as_json(), ensure_ascii=False, indent=2))
    else:
        typer.echo(f"评价报告已生成（{period.label}）→ {out}")


def drill(
    date_from: Annotated[str, typer.Option("--from", help="期间开始日 YYYY-MM-DD（含）")],
    date_to: Annotated[str, typer.Option("--to", help="期间结束日 YYYY-MM-DD（含）")],
    out: Annotated[Path, typer.Option("--out", help="输出 CSV 文件")],
    indicator: Annotated[
        str | None, typer.Option(help=f"只导出一项指标：{', '.join(INDICATORS_BY_KEY)}")
    ] = None,
) -> None:
    """Export the records behind the 表A.1 figures (drill-down) as CSV."""
    if indicator is not None and indicator not in INDICATORS_BY_KEY:
        raise typer.BadParameter(f"未知的指标“{indicator}”", param_hint="--indicator")
    period = _period(date_from, date_to)
    with session_scope() as session:
        count = write_drill_csv(appendix_a(session, period), out, indicator)
    typer.echo(f"已导出 {count} 条明细（{period.label}）→ {out}")


def score(
    period_name: Annotated[
        str, typer.Option("--period", help="评价期间名称（不存在时按 --from/--to 新建）")
    ],
    item: Annotated[str, typer.Option("--item", help="表B.1 指标代码，如 b1_team")],
    value: Annotated[float, typer.Option("--score", help="得分")],
    by: Annotated[str, typer.Option("--by", help="评分人")],
    evidence: Annotated[str | None, typer.Option(help="佐证说明")] = None,
    attach: Annotated[list[str] | None, typer.Option(help="附件（路径或链接），可重复")] = None,
    weight: Annotated[float, typer.Option(help="项内权重")] = 1.0,
    date_from: Annotated[
        str | None, typer.Option("--from", help="新建期间的开始日 YYYY-MM-DD")
    ] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="新建期间的结束日 YYYY-MM-DD")] = None,
) -> None:
    """Score one 二级指标 of 表B.1 for an evaluation period, with evidence and attachments."""
    with session_scope() as session:
        ep = repo.period_by_name(session, period_name)
        if ep is None:
            if not (date_from and date_to):
                raise DomainError(f"评价期间“{period_name}”不存在；新建请同时给出 --from 与 --to")
            p = _period(date_from, date_to)
            ep = create_period(session, period_name, p.start, p.end, evaluator=by)
        score_item(
            session,
            int(ep.id or 0),
            item,
            value,
            by,
            evidence=evidence,
            attachments=attach or [],
            weight=weight,
        )
    typer.echo(f"已评分：{period_name}｜{APPENDIX_B_BY_CODE[item].name} = {value:g}")


# --- the annual plan, the self-assessment, sign-off ----------------------------------------------


@plan_app.command("set", help="设定某年度表A.1 某一行的目标值")
def plan_set(
    year: Annotated[int, typer.Option("--year", help="年度，如 2026")],
    indicator: Annotated[
        str, typer.Option("--indicator", help=f"表A.1 行：{', '.join(INDICATORS_BY_KEY)}")
    ],
    target: Annotated[float, typer.Option("--target", help="目标值（单位同该行）")],
    by: Annotated[str, typer.Option("--by", help="设定人")] = "cli",
) -> None:
    """Set (or replace) the target of one 表A.1 line for a year."""
    with session_scope() as session:
        set_target(session, year, indicator, target, by)
    line = INDICATORS_BY_KEY[indicator]
    typer.echo(f"已设定 {year} 年度目标：{line.group}｜{line.name} = {target:g}")


@plan_app.command("show", help="年度目标与完成情况、上年同期")
def plan_show(
    year: Annotated[int, typer.Option("--year", help="年度")],
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """Print the plan of a year against the year's figures and the year before."""
    with session_scope() as session:
        review = plan_review(session, Period.year(year))
    if as_json:
        typer.echo(json.dumps(review.as_json(), ensure_ascii=False, indent=2))
        return
    typer.echo(
        f"  {year} 年度计划：{pad('二级指标', 50)}{'目标':>10}{'完成':>12}{'完成率':>9}{'上年':>12}"
    )
    for line in review.lines:
        progress = "—" if line.progress is None else f"{line.progress * 100:.1f}%"
        target = "—" if line.target is None else f"{line.target:,.2f}"
        typer.echo(f"  {pad(line.indicator.name, 60)}{target:>10}{line.year_to_date:>12,}"
                   f"{progress:>9}{line.previous:>12,}")  # fmt: skip


def _evaluation_period(session: Session, name: str) -> EvaluationPeriod:
    ep = repo.period_by_name(session, name)
    if ep is None:
        raise DomainError(f"评价期间“{name}”不存在", field="period")
    return ep


def self_assessment(
    period_name: Annotated[str, typer.Option("--period", help="评价期间名称")],
    out: Annotated[Path, typer.Option("--out", help="输出 .xlsx 文件")],
) -> None:
    """Write the 自评报告 of an evaluation period, pre-filled from 表A.1 and 表B.1."""
    with session_scope() as session:
        content = self_assessment_xlsx(session, _evaluation_period(session, period_name))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(content)
    typer.echo(f"自评报告已生成（{period_name}）→ {out}")


def sign(
    period_name: Annotated[str, typer.Option("--period", help="评价期间名称")],
    by: Annotated[str, typer.Option("--by", help="签署人")],
    role: Annotated[str, typer.Option("--role", help="签署身份，如 中心负责人")],
) -> None:
    """Sign the period's self-assessment as it stands (its SHA-256 is recorded)."""
    with session_scope() as session:
        row = sign_off(session, int(_evaluation_period(session, period_name).id or 0), by, role)
        typer.echo(f"已签署（{row.role} {row.signed_by}）：SHA-256 {row.report_sha256}")


# --- complaints --------------------------------------------------------------------------------


def _kind(text: str) -> ComplaintKind:
    try:
        return ComplaintKind.from_label(text)
    except ValueError as exc:
        raise typer.BadParameter(
            "应为 complaint/投诉、feedback/意见建议、survey/满意度调查"
        ) from exc


def _status(text: str) -> ComplaintStatus:
    try:
        return ComplaintStatus.from_label(text)
    except ValueError as exc:
        raise typer.BadParameter("应为 received/已受理、handling/处理中、resolved/已办结") from exc


@complaints_app.command("add", help="受理投诉、意见建议或满意度调查")
def complaints_add(
    kind: Annotated[
        str, typer.Option(help="complaint 投诉 | feedback 意见建议 | survey 满意度调查")
    ],
    content: Annotated[str, typer.Option(help="内容")],
    submitter: Annotated[str | None, typer.Option(help="提交人")] = None,
    enterprise: Annotated[int | None, typer.Option(help="企业 ID")] = None,
    institution: Annotated[int | None, typer.Option(help="机构 ID")] = None,
    satisfaction: Annotated[int | None, typer.Option(help="满意度 1–5")] = None,
) -> None:
    """Receive a complaint, suggestion or survey answer."""
    with session_scope() as session:
        row = complaints.submit(
            session,
            _kind(kind),
            content,
            submitter=submitter,
            enterprise_id=enterprise,
            institution_id=institution,
            satisfaction=satisfaction,
        )
        typer.echo(f"已受理 #{row.id}（{row.kind.label}）")


@complaints_app.command("list", help="列出事项及其改进措施（新的在前）")
def complaints_list(
    status: Annotated[str | None, typer.Option(help="按状态筛选")] = None,
    kind: Annotated[str | None, typer.Option(help="按类型筛选")] = None,
    limit: Annotated[int, typer.Option(help="最多显示条数")] = 50,
) -> None:
    """List cases, newest first, with their improvement measures."""
    with session_scope() as session:
        rows = complaints.list_cases(
            session,
            status=_status(status) if status else None,
            kind=_kind(kind) if kind else None,
            limit=limit,
        )
        measures = complaints_repo.measures_for(session, [int(r.id or 0) for r in rows])
        for r in rows:
            cause = f"；原因：{r.root_cause}" if r.root_cause else ""
            typer.echo(
                f"#{r.id} [{r.kind.label}·{r.status.label}] {center_date(r.received_at)} {r.content}{cause}"
            )
            for m in (m for m in measures if m.complaint_id == r.id):
                done = f"已完成 {m.done_on}" if m.done_on else f"期限 {m.due_on}"
                typer.echo(f"    措施 #{m.id} {m.description}（{m.owner}，{done}）")
        typer.echo(f"共 {len(rows)} 条")


@complaints_app.command("move", help="变更事项状态：处理中 / 已办结（办结投诉须填原因分析）")
def complaints_move(
    complaint_id: Annotated[int, typer.Argument(help="事项编号")],
    to: Annotated[str, typer.Option("--to", help="handling 处理中 | resolved 已办结")],
    actor: Annotated[str, typer.Option(help="经办人")] = "cli",
    root_cause: Annotated[str | None, typer.Option(help="原因分析")] = None,
) -> None:
    """Move a case to handling or resolved (resolving a complaint needs its root cause)."""
    with session_scope() as session:
        row = complaints.move(session, complaint_id, _status(to), actor, root_cause=root_cause)
        typer.echo(f"#{row.id} → {row.status.label}")


@complaints_app.command("measure", help="为事项添加改进措施（责任人、完成期限）")
def complaints_measure(
    complaint_id: Annotated[int, typer.Argument(help="事项编号")],
    description: Annotated[str, typer.Option(help="改进措施")],
    owner: Annotated[str, typer.Option(help="责任人")],
    due: Annotated[str, typer.Option(help="完成期限 YYYY-MM-DD")],
    actor: Annotated[str, typer.Option(help="经办人")] = "cli",
) -> None:
    """Add an improvement measure with its owner and due date."""
    with session_scope() as session:
        m = complaints.add_measure(
            session, complaint_id, description, owner, _day(due, "--due"), actor
        )
        typer.echo(f"已添加改进措施 #{m.id}（{m.owner}，期限 {m.due_on}）")


@complaints_app.command("done", help="将改进措施标记为已完成")
def complaints_done(
    measure_id: Annotated[int, typer.Argument(help="措施编号")],
    on: Annotated[str | None, typer.Option(help="完成日期 YYYY-MM-DD（默认今天）")] = None,
    actor: Annotated[str, typer.Option(help="经办人")] = "cli",
) -> None:
    """Mark an improvement measure done."""
    day = _day(on, "--on") if on else center_today()
    with session_scope() as session:
        m = complaints.complete_measure(session, measure_id, day, actor)
        typer.echo(f"改进措施 #{m.id} 已完成（{m.done_on}）")


# --- the demo tour -----------------------------------------------------------------------------


def echo_appendix_a(result: AppendixA) -> None:
    """Print 表A.1 (the 17 二级指标 and the 北交所 row) as aligned text."""
    typer.echo(f"  表A.1 科技金融服务中心评价定量指标（{result.period.label}）")
    group = ""
    for fig in result.figures:
        shown = fig.indicator.group if fig.indicator.group != group else ""
        group = fig.indicator.group
        value = f"{fig.value:,.2f}" if isinstance(fig.value, float) else f"{fig.value:,}"
        extra = "（补充）" if fig.indicator.supplementary else ""
        typer.echo(f"  {pad(shown, 22)}{pad(fig.indicator.name + extra, 50)}{value:>12}")


def show_appendix_a(session: Session, today: date | None = None) -> None:
    """Tour section for `make demo`: 表A.1 for the last full year before the latest deal (or today)."""
    day = today or repo.latest_deal_day(session) or center_today()
    typer.echo("")
    typer.echo("== 评价定量指标（上一完整年度） ==")
    echo_appendix_a(appendix_a(session, Period.year(last_full_year(day))))


def register(app: typer.Typer) -> None:
    """Add `report`, `drill`, `score-b`, `self-assessment`, `sign-off` and the `complaints` and
    `plan` groups to the `matchmaker` app."""
    app.command(
        "report", help="评价报告：表A.1、表B.1、季度趋势、明细、未办结事项（xlsx/html/--json）"
    )(report)
    app.command("drill", help="导出表A.1 各项指标背后的明细记录（CSV）")(drill)
    app.command("score-b", help="为表B.1 的一项二级指标评分（含佐证说明与附件）")(score)
    app.add_typer(complaints_app, name="complaints")
    app.add_typer(plan_app, name="plan")
    app.command("self-assessment", help="自评报告（xlsx）：由表A.1/表B.1 预填，留有自评说明")(
        self_assessment
    )
    app.command("sign-off", help="签署评价期间的自评报告（记录签署人、身份、时间与文件哈希）")(sign)
