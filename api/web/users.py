"""Administrators' users page: list accounts, disable or enable, unlock, set a password or a
role. Each change is audited and ends the user's tokens and console sessions."""

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request, Response

from api.deps import PathId, SessionDep
from api.web.auth import AdminUser, ConsoleUser, Posted
from api.web.render import ConsoleRoute, redirect, render
from models import User
from models.errors import NotFoundError
from models.reference import UserRole
from services.accounts import service as accounts

router = APIRouter(route_class=ConsoleRoute)
PAGE = "/console/users"


def _admin(user: ConsoleUser) -> str:
    """The acting administrator's name; 403 for anyone else."""
    if user.role != UserRole.admin:
        raise HTTPException(status_code=403, detail="仅限管理员")
    return user.principal.username


def _username(session: SessionDep, user_id: int) -> str:
    found = session.get(User, user_id)
    if found is None:
        raise NotFoundError(f"用户 {user_id} 不存在")
    return found.username


@router.get("/users")
def users_page(request: Request, _: AdminUser, session: SessionDep) -> Response:
    """Every account with its role, institution and status, and the actions on it."""
    return render(request, "users.html", title="用户管理", users=accounts.list_users(session),
                  roles=list(UserRole))  # fmt: skip


@router.post("/users/{user_id}/disable")
def disable(user_id: PathId, user: Posted, session: SessionDep) -> Response:
    """Deactivate an account."""
    name = accounts.set_active(session, _username(session, user_id), False, _admin(user)).username
    return redirect(PAGE, f"已停用用户 {name}，其登录令牌与会话均已失效")


@router.post("/users/{user_id}/enable")
def enable(user_id: PathId, user: Posted, session: SessionDep) -> Response:
    """Re-activate an account."""
    name = accounts.set_active(session, _username(session, user_id), True, _admin(user)).username
    return redirect(PAGE, f"已启用用户 {name}")


@router.post("/users/{user_id}/unlock")
def unlock(user_id: PathId, user: Posted, session: SessionDep) -> Response:
    """Lift a lock-out."""
    name = accounts.unlock_user(session, _username(session, user_id), _admin(user)).username
    return redirect(PAGE, f"已解锁用户 {name}")


@router.post("/users/{user_id}/password")
def password(
    user_id: PathId,
    user: Posted,
    session: SessionDep,
    new_password: Annotated[str, Form(max_length=200)],
) -> Response:
    """Set a new password (policy checked)."""
    actor = _admin(user)
    name = accounts.set_password(session, _username(session, user_id), new_password, actor).username
    return redirect(PAGE, f"已为用户 {name} 设置新密码，其原有令牌与会话均已失效")


@router.post("/users/{user_id}/role")
def role(
    user_id: PathId,
    user: Posted,
    session: SessionDep,
    new_role: Annotated[UserRole, Form()],
    institution_id: Annotated[int | None, Form(ge=1, le=2_147_483_647)] = None,
) -> Response:
    """Give the account another role."""
    actor = _admin(user)
    changed = accounts.set_role(session, _username(session, user_id), new_role, actor,
                                institution_id)  # fmt: skip
    return redirect(PAGE, f"用户 {changed.username} 的角色已改为{new_role.label}")
