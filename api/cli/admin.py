"""Accounts and the audit chain: `matchmaker users create`, `matchmaker audit verify`."""

from typing import Annotated

import typer

from models.db import session_scope
from models.errors import DomainError
from models.reference import UserRole
from models.repositories.audit import verify_chain
from models.services.accounts import create_user

users_app = typer.Typer(help="用户管理", no_args_is_help=True)
audit_app = typer.Typer(help="审计日志", no_args_is_help=True)


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Option()],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True)],
    role: Annotated[UserRole, typer.Option()],
    institution_id: Annotated[int | None, typer.Option()] = None,
) -> None:
    """Create a user (admin, matchmaker, institution bound to one institution, evaluator)."""
    try:
        with session_scope() as session:
            user = create_user(session, username, password, role, institution_id)
            typer.echo(f"已创建用户 {user.username}（{role.label}），id={user.id}")
    except DomainError as exc:
        typer.echo(f"错误：{exc.message}", err=True)
        raise typer.Exit(2) from exc


@audit_app.command("verify")
def audit_verify() -> None:
    """Re-verify the audit hash chain; exit 1 at the first broken row."""
    with session_scope() as session:
        report = verify_chain(session)
    if report.first_broken_id is None:
        typer.echo(f"审计链完整：共校验 {report.rows_checked} 条")
        return
    typer.echo(f"审计链断裂：第 {report.first_broken_id} 条（id），{report.reason}", err=True)
    raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the `users` and `audit` groups."""
    app.add_typer(users_app, name="users")
    app.add_typer(audit_app, name="audit")
