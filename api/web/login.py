"""Signing in and out of the console, and the landing pages."""

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request, Response
from fastapi.responses import RedirectResponse

from api.deps import SessionDep, SettingsDep
from api.security import LoginThrottle
from api.web import auth, queries
from api.web.auth import Posted, Viewer
from api.web.render import ConsoleRoute, redirect, render
from models.services.accounts import authenticate

router = APIRouter(route_class=ConsoleRoute)


@router.get("/login")
def login_page(request: Request, next: str | None = None, error: str | None = None) -> Response:
    """The sign-in form."""
    token = auth.login_csrf(request)
    response = render(request, "login.html", title="登录", login_token=token, next=next or "",
                      error=error)  # fmt: skip
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
    """Check the password (throttled like the API) and open a console session."""
    auth.check_login_csrf(request, csrf_token)
    throttle: LoginThrottle = request.app.state.login_throttle
    key = f"{username}|{request.client.host if request.client else '-'}"
    if throttle.blocked(key):
        raise HTTPException(status_code=429, detail="登录失败次数过多，请稍后再试")
    principal = authenticate(session, username, password)
    if principal is None:
        throttle.failed(key)
        return render(request, "login.html", status_code=401, title="登录", next=next,
                      login_token=csrf_token, error="用户名或密码错误")  # fmt: skip
    throttle.succeeded(key)
    response = RedirectResponse(auth.safe_next(next, principal), status_code=303)
    auth.set_session(response, request, auth.session_cookie(principal.username, settings))
    return response


@router.post("/logout")
def logout(_: Posted) -> Response:
    """Close the session."""
    response = redirect("/console/login", "已退出登录")
    auth.clear_session(response)
    return response


@router.get("/")
def home(request: Request, user: Viewer, session: SessionDep) -> Response:
    """Staff land on the workbench; other roles on their own home page."""
    if not user.is_staff:
        return RedirectResponse(auth.home_of(user.principal), status_code=303)
    return render(request, "home.html", title="工作台", counts=queries.dashboard_counts(session),
                  claims=queries.deal_claims(session))  # fmt: skip
