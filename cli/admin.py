"""Accounts and the audit chain: `matchmaker users …`, `matchmaker audit verify | anchor`."""

from typing import Annotated

import typer

from models.db import session_scope
from models.reference import UserRole
from models.settings import get_settings
from services.accounts import service as accounts
from services.audit import anchor as audit_anchor
from services.audit.repository import verify_chain

users_app = typer.Typer(help="用户管理", no_args_is_help=True)
audit_app = typer.Typer(help="审计日志", no_args_is_help=True)
PASSWORD_HELP = "密码：至少 12 个字符，且不是常见密码（省略时提示输入）"
CLI_ACTOR = "cli"
UsernameOption = Annotated[str, typer.Option(help="用户名")]
RoleOption = Annotated[
    UserRole, typer.Option(help="角色：admin | matchmaker | institution | evaluator | enterprise")
]
InstitutionIdOption = Annotated[
    int | None, typer.Option(help="所属机构编号（institution 角色必填）")
]
EnterpriseIdOption = Annotated[int | None, typer.Option(help="所属企业编号（enterprise 角色必填）")]
EmailOption = Annotated[str | None, typer.Option(help="接收通知的邮箱（企业用户）")]
# `audit verify`: the chain is intact but no anchor exists, so a deleted tail or a chain
# recomputed from an edited row on could not be detected (1: broken; 2: configuration error).
EXIT_UNANCHORED = 3


@users_app.command("create")
def users_create(
    username: UsernameOption,
    password: Annotated[str, typer.Option(prompt="密码", hide_input=True, help=PASSWORD_HELP)],
    role: RoleOption,
    institution_id: InstitutionIdOption = None,
    enterprise_id: EnterpriseIdOption = None,
    email: EmailOption = None,
) -> None:
    """创建用户：admin 管理员、matchmaker 撮合专员、institution 机构（绑定一家机构）、evaluator 评价人员、enterprise 企业用户（绑定一家企业）。"""
    with session_scope() as session:
        user = accounts.create_user(session, username, password, role, institution_id,
                                    enterprise_id=enterprise_id, email=email, actor=CLI_ACTOR)  # fmt: skip
        typer.echo(f"已创建用户 {user.username}（{role.label}），id={user.id}")


@users_app.command("invite")
def users_invite(
    enterprise_id: Annotated[int, typer.Option(help="企业编号")],
    hours: Annotated[int, typer.Option(help="有效期（小时）")] = 72,
    email: EmailOption = None,
) -> None:
    """生成企业用户的邀请链接（一次有效、到期失效；只保存其哈希，链接仅显示这一次）。"""
    settings = get_settings()
    with session_scope() as session:
        invitation, token = accounts.invite_enterprise_user(
            session, enterprise_id, CLI_ACTOR, hours=hours, email=email
        )
        typer.echo(f"邀请链接（{invitation.expires_at:%Y-%m-%d %H:%M} UTC 前有效，仅可使用一次）：")
        typer.echo(f"{settings.console_url.rstrip('/')}/console/invitation?token={token}")


@users_app.command("list")
def users_list() -> None:
    """列出全部账号：用户名、角色、所属机构、状态。"""
    with session_scope() as session:
        for user in accounts.list_users(session):
            status = "已停用" if not user.active else "已锁定" if user.locked_at else "正常"
            inst = f"  机构 {user.institution_id}" if user.institution_id else ""
            inst += f"  企业 {user.enterprise_id}" if user.enterprise_id else ""
            typer.echo(f"{user.id}\t{user.username}\t{user.role.label}\t{status}{inst}")


@users_app.command("disable")
def users_disable(username: UsernameOption) -> None:
    """停用账号，其令牌与会话立即失效。"""
    with session_scope() as session:
        user = accounts.set_active(session, username, False, CLI_ACTOR)
        typer.echo(f"已停用用户 {user.username}，其登录令牌与会话均已失效")


@users_app.command("enable")
def users_enable(username: UsernameOption) -> None:
    """重新启用已停用的账号。"""
    with session_scope() as session:
        user = accounts.set_active(session, username, True, CLI_ACTOR)
        typer.echo(f"已启用用户 {user.username}")


@users_app.command("set-password")
def users_set_password(
    username: UsernameOption,
    password: Annotated[
        str,
        typer.Option(prompt="密码", hide_input=True, confirmation_prompt=True, help=PASSWORD_HELP),
    ],
) -> None:
    """设置新密码（按密码策略检查），该用户的令牌与会话失效。"""
    with session_scope() as session:
        user = accounts.set_password(session, username, password, CLI_ACTOR)
        typer.echo(f"已为用户 {user.username} 设置新密码，其原有令牌与会话均已失效")


@users_app.command("set-role")
def users_set_role(
    username: UsernameOption,
    role: RoleOption,
    institution_id: InstitutionIdOption = None,
) -> None:
    """变更用户角色，该用户的令牌与会话失效。"""
    with session_scope() as session:
        user = accounts.set_role(session, username, role, CLI_ACTOR, institution_id)
        typer.echo(f"用户 {user.username} 的角色已改为{role.label}，其原有令牌与会话均已失效")


@users_app.command("unlock")
def users_unlock(username: UsernameOption) -> None:
    """解锁因多次登录失败而锁定的账号。"""
    with session_scope() as session:
        typer.echo(f"已解锁用户 {accounts.unlock_user(session, username, CLI_ACTOR).username}")


@audit_app.command("verify")
def audit_verify() -> None:
    """重新校验审计日志的哈希链，再与最新的签名锚点比对：发现问题以退出码 1 结束；没有可比对的锚点（无法发现被删除的尾部记录）时以退出码 3 结束。"""
    settings = get_settings()
    with session_scope() as session:
        report = verify_chain(session)
        if report.first_broken_id is not None:
            typer.echo(
                f"审计链断裂：第 {report.first_broken_id} 条（id），{report.reason}", err=True
            )
            raise typer.Exit(1)
        found = audit_anchor.latest_anchor(settings)
        problem = found.problem or (
            audit_anchor.check_against(session, found.anchor) if found.anchor else None
        )
    if problem:
        typer.echo(f"审计链与锚点不符：{problem}", err=True)
        raise typer.Exit(1)
    typer.echo(f"审计链完整：共校验 {report.rows_checked} 条")
    if found.anchor is None:
        typer.echo(
            f"未找到审计锚点（{settings.audit_anchor_path}）：没有锚点，无法发现尾部记录被删除或"
            "整条链被重算，校验未完成。锚点由 matchmaker serve 启动时、matchmaker audit anchor "
            "及定时任务（每 15 分钟）写入",
            err=True,
        )
        raise typer.Exit(EXIT_UNANCHORED)
    typer.echo(f"与最新锚点一致（{found.anchor.at}，前 {found.anchor.rows} 条）")


@audit_app.command("anchor")
def audit_anchor_write() -> None:
    """对哈希链的长度与链头签名，追加写入 AUDIT_ANCHOR_PATH。"""
    settings = get_settings()
    with session_scope() as session:
        anchor = audit_anchor.write_anchor(session, settings)
    typer.echo(f"已写入审计锚点：共 {anchor.rows} 条 → {settings.audit_anchor_path}")


def register(app: typer.Typer) -> None:
    """Add the `users` and `audit` groups."""
    app.add_typer(users_app, name="users")
    app.add_typer(audit_app, name="audit")
