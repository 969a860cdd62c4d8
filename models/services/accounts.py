"""Users (Argon2id password hashes) and institutions' API keys (≥ 256 bits, stored as SHA-256)."""

import hashlib
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam
from sqlalchemy import select as core_select
from sqlmodel import Session, select

from models import ApiKey, Institution, User
from models.base import utcnow
from models.errors import ConflictError, DomainError, NotFoundError
from models.reference import UserRole
from models.repositories.audit import append_audit

_hasher = PasswordHasher()  # argon2-cffi defaults: Argon2id, RFC 9106 low-memory profile


def use_password_hasher(hasher: PasswordHasher) -> None:
    """Swap the Argon2id parameters (tests use a cheap profile; production keeps the default)."""
    global _hasher
    _hasher = hasher


API_KEY_PREFIX = "tfm_"


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user, or an institution's machine client."""

    username: str
    role: UserRole
    institution_id: int | None = None
    user_id: int | None = None


def hash_password(password: str) -> str:
    """Argon2id hash of `password`."""
    return _hasher.hash(password)


def create_user(
    session: Session, username: str, password: str, role: UserRole, institution_id: int | None
) -> User:
    """Create an account; institution users must name an existing institution."""
    if len(password) < 8:
        raise DomainError("密码长度至少 8 位", field="password")
    if (role == UserRole.institution) != (institution_id is not None):
        raise DomainError("机构用户必须且只能绑定一个入驻机构", field="institution_id")
    if institution_id is not None and session.get(Institution, institution_id) is None:
        raise NotFoundError(f"入驻机构 {institution_id} 不存在", field="institution_id")
    if session.exec(select(User).where(User.username == username)).first():
        raise ConflictError(f"用户名“{username}”已存在", field="username")
    user = User(username=username, password_hash=hash_password(password), role=role,
                institution_id=institution_id)  # fmt: skip
    session.add(user)
    session.flush()
    append_audit(session, actor="system", action="create", entity="user", entity_id=user.id,
                 detail={"username": username, "role": role.value})  # fmt: skip
    return user


def authenticate(session: Session, username: str, password: str) -> Principal | None:
    """The principal for valid credentials, else None (same answer for unknown user)."""
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None or not user.active:
        _hasher.hash(password)  # spend the same time as a real check
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    return Principal(user.username, user.role, user.institution_id, user.id)


# Every authenticated request runs one of these: plain Core statements over the columns a
# Principal needs, built once (no ORM entity loading, no per-call statement construction).
_USERS, _KEYS = User.__table__, ApiKey.__table__  # type: ignore[attr-defined]
_USER_BY_NAME = core_select(
    _USERS.c.username, _USERS.c.role, _USERS.c.institution_id, _USERS.c.id, _USERS.c.active
).where(_USERS.c.username == bindparam("username"))
_KEY_BY_HASH = core_select(_KEYS.c.prefix, _KEYS.c.institution_id, _KEYS.c.revoked_at).where(
    _KEYS.c.key_hash == bindparam("key_hash")
)


def principal_for_user(session: Session, username: str) -> Principal | None:
    """Re-load a token's subject; None when the account is gone or disabled."""
    row = session.connection().execute(_USER_BY_NAME, {"username": username}).first()
    if row is None or not row.active:
        return None
    return Principal(row.username, UserRole(row.role), row.institution_id, row.id)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue_api_key(session: Session, institution_id: int, actor: str) -> tuple[ApiKey, str]:
    """A new key for an institution; the plain key is returned once and never stored."""
    if session.get(Institution, institution_id) is None:
        raise NotFoundError(f"入驻机构 {institution_id} 不存在")
    plain = API_KEY_PREFIX + secrets.token_urlsafe(32)  # 256 bits of entropy
    key = ApiKey(institution_id=institution_id, key_hash=_digest(plain), prefix=plain[:10])
    session.add(key)
    session.flush()
    append_audit(session, actor=actor, action="create", entity="api_key", entity_id=key.id,
                 detail={"institution_id": institution_id})  # fmt: skip
    return key, plain


def revoke_api_key(session: Session, key_id: int, actor: str) -> ApiKey:
    """Revoke a key; later requests with it get 401."""
    key = session.get(ApiKey, key_id)
    if key is None:
        raise NotFoundError(f"API 密钥 {key_id} 不存在")
    key.revoked_at = key.revoked_at or utcnow()
    session.add(key)
    append_audit(session, actor=actor, action="revoke", entity="api_key", entity_id=key_id)
    return key


def principal_for_api_key(session: Session, plain: str) -> Principal | None:
    """The institution client behind a key, or None when unknown or revoked."""
    key = session.connection().execute(_KEY_BY_HASH, {"key_hash": _digest(plain)}).first()
    if key is None or key.revoked_at is not None:
        return None
    return Principal(f"api-key:{key.prefix}", UserRole.institution, key.institution_id)
