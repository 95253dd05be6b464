"""Users, workspace roles, API tokens, login throttling and the audit trail.

Declared on the workspace's declarative ``Base`` (``systemic.store.orm``) so one
Alembic history creates them (revision ``0003``). Passwords are hashed with
Argon2id; API tokens are random 256-bit secrets of which only a SHA-256 digest
is stored (a token is shown once, when created). The audit trail is append-only:
the app only ever inserts into it, and the database refuses updates and deletes
(triggers created by the migration).

>>> from systemic.store import open_store
>>> from systemic.store.repository import ensure_default_workspace
>>> store = open_store("sqlite://")
>>> with store.session() as s:
...     ws = ensure_default_workspace(s)
...     user = create_user(s, "amira", "a long pass phrase")
...     set_role(s, "amira", ws.id, "admin")
...     s.commit()
...     authenticate(s, "amira", "a long pass phrase", ip="127.0.0.1").username
'amira'
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    delete,
    false,
    func,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from systemic.store.db import UTCDateTime
from systemic.store.orm import ID, Base, Workspace

#: Roles in increasing order of power; each includes what the ones before may do.
ROLES: tuple[str, ...] = ("viewer", "editor", "admin")
#: Shortest password accepted (a pass phrase of a few words is longer).
MIN_PASSWORD_LENGTH = 12
#: Prefix of every API token, so a leaked token is recognisable in logs and scanners.
TOKEN_PREFIX = "syst_"
#: How precisely a token's ``last_used_at`` is kept (a write at most this often).
TOKEN_USE_RESOLUTION = timedelta(minutes=1)

_HASHER = PasswordHasher()  # Argon2id with the library's current recommended costs
# Verified against when a username is unknown, so a miss costs as much as a hit.
_DUMMY_HASH = _HASHER.hash("systemic-dummy-password-for-timing")


class AccountError(Exception):
    """A problem with a user, role or token; the message says what to do."""


class InvalidCredentialsError(AccountError):
    """Unknown user, wrong password, disabled account, or unknown/revoked token."""


class LoginThrottledError(AccountError):
    """Too many failed sign-ins for this user or address; ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


# ---------------------------------------------------------------- tables


class UserAccount(Base):
    """A person who signs in. ``password_hash`` is an Argon2id hash, never the password."""

    __tablename__ = "user_account"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    display_name: Mapped[str] = mapped_column(Text, nullable=False, default="")
    password_hash: Mapped[str] = mapped_column(Text, nullable=False)
    disabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    #: A site admin may create workspaces (e.g. by importing a new one); a workspace's
    #: admins administer only their own. Set with ``systemic user add --site-admin``.
    site_admin: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )


