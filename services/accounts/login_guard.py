"""Login throttling and lock-out in the database, shared by every worker process.

Every attempt first *reserves* a slot under two keys, the account (`u:<normalised username>`) and
the source address (`s:<address>`, an IPv6 address by its /64), with one atomic upsert per key
(`INSERT … ON CONFLICT DO UPDATE … RETURNING`, on SQLite and PostgreSQL alike) in a transaction
of its own, committed before the password is checked. An attempt whose count passes a key's limit
is refused without a check, so parallel bursts never get more than the limit of checks: the
count includes the attempts still in flight. A success gives its slot back (the source's count
goes down by one, the account's is cleared); failures keep theirs until the window, which starts
at a key's first counted attempt, has passed. Keys are locked in one order (account, source), and
the account's row before the audit chain's lock, so concurrent logins never deadlock; expired
keys are swept after a window starts, skipping rows in use.

Consecutive failed checks of an existing account are counted on the account itself; at
`lockout_after` it is locked (`locked_at`) until an administrator unlocks it. A locked account's
correct password is answered with "locked", a wrong one like any other failure, so the lock is
revealed only to whoever knows the password. Logins, failures, the first refusal of a window
and lock-outs are audited (never the password).
"""

import ipaddress
import time
from dataclasses import dataclass
from enum import StrEnum

from sqlmodel import Session

from models import User
from models.settings import Settings
from services.accounts import repository as repo
from services.accounts.service import (
    Principal,
    find_user,
    normalize_username,
    principal_of,
    verify_password,
)
from services.audit.repository import append_audit

AUDIT_NAME_CHARS = 60


@dataclass(frozen=True)
class LoginLimits:
    """How many failed logins a window allows per account and per source, and the lock-out."""

    per_account: int = 5
    per_source: int = 10
    window_seconds: float = 300.0
    lockout_after: int = 10

    @classmethod
    def from_settings(cls, settings: Settings) -> "LoginLimits":
        """The limits configured in `settings` (LOGIN_* variables)."""
        return cls(settings.login_max_failures_per_account,
                   settings.login_max_failures_per_source,
                   float(settings.login_throttle_window_seconds),
                   settings.login_lockout_after)  # fmt: skip


class LoginVerdict(StrEnum):
    """What a login attempt came to."""

    ok = "ok"
    failed = "failed"
    throttled = "throttled"
    locked = "locked"


@dataclass(frozen=True)
class Reservation:
    """A counted attempt: allowed to check the password, or refused (first refusal flagged)."""

    account_key: str
    source_key: str
    allowed: bool
    first_refusal: bool
    new_window: bool  # a key's window (re)started: time to sweep the expired ones


@dataclass(frozen=True)
class LoginResult:
    """The verdict, and the principal when it is `ok`."""

    verdict: LoginVerdict
    principal: Principal | None = None


def source_of(host: str | None) -> str:
    """The throttling key of a client address: IPv4 as is, IPv6 by its /64 network."""
    if not host:
        return "-"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host[:64]
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def reserve(
    session: Session, username: str, source: str, limits: LoginLimits, now: float | None = None
) -> Reservation:
    """Count one attempt under the account's and the source's keys (atomically); the caller
    commits it at once, before the password is checked."""
    moment = time.time() if now is None else now
    cutoff = moment - limits.window_seconds
    account_key = "u:" + normalize_username(username)[:100]
    source_key = "s:" + source
    counts = []
    for key, limit in ((account_key, limits.per_account), (source_key, limits.per_source)):
        counts.append((repo.reserve_attempt(session, key, moment, cutoff), limit))
    allowed = all(count <= limit for count, limit in counts)
    first = not allowed and any(count == limit + 1 for count, limit in counts)
    fresh = any(count == 1 for count, _ in counts)
    return Reservation(account_key, source_key, allowed, first, fresh)


def sweep(session: Session, limits: LoginLimits, now: float | None = None) -> None:
    """Delete the keys whose window has passed (in a transaction of its own, after a reservation
    that started a window: the table holds only the keys of the current windows)."""
    cutoff = (time.time() if now is None else now) - limits.window_seconds
    repo.expire_attempts(session, cutoff)


def _audit(session: Session, action: str, user: User | None, name: str, detail: dict[str, str]
           ) -> None:  # fmt: skip
    actor = user.username if user is not None and action == "login" else "anonymous"
    append_audit(session, actor=actor, action=action, entity="user",
                 entity_id=user.id if user else None,
                 detail={"username": name[:AUDIT_NAME_CHARS], **detail})  # fmt: skip


def _count_failure(session: Session, user: User, limits: LoginLimits) -> bool:
    """One more consecutive failure of `user`; True when this one locked the account."""
    failures = repo.count_failed_login(session, user.id)
    return failures >= limits.lockout_after and repo.lock_user(session, user.id)


def check(
    session: Session,
    reservation: Reservation,
    username: str,
    password: str,
    limits: LoginLimits,
    detail: dict[str, str],
) -> LoginResult:
    """Check the password of a reserved attempt; record the outcome (counters, audit).

    `detail` (source address, console or API) goes into the audit rows.
    """
    name = normalize_username(username)
    if not reservation.allowed:
        if reservation.first_refusal:
            _audit(session, "login_throttled", find_user(session, name), name, detail)
        return LoginResult(LoginVerdict.throttled)
    user = find_user(session, name)
    if verify_password(user, password) and user is not None and user.active:
        if user.locked_at is not None:
            _audit(session, "login_refused_locked", user, name, detail)
            return LoginResult(LoginVerdict.locked)
        repo.release_attempts(session, reservation.account_key, reservation.source_key)
        user.failed_logins = 0
        session.add(user)
        session.flush()  # the account's row before the audit chain's lock, as everywhere
        _audit(session, "login", user, name, detail)
        return LoginResult(LoginVerdict.ok, principal_of(user))
    locked = user is not None and _count_failure(session, user, limits)
    _audit(session, "login_failed", user, name, detail)
    if locked:
        _audit(session, "lock", user, name, detail | {"failed_logins": str(limits.lockout_after)})
    return LoginResult(LoginVerdict.failed)
