"""Login (OAuth2 password form), the caller, and institutions' API keys."""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.security import OAuth2PasswordRequestForm

from api.deps import Admin, CurrentPrincipal, PathId, SessionDep, SettingsDep
from api.routing import OffloadedRoute
from api.schemas import ApiKeyOut, MeOut, TokenOut
from api.security import LoginThrottle, create_token
from models.reference import UserRole
from models.services.accounts import authenticate, issue_api_key, revoke_api_key

router = APIRouter(route_class=OffloadedRoute, tags=["auth"])


def _throttle(request: Request) -> LoginThrottle:
    throttle: LoginThrottle = request.app.state.login_throttle
    return throttle


@router.post("/auth/token", response_model=TokenOut)
def login(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    settings: SettingsDep,
) -> TokenOut:
    """Exchange username and password for a bearer token (429 after repeated failures)."""
    throttle = _throttle(request)
    key = f"{form.username}|{request.client.host if request.client else '-'}"
    if throttle.blocked(key):
        raise HTTPException(status_code=429, detail="登录失败次数过多，请稍后再试")
    principal = authenticate(session, form.username, form.password)
    if principal is None:
        throttle.failed(key)
        raise HTTPException(status_code=401, detail="用户名或密码错误")
    throttle.succeeded(key)
    return TokenOut(access_token=create_token(principal.username, settings))


@router.get("/auth/me", response_model=MeOut)
def me(principal: CurrentPrincipal) -> MeOut:
    """Who the token belongs to."""
    return MeOut(username=principal.username, role=principal.role.value,
                 institution_id=principal.institution_id)  # fmt: skip


@router.post("/institutions/{institution_id}/api-keys", response_model=ApiKeyOut, status_code=201)
def create_api_key(
    institution_id: PathId, session: SessionDep, principal: CurrentPrincipal
) -> ApiKeyOut:
    """Issue a key for an institution's machine client; the key is shown once."""
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
