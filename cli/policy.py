"""Policy commands (政策计算器): `match` an enterprise, `reach` a policy's enterprises, `inform`."""

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlmodel import Session

from cli.match import AsJson, parse_day
from demo.generator.center import DEFAULT_TODAY
from models.db import session_scope
from models.policy import OutreachChannel, OutreachOutcome
from services.imports.catalogue import load_starter
from services.imports.policies import import_policies
from services.policy.service import (
    EnterprisePolicies,
    LoanSubsidy,
    PolicyFit,
    PolicyReach,
    match_enterprise,
    reach,
    record_outreach,
    showcase_enterprise,
    showcase_loan,
    subsidy_for,
)

policy_app = typer.Typer(help="政策计算器：政策匹配、精准宣贯与贴息测算。", no_args_is_help=True)

Today = Annotated[str | None, typer.Option("--today", help="测算日期 YYYY-MM-DD（默认今天）")]


def _dump(data: dict[str, Any]) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _money(value: float | None) -> str:
    return "待测算" if value is None else f"{value:,.2f}万元"


def _fit_lines(fit: PolicyFit, verbose: bool) -> list[str]:
    mark = "✔" if fit.qualified else ("✘" if not fit.active else "△")
    head = (f" {mark} {fit.status_text:<4} [{fit.level}·{fit.benefit_type}] {fit.title}"
            f"（{fit.issuer}）  预计{_money(fit.benefit_wan)}")  # fmt: skip
    lines = [head, f"      测算：{fit.benefit_text}"]
    shown = fit.conditions if verbose else [c for c in fit.conditions if c["status"] != "met"]
    lines += [f"      {c['text']}" for c in shown]
    if not fit.active:
        lines.append(f"      {fit.validity}")
    return lines


def render_match(
    result: EnterprisePolicies, *, verbose: bool = True, limit: int | None = None
) -> str:
    """The policy calculator's answer for one enterprise, as text."""
    qualified = [i for i in result.items if i.qualified]
    lines = [
        f"企业 #{result.enterprise_id} {result.enterprise_name} · 政策匹配（{result.as_of.isoformat()}）",
        f"在有效期内的政策 {sum(i.active for i in result.items)} 项，符合 {len(qualified)} 项，"
        f"可测算的预计扶持合计 {result.total_benefit_wan:,.2f} 万元",
    ]
    for fit in result.items[:limit]:
        lines += _fit_lines(fit, verbose)
    return "\n".join(lines)


def render_reach(result: PolicyReach) -> str:
    """The outreach list of one policy, as text."""
    lines = [f"政策 #{result.policy_id} {result.title}：{result.validity}"]
    if not result.active:
        return "\n".join([*lines, "  政策不在有效期内，不做宣贯匹配。"])
    lines.append(f"  符合 {result.qualified} 家；差一项 {result.one_short} 家")
    for item in result.items:
        status = "符合" if item.missing == 0 else f"差{item.missing}项"
        told = f"  已于{item.last_informed_at[:10]}宣贯" if item.last_informed_at else ""
        lines.append(f"  {status:<4} #{item.enterprise_id} {item.enterprise_name}  "
                     f"预计{_money(item.benefit_wan)}{told}")  # fmt: skip
        lines += [f"         {text}" for text in item.missing_conditions]
    return "\n".join(lines)


def render_subsidy(result: LoanSubsidy) -> str:
    """A loan's subsidies and its cost after them, as text."""
    q = result.quote
    lines = [
        f"{result.institution_name} · {result.product_name}：贷款{q.amount_wan:,.0f}万元，"
        f"{q.term_months}个月；{result.rate_note}",
        f"  利息 {q.interest_wan:,.2f} 万元；担保费 {q.guarantee_fee_wan:,.2f} 万元",
    ]
    lines += [f"  − {line.title}：{line.amount_wan:,.2f} 万元（{line.text}）" for line in q.lines]
    lines.append(f"  补贴合计 {q.total_subsidy_wan:,.2f} 万元；补贴后成本 {q.effective_cost_wan:,.2f} "
                 f"万元，综合年化 {q.effective_rate_pct:.2f}%（名义 {q.nominal_rate_pct:g}%）")  # fmt: skip
    lines += [f"  未计入：{title} — {why}" for _pid, title, why in q.not_applied]
    return "\n".join(lines)


def match(
    enterprise_id: Annotated[int, typer.Argument(help="企业编号")],
    as_json: AsJson = False,
    include_inactive: Annotated[
        bool, typer.Option("--all", help="也列出不在有效期内的政策")
    ] = False,
    today: Today = None,
) -> None:
    """政策匹配：企业可享哪些政策、每项条件是否满足、预计可得多少。"""
    with session_scope() as session:
        result = match_enterprise(session, enterprise_id, parse_day(today),
                                  include_inactive=include_inactive)  # fmt: skip
    _dump(result.to_dict()) if as_json else typer.echo(render_match(result))