class UserSession(Base):
    """A signed-in browser session: only a SHA-256 digest of its secret is kept.

    The cookie names the session; signing out deletes the row, and changing a
    password deletes all of the user's rows, so a saved cookie stops working at once.
    """

    __tablename__ = "user_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(
        ID, ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class Membership(Base):
    """A user's role in one workspace (viewer, editor or admin)."""

    __tablename__ = "workspace_membership"

    user_id: Mapped[str] = mapped_column(
        ID, ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    workspace_id: Mapped[str] = mapped_column(
        ID, ForeignKey("workspace.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(16), nullable=False)


class ApiToken(Base):
    """A token for scripts: only the SHA-256 digest of the secret is kept."""

    __tablename__ = "api_token"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    user_id: Mapped[str] = mapped_column(
        ID, ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(Text, nullable=False, default="")
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginAttempt(Base):
    """One sign-in attempt (for throttling); the password is never recorded."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_username_at", "username", "at"),
        Index("ix_login_attempt_ip_at", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    username: Mapped[str] = mapped_column(String(100), nullable=False)
    ip: Mapped[str] = mapped_column(String(64), nullable=False)
    success: Mapped[bool] = mapped_column(Boolean, nullable=False)


class AuditEvent(Base):
    """One entry of the append-only audit trail: who, when, what, before and after.

    No foreign keys: the trail outlives the users, workspaces and objects it names.
    """

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_workspace_id_at", "workspace_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    actor: Mapped[str] = mapped_column(String(200), nullable=False)
    workspace_id: Mapped[str | None] = mapped_column(ID)
    action: Mapped[str] = mapped_column(String(40), nullable=False)
    object_kind: Mapped[str] = mapped_column(String(40), nullable=False, default="")
    object_id: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    # Nothing before a create, nothing after a delete: nullable, as revision 0003 made them
    # (``Mapped[Any]`` alone would declare them NOT NULL and disagree with the schema).
    before: Mapped[Any] = mapped_column(JSON, nullable=True)
    after: Mapped[Any] = mapped_column(JSON, nullable=True)
    ip: Mapped[str] = mapped_column(String(64), nullable=False, default="")


#: Tables of this module, in the order a restore must load them.
ACCOUNT_TABLES = (UserAccount, Membership, ApiToken, LoginAttempt, AuditEvent)


# ---------------------------------------------------------------- passwords


def hash_password(password: str) -> str:
    """An Argon2id hash of ``password`` (salted; a new hash each call).

    >>> verify_password(hash_password("correct horse battery"), "correct horse battery")
    True
    """
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash`` (False on any mismatch or bad hash)."""
    try:
        return _HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def check_password_strength(password: str) -> None:
    """Refuse passwords that are too short or blank; raises :class:`AccountError`."""
    if len(password) < MIN_PASSWORD_LENGTH or not password.strip():
        raise AccountError(
            f"the password must have at least {MIN_PASSWORD_LENGTH} characters; "
            "a pass phrase of four or more words is easy to remember"
        )


# ---------------------------------------------------------------- users and roles


def _now() -> datetime:
    return datetime.now(UTC)


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    return role


def role_allows(held: str | None, needed: str) -> bool:
    """Whether a user holding role ``held`` may do what needs ``needed``.

    >>> role_allows("admin", "editor"), role_allows("viewer", "editor"), role_allows(None, "viewer")
    (True, False, False)
    """
    _check_role(needed)
    return held in ROLES and ROLES.index(held) >= ROLES.index(needed)


def get_user(session: Session, username: str) -> UserAccount:
    """The user named ``username``; raises :class:`AccountError` when there is none."""
    user = session.scalar(select(UserAccount).where(UserAccount.username == username))
    if user is None:
        raise AccountError(f"no user {username!r}; list users with `systemic user list`")
    return user


def create_user(
    session: Session,
    username: str,
    password: str,
    *,
    display_name: str = "",
    site_admin: bool = False,
) -> UserAccount:
    """Add a user with an Argon2id-hashed password (the caller commits)."""
    username = username.strip()
    if not username or len(username) > 100 or any(c.isspace() for c in username):
        raise AccountError("a username is 1 to 100 characters with no spaces")
    if session.scalar(select(UserAccount.id).where(UserAccount.username == username)):
        raise AccountError(f"user {username!r} already exists")
    check_password_strength(password)
    user = UserAccount(
        id=uuid.uuid4().hex,
        username=username,
        display_name=display_name,
        password_hash=hash_password(password),
        disabled=False,
        created_at=_now(),
        site_admin=site_admin,
    )
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, username: str, password: str) -> int:
    """Replace a user's password and end every session they have signed in with.

    Returns how many sessions were ended (the caller commits).
    """
    check_password_strength(password)
    user = get_user(session, username)
    user.password_hash = hash_password(password)
    session.flush()
    return end_all_sessions(session, user.id)


def change_password(session: Session, username: str, current: str, new: str) -> int:
    """A user's own change of password: ``current`` must be right (raises
    :class:`InvalidCredentialsError`), ``new`` strong enough and different. Ends every
    session of the user, this one included; returns how many."""
    user = get_user(session, username)
    if not verify_password(user.password_hash, current):
        raise InvalidCredentialsError("the current password is not right")
    if new == current:
        raise AccountError("the new password is the same as the current one; choose another")
    return set_password(session, username, new)


def set_site_admin(session: Session, username: str, site_admin: bool = True) -> None:
    """Make ``username`` a site admin (may create workspaces), or stop them being one."""
    get_user(session, username).site_admin = site_admin
    session.flush()


# ---------------------------------------------------------------- browser sessions


def session_digest(secret: str) -> str:
    """The SHA-256 hex digest stored for a session secret (random, so no salt)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def start_session(
    session: Session, user_id: str, *, max_age: timedelta, now: datetime | None = None
) -> str:
    """Record a new browser session for ``user_id``; returns its secret for the cookie.

    Sessions of any user that have expired are deleted on the way (the caller commits).
    """
    now = now or _now()
    session.execute(delete(UserSession).where(UserSession.expires_at < now))
    secret = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            id=session_digest(secret), user_id=user_id, created_at=now, expires_at=now + max_age
        )
    )
    session.flush()
    return secret


def session_user(session: Session, secret: str, now: datetime | None = None) -> UserAccount:
    """The user of a live browser session; :class:`InvalidCredentialsError` when the
    session was ended (signed out, password changed), has expired, or the user is
    disabled or removed."""
    if not secret or len(secret) > 200:
        raise InvalidCredentialsError("not a session")
    row = session.get(UserSession, session_digest(secret))
    if row is None or row.expires_at <= (now or _now()):
        raise InvalidCredentialsError("the session has ended; sign in again")
    user = session.get(UserAccount, row.user_id)
    if user is None or user.disabled:
        raise InvalidCredentialsError("the session's user is disabled or removed")
    return user


def end_session(session: Session, secret: str) -> None:
    """End one browser session (signing out); the caller commits."""
    session.execute(delete(UserSession).where(UserSession.id == session_digest(secret)))


def end_all_sessions(session: Session, user_id: str) -> int:
    """End every browser session of a user; returns how many were ended."""
    result = session.execute(delete(UserSession).where(UserSession.user_id == user_id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def remove_user(session: Session, username: str) -> None:
    """Delete a user, their memberships and tokens (the audit trail keeps their name)."""
    session.delete(get_user(session, username))
    session.flush()


def list_users(session: Session) -> list[tuple[UserAccount, dict[str, str]]]:
    """Every user with their roles as ``{workspace slug: role}``."""
    users = list(session.scalars(select(UserAccount).order_by(UserAccount.username)))
    roles: dict[str, dict[str, str]] = {u.id: {} for u in users}
    rows = session.execute(
        select(Membership.user_id, Workspace.slug, Membership.role).join(
            Workspace, Workspace.id == Membership.workspace_id
        )
    )
    for user_id, slug, role in rows:
        roles[user_id][slug] = role
    return [(u, roles[u.id]) for u in users]


def set_role(session: Session, username: str, workspace_id: str, role: str | None) -> None:
    """Give ``username`` ``role`` in a workspace, or remove access with ``role=None``."""
    user = get_user(session, username)
    membership = session.get(Membership, (user.id, workspace_id))
    if role is None:
        if membership is not None:
            session.delete(membership)
    elif membership is None:
        session.add(Membership(user_id=user.id, workspace_id=workspace_id, role=_check_role(role)))
    else:
        membership.role = _check_role(role)
    session.flush()


def role_in(session: Session, user_id: str, workspace_id: str) -> str | None:
    """The user's role in the workspace, or None when they have no access."""
    membership = session.get(Membership, (user_id, workspace_id))
    return membership.role if membership else None


def count_admins(session: Session) -> int:
    """How many users are admin of at least one workspace."""
    return int(
        session.scalar(
            select(func.count(func.distinct(Membership.user_id))).where(Membership.role == "admin")
        )
        or 0
    )


# ---------------------------------------------------------------- sign-in and throttling


@dataclass(frozen=True)
class ThrottlePolicy:
    """How many failures within ``window`` lock a username or an address, and for how long."""

    max_failures_per_user: int = 5
    max_failures_per_ip: int = 20
    window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=15)


def _failures(session: Session, column: Any, value: str, since: datetime) -> list[datetime]:
    return list(
        session.scalars(
            select(LoginAttempt.at)
            .where(column == value, LoginAttempt.success.is_(False), LoginAttempt.at >= since)
            .order_by(LoginAttempt.at)
        )
    )


def throttle_wait(
    session: Session,
    username: str,
    ip: str,
    policy: ThrottlePolicy = ThrottlePolicy(),
    now: datetime | None = None,
) -> int:
    """Seconds until ``username`` may try again from ``ip`` (0 when not locked)."""
    now = now or _now()
    since = now - max(policy.window, policy.lockout)
    wait = 0.0
    for column, value, limit in (
        (LoginAttempt.username, username, policy.max_failures_per_user),
        (LoginAttempt.ip, ip, policy.max_failures_per_ip),
    ):
        times = _failures(session, column, value, since)
        # Locked when `limit` failures fall within one window; the lock runs from the last.
        for i in range(limit - 1, len(times)):
            if times[i] - times[i - limit + 1] <= policy.window:
                wait = max(wait, (times[-1] + policy.lockout - now).total_seconds())
                break
    return max(0, int(wait + 0.999))


def authenticate(
    session: Session,
    username: str,
    password: str,
    *,
    ip: str,
    policy: ThrottlePolicy = ThrottlePolicy(),
    now: datetime | None = None,
) -> UserAccount:
    """Check a password, record the attempt, and return the user (the caller commits).

    Raises :class:`LoginThrottledError` while locked out (checked before the password,
    so guessing during a lock-out learns nothing) and :class:`InvalidCredentialsError`.
    """
    now = now or _now()
    username = username.strip()[:100]
    ip = ip[:64]
    wait = throttle_wait(session, username, ip, policy, now)
    if wait:
        raise LoginThrottledError(
            f"too many failed sign-ins; try again in {wait} seconds", retry_after=wait
        )
    user = session.scalar(select(UserAccount).where(UserAccount.username == username))
    ok = verify_password(user.password_hash if user else _DUMMY_HASH, password)
    ok = ok and user is not None and not user.disabled
    session.add(LoginAttempt(at=now, username=username, ip=ip, success=ok))
    session.flush()
    if not ok or user is None:
        raise InvalidCredentialsError("unknown username or wrong password")
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def prune_login_attempts(session: Session, older_than: timedelta = timedelta(days=30)) -> int:
    """Delete attempts older than ``older_than`` (they only matter for throttling)."""
    result = session.execute(delete(LoginAttempt).where(LoginAttempt.at < _now() - older_than))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# ---------------------------------------------------------------- API tokens


def token_digest(token: str) -> str:
    """The SHA-256 hex digest stored for a token (tokens are random, so no salt is needed)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(session: Session, username: str, name: str = "") -> tuple[str, ApiToken]:
    """A new API token for ``username``: returns the secret (shown once) and its row."""
    user = get_user(session, username)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        id=uuid.uuid4().hex,
        user_id=user.id,
        name=name,
        token_sha256=token_digest(secret),
        created_at=_now(),
    )
    session.add(row)
    session.flush()
    return secret, row


def revoke_token(session: Session, token_id: str) -> None:
    """Revoke a token by its id (as listed); it stops working at once."""
    row = session.get(ApiToken, token_id)
    if row is None:
        raise AccountError(f"no token {token_id!r}")
    row.revoked_at = row.revoked_at or _now()
    session.flush()


def user_for_token(session: Session, token: str) -> UserAccount:
    """The user a live token belongs to; raises :class:`InvalidCredentialsError` otherwise.

    Only reads; :func:`note_token_use` records when the token was used.
    """
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        raise InvalidCredentialsError("not a systemic API token")
    digest = token_digest(token)
    row = session.scalar(select(ApiToken).where(ApiToken.token_sha256 == digest))
    # compare_digest keeps the final comparison constant-time.
    if row is None or not hmac.compare_digest(row.token_sha256, digest) or row.revoked_at:
        raise InvalidCredentialsError("unknown or revoked API token")
    user = session.get(UserAccount, row.user_id)
    if user is None or user.disabled:
        raise InvalidCredentialsError("the token's user is disabled or removed")
    return user


def note_token_use(session: Session, token: str, now: datetime | None = None) -> bool:
    """Set a token's ``last_used_at`` (the caller commits); whether anything changed.

    Noted at most once a minute: a script's burst of requests makes one write, not
    one each (writes queue on SQLite), and the time is only there to spot unused
    tokens. Kept apart from :func:`user_for_token` so that a request never waits on,
    or fails over, this bookkeeping.
    """
    now = now or _now()
    row = session.scalar(select(ApiToken).where(ApiToken.token_sha256 == token_digest(token)))
    if row is None or (
        row.last_used_at is not None and now - row.last_used_at < TOKEN_USE_RESOLUTION
    ):
        return False
    row.last_used_at = now
    session.flush()
    return True


# ---------------------------------------------------------------- audit trail


def record_event(
    session: Session,
    *,
    actor: str,
    action: str,
    workspace_id: str | None = None,
    object_kind: str = "",
    object_id: str = "",
    before: Any = None,
    after: Any = None,
    ip: str = "",
    at: datetime | None = None,
) -> AuditEvent:
    """Append one event to the audit trail (the caller commits, with the change itself)."""
    event = AuditEvent(
        at=at or _now(),
        actor=actor[:200],
        workspace_id=workspace_id,
        action=action[:40],
        object_kind=object_kind[:40],
        object_id=str(object_id)[:64],
        before=before,
        after=after,
        ip=ip[:64],
    )
    session.add(event)
    session.flush()
    return event


def audit_trail(
    session: Session,
    workspace_id: str | None = None,
    *,
    actor: str | None = None,
    action: str | None = None,
    limit: int = 500,
) -> list[AuditEvent]:
    """The newest events first, optionally for one workspace, actor or action."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if workspace_id is not None:
        query = query.where(AuditEvent.workspace_id == workspace_id)
    if actor is not None:
        query = query.where(AuditEvent.actor == actor)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    return list(session.scalars(query))
