"""Login (OAuth2 password form), the caller, and institutions' API keys."""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from fastapi.security import OAuth2PasswordRequestForm

from api.deps import CurrentPrincipal, PathId, SessionDep, SettingsDep, SignedIn
from api.errors import problem
from api.schemas import ApiKeyListItem, ApiKeyOut, MeOut, TokenOut
from api.security import attempt_login, create_token
from models.reference import UserRole
from services.accounts.login_guard import LoginVerdict, source_of
from services.accounts.service import (
    Principal,
    issue_api_key,
    list_api_keys,
    revoke_api_key,
)

router = APIRouter(tags=["auth"])

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
def me(principal: SignedIn) -> MeOut:
    """Who the token belongs to."""
    return MeOut(username=principal.username, role=principal.role.value,
                 institution_id=principal.institution_id,
                 enterprise_id=principal.enterprise_id)  # fmt: skip


def _key_manager(principal: Principal) -> None:
    """Only a signed-in admin or institution user manages keys: an API key cannot."""
    if principal.user_id is None:
        raise HTTPException(
            status_code=403, detail="API 密钥不能签发或管理 API 密钥，请以用户身份登录"
        )
    if principal.role not in (UserRole.admin, UserRole.institution):
        raise HTTPException(status_code=403, detail="仅限管理员或本机构用户")


def _check_institution(principal: Principal, institution_id: int) -> None:
    """An institution user acts only on its own institution's keys (another one is 404, as for
    every other record of another institution)."""
    _key_manager(principal)
    if principal.role == UserRole.institution and principal.institution_id != institution_id:
        raise HTTPException(status_code=404, detail=f"入驻机构 {institution_id} 不存在")


@router.post("/institutions/{institution_id}/api-keys", response_model=ApiKeyOut, status_code=201)
def create_api_key(
    institution_id: PathId, session: SessionDep, principal: CurrentPrincipal
) -> ApiKeyOut:
    """Issue a key for an institution's machine client; the key is shown once. Only a signed-in
    user may: an API key cannot mint keys. The key is revoked when its issuer's account is
    disabled, its password set, or its role or institution changed."""
    _check_institution(principal, institution_id)
    key, plain = issue_api_key(session, institution_id, principal.username, principal.user_id)
    return ApiKeyOut(id=key.id or 0, institution_id=institution_id, prefix=key.prefix, key=plain)


@router.get("/institutions/{institution_id}/api-keys", response_model=list[ApiKeyListItem])
def get_api_keys(
    institution_id: PathId, session: SessionDep, principal: CurrentPrincipal
) -> list[ApiKeyListItem]:
    """An institution's keys (prefix, issue time, issuer, revocation time; never the key or its
    hash), for an admin or a user of that institution."""
    _check_institution(principal, institution_id)
    return [ApiKeyListItem(id=item.key.id or 0, prefix=item.key.prefix,
                           created_at=item.key.created_at, created_by=item.creator,
                           revoked_at=item.key.revoked_at)
            for item in list_api_keys(session, institution_id)]  # fmt: skip


@router.delete("/api-keys/{key_id}", response_model=ApiKeyOut)
def delete_api_key(key_id: PathId, session: SessionDep, principal: CurrentPrincipal) -> ApiKeyOut:
    """Revoke a key: an admin any key, an institution user a key of its own institution (another
    institution's key is 404)."""
    _key_manager(principal)
    own = (principal.institution_id or 0) if principal.role == UserRole.institution else None
    key = revoke_api_key(session, key_id, principal.username, own)
    return ApiKeyOut(id=key.id or 0, institution_id=key.institution_id, prefix=key.prefix)
