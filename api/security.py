"""Bearer tokens (HS256 JWT, explicit algorithm list so `alg: none` is refused) and login throttling."""

import secrets
import threading
import time
from collections import OrderedDict, deque
from datetime import UTC, datetime, timedelta

import jwt

from models.settings import Settings

ALGORITHM = "HS256"
TOKEN_TTL = timedelta(hours=8)
_fallback_secret = secrets.token_urlsafe(48)


def signing_key(settings: Settings) -> str:
    """The configured secret; a per-process random one when unset (demo and tests only)."""
    return settings.secret_key or _fallback_secret


def create_token(username: str, settings: Settings, now: datetime | None = None) -> str:
    """A signed access token for `username`."""
    issued = now or datetime.now(UTC)
    claims = {"sub": username, "iat": issued, "exp": issued + TOKEN_TTL, "typ": "access"}
    return jwt.encode(claims, signing_key(settings), algorithm=ALGORITHM)


class _VerifiedTokens:
    """Tokens that passed the full check, with their subject and expiry (LRU-bounded).

    Every request carries the same token for hours; checking its signature and claims again each
    time is pure cost. What a passed check found can only change with time, and only through
    `exp` (`iat` and `nbf` stay in the past once they are): a remembered token is accepted while
    `exp` is ahead, exactly as PyJWT would. Failures are never remembered. The key is part of
    the entry, so another signing key checks afresh.
    """

    def __init__(self, maxsize: int = 4096) -> None:
        self.maxsize = maxsize
        self._entries: OrderedDict[tuple[str, str], tuple[str, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str, token: str) -> tuple[str, int] | None:
        with self._lock:
            found = self._entries.get((key, token))
            if found is not None:
                self._entries.move_to_end((key, token))
            return found

    def put(self, key: str, token: str, subject: str, expires: int) -> None:
        with self._lock:
            self._entries[(key, token)] = (subject, expires)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)


_verified = _VerifiedTokens()


def token_subject(token: str, settings: Settings) -> str | None:
    """The username of a valid, unexpired token; None for anything else (tampered, `none` alg …)."""
    key = signing_key(settings)
    found = _verified.get(key, token)
    if found is not None:
        username, expires = found
        return username if expires > time.time() else None
    try:
        claims = jwt.decode(
            token, key, algorithms=[ALGORITHM], options={"require": ["sub", "exp", "iat"]}
        )
    except jwt.PyJWTError:
        return None
    subject = claims.get("sub")
    if not isinstance(subject, str) or claims.get("typ") != "access":
        return None
    _verified.put(key, token, subject, int(claims["exp"]))
    return subject


class LoginThrottle:
    """At most `limit` failed logins per key within `window` seconds (then HTTP 429)."""

    def __init__(self, limit: int = 5, window: float = 300.0) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def blocked(self, key: str, now: float | None = None) -> bool:
        """True while `key` has used up its failed attempts."""
        with self._lock:
            return len(self._recent(key, now or time.monotonic())) >= self.limit

    def failed(self, key: str, now: float | None = None) -> None:
        """Count one failed attempt."""
        with self._lock:
            self._recent(key, now or time.monotonic()).append(now or time.monotonic())

    def succeeded(self, key: str) -> None:
        """Forget the failures of `key`."""
        with self._lock:
            self._failures.pop(key, None)

    def _recent(self, key: str, now: float) -> deque[float]:
        stamps = self._failures.setdefault(key, deque())
        while stamps and stamps[0] <= now - self.window:
            stamps.popleft()
        return stamps
