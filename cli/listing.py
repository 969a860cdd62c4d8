"""Listing-cultivation commands (挂牌上市培育库): readiness, the database by tier, alerts, providers."""

import json
import unicodedata
from typing import Annotated

import typer
from sqlmodel import Session

from models import ListingRecord
from models.db import session_scope
from models.reference import Board, ListingTier
from services.listing import (
    BoardResult,
    CultivationOverview,
    Readiness,
    cultivation_overview,
    evaluate_readiness,
    find_stalled,
    rank_providers,
    repository,
    sync_alerts,
)

listing_app = typer.Typer(
    help="挂牌上市培育：分层培育、板块上市条件评估、停滞预警与中介机构匹配。",
    no_args_is_help=True,
)
_MARK = {"met": "✓", "unmet": "✗", "unknown": "？"}


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, width: int) -> str:
    """Left-justify counting East Asian wide characters as two columns."""
    return text + " " * max(0, width - _width(text))


def _board_lines(b: BoardResult, verbose: bool) -> list[str]:
    best = b.best
    head = f"{pad(b.label, 20)}{pad(b.status.label, 24)}{best.name if best else '—'}"
    if best is None or not verbose:
        return [head]
    lines = [head, f"    依据：{best.citation}"]
    lines += [f"    {_MARK[c.verdict.value]} {c.detail}" for c in best.criteria]
    return lines


def render_readiness(r: Readiness, *, verbose: bool = True) -> str:
    """A readiness report as plain text (used by the CLI and the demo tour)."""
    years = "、".join(str(y) for y in r.fiscal_years) or "无"
    rec = r.recommendation
    lines = [
        f"{r.name}（企业 {r.enterprise_id}）· 评估日 {r.as_of.isoformat()} · 标准版本 {r.criteria_version}",
        f"财务年度：{years}",
        f"推荐目标板块：{rec.board.label if rec.board else '暂无'} —— {rec.reason}",
        f"{pad('板块', 20)}{pad('结论', 24)}最接近的标准",
    ]
    for b in r.boards:
        lines += _board_lines(b, verbose)
    return "\n".join(lines)


def readiness(
    enterprise_id: Annotated[int, typer.Argument(help="企业 ID")],
    as_json: Annotated[
        bool, typer.Option("--json", help="输出 JSON（含全部标准集与逐项结论）")
    ] = False,
) -> None:
    """评估企业对各板块上市/挂牌财务标准的满足情况，并推荐目标板块。"""
    with session_scope() as session:
        result = evaluate_readiness(session, enterprise_id)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        typer.echo(render_readiness(result))


def render_overview(o: CultivationOverview) -> str:
    """The cultivation database as a tier × board table, then listings by board."""
    boards = list(Board)
    widths = [max(8, _width(b.label) + 2) for b in boards]
    lines = [
        f"挂牌上市培育库（{o.as_of.isoformat()}）：共 {len(o.rows)} 家",
        pad("层级", 10)
        + "".join(pad(b.label, w) for b, w in zip(boards, widths, strict=True))
        + "合计",
    ]
    for tier in ListingTier:
        cells = "".join(
            pad(str(o.by_tier_board.get((tier, b), 0)), w)
            for b, w in zip(boards, widths, strict=True)
        )
        lines.append(pad(tier.label, 10) + cells + str(o.tier_total(tier)))
    listed = "、".join(
        f"{b.label} {o.listed_by_board[b]} 家" for b in boards if b in o.listed_by_board
    )
    lines.append(f"已上市/挂牌：{listed or '无'}（按实际板块；未上市的按目标板块计）")
    return "\n".join(lines)


def board() -> None:
    """按培育层级与板块列出挂牌上市培育库。"""
    with session_scope() as session:
        typer.echo(render_overview(cultivation_overview(session)))


def alerts(
    days: Annotated[
        int | None,
        typer.Option("--days", min=1, help="统一的停滞天数阈值（默认按各层级/里程碑配置）"),
    ] = None,
) -> None:
    """列出在某一层级或里程碑停留过久的企业，并登记为预警。"""
    with session_scope() as session:
        stalled = find_stalled(session, days=days)
        synced = sync_alerts(session, days=days)
    typer.echo(
        f"停滞预警 {len(stalled)} 条（新增 {len(synced.raised)}，解除 {len(synced.resolved)}）"
    )
    for a in stalled:
        typer.echo(f"- {a.message}")


def providers(
    enterprise_id: Annotated[int, typer.Argument(help="企业 ID")],
    limit: Annotated[int, typer.Option("--limit", min=1, max=20, help="每类机构列出几家")] = 3,
) -> None:
    """为培育企业匹配券商（辅导/保荐）、律师事务所与会计师事务所。"""
    with session_scope() as session:
        ranked = rank_providers(session, enterprise_id, limit=limit)
    for kind, matches in ranked.items():
        typer.echo(f"【{kind.label}】" + ("" if matches else "暂无入驻机构"))
        for m in matches:
            typer.echo(f"  {m.score:.2f}  {m.name}")
            typer.echo("        " + "；".join(m.reasons))


def show_readiness(session: Session, limit: int = 3) -> None:
    """Demo tour: the readiness of a few cultivated enterprises, one from each end of the road."""
    records = repository.records(session)
    picks = _demo_picks(records, limit)
    typer.echo("\n== 上市培育：板块上市条件评估 ==")
    for record in picks:
        typer.echo(
            render_readiness(evaluate_readiness(session, record.enterprise_id), verbose=False)
        )
        typer.echo("")


def _demo_picks(records: list[ListingRecord], limit: int) -> list[ListingRecord]:
    by_tier: dict[ListingTier, list[ListingRecord]] = {}
    for r in records:
        by_tier.setdefault(r.tier, []).append(r)
    order = [ListingTier.filing, ListingTier.coaching, ListingTier.cultivation, ListingTier.reserve]
    picks = [by_tier[t][0] for t in order if by_tier.get(t)]
    return picks[:limit]


def register(app: typer.Typer) -> None:
    """Add the `listing` command group to the CLI."""
    listing_app.command("readiness")(readiness)
    listing_app.command("board")(board)
    listing_app.command("alerts")(alerts)
    listing_app.command("providers")(providers)
    app.add_typer(listing_app, name="listing")
