"""Console sessions: a signed, HttpOnly, SameSite=Lax cookie, a CSRF token per session, role guards.

The cookie is a JWT of its own type (`console`), so it cannot be replayed as an API bearer token,
and the API's bearer tokens are not accepted as a console session. Roles are checked exactly as
the API checks them (`api.deps.STAFF` …), and the account is re-loaded on every request, so a
disabled user loses the console at once; the cookie carries the account's `token_version`, so a
logout, a password or role change ends the session on the server too.
"""

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import jwt
from fastapi import Depends, Form, HTTPException, Request, Response

from api.deps import STAFF, SessionDep, SettingsDep
from api.security import ALGORITHM, signing_key
from models.reference import UserRole
from models.settings import Settings
from services.accounts.service import Principal, principal_for_user

SESSION_COOKIE = "mm_console"
LOGIN_CSRF_COOKIE = "mm_login_csrf"
SESSION_TTL = timedelta(hours=8)
TOKEN_TYPE = "console"


class LoginRequired(Exception):
    """No valid console session: the page redirects to the login form."""


@dataclass(frozen=True)
class ConsoleUser:
    """The signed-in user of a console request, with the session's CSRF token."""

    principal: Principal
    csrf_token: str

    @property
    def role(self) -> UserRole:
        """The user's role."""
        return self.principal.role

    @property
    def is_staff(self) -> bool:
        """Matchmakers and administrators."""
        return self.principal.role in STAFF


def session_cookie(
    username: str, settings: Settings, now: datetime | None = None, version: int = 0
) -> str:
    """A signed console-session value for `username` under the account's `token_version`, with
    a fresh CSRF token inside."""
    issued = now or datetime.now(UTC)
    claims = {"sub": username, "csrf": secrets.token_urlsafe(24), "typ": TOKEN_TYPE,
              "iat": issued, "exp": issued + SESSION_TTL, "ver": version}  # fmt: skip
    return jwt.encode(claims, signing_key(settings), algorithm=ALGORITHM)


def _claims(value: str, settings: Settings) -> dict[str, Any] | None:
    try:
        claims = jwt.decode(value, signing_key(settings), algorithms=[ALGORITHM],
                            options={"require": ["sub", "exp", "csrf", "ver"]})  # fmt: skip
    except jwt.PyJWTError:
        return None
    if claims.get("typ") != TOKEN_TYPE or not isinstance(claims.get("ver"), int):
        return None
    return claims


def session_subject(value: str, settings: Settings) -> tuple[str, int] | None:
    """The username and token version of a validly signed, unexpired console-session value;
    None otherwise (the account itself, and so whether the version is current, is not looked up)."""
    claims = _claims(value, settings) if value else None
    return (claims["sub"], claims["ver"]) if claims else None


def set_session(response: Response, request: Request, value: str) -> None:
    """Attach the session cookie (Secure when served over HTTPS)."""
    response.set_cookie(SESSION_COOKIE, value, max_age=int(SESSION_TTL.total_seconds()),
                        httponly=True, samesite="lax", secure=request.url.scheme == "https",
                        path="/")  # fmt: skip


def clear_session(response: Response) -> None:
    """Forget the session cookie."""
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")


def current_user(request: Request, session: SessionDep, settings: SettingsDep) -> ConsoleUser:
    """The signed-in user; `LoginRequired` when there is no valid session."""
    claims = _claims(request.cookies.get(SESSION_COOKIE, ""), settings)
    principal = principal_for_user(session, claims["sub"], claims["ver"]) if claims else None
    if claims is None or principal is None:
        raise LoginRequired
    user = ConsoleUser(principal, claims["csrf"])
    request.state.console_user = user
    return user


Viewer = Annotated[ConsoleUser, Depends(current_user)]


def require_roles(*roles: UserRole) -> Callable[[ConsoleUser], ConsoleUser]:
    """A page guard admitting only `roles` (403 for the other signed-in users)."""
    allowed = frozenset(roles)

    def guard(user: Viewer) -> ConsoleUser:
        if user.role not in allowed:
            raise HTTPException(status_code=403, detail="仅限" + "、".join(r.label for r in roles))
        return user

    return guard


StaffUser = Annotated[ConsoleUser, Depends(require_roles(*STAFF))]
AdminUser = Annotated[ConsoleUser, Depends(require_roles(UserRole.admin))]
EvaluationUser = Annotated[ConsoleUser, Depends(require_roles(*STAFF, UserRole.evaluator))]
InstitutionSide = Annotated[ConsoleUser, Depends(require_roles(*STAFF, UserRole.institution))]


def own_institution(user: ConsoleUser, institution_id: int) -> None:
    """404 for an institution user asking for another institution (as the API answers)."""
    if user.role == UserRole.institution and user.principal.institution_id != institution_id:
        raise HTTPException(status_code=404, detail=f"入驻机构 {institution_id} 不存在")


def check_csrf(user: Viewer, csrf_token: Annotated[str, Form()] = "") -> ConsoleUser:
    """Every POST form carries the session's CSRF token; 403 otherwise."""
    if not hmac.compare_digest(csrf_token.encode(), user.csrf_token.encode()):
        raise HTTPException(
            status_code=403, detail="表单已过期或来源不明（CSRF 校验失败），请刷新页面后重试"
        )
    return user


Posted = Annotated[ConsoleUser, Depends(check_csrf)]


def login_csrf(request: Request) -> str:
    """The pre-login CSRF token (double-submit cookie), created when absent."""
    return request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)


def check_login_csrf(request: Request, token: str) -> None:
    """The login form's token must equal its cookie."""
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not hmac.compare_digest(cookie.encode(), token.encode()):
        raise HTTPException(status_code=403, detail="登录表单已过期，请刷新页面后重试")


def home_of(principal: Principal) -> str:
    """Where a role lands after signing in."""
    if principal.role == UserRole.institution:
        return f"/console/institutions/{principal.institution_id}"
    if principal.role == UserRole.evaluator:
        return "/console/evaluation"
    if principal.role == UserRole.enterprise:
        return "/console/portal"
    return "/console/"


def safe_next(target: str | None, principal: Principal) -> str:
    """Follow `next` only within the console (no open redirects)."""
    if target and target.startswith("/console/") and not target.startswith("//"):
        return target
    return home_of(principal)
