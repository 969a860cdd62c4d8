"""Users (Argon2id password hashes) and institutions' API keys (≥ 256 bits, stored as SHA-256).

Usernames are stored normalised (NFKC, trimmed, case-folded) and every look-up normalises too;
after normalisation a username holds only ASCII letters, digits and `._-`, or Han characters, so
no Cyrillic, Greek or combining-mark lookalike of another name can be created. Passwords have at
least `MIN_PASSWORD_LENGTH` characters, `MIN_DISTINCT_CHARACTERS` different ones, no control or
format characters, do not contain the username, and are not on Django's list of 20,000 common
passwords (`models/data/common-passwords.txt.gz`, from Royce Williams' compilation). Every
change to an account (password, role, status, unlock) is audited, never with the password, and
bumps `token_version`, which ends the user's tokens and console sessions at their next request;
setting the password, disabling the account and changing its role or institution also revoke the
API keys the user issued (a compromised or departed account must not live on in a key).
"""

import gzip
import hashlib
import re
import secrets
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from importlib.resources import files

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from sqlmodel import Session

from models import ApiKey, Enterprise, EnterpriseInvitation, Institution, User
from models.base import utcnow
from models.errors import ConflictError, DomainError, NotFoundError
from models.reference import UserRole
from services.accounts import repository as repo
from services.audit.repository import append_audit

_hasher = PasswordHasher()  # argon2-cffi defaults: Argon2id, RFC 9106 low-memory profile


def use_password_hasher(hasher: PasswordHasher) -> None:
    """Swap the Argon2id parameters (tests use a cheap profile; production keeps the default)."""
    global _hasher
    _hasher = hasher


API_KEY_PREFIX = "tfm_"
MIN_PASSWORD_LENGTH = 12  # every role: staff and institution users alike
MAX_PASSWORD_LENGTH = 200  # the console's login form accepts no more
MAX_USERNAME_LENGTH = 60
MIN_DISTINCT_CHARACTERS = 5  # "aaaaaaaaaaaa", "abababababab" are refused
# A username of at least this many characters may not occur anywhere in the password; a shorter
# one only may not be the whole password (it would forbid too many passwords to help).
MIN_USERNAME_IN_PASSWORD = 3
# After NFKC: ASCII letters, digits and . _ - , or CJK unified ideographs (Han). Nothing else, so
# no mixed-script lookalike ("аdmin1" with Cyrillic а) or combining mark ("admin1" + U+0301).
_USERNAME_CHARACTERS = re.compile(r"[a-z0-9._\-\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0003134f]+")
# Control (NUL, ESC …), format (zero-width, bidi overrides), surrogate and private-use characters.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co"})


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user, or an institution's machine client."""

    username: str
    role: UserRole
    institution_id: int | None = None
    user_id: int | None = None
    token_version: int = 0
    enterprise_id: int | None = None


def hash_password(password: str) -> str:
    """Argon2id hash of `password`."""
    return _hasher.hash(password)


def normalize_username(raw: str) -> str:
    """The canonical form of a username: NFKC, trimmed, case-folded (" ADMIN1" → "admin1")."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", raw).casefold())
    return folded.strip()


def _check_username(username: str) -> None:
    if not username:
        raise DomainError("用户名不能为空", field="username")
    if len(username) > MAX_USERNAME_LENGTH:
        raise DomainError(f"用户名最长 {MAX_USERNAME_LENGTH} 个字符", field="username")
    if not username.isprintable() or any(ch.isspace() for ch in username):
        raise DomainError("用户名不能包含空白或控制字符", field="username")
    if not _USERNAME_CHARACTERS.fullmatch(username):
        raise DomainError(
            "用户名只能由英文字母、数字、点（.）、下划线（_）、连字符（-）或汉字组成；"
            "不接受西里尔、希腊等其他文字及组合符号，以免出现与已有用户名形似的名字",
            field="username",
        )


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """Django's list of 20,000 common passwords (lower case), loaded once."""
    data = files("models").joinpath("data/common-passwords.txt.gz").read_bytes()
    return frozenset(gzip.decompress(data).decode().split())


