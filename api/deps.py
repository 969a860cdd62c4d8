"""Typed dependencies defined once: the session, settings, the caller and role guards."""

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from anyio import CapacityLimiter, to_thread
from fastapi import Depends, HTTPException, Path, Query, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
from sqlmodel import Session

from api.security import token_subject
from models.reference import UserRole
from models.settings import Settings
from services.accounts.service import Principal, principal_for_api_key, principal_for_user
from services.jobs import PUBLISHER_KEY

MAX_PAGE_SIZE = 200

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)
api_key_scheme = APIKeyHeader(name="X-API-Key", auto_error=False)


async def get_settings_dep(request: Request) -> Settings:
    """The app's settings."""
    settings: Settings = request.app.state.settings
    return settings


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One unit of work per request: committed when the endpoint has returned (before the
    response is sent), rolled back if anything failed.

    Opening a session does no I/O (the connection is taken by the first query, in the endpoint's
    thread), so it needs no thread; the commit or rollback runs in a thread of its own, as FastAPI
    ends a `def` dependency, so a request holding a connection never waits for the busy pool.
    """
    session, own_thread = Session(request.app.state.engine), CapacityLimiter(1)
    if request.app.state.publisher is not None:
        session.info[PUBLISHER_KEY] = request.app.state.publisher
    try:
        yield session
        await to_thread.run_sync(session.commit, limiter=own_thread)
    except BaseException:
        await to_thread.run_sync(session.rollback, limiter=own_thread)
        raise
    finally:
        session.close()  # after the commit or rollback: nothing left to send


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def get_principal(
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
    api_key: Annotated[str | None, Depends(api_key_scheme)],
) -> Principal:
    """The authenticated caller, by bearer token or institution API key; 401 otherwise."""
    principal = None
    if token:
        subject = token_subject(token, settings)
        principal = principal_for_user(session, *subject) if subject else None
    elif api_key:
        principal = principal_for_api_key(session, api_key)
    if principal is None:
        raise HTTPException(status_code=401, detail="未认证或凭证无效/已过期")
    return principal


SignedIn = Annotated[Principal, Depends(get_principal)]


async def not_enterprise(principal: SignedIn) -> Principal:
    """Any caller but an enterprise user: the enterprise role uses the portal's routes only
    (`api.routers.portal`), so no other route can hand it another enterprise's data (403)."""
    if principal.role == UserRole.enterprise:
        raise HTTPException(status_code=403, detail="企业用户请使用企业门户（/portal）")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(not_enterprise)]


def require(*roles: UserRole) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency admitting only `roles` (403 for the others)."""
    allowed = frozenset(roles)

    async def guard(principal: CurrentPrincipal) -> Principal:
        if principal.role not in allowed:
            names = "、".join(r.label for r in roles)
            raise HTTPException(status_code=403, detail=f"仅限{names}访问")
        return principal

    return guard


STAFF = (UserRole.admin, UserRole.matchmaker)
Staff = Annotated[Principal, Depends(require(*STAFF))]
Admin = Annotated[Principal, Depends(require(UserRole.admin))]
StaffOrEvaluator = Annotated[Principal, Depends(require(*STAFF, UserRole.evaluator))]
StaffOrInstitution = Annotated[Principal, Depends(require(*STAFF, UserRole.institution))]


async def enterprise_user(principal: SignedIn) -> Principal:
    """An enterprise user bound to an enterprise (403 for everyone else)."""
    if principal.role != UserRole.enterprise or principal.enterprise_id is None:
        raise HTTPException(status_code=403, detail=f"仅限{UserRole.enterprise.label}访问")
    return principal


EnterpriseUser = Annotated[Principal, Depends(enterprise_user)]
Anyone = CurrentPrincipal


class Page:
    """Pagination parameters with a maximum page size."""

    def __init__(self, offset: int = 0, limit: int = 50) -> None:
        self.offset = offset
        self.limit = limit


async def get_page(
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> Page:
    """The page the query asks for (no I/O: a coroutine, so no thread hop)."""
    return Page(offset, limit)


PageDep = Annotated[Page, Depends(get_page)]
# Path ids fit the database's 32-bit integer keys; anything else is a 422, not a crash.
PathId = Annotated[int, Path(ge=1, le=2_147_483_647)]


def confined_to(principal: Principal) -> int | None:
    """The institution an institution user sees only its own of (None for every other role)."""
    return principal.institution_id if principal.role == UserRole.institution else None
