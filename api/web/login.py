"""Signing in and out of the console, and the landing pages."""

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from api.deps import SessionDep, SettingsDep
from api.security import attempt_login
from api.web import auth
from api.web.auth import Posted, Viewer
from api.web.render import ConsoleRoute, redirect, render
from models.clock import center_today
from services.accounts.login_guard import LoginVerdict, source_of
from services.accounts.service import end_sessions
from services.pipeline.repository import dashboard_counts, deal_claims

router = APIRouter(route_class=ConsoleRoute)

# The only messages the login page shows: `?error=` names one of these keys, never the text.
LOGIN_ERRORS = {
    "failed": "用户名或密码错误",
    "throttled": "登录失败次数过多，请稍后再试",
    "locked": "账户已被锁定，请联系管理员解锁",
    "expired": "登录已失效，请重新登录",
}
_STATUS = {LoginVerdict.failed: 401, LoginVerdict.throttled: 429, LoginVerdict.locked: 403}


@router.get("/login")
def login_page(request: Request, next: str | None = None, error: str | None = None) -> Response:
    """The sign-in form; `error` is a message key (unknown keys show nothing)."""
    token = auth.login_csrf(request)
    response = render(request, "login.html", title="登录", login_token=token, next=next or "",
                      error=LOGIN_ERRORS.get(error or ""))  # fmt: skip
    response.set_cookie(auth.LOGIN_CSRF_COOKIE, token, httponly=True, samesite="lax", path="/")
    return response


@router.post("/login")
def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    username: Annotated[str, Form(max_length=60)],
    password: Annotated[str, Form(max_length=200)],
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    """Check the password (throttled and locked out like the API) and open a console session."""
    auth.check_login_csrf(request, csrf_token)
    source = source_of(request.client.host if request.client else None)
    result = attempt_login(session, settings, username, password, source, "console")
    if result.principal is None:  # rendered, not raised: the audit rows and counters commit
        return render(request, "login.html", status_code=_STATUS[result.verdict], title="登录",
                      next=next, login_token=csrf_token,
                      error=LOGIN_ERRORS[result.verdict.value])  # fmt: skip
    principal = result.principal
    response = RedirectResponse(auth.safe_next(next, principal), status_code=303)
    value = auth.session_cookie(principal.username, settings, version=principal.token_version)
    auth.set_session(response, request, value)
    return response


@router.post("/logout")
def logout(user: Posted, session: SessionDep) -> Response:
    """Close the session on the server too: every session and token of the user ends."""
    end_sessions(session, user.principal.username, actor=user.principal.username)
    response = redirect("/console/login", "已退出登录")
    auth.clear_session(response)
    return response


@router.get("/")
def home(request: Request, user: Viewer, session: SessionDep) -> Response:
    """Staff land on the workbench; other roles on their own home page."""
    if not user.is_staff:
        return RedirectResponse(auth.home_of(user.principal), status_code=303)
    counts = dashboard_counts(session, center_today())
    return render(request, "home.html", title="工作台", counts=counts, claims=deal_claims(session))
