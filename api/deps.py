"""Typed dependencies defined once: the session, settings, the caller and role guards.

Only what touches the database runs in the thread pool: the caller's lookup and the commit (on
PostgreSQL the lookup, and short units of work, run on the event loop: see `api.routing`). The
pure dependencies (settings, role guards, pagination) are coroutines, so a request does not pay
a thread hop for each of them.
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

import anyio.to_thread
from anyio import CancelScope, CapacityLimiter
from fastapi import Depends, HTTPException, Path, Query, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.routing import lookup_on_loop
from api.security import token_subject
from models.db import ReadOnlySession, reads_per_statement
from models.reference import UserRole
from models.settings import Settings
from services.accounts.service import Principal, principal_for_api_key, principal_for_user

MAX_PAGE_SIZE = 200

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)
api_key_scheme = APIKeyHeader(name="X-API-Key", auto_error=False)


async def get_settings_dep(request: Request) -> Settings:
    """The app's settings."""
    settings: Settings = request.app.state.settings
    return settings


def _commit_and_close(session: Session) -> None:
    try:
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _rollback_and_close(session: Session) -> None:
    try:
        session.rollback()
    finally:
        session.close()


def open_session(request: Request) -> Session:
    """The request's session: a `ReadOnlySession` on the app's autocommit reader for a route
    marked `read_only` (PostgreSQL at READ COMMITTED), else a session on the app's engine."""
    engine: Engine = request.app.state.engine
    reader: Engine | None = getattr(request.app.state, "reader", None)
    if (reader is not None and getattr(request.scope.get("route"), "read_only", False)
            and reads_per_statement(engine)):  # fmt: skip
        return ReadOnlySession(reader)
    return Session(engine)


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One unit of work per request: committed before the response is sent, else rolled back.

    Opening a session does no I/O (the connection is taken on the first query, in a worker
    thread). The API routes commit in the endpoint's own thread hop (`api.routing`), so here a
    committed session only closes, which does no I/O either; nor does closing a read-only one
    (autocommit: no transaction is open on the server). Anything else (a rollback after an
    error, a commit still due) runs in a worker thread of its own limiter, shielded from
    cancellation, so it never waits for a thread held by a request that waits for a connection.
    """
    session = open_session(request)
    try:
        yield session
    except BaseException:
        with CancelScope(shield=True):
            await anyio.to_thread.run_sync(_rollback_and_close, session, limiter=CapacityLimiter(1))
        raise
    if isinstance(session, ReadOnlySession) or not session.in_transaction():
        session.close()  # committed already, read only or never used: nothing left to send
        return
    with CancelScope(shield=True):
        await anyio.to_thread.run_sync(_commit_and_close, session, limiter=CapacityLimiter(1))


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def _authenticate(
    session: Session, settings: Settings, token: str | None, api_key: str | None
) -> Principal | None:
    if token:
        subject = token_subject(token, settings)
        return principal_for_user(session, *subject) if subject else None
    if api_key:
        return principal_for_api_key(session, api_key)
    return None


async def get_principal(
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
    api_key: Annotated[str | None, Depends(api_key_scheme)],
) -> Principal:
    """The authenticated caller, by bearer token or institution API key; 401 otherwise.

    On PostgreSQL the look-up (one indexed SELECT) runs on the event loop (see `api.routing`),
    on SQLite in the thread pool (its BEGIN takes the database's write lock, and may wait).
    """
    if lookup_on_loop(session):
        principal = _authenticate(session, settings, token, api_key)
    else:
        principal = await run_in_threadpool(_authenticate, session, settings, token, api_key)
    if principal is None:
        raise HTTPException(status_code=401, detail="未认证或凭证无效/已过期")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


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
    """The page the query asks for."""
    return Page(offset, limit)


PageDep = Annotated[Page, Depends(get_page)]
# Path ids fit the database's 32-bit integer keys; anything else is a 422, not a crash.
PathId = Annotated[int, Path(ge=1, le=2_147_483_647)]


def confined_to(principal: Principal) -> int | None:
    """The institution an institution user sees only its own of (None for every other role)."""
    return principal.institution_id if principal.role == UserRole.institution else None