def reach_command(
    policy_id: Annotated[int, typer.Argument(help="政策编号")],
    as_json: AsJson = False,
    limit: Annotated[int, typer.Option("--limit", min=1, help="最多列出企业数")] = 30,
    today: Today = None,
) -> None:
    """精准宣贯：符合某项政策的企业，以及只差一个条件的企业（按优先级排序）。"""
    with session_scope() as session:
        result = reach(session, policy_id, parse_day(today), limit=limit)
    _dump(result.to_dict()) if as_json else typer.echo(render_reach(result))


def inform(
    policy_id: Annotated[int, typer.Argument(help="政策编号")],
    enterprise_id: Annotated[int, typer.Argument(help="企业编号")],
    by: Annotated[str, typer.Option("--by", help="宣贯人")],
    channel: Annotated[
        str, typer.Option("--channel", help="方式：电话、上门走访、微信、电子邮件、政策宣讲会")
    ] = "phone",
    outcome: Annotated[
        str,
        typer.Option(
            "--outcome", help="结果：已告知、有意申报、已申报、已获批、无意申报、未联系上"
        ),
    ] = "informed",
    note: Annotated[str | None, typer.Option("--note", help="备注")] = None,
) -> None:
    """记录宣贯：某人已将政策告知企业。"""
    try:
        with session_scope() as session:
            row = record_outreach(session, policy_id, enterprise_id, by, channel=channel,
                                  outcome=outcome, note=note)  # fmt: skip
            channel_label, outcome_label = (
                OutreachChannel(row.channel).label,
                OutreachOutcome(row.outcome).label,
            )
    except ValueError as exc:  # a DomainError is the root group's (`cli.MatchmakerGroup`)
        typer.echo(f"错误：{exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(
        f"已记录：政策 #{policy_id} → 企业 #{enterprise_id}，{by}，{channel_label}，{outcome_label}"
    )


def subsidy(
    enterprise_id: Annotated[int, typer.Argument(help="企业编号")],
    product_id: Annotated[int, typer.Argument(help="贷款产品编号")],
    amount: Annotated[float, typer.Option("--amount", help="贷款金额（万元）")],
    term: Annotated[int, typer.Option("--term", help="期限（月）")] = 12,
    as_json: AsJson = False,
    today: Today = None,
) -> None:
    """贴息测算：某贷款产品可享的贴息/担保费补贴/风险补偿，及补贴后的综合成本。"""
    with session_scope() as session:
        result = subsidy_for(session, enterprise_id, product_id, amount, term, parse_day(today))
    _dump(result.to_dict()) if as_json else typer.echo(render_subsidy(result))


def import_command(
    path: Annotated[Path, typer.Argument(help="政策目录表（.xlsx/.csv）", exists=True)],
    sheet: Annotated[str | None, typer.Option("--sheet", help="工作表")] = None,
    user: Annotated[str, typer.Option("--user", help="操作人")] = "cli",
) -> None:
    """导入政策目录表。"""
    with session_scope() as session:
        s = import_policies(session, path, sheet, user)
    typer.echo(f"读取 {s.rows_read} 行：新增 {s.inserted}，更新 {s.updated}，未变 {s.unchanged}，"
               f"合并 {s.merged}，隔离 {s.quarantined}")  # fmt: skip
    for reason in s.quarantine_samples:
        typer.echo(f"  隔离：{reason}")


def starter_command(
    user: Annotated[str, typer.Option("--user", help="操作人")] = "cli",
) -> None:
    """载入起步政策目录（国家及省级政策，含文号与有效期，均标记为待核实）。"""
    with session_scope() as session:
        s = load_starter(session, user)
    typer.echo(f"起步政策目录：新增 {s.inserted}，更新 {s.updated}，未变 {s.unchanged}；"
               "均标记为待核实，请对照原文核实后对外引用")  # fmt: skip


def register(app: typer.Typer) -> None:
    """Add the `policy` command group to the `matchmaker` CLI."""
    policy_app.command("match")(match)
    policy_app.command("reach")(reach_command)
    policy_app.command("inform")(inform)
    policy_app.command("subsidy")(subsidy)
    policy_app.command("import")(import_command)
    policy_app.command("starter")(starter_command)
    app.add_typer(policy_app, name="policy")


def show_policy_match(session: Session) -> None:
    """Tour section: one demo enterprise's policy match, and a subsidised loan for it."""
    typer.echo("")
    typer.echo("== 政策计算器（政策宣贯与贴息测算） ==")
    enterprise_id = showcase_enterprise(session, DEFAULT_TODAY)
    if enterprise_id is None:
        typer.echo("  暂无企业。")
        return
    result = match_enterprise(session, enterprise_id, DEFAULT_TODAY)
    typer.echo("  " + render_match(result, verbose=False, limit=8).replace("\n", "\n  "))
    quote = showcase_loan(session, enterprise_id, DEFAULT_TODAY)
    if quote:
        typer.echo("  贴息测算（该企业的贷款需求 × 一款入驻银行产品）：")
        typer.echo("  " + render_subsidy(quote).replace("\n", "\n  "))
