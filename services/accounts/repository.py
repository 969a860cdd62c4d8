"""The accounts' SQL: users, API keys and the login throttle's counters."""

from datetime import datetime
from typing import Any

from sqlalchemy import select as core_select
from sqlalchemy import text, update
from sqlmodel import Session, col, select

from models import ApiKey, EnterpriseInvitation, User
from models.base import utcnow


def user_named(session: Session, username: str) -> User | None:
    """The account with this (normalised) username, or None."""
    return session.exec(select(User).where(User.username == username)).first()


def users(session: Session) -> list[User]:
    """Every account, by username."""
    return list(session.exec(select(User).order_by(col(User.username))))


def bump_token_version(session: Session, user_id: int | None) -> None:
    """Add one to the user's token version (atomically: concurrent bumps add up)."""
    session.execute(update(User).where(col(User.id) == user_id)
                    .values(token_version=col(User.token_version) + 1))  # fmt: skip


def keys_with_creator(session: Session, institution_id: int) -> list[tuple[ApiKey, str | None]]:
    """The institution's keys, newest first, with the username of whoever issued each."""
    query = (
        select(ApiKey, User.username)
        .join(User, col(User.id) == col(ApiKey.created_by), isouter=True)
        .where(ApiKey.institution_id == institution_id)
        .order_by(col(ApiKey.id).desc())
    )
    return [(key, creator) for key, creator in session.exec(query).all()]


def live_keys_issued_by(session: Session, user_id: int | None) -> list[ApiKey]:
    """The unrevoked keys a user issued."""
    query = select(ApiKey).where(ApiKey.created_by == user_id, col(ApiKey.revoked_at).is_(None))
    return list(session.exec(query).all())


def principal_row(session: Session, username: str) -> Any:
    """The columns of a token's subject a principal needs, or None."""
    columns = (User.username, User.role, User.institution_id, User.id, User.active,
               User.token_version, User.locked_at, User.enterprise_id)  # fmt: skip
    query = core_select(*map(col, columns)).where(col(User.username) == username)
    return session.execute(query).first()


def key_row(session: Session, key_hash: str) -> Any:
    """Prefix, institution and revocation time of the key with this hash, or None."""
    query = select(ApiKey.prefix, ApiKey.institution_id, ApiKey.revoked_at)
    return session.exec(query.where(ApiKey.key_hash == key_hash)).first()


def invitation_by_hash(session: Session, token_hash: str) -> EnterpriseInvitation | None:
    """The invitation whose token has this SHA-256, or None."""
    query = select(EnterpriseInvitation).where(EnterpriseInvitation.token_hash == token_hash)
    return session.exec(query).first()


def use_invitation(session: Session, invitation_id: int, user_id: int, now: datetime) -> bool:
    """Mark the invitation used by `user_id` unless it is used already; True when this call did."""
    used = session.execute(
        update(EnterpriseInvitation)
        .where(col(EnterpriseInvitation.id) == invitation_id,
               col(EnterpriseInvitation.used_at).is_(None))
        .values(used_at=now, user_id=user_id)
    )  # fmt: skip
    return bool(getattr(used, "rowcount", 0))


# --- the login throttle (services/accounts/login_guard.py)

_RESERVE = text(
    "INSERT INTO login_throttle (key, failures, window_start) VALUES (:key, 1, :now) "
    "ON CONFLICT (key) DO UPDATE SET "
    "failures = CASE WHEN login_throttle.window_start <= :cutoff THEN 1 "
    "ELSE login_throttle.failures + 1 END, "
    "window_start = CASE WHEN login_throttle.window_start <= :cutoff THEN :now "
    "ELSE login_throttle.window_start END "
    "RETURNING failures"
)
_EXPIRE = text("DELETE FROM login_throttle WHERE window_start <= :cutoff")
# On PostgreSQL the sweep skips rows another transaction holds, so it never waits, and so never
# takes part in a deadlock with the reservations (which lock an account's, then a source's row).
_EXPIRE_SKIP_LOCKED = text(
    "DELETE FROM login_throttle WHERE key IN (SELECT key FROM login_throttle "
    "WHERE window_start <= :cutoff FOR UPDATE SKIP LOCKED)"
)
_CLEAR = text("DELETE FROM login_throttle WHERE key = :key")
_GIVE_BACK = text(
    "UPDATE login_throttle SET failures = CASE WHEN failures > 0 THEN failures - 1 ELSE 0 END "
    "WHERE key = :key"
)


def reserve_attempt(session: Session, key: str, now: float, cutoff: float) -> int:
    """Count one attempt under `key` (a new window when the last began at or before `cutoff`);
    the attempts counted in the key's window, this one included."""
    return int(session.execute(_RESERVE, {"key": key, "now": now, "cutoff": cutoff}).scalar() or 0)


def expire_attempts(session: Session, cutoff: float) -> None:
    """Delete the keys whose window began at or before `cutoff`."""
    postgres = session.get_bind().dialect.name == "postgresql"
    session.execute(_EXPIRE_SKIP_LOCKED if postgres else _EXPIRE, {"cutoff": cutoff})


def release_attempts(session: Session, account_key: str, source_key: str) -> None:
    """After a success: clear the account's count, give the source's slot back."""
    session.execute(_CLEAR, {"key": account_key})
    session.execute(_GIVE_BACK, {"key": source_key})


def count_failed_login(session: Session, user_id: int | None) -> int:
    """One more consecutive failed login of the user; the count now."""
    return int(session.execute(
        update(User).where(col(User.id) == user_id)
        .values(failed_logins=col(User.failed_logins) + 1).returning(col(User.failed_logins))
    ).scalar_one())  # fmt: skip


def lock_user(session: Session, user_id: int | None) -> bool:
    """Lock the account now unless it is locked already; True when this call locked it."""
    locked = session.execute(
        update(User).where(col(User.id) == user_id, col(User.locked_at).is_(None))
        .values(locked_at=utcnow())
    )  # fmt: skip
    return bool(getattr(locked, "rowcount", 0))