def check_password(password: str, username: str = "") -> None:
    """Refuse a password that is too short or too long, has control characters or too few
    different characters, is common, or contains the username."""
    if any(unicodedata.category(ch) in _INVISIBLE_CATEGORIES for ch in password):
        raise DomainError("密码不能包含控制字符或不可见的格式字符", field="password")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(f"密码长度至少 {MIN_PASSWORD_LENGTH} 位", field="password")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise DomainError(f"密码最长 {MAX_PASSWORD_LENGTH} 位", field="password")
    if len(set(password.casefold())) < MIN_DISTINCT_CHARACTERS:
        raise DomainError(
            f"密码至少包含 {MIN_DISTINCT_CHARACTERS} 个不同的字符（不能是同一字符的重复）",
            field="password",
        )
    lowered = password.strip().lower()
    if lowered in common_passwords():
        raise DomainError("该密码属于常见弱密码，请换一个更难猜的密码", field="password")
    folded = normalize_username(password)
    if username and folded == username:
        raise DomainError("密码不能与用户名相同", field="password")
    if len(username) >= MIN_USERNAME_IN_PASSWORD and username in folded:
        raise DomainError("密码不能包含用户名（不区分大小写）", field="password")


def create_user(
    session: Session, username: str, password: str, role: UserRole, institution_id: int | None,
    *, enterprise_id: int | None = None, email: str | None = None, actor: str = "system",
) -> User:  # fmt: skip
    """Create an account (normalised username, password policy); institution users must name an
    existing institution, enterprise users an existing enterprise."""
    username = normalize_username(username)
    _check_username(username)
    check_password(password, username)
    _check_binding(session, role, institution_id, enterprise_id)
    if find_user(session, username) is not None:
        raise ConflictError(f"用户名“{username}”已存在", field="username")
    user = User(username=username, password_hash=hash_password(password), role=role,
                institution_id=institution_id, enterprise_id=enterprise_id,
                email=_email(email))  # fmt: skip
    session.add(user)
    session.flush()
    append_audit(session, actor=actor, action="create", entity="user", entity_id=user.id,
                 detail={"username": username, "role": role.value,
                         "enterprise_id": enterprise_id})  # fmt: skip
    return user


def _check_binding(
    session: Session, role: UserRole, institution_id: int | None, enterprise_id: int | None
) -> None:
    """Institution users name exactly one existing institution, enterprise users one existing
    enterprise; nobody else names either."""
    if (role == UserRole.institution) != (institution_id is not None):
        raise DomainError("机构用户必须且只能绑定一个入驻机构", field="institution_id")
    if (role == UserRole.enterprise) != (enterprise_id is not None):
        raise DomainError("企业用户必须且只能绑定一家企业", field="enterprise_id")
    if institution_id is not None and session.get(Institution, institution_id) is None:
        raise NotFoundError(f"入驻机构 {institution_id} 不存在", field="institution_id")
    if enterprise_id is not None and session.get(Enterprise, enterprise_id) is None:
        raise NotFoundError(f"企业 {enterprise_id} 不存在", field="enterprise_id")


