"""ASGI middleware around the app: who may send a body, how large and how slow it may be, and the
security headers of every response.

**Bodies** (`BodyGuard`). A request that carries a body (a `Content-Length` above 0, or
`Transfer-Encoding`) is looked at before a byte of it is read:
- on a route open without credentials (`PUBLIC_BODY_ROUTES`: the API's and the console's login
  and acceptance of an enterprise user's invitation; `PUBLIC_BODY_PREFIX`: an event's sign-in page)
  it may be at most `public_body_max_bytes`; it is read here, whole, before the request goes
  further, and replayed to the route;
- on any other route the caller must first show a credential the app accepts: a bearer token
  or a console session with a valid signature and expiry (`api.security.token_subject`,
  `api.web.auth.session_subject`) whose account is still active and unlocked and whose token
  version is current (`principal_for_user`: a disabled account's or a revoked token's body is
  not read either), or an institution's API key that exists and is not revoked (the console's
  CSRF token travels in the form body, so the route checks it after the body, as before; the
  session cookie is SameSite=Lax, so other sites cannot post with it). Otherwise: 401, nothing
  read. These look-ups run in the thread pool, at most 2 at a time.
  What the route then checks (the role) is unchanged;
- every body is counted while it streams, chunked ones too: past `max_body_bytes` (or past the
  public bound) it is refused with 413 at once, and a declared `Content-Length` over the bound
  before anything is read;
- it must arrive within `body_timeout` s in all, with no pause longer than `body_idle_timeout`
  s: else 408.
Every refusal closes the connection (the unread rest of the body is not waited for). So an
anonymous client never gets a body onto the disk (a multipart upload is spooled to a temporary
file past 1 MB) or into memory beyond the public bound.

**Headers** (`SecurityHeaders`). Every response gets a Content-Security-Policy (same-origin
scripts, styles and forms; no inline script, no framing), `X-Frame-Options: DENY`,
`Referrer-Policy: same-origin` (the console's form errors go back to the page posted from),
`X-Content-Type-Options: nosniff`, and, unless it is a static file of the console,
`Cache-Control: no-store` (pages and API answers may carry contact data).
"""

import time
from typing import Any

import anyio
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import cookie_parser
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import busy_problem, is_lock_timeout, problem
from api.security import token_subject
from api.web.auth import SESSION_COOKIE, session_subject
from models.settings import Settings
from services.accounts.service import principal_for_api_key, principal_for_user

PUBLIC_BODY_ROUTES = frozenset(
    {
        ("POST", "/auth/token"),
        ("POST", "/console/login"),
        ("POST", "/auth/invitation"),
        ("POST", "/console/invitation"),
    }
)
# The event sign-in page a QR code opens (`api.web.signin`): its token is in the path.
PUBLIC_BODY_PREFIX = "/signin/"
DOCS_PATHS = ("/docs", "/redoc")
STATIC_PREFIX = "/console/static/"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")  # fmt: skip
# FastAPI's Swagger UI and ReDoc pages load their scripts from a CDN and start them inline.
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
            "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
            "font-src https://fonts.gstatic.com; img-src 'self' data: https://fastapi.tiangolo.com "
            "https://cdn.redoc.ly; worker-src blob:; object-src 'none'; base-uri 'none'; "
            "frame-ancestors 'none'")  # fmt: skip


class BodyRefused(HTTPException):
    """The body broke a bound while it streamed (413 too large, 408 too slow). An HTTPException,
    so a route reading its body answers it as a problem (FastAPI re-raises these)."""


def _declared_length(headers: Headers) -> int | None:
    value = headers.get("content-length")
    return int(value) if value is not None and value.isdigit() else None


def carries_body(scope: Scope) -> bool:
    """True when the request announces a body: `Content-Length` above 0 (or not a number), or a
    `Transfer-Encoding` (chunked)."""
    headers = Headers(scope=scope)
    if "transfer-encoding" in headers:
        return True
    value = headers.get("content-length")
    return value is not None and (not value.isdigit() or int(value) > 0)


class _Body:
    """`receive`, counting the body against `limit` and timing it (total and between pieces)."""

    def __init__(self, receive: Receive, limit: int, settings: Settings) -> None:
        self.receive_next, self.limit = receive, limit
        self.idle, self.total = settings.body_idle_timeout, settings.body_timeout
        self.deadline = time.monotonic() + self.total
        self.received = 0
        self.done = False
        self.refused = False
        self.answered = False  # a response has started

    async def receive(self) -> Message:
        """The next message; `BodyRefused` once the body is too large or too slow."""
        if self.done:
            return await self.receive_next()  # after the body: a disconnect, whenever it comes
        wait = min(self.idle, self.deadline - time.monotonic())
        with anyio.move_on_after(max(wait, 0)) as waited:
            message = await self.receive_next()
        if waited.cancelled_caught:
            raise self._refuse(408, f"请求体未能及时送达（每段间隔不超过 {self.idle:g} 秒、"
                                    f"总计不超过 {self.total:g} 秒）")  # fmt: skip
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.limit:
                raise self._refuse(413, too_large(self.limit))
            self.done = not message.get("more_body", False)
        return message

    async def read_all(self) -> bytes:
        """The whole body (the client's disconnect: `BodyRefused` 400)."""
        chunks = []
        while not self.done:
            message = await self.receive()
            if message["type"] != "http.request":
                raise self._refuse(400, "请求体未发送完整，连接已断开")
            chunks.append(message.get("body", b""))
        return b"".join(chunks)

    def _refuse(self, status: int, detail: str) -> BodyRefused:
        self.refused = True
        return BodyRefused(status, detail)


