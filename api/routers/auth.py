"""Login (OAuth2 password form), the caller, and institutions' API keys."""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from fastapi.security import OAuth2PasswordRequestForm

from api.deps import Admin, CurrentPrincipal, PathId, SessionDep, SettingsDep
from api.errors import problem
from api.routing import OffloadedRoute
from api.schemas import ApiKeyOut, MeOut, TokenOut
from api.security import attempt_login, create_token
from models.reference import UserRole
from models.services.accounts import issue_api_key, revoke_api_key
from models.services.login_guard import LoginVerdict, source_of

router = APIRouter(route_class=OffloadedRoute, tags=["auth"])

# The answers to a refused login; "locked" only to whoever gave the right password.
LOGIN_REFUSALS = {
    LoginVerdict.failed: (401, "用户名或密码错误"),
    LoginVerdict.throttled: (429, "登录失败次数过多，请稍后再试"),
    LoginVerdict.locked: (403, "账户已被锁定，请联系管理员解锁"),
}


@router.post("/auth/token", response_model=TokenOut)
def login(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    settings: SettingsDep,
) -> TokenOut | JSONResponse:
    """Exchange username and password for a bearer token (429 after repeated failures, per
    account and per source address; 403 for a locked account)."""
    source = source_of(request.client.host if request.client else None)
    result = attempt_login(session, settings, form.username, form.password, source, "api")
    if result.principal is None:  # returned, not raised: the audit rows and counters commit
        status, detail = LOGIN_REFUSALS[result.verdict]
        refused = problem(status, detail, instance=request.url.path)
        if result.verdict == LoginVerdict.throttled:
            refused.headers["Retry-After"] = str(settings.login_throttle_window_seconds)
        return refused
    principal = result.principal
    return TokenOut(access_token=create_token(principal.username, settings,
                                              version=principal.token_version))  # fmt: skip


@router.get("/auth/me", response_model=MeOut)
def me(principal: CurrentPrincipal) -> MeOut:
    """Who the token belongs to."""
    return MeOut(username=principal.username, role=principal.role.value,
                 institution_id=principal.institution_id)  # fmt: skip


@router.post("/institutions/{institution_id}/api-keys", response_model=ApiKeyOut, status_code=201)
def create_api_key(
    institution_id: PathId, session: SessionDep, principal: CurrentPrincipal
) -> ApiKeyOut:
    """Issue a key for an institution's machine client; the key is shown once. Only a signed-in
    user may: an API key cannot mint keys."""
    if principal.user_id is None:
        raise HTTPException(
            status_code=403, detail="API 密钥不能签发新的 API 密钥，请以用户身份登录"
        )
    own = principal.role == UserRole.institution and principal.institution_id == institution_id
    if principal.role != UserRole.admin and not own:
        raise HTTPException(status_code=403, detail="仅限管理员或本机构用户")
    key, plain = issue_api_key(session, institution_id, principal.username)
    return ApiKeyOut(id=key.id or 0, institution_id=institution_id, prefix=key.prefix, key=plain)


@router.delete("/api-keys/{key_id}", response_model=ApiKeyOut)
def delete_api_key(key_id: PathId, session: SessionDep, principal: Admin) -> ApiKeyOut:
    """Revoke a key."""
    key = revoke_api_key(session, key_id, principal.username)
    return ApiKeyOut(id=key.id or 0, institution_id=key.institution_id, prefix=key.prefix)