def _email(raw: str | None) -> str | None:
    """A notice address, checked like a subscription's (None when blank)."""
    if raw is None or not raw.strip():
        return None
    try:
        checked = validate_email(raw.strip(), check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise DomainError("邮箱地址无效（应形如 name@example.com）", field="email") from exc
    return str(checked.ascii_email or checked.normalized)


def find_user(session: Session, username: str) -> User | None:
    """The account of `username` (normalised first), or None."""
    return repo.user_named(session, normalize_username(username))


def get_user(session: Session, username: str) -> User:
    """The account of `username`; `NotFoundError` when there is none."""
    user = find_user(session, username)
    if user is None:
        raise NotFoundError(f"用户“{normalize_username(username)}”不存在", field="username")
    return user


def list_users(session: Session) -> list[User]:
    """Every account, by username."""
    return repo.users(session)


def verify_password(user: User | None, password: str) -> bool:
    """True when `password` matches `user`'s hash; the same time is spent for no user."""
    if user is None:
        _hasher.hash(password)  # spend the same time as a real check
        return False
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    return True


def principal_of(user: User) -> Principal:
    """The principal of an account, with its current token version."""
    return Principal(user.username, user.role, user.institution_id, user.id, user.token_version,
                     user.enterprise_id)  # fmt: skip


def _end_sessions(session: Session, user: User) -> None:
    """Revoke every token and console session of `user` (atomically: concurrent bumps add up)."""
    repo.bump_token_version(session, user.id)
    session.refresh(user)


def _changed(
    session: Session, user: User, actor: str, action: str, *, end: bool = True,
    revoke: bool = False, detail: Mapping[str, object] = {},
) -> User:  # fmt: skip
    """Store a change to an account, end its sessions and revoke the keys it issued if asked,
    and audit it (the revocations name `action` as their reason)."""
    session.add(user)
    session.flush()
    if end:
        _end_sessions(session, user)
    if revoke:
        _revoke_keys_of(session, user, actor, action)
    append_audit(session, actor=actor, action=action, entity="user", entity_id=user.id,
                 detail={"username": user.username, **detail})  # fmt: skip
    return user


def set_password(session: Session, username: str, password: str, actor: str) -> User:
    """Replace a user's password (policy checked); ends the user's sessions."""
    user = get_user(session, username)
    check_password(password, user.username)
    user.password_hash = hash_password(password)
    return _changed(session, user, actor, "set_password", revoke=True)


def set_role(
    session: Session, username: str, role: UserRole, actor: str, institution_id: int | None = None
) -> User:
    """Give a user another role (institution users keep or name their institution); ends the
    user's sessions."""
    user = get_user(session, username)
    if role == UserRole.institution:
        institution_id = institution_id or user.institution_id
        if institution_id is None or session.get(Institution, institution_id) is None:
            raise DomainError("机构用户必须绑定一个存在的入驻机构", field="institution_id")
    else:
        institution_id = None
    if role == UserRole.enterprise and user.enterprise_id is None:
        raise DomainError("企业用户必须绑定一家企业，请另行创建企业用户", field="role")
    if role != UserRole.enterprise:
        user.enterprise_id = None
    before = (user.role, user.institution_id)
    user.role, user.institution_id = role, institution_id
    detail = {"from": before[0].value, "to": role.value, "institution_id": institution_id}
    revoke = before != (role, institution_id)
    return _changed(session, user, actor, "set_role", revoke=revoke, detail=detail)


def set_active(session: Session, username: str, active: bool, actor: str) -> User:
    """Disable (or re-enable) an account; disabling ends the user's sessions."""
    user = get_user(session, username)
    user.active = active
    return _changed(session, user, actor, "enable" if active else "disable", revoke=not active)


def unlock_user(session: Session, username: str, actor: str) -> User:
    """Lift a lock-out and forget the failed logins."""
    user = get_user(session, username)
    user.locked_at, user.failed_logins = None, 0
    return _changed(session, user, actor, "unlock", end=False)


def end_sessions(session: Session, username: str, actor: str) -> None:
    """Sign a user out everywhere (console logout): every token and session stops working."""
    user = find_user(session, username)
    if user is not None:
        _changed(session, user, actor, "logout")


def principal_for_user(session: Session, username: str, version: int = 0) -> Principal | None:
    """Re-load a token's subject; None when the account is gone, disabled or locked, or the
    token was issued under an older `token_version` (password, role or status changed, logout)."""
    row = repo.principal_row(session, username)
    if row is None or not row.active or row.locked_at is not None:
        return None
    if row.token_version != version:
        return None
    return Principal(row.username, UserRole(row.role), row.institution_id, row.id,
                     row.token_version, row.enterprise_id)  # fmt: skip


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue_api_key(
    session: Session, institution_id: int, actor: str, created_by: int | None = None
) -> tuple[ApiKey, str]:
    """A new key for an institution, issued by the user `created_by` (revoked with that user's
    account changes); the plain key is returned once and never stored."""
    if session.get(Institution, institution_id) is None:
        raise NotFoundError(f"入驻机构 {institution_id} 不存在")
    plain = API_KEY_PREFIX + secrets.token_urlsafe(32)  # 256 bits of entropy
    key = ApiKey(institution_id=institution_id, key_hash=_digest(plain), prefix=plain[:10],
                 created_by=created_by)  # fmt: skip
    session.add(key)
    session.flush()
    append_audit(session, actor=actor, action="create", entity="api_key", entity_id=key.id,
                 detail={"institution_id": institution_id, "created_by": created_by})  # fmt: skip
    return key, plain


@dataclass(frozen=True)
class ApiKeyListing:
    """One key of an institution as its users see it (never the hash)."""

    key: ApiKey
    creator: str | None


def list_api_keys(session: Session, institution_id: int) -> list[ApiKeyListing]:
    """The keys of an institution, newest first, with the username of whoever issued each."""
    return [
        ApiKeyListing(key, creator)
        for key, creator in repo.keys_with_creator(session, institution_id)
    ]


def revoke_api_key(
    session: Session, key_id: int, actor: str, institution_id: int | None = None
) -> ApiKey:
    """Revoke a key; later requests with it get 401. With `institution_id`, only a key of that
    institution (another institution's key is "not found", as if it did not exist)."""
    key = session.get(ApiKey, key_id)
    if key is None or (institution_id is not None and key.institution_id != institution_id):
        raise NotFoundError(f"API 密钥 {key_id} 不存在")
    key.revoked_at = key.revoked_at or utcnow()
    session.add(key)
    append_audit(session, actor=actor, action="revoke", entity="api_key", entity_id=key_id)
    return key


def _revoke_keys_of(session: Session, user: User, actor: str, reason: str) -> None:
    """Revoke every live key `user` issued; one audit row per key, naming the account change."""
    for key in repo.live_keys_issued_by(session, user.id):
        key.revoked_at = utcnow()
        session.add(key)
        append_audit(session, actor=actor, action="revoke", entity="api_key", entity_id=key.id,
                     detail={"reason": reason, "created_by": user.username})  # fmt: skip
    session.flush()


def principal_for_api_key(session: Session, plain: str) -> Principal | None:
    """The institution client behind a key, or None when unknown or revoked."""
    key = repo.key_row(session, _digest(plain))
    if key is None or key.revoked_at is not None:
        return None
    return Principal(f"api-key:{key.prefix}", UserRole.institution, key.institution_id)


# --- invitation links for enterprise users (the portal)

INVITATION_PREFIX = "tfi_"


def invite_enterprise_user(
    session: Session, enterprise_id: int, actor: str, *, hours: int = 72, email: str | None = None
) -> tuple[EnterpriseInvitation, str]:
    """A single-use link token that creates one enterprise user of `enterprise_id` within
    `hours`; only its SHA-256 is kept, the plain token is returned once."""
    if session.get(Enterprise, enterprise_id) is None:
        raise NotFoundError(f"企业 {enterprise_id} 不存在", field="enterprise_id")
    if not 1 <= hours <= 24 * 30:
        raise DomainError("邀请有效期应在 1 小时到 30 天之间", field="hours")
    plain = INVITATION_PREFIX + secrets.token_urlsafe(32)
    invitation = EnterpriseInvitation(enterprise_id=enterprise_id, token_hash=_digest(plain),
                                      email=_email(email), created_by=actor,
                                      expires_at=utcnow() + timedelta(hours=hours))  # fmt: skip
    session.add(invitation)
    session.flush()
    append_audit(session, actor=actor, action="invite", entity="enterprise",
                 entity_id=enterprise_id, detail={"invitation": invitation.id})  # fmt: skip
    return invitation, plain


def accept_invitation(
    session: Session, token: str, username: str, password: str, email: str | None = None
) -> User:
    """Create the enterprise user an unused, unexpired invitation allows; the invitation is
    used up (claimed atomically, so two concurrent acceptances create one user)."""
    invitation = repo.invitation_by_hash(session, _digest(token))
    if (
        invitation is None
        or invitation.used_at is not None
        or _aware(invitation.expires_at) <= utcnow()
    ):
        raise DomainError("邀请链接无效、已使用或已过期，请联系中心重新发送", field="token")
    user = create_user(session, username, password, UserRole.enterprise, None,
                       enterprise_id=invitation.enterprise_id,
                       email=email or invitation.email, actor="invitation")  # fmt: skip
    if not repo.use_invitation(session, invitation.id or 0, user.id or 0, utcnow()):
        raise DomainError("邀请链接已被使用", field="token")
    return user


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