def too_large(limit: int) -> str:
    """The Chinese message for a body over `limit` bytes."""
    size = f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit // 1024} KB"
    return f"请求体超过 {size} 上限"


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


def _closing(send: Send, body: _Body) -> Send:
    """`send`, adding `Connection: close` to a response given while the body was refused."""

    async def closing_send(message: Message) -> None:
        if message["type"] == "http.response.start":
            body.answered = True
            if body.refused:
                MutableHeaders(scope=message)["connection"] = "close"
        await send(message)

    return closing_send


class BodyGuard:
    """Credentials before a body is read, and bounds on its size and time (module docstring)."""

    def __init__(self, app: ASGIApp, settings: Settings, engine: Engine) -> None:
        self.app, self.settings, self.engine = app, settings, engine
        self._lookups = anyio.CapacityLimiter(2)  # database connections used before the route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not carries_body(scope):
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        public = (scope["method"], path) in PUBLIC_BODY_ROUTES or (
            scope["method"] == "POST" and path.startswith(PUBLIC_BODY_PREFIX)
        )
        try:
            known = public or await self._has_credentials(Headers(scope=scope))
        except OperationalError as exc:
            if not is_lock_timeout(exc):
                raise
            await _closed(busy_problem(path), scope, receive, send)
            return
        if not known:
            refusal = problem(401, "请先认证：携带请求体的请求须附有效的令牌、API 密钥或控制台会话",
                              instance=path)  # fmt: skip
            await _closed(refusal, scope, receive, send)
            return
        limit = self.settings.public_body_max_bytes if public else self.settings.max_body_bytes
        declared = _declared_length(Headers(scope=scope))
        if declared is not None and declared > limit:
            await _closed(problem(413, too_large(limit), instance=path), scope, receive, send)
            return
        body = _Body(receive, limit, self.settings)
        try:
            # A small public body is read whole here, before the route runs.
            inner = _replay(await body.read_all(), receive) if public else body.receive
            await self.app(scope, inner, _closing(send, body))
        except BodyRefused as exc:  # from `read_all`, or a route that let it through
            if body.answered:
                raise
            await _closed(problem(exc.status_code, str(exc.detail), instance=path), scope,
                          receive, send)  # fmt: skip

    async def _has_credentials(self, headers: Headers) -> bool:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        bearer = token.strip() if scheme.lower() == "bearer" else ""
        subject = token_subject(bearer, self.settings) if bearer else None
        if subject is None:
            cookie = cookie_parser(headers.get("cookie", "")).get(SESSION_COOKIE)
            subject = session_subject(cookie, self.settings) if cookie else None
        if subject is not None:
            return await anyio.to_thread.run_sync(self._current_user, *subject,
                                                  limiter=self._lookups)  # fmt: skip
        key = headers.get("x-api-key")
        if key:
            return await anyio.to_thread.run_sync(self._known_key, key, limiter=self._lookups)
        return False

    def _current_user(self, username: str, version: int) -> bool:
        with Session(self.engine) as session:
            return principal_for_user(session, username, version) is not None

    def _known_key(self, key: str) -> bool:
        with Session(self.engine) as session:
            return principal_for_api_key(session, key) is not None


async def _closed(response: Response, scope: Scope, receive: Receive, send: Send) -> None:
    """Send `response` and close the connection (what is left of the body is not read)."""
    response.headers["connection"] = "close"
    await response(scope, receive, send)


class SecurityHeaders:
    """CSP, framing, referrer, sniffing and caching headers on every response (module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        policy = DOCS_CSP if path in DOCS_PATHS else CSP
        cache = not path.startswith(STATIC_PREFIX)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                _defaults(headers, policy, no_store=cache)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _defaults(headers: MutableHeaders, policy: str, *, no_store: bool) -> None:
    values: dict[str, Any] = {
        "content-security-policy": policy,
        "x-frame-options": "DENY",
        "referrer-policy": "same-origin",
        "x-content-type-options": "nosniff",
    }
    if no_store:
        values["cache-control"] = "no-store"
    for name, value in values.items():
        headers.setdefault(name, value)


__all__ = ["BodyGuard", "BodyRefused", "SecurityHeaders", "carries_body", "too_large"]
