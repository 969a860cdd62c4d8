"""Deal claims: `matchmaker deals list | confirm ID | reject ID` (a claim counts once confirmed);
the 待关联成交 queue: `matchmaker deals unlinked | link ID --match M | reject-link ID`."""

import json
from typing import Annotated

import typer

from models.db import session_scope
from models.reference import DealStatus
from services.pipeline import links
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


@deals_app.command("unlinked")
def unlinked(
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出")] = False,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="最多列出条数")] = 200,
) -> None:
    """列出待关联成交：未能唯一对应已引荐撮合的成交（候选撮合多于一个或没有）。"""
    with session_scope() as session:
        rows = links.queue_json(session, limit)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    lines = [f"#{r['deal_id']}  企业 {r['enterprise_id']}  机构 {r['institution_id']}  "
             f"{r['amount_wan']:g} 万元  {r['closed_on']}  "
             f"候选撮合：{'、'.join(f'#{i}' for i in r['candidate_match_ids']) or '无'}"
             for r in rows]  # fmt: skip
    typer.echo("\n".join(lines) if lines else "没有待关联的成交")


@deals_app.command("link")
def link(
    deal_id: Annotated[int, typer.Argument(help="成交编号（deals unlinked）")],
    match_id: Annotated[int, typer.Option("--match", help="候选撮合记录编号")],
    note: Annotated[str | None, typer.Option("--note", help="备注")] = None,
    user: User = "cli",
) -> None:
    """将待关联成交关联到其引荐撮合：计入撮合，并计入需求的已融资金额。"""
    with session_scope() as session:
        deal = links.link(session, deal_id, match_id, actor=user, note=note)
        counted = deal.status == DealStatus.confirmed
    typer.echo(
        f"成交 #{deal_id} 已关联撮合记录 #{match_id}" + ("" if counted else "（待确认后计入）")
    )


@deals_app.command("reject-link")
def reject_link(
    deal_id: Annotated[int, typer.Argument(help="成交编号（deals unlinked）")],
    note: Annotated[str, typer.Option("--note", help="不予关联的原因")],
    user: User = "cli",
) -> None:
    """不予关联：该成交并非中心撮合，移出待关联队列，不计入撮合。"""
    with session_scope() as session:
        links.reject(session, deal_id, actor=user, note=note)
    typer.echo(f"成交 #{deal_id} 不予关联，不计入撮合")


def register(app: typer.Typer) -> None:
    """Add the `deals` group."""
    app.add_typer(deals_app, name="deals")
