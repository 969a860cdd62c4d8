"""Staff: `matchmaker staff list | set-post | add-qualification | add-training | workload`.
Accounts themselves (disable, enable, role) are `matchmaker users …`."""

import json
from typing import Annotated

import typer
from sqlmodel import Session

from models.clock import center_today
from models.db import session_scope
from services.accounts import service as accounts
from services.staff import service as staff

app = typer.Typer(help="工作人员：岗位、资格证书、培训记录、工作量", no_args_is_help=True)
CLI_ACTOR = "cli"
Username = Annotated[str, typer.Option(help="用户名")]


@app.command("list")
def staff_list(year: Annotated[int | None, typer.Option(help="统计培训学时的年份")] = None) -> None:
    """列出工作人员：用户名、角色、岗位、状态、当年培训学时。"""
    year = year or center_today().year
    with session_scope() as session:
        for row in staff.roster(session, year):
            post = row.profile.post if row.profile else "未设岗位"
            status = "正常" if row.user.active else "已停用"
            typer.echo(f"{row.user.id}\t{row.user.username}\t{row.user.role.label}\t{post}\t"
                       f"{status}\t{year}年培训 {row.training_hours:g} 学时")  # fmt: skip


def _user_id(session: Session, username: str) -> int:
    return accounts.get_user(session, username).id or 0


@app.command("set-post")
def set_post(
    username: Username,
    post: Annotated[str, typer.Option(help="岗位")],
    duties: Annotated[str | None, typer.Option(help="岗位职责")] = None,
) -> None:
    """设置工作人员的岗位与岗位职责。"""
    with session_scope() as session:
        staff.set_post(session, _user_id(session, username), post, duties, CLI_ACTOR)
        typer.echo(f"已设置 {username} 的岗位：{post}")


@app.command("add-qualification")
def add_qualification(
    username: Username,
    name: Annotated[str, typer.Option(help="证书名称")],
    obtained_on: Annotated[str, typer.Option(help="取得日期 YYYY-MM-DD")],
    certificate_no: Annotated[str | None, typer.Option(help="证书编号")] = None,
    expires_on: Annotated[str | None, typer.Option(help="有效期至 YYYY-MM-DD")] = None,
) -> None:
    """登记资格证书。"""
    data = {"name": name, "obtained_on": obtained_on, "certificate_no": certificate_no,
            "expires_on": expires_on}  # fmt: skip
    with session_scope() as session:
        staff.add_qualification(session, _user_id(session, username), data, CLI_ACTOR)
        typer.echo(f"已登记 {username} 的资格证书：{name}")


@app.command("add-training")
def add_training(
    username: Username,
    day: Annotated[str, typer.Option("--date", help="培训日期 YYYY-MM-DD")],
    topic: Annotated[str, typer.Option(help="培训主题")],
    hours: Annotated[float, typer.Option(help="学时")],
    provider: Annotated[str | None, typer.Option(help="培训机构")] = None,
) -> None:
    """登记一次专业培训（日期、主题、学时）。"""
    data = {"day": day, "topic": topic, "hours": hours, "provider": provider}
    with session_scope() as session:
        staff.add_training(session, _user_id(session, username), data, CLI_ACTOR)
        typer.echo(f"已登记 {username} 的培训：{day} {topic} {hours:g} 学时")


@app.command("workload")
def workload(
    period: Annotated[str, typer.Option(help="期间：年份（2026）或季度（2026Q2）")],
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """每位撮合专员在期间内的工作量与成果：引荐、约见、撮合成交笔数与金额。"""
    with session_scope() as session:
        p = staff.parse_period(period)
        rows = staff.workload(session, p)
        if as_json:
            doc = {"period": p.label, "start": p.start.isoformat(), "end": p.end.isoformat(),
                   "staff": [r.as_json() for r in rows]}  # fmt: skip
            typer.echo(json.dumps(doc, ensure_ascii=False, indent=2))
            return
        typer.echo(f"{p.label} 工作量（引荐 / 约见 / 成交笔数 / 成交金额万元）")
        for r in rows:
            typer.echo(
                f"{r.username}\t{r.introductions}\t{r.meetings}\t{r.deals}\t{r.amount_wan:g}"
            )


def register(root: typer.Typer) -> None:
    """Add the `staff` group."""
    root.add_typer(app, name="staff")
