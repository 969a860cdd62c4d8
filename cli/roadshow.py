"""Roadshow commands (路演排程): draw the slate, export it, and re-solve after a cancellation."""

import json
from pathlib import Path
from typing import Annotated

import typer

from cli.match import AsJson
from matching.slate import SlateResult, SolverParams
from models.db import session_scope
from services.roadshow.service import (
    cancel_participant,
    draw_roadshow_slate,
    export_slate,
    slate_payload,
)

roadshow_app = typer.Typer(
    help="路演排程：路演时段、投资机构座位与一对一会谈。", no_args_is_help=True
)

TimeLimit = Annotated[float, typer.Option("--time-limit", help="求解时限（秒）", min=0.5)]


def _show(result: SlateResult, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(slate_payload(result), ensure_ascii=False, indent=2))
        return
    gap = "—" if result.gap is None else f"{100 * result.gap:.1f}%"
    typer.echo(f"求解状态：{result.status}　目标值：{result.objective:.0f}　"
               f"上界：{result.bound if result.bound is not None else '—'}　差距：{gap}")  # fmt: skip
    typer.echo(f"路演 {len(result.pitches)} 场 · 座位 {len(result.attendance)} 个 · "
               f"一对一会谈 {len(result.meetings)} 场 · 调整 {result.moved} 项")  # fmt: skip
    typer.echo("时间\t\t\t路演厅\t企业")
    for p in result.pitches:
        typer.echo(f"{p.start:%m-%d %H:%M}–{p.end:%H:%M} UTC\t{p.room}\t{p.enterprise_id}")
    for u in result.unplaced:
        typer.echo(f"未安排：企业 {u.enterprise_id} — {u.reason}")
    for s in result.shortfalls:
        typer.echo(f"接触不足：企业 {s.enterprise_id}（{s.contacts}/{s.required}）— {s.reason}")
    for i, e in result.unmet_must_meets:
        typer.echo(f"必见未满足：机构 {i} × 企业 {e}")
    for note in result.notes:
        typer.echo(f"提示：{note}")


def schedule(
    event_id: Annotated[int, typer.Argument(help="路演活动编号")],
    as_json: AsJson = False,
    time_limit: TimeLimit = 20.0,
) -> None:
    """排程：为路演活动生成路演时段、座位与一对一会谈（保留已确认项）。"""
    with session_scope() as session:
        result = draw_roadshow_slate(session, event_id, SolverParams(time_limit))
    _show(result, as_json)


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
        result = cancel_participant(
            session, event_id, enterprise, institution, SolverParams(time_limit)
        )
    _show(result, as_json)


def register(app: typer.Typer) -> None:
    """Add the `roadshow` command group to the `matchmaker` CLI."""
    roadshow_app.command("schedule")(schedule)
    roadshow_app.command("export")(export)
    roadshow_app.command("cancel")(cancel)
    app.add_typer(roadshow_app, name="roadshow")
