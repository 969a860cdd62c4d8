"""Deal claims: `matchmaker deals list | confirm ID | reject ID` (a claim counts once confirmed)."""

from typing import Annotated

import typer

from models.db import session_scope
from services.pipeline import service as pipeline

deals_app = typer.Typer(help="成交申报（机构申报的成交经确认后才计入统计）", no_args_is_help=True)
User = Annotated[str, typer.Option(help="记录在审计日志中的操作人")]


@deals_app.command("list")
def list_claims(
    limit: Annotated[int, typer.Option(min=1, max=1000, help="最多列出条数")] = 100,
) -> None:
    """列出待撮合专员确认的成交申报（早的在前）。"""
    with session_scope() as session:
        claims = pipeline.claimed_deals(session, limit)
        lines = [f"#{d.id}  机构 {d.institution_id}  撮合记录 #{d.match_id}  "
                 f"{d.amount_wan:g} 万元  {d.closed_on}" for d in claims]  # fmt: skip
    typer.echo("\n".join(lines) if lines else "没有待确认的成交申报")


@deals_app.command("confirm")
def confirm(
    deal_id: Annotated[int, typer.Argument(help="成交编号（deals list）")],
    out_of_range: Annotated[
        bool, typer.Option("--out-of-range", help="金额超出需求上限，已核实")
    ] = False,
    user: User = "cli",
) -> None:
    """确认成交申报：自此计入统计，对应撮合记录标记为成交。"""
    with session_scope() as session:
        deal = pipeline.confirm_deal(session, deal_id, actor=user,
                                     confirm_out_of_range=out_of_range)  # fmt: skip
        amount = deal.amount_wan
    typer.echo(f"已确认成交 #{deal_id}：{amount:g} 万元")


@deals_app.command("reject")
def reject(
    deal_id: Annotated[int, typer.Argument(help="成交编号（deals list）")],
    reason: Annotated[str | None, typer.Option(help="驳回原因")] = None,
    user: User = "cli",
) -> None:
    """驳回成交申报：不计入统计。"""
    with session_scope() as session:
        pipeline.reject_deal(session, deal_id, actor=user, reason=reason)
    typer.echo(f"已驳回成交申报 #{deal_id}")


def register(app: typer.Typer) -> None:
    """Add the `deals` group."""
    app.add_typer(deals_app, name="deals")
