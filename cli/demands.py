"""A demand's lifecycle: `matchmaker demands show | close | pause | reopen | edit | expire`."""

import json
from datetime import date
from typing import Annotated, Any

import typer

from models.clock import center_today
from models.db import session_scope
from models.reference import DemandStatus
from services.pipeline import demands

demands_app = typer.Typer(help="融资需求状态：查看、结案、暂停、重新开放、修改（均记入历史与审计日志）",
                          no_args_is_help=True)  # fmt: skip
DemandId = Annotated[int, typer.Argument(help="融资需求编号")]
Note = Annotated[str, typer.Option("--note", help="原因（记入需求历史与审计日志）")]
User = Annotated[str, typer.Option(help="记录在审计日志中的操作人")]
AS_CHOICES = {"funded": DemandStatus.funded, "withdrawn": DemandStatus.withdrawn,
              "expired": DemandStatus.expired}  # fmt: skip


def _print_state(demand_id: int, as_json: bool) -> None:
    with session_scope() as session:
        state = demands.demand_state(session, demand_id).as_json()
    if as_json:
        typer.echo(json.dumps(state, ensure_ascii=False, indent=2))
        return
    typer.echo(f"融资需求 #{state['id']}  {state['status_label']}  "
               f"拟融资 {state['amount_min_wan']:g}–{state['amount_max_wan']:g} 万元  "
               f"已融资 {state['amount_raised_wan']:g} 万元  尚需 {state['remaining_wan']:g} 万元")  # fmt: skip
    for c in state["history"]:
        typer.echo(
            f"  {c['at'][:19]}  {c['actor']}  {c['field']}: {c['old']} → {c['new']}  {c['note'] or ''}"
        )


@demands_app.command("show")
def show(
    demand_id: DemandId,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出")] = False,
) -> None:
    """查看需求状态、已融资金额、尚需金额与变更历史。"""
    _print_state(demand_id, as_json)


@demands_app.command("close")
def close(
    demand_id: DemandId,
    as_status: Annotated[str, typer.Option("--as", help="结案方式：funded（已融资）、withdrawn（已撤回）、expired（已过期）")],
    note: Note,
    amount: Annotated[float | None, typer.Option("--amount", help="已融资金额（万元），默认为已关联成交之和")] = None,
    user: User = "cli",
) -> None:  # fmt: skip
    """结案：已融资（可部分融资，填写金额）、已撤回或已过期；此后不再推荐、推送或邀请路演。"""
    status = AS_CHOICES.get(as_status.strip().lower())
    if status is None:
        raise typer.BadParameter("应为 funded、withdrawn 或 expired", param_hint="--as")
    with session_scope() as session:
        demand = demands.close(session, demand_id, as_status=status, note=note, actor=user,
                               amount_wan=amount)  # fmt: skip
        raised = demand.amount_raised_wan
    extra = f" {raised:g} 万元" if status is DemandStatus.funded else ""  # 已融资 800 万元
    typer.echo(f"融资需求 #{demand_id} 已结案：{status.label}{extra}")


@demands_app.command("pause")
def pause(demand_id: DemandId, note: Note, user: User = "cli") -> None:
    """暂停对接：暂停期间不推荐、不推送。"""
    with session_scope() as session:
        demands.pause(session, demand_id, note=note, actor=user)
    typer.echo(f"融资需求 #{demand_id} 已暂停")


@demands_app.command("reopen")
def reopen(demand_id: DemandId, note: Note, user: User = "cli") -> None:
    """重新开放已暂停或已结案的需求（引荐过的为对接中，否则为待对接）。"""
    with session_scope() as session:
        label = DemandStatus(demands.reopen(session, demand_id, note=note, actor=user).status).label
    typer.echo(f"融资需求 #{demand_id} 已重新开放：{label}")


@demands_app.command("edit")
def edit(
    demand_id: DemandId,
    note: Note,
    amount_min: Annotated[float | None, typer.Option("--amount-min", help="拟融资金额下限（万元）")] = None,
    amount_max: Annotated[float | None, typer.Option("--amount-max", help="拟融资金额上限（万元）")] = None,
    financing_type: Annotated[str | None, typer.Option("--type", help="融资方式：贷款、股权、投贷联动")] = None,
    collateral: Annotated[str | None, typer.Option("--collateral", help="担保方式，逗号分隔（如 知识产权质押,信用）")] = None,
    deadline: Annotated[str | None, typer.Option("--deadline", help="截止日期 YYYY-MM-DD（空字符串清除）")] = None,
    confidentiality: Annotated[str | None, typer.Option("--confidentiality", help="保密级别：公开、脱敏、保密")] = None,
    user: User = "cli",
) -> None:  # fmt: skip
    """修改需求的金额、融资方式、担保方式、截止日期或保密级别（逐项记入历史）。"""
    given: dict[str, Any] = {
        "amount_min_wan": amount_min, "amount_max_wan": amount_max,
        "financing_type": financing_type, "collateral_offered": collateral,
        "deadline": deadline, "confidentiality": confidentiality,
    }  # fmt: skip
    changes = {k: v for k, v in given.items() if v is not None}
    with session_scope() as session:
        demands.edit(session, demand_id, changes, note=note, actor=user)
    typer.echo(f"融资需求 #{demand_id} 已修改：{'、'.join(demands.EDITABLE[k] for k in changes)}")


@demands_app.command("expire")
def expire(
    today: Annotated[
        str | None, typer.Option(help="按此日期判断（YYYY-MM-DD，默认中心当日）")
    ] = None,
) -> None:
    """将截止日期已过的待对接、对接中、暂停需求标记为已过期（即每晚定时任务）。"""
    try:
        day = date.fromisoformat(today) if today else center_today()
    except ValueError as exc:
        raise typer.BadParameter(
            f"日期应为 YYYY-MM-DD，实际为“{today}”", param_hint="--today"
        ) from exc
    with session_scope() as session:
        expired = demands.expire_overdue(session, day)
    typer.echo(f"已过期 {len(expired)} 条需求" + (f"：{expired}" if expired else ""))


def register(app: typer.Typer) -> None:
    """Add the `demands` group."""
    app.add_typer(demands_app, name="demands")
