"""Bearer tokens (HS256 JWT, explicit algorithm list so `alg: none` is refused), the signing key's
strength, and the login boundary (throttle reserved and committed before the password check).

A token carries its user's `token_version` (`ver`); `api.deps` hands it to `principal_for_user`,
which compares it with the account's on every request, so a password, role or status change or a
console logout revokes tokens at once, although verified tokens are cached here.
"""

import secrets
import threading
import time
from collections import OrderedDict
from datetime import UTC, datetime, timedelta

import jwt
from sqlmodel import Session

from models.settings import Settings
from services.accounts import login_guard
from services.accounts.login_guard import LoginLimits, LoginResult

ALGORITHM = "HS256"
TOKEN_TTL = timedelta(hours=8)
_fallback_secret = secrets.token_urlsafe(48)
MIN_SECRET_BYTES = 32
MAX_LOGIN_NAME_CHARS = 240
MIN_DISTINCT_CHARS = 10  # a random key of 32+ characters has far more
# Placeholders and examples seen in the wild (compared case-insensitively); any key shorter than
# MIN_SECRET_BYTES is refused as well.
WEAK_SECRETS = frozenset({
    "secret", "secret_key", "secret-key", "secretkey", "changeme", "change-me", "change_me",
    "password", "test", "testing", "development", "dev", "default", "your-secret-key",
    "your_secret_key", "your-secret-key-here", "please-change-me", "insecure", "django-insecure",
    "supersecret", "super-secret", "mysecret", "my-secret", "s3cr3t", "jwt-secret", "jwt_secret",
    "changethis", "change-this", "changeit", "notasecret", "keyboard cat", "0" * 32, "1" * 32,
    "a" * 32, "x" * 32, "0123456789abcdef0123456789abcdef", "abcdefghijklmnopqrstuvwxyz123456",
    "your-256-bit-secret", "secretsecretsecretsecretsecretsecret",
})  # fmt: skip


def secret_key_problem(key: str | None) -> str | None:
    """Why `key` must not sign tokens (Chinese), or None when it is acceptable (or unset):
    shorter than 32 bytes, a known placeholder, a word repeated, or too few distinct characters."""
    if key is None:
        return None
    if len(key.encode()) < MIN_SECRET_BYTES:
        return (
            f"SECRET_KEY 过短（{len(key.encode())} 字节），至少需要 {MIN_SECRET_BYTES} 字节的随机值"
        )
    lowered = key.strip().lower()
    repeated = (lowered + lowered).find(lowered, 1) < len(lowered)  # "abcabc…": a word repeated
    if lowered in WEAK_SECRETS or repeated or len(set(key)) < MIN_DISTINCT_CHARS:
        return "SECRET_KEY 是已知的弱密钥或示例值，请换成随机生成的值"
    return None


def signing_key(settings: Settings) -> str:
    """The configured secret; a per-process random one when unset (demo and tests only)."""
    return settings.secret_key or _fallback_secret


def create_token(
    username: str, settings: Settings, now: datetime | None = None, version: int = 0
) -> str:
    """A signed access token for `username`, issued under the account's `token_version`."""
    issued = now or datetime.now(UTC)
    claims = {"sub": username, "iat": issued, "exp": issued + TOKEN_TTL, "typ": "access",
              "ver": version}  # fmt: skip
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
        self._entries: OrderedDict[tuple[str, str], tuple[str, int, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str, token: str) -> tuple[str, int, int] | None:
        with self._lock:
            found = self._entries.get((key, token))
            if found is not None:
                self._entries.move_to_end((key, token))
            return found

    def put(self, key: str, token: str, subject: str, version: int, expires: int) -> None:
        with self._lock:
            self._entries[(key, token)] = (subject, version, expires)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)


_verified = _VerifiedTokens()


def token_subject(token: str, settings: Settings) -> tuple[str, int] | None:
    """The username and token version of a valid, unexpired token; None for anything else
    (tampered, `none` alg …). Whether the version is still current is the caller's check."""
    key = signing_key(settings)
    found = _verified.get(key, token)
    if found is not None:
        username, version, expires = found
        return (username, version) if expires > time.time() else None
    try:
        claims = jwt.decode(
            token, key, algorithms=[ALGORITHM], options={"require": ["sub", "exp", "iat"]}
        )
    except jwt.PyJWTError:
        return None
    subject, version = claims.get("sub"), claims.get("ver", 0)
    if not isinstance(subject, str) or claims.get("typ") != "access":
        return None
    if not isinstance(version, int) or isinstance(version, bool):
        return None
    _verified.put(key, token, subject, version, int(claims["exp"]))
    return subject, version


def attempt_login(
    session: Session, settings: Settings, username: str, password: str, source: str, via: str
) -> LoginResult:
    """One login attempt: the throttle's slot reserved and committed in a transaction of its own
    (so parallel attempts see each other's), then the password checked in `session`, whose
    commit records the outcome (the endpoint returns, never raises, on a refusal)."""
    limits = LoginLimits.from_settings(settings)
    username = username[:MAX_LOGIN_NAME_CHARS]  # no account has a longer name; bounds the work
    with Session(session.get_bind()) as counter:
        reservation = login_guard.reserve(counter, username, source, limits)
        counter.commit()
        if reservation.new_window:
            login_guard.sweep(counter, limits)
            counter.commit()
    return login_guard.check(session, reservation, username, password, limits,
                             {"source": source, "via": via})  # fmt: skip
