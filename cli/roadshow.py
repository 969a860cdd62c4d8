"""Roadshow commands (路演排程): draw the slate on the workers, export it, and re-solve after a
cancellation."""

import json
import time
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.match import AsJson
from matching.slate import SlateResult, SolverParams
from models.clock import center_zone
from models.db import session_scope
from models.event import SlateRun
from models.reference import SlateRunStatus
from services.roadshow.runs import queue_slate, run_result, slate_run
from services.roadshow.service import cancel_participant, export_slate

QUEUE_WAIT_S = 120.0  # how long a run may wait for a free worker before the command gives up
POLL_S = 0.5

roadshow_app = typer.Typer(
    help="路演排程：路演时段、投资机构座位与一对一会谈。", no_args_is_help=True
)

TimeLimit = Annotated[float, typer.Option("--time-limit", help="求解时限（秒）", min=0.5)]


def _show(result: dict[str, Any], as_json: bool) -> None:
    """A finished run's result (`runs.run_result`): the `--json` document, or a table."""
    slate = result["slate"]
    if as_json:
        typer.echo(json.dumps(slate, ensure_ascii=False, indent=2))
        return
    gap = "—" if result["gap"] is None else f"{100 * result['gap']:.1f}%"
    bound = "—" if slate["bound"] is None else slate["bound"]
    typer.echo(f"求解状态：{slate['status']}　目标值：{slate['objective']:.0f}　"
               f"上界：{bound}　差距：{gap}")  # fmt: skip
    typer.echo(f"路演 {len(slate['pitches'])} 场 · 座位 {len(slate['attendance'])} 个 · "
               f"一对一会谈 {len(slate['meetings'])} 场 · 调整 {result['moved']} 项")  # fmt: skip
    typer.echo("时间\t\t\t路演厅\t企业")
    zone = center_zone()  # the center's clock (TIMEZONE), as the console shows it
    for p in slate["pitches"]:
        start, end = (datetime.fromisoformat(p[k]).astimezone(zone) for k in ("start", "end"))
        typer.echo(f"{start:%m-%d %H:%M}–{end:%H:%M}\t{p['room']}\t{p['enterprise_id']}")
    for u in slate["unplaced"]:
        typer.echo(f"未安排：企业 {u['enterprise_id']} — {u['reason']}")
    for s in result["shortfalls"]:
        typer.echo(f"接触不足：企业 {s['enterprise_id']}（{s['contacts']}/{s['required']}）— "
                   f"{s['reason']}")  # fmt: skip
    for i, e in result["unmet_must_meets"]:
        typer.echo(f"必见未满足：机构 {i} × 企业 {e}")
    for note in result["notes"]:
        typer.echo(f"提示：{note}")


def _wait(run_id: int, timeout_s: float) -> SlateRun:
    deadline = time.monotonic() + timeout_s
    while True:
        with session_scope() as session:
            run = slate_run(session, run_id)
            session.expunge(run)  # read as it is now; the commit must not expire it
        if run.status in (SlateRunStatus.done, SlateRunStatus.failed):
            return run
        if time.monotonic() > deadline:
            typer.echo(f"错误：排程任务 {run_id} 仍{run.status.label}，已等待 {timeout_s:.0f} 秒；"
                       "请确认 Celery worker 在运行，稍后在控制台查看结果", err=True)  # fmt: skip
            raise typer.Exit(1)
        time.sleep(POLL_S)


def schedule(
    event_id: Annotated[int, typer.Argument(help="路演活动编号")],
    as_json: AsJson = False,
    time_limit: TimeLimit = 20.0,
) -> None:
    """排程：交由 worker 为路演活动生成路演时段、座位与一对一会谈（保留已确认项），并等待结果。"""
    with session_scope() as session:
        run_id = queue_slate(session, event_id, time_limit, actor="cli").id or 0
    run = _wait(run_id, time_limit + QUEUE_WAIT_S)
    if run.status == SlateRunStatus.failed or run.result is None:
        typer.echo(f"错误：{run.message or '排程失败'}", err=True)
        raise typer.Exit(1)
    _show(run.result, as_json)


def export(
    event_id: Annotated[int, typer.Argument(help="路演活动编号")],
    out: Annotated[Path, typer.Option("--out", help="输出目录")],
) -> None:
    """导出：排程表 .xlsx 与每位参与方的 .ics 日历。"""
    with session_scope() as session:
        paths = export_slate(session, event_id, out)
    typer.echo(f"已导出 {len(paths)} 个文件到 {out}")


def cancel(
    event_id: Annotated[int, typer.Argument(help="路演活动编号")],
    enterprise: Annotated[int | None, typer.Option("--enterprise", help="取消的企业编号")] = None,
    institution: Annotated[int | None, typer.Option("--institution", help="取消的机构编号")] = None,
    as_json: AsJson = False,
    time_limit: TimeLimit = 20.0,
) -> None:
    """取消参与并重新排程：保留已确认项，尽量少调整其他安排。"""
    if (enterprise is None) == (institution is None):
        raise typer.BadParameter("请指定 --enterprise 或 --institution 之一")
    with session_scope() as session:
        result: SlateResult = cancel_participant(
            session, event_id, enterprise, institution, SolverParams(time_limit)
        )
    _show(run_result(result), as_json)


def register(app: typer.Typer) -> None:
    """Add the `roadshow` command group to the `matchmaker` CLI."""
    roadshow_app.command("schedule")(schedule)
    roadshow_app.command("export")(export)
    roadshow_app.command("cancel")(cancel)
    app.add_typer(roadshow_app, name="roadshow")
