"""Users, roles, passwords, tokens, throttling and the append-only audit trail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from systemic.store import Store
from systemic.store.accounts import (
    AccountError,
    ApiToken,
    AuditEvent,
    InvalidCredentialsError,
    LoginThrottledError,
    ThrottlePolicy,
    UserAccount,
    authenticate,
    count_admins,
    create_token,
    create_user,
    hash_password,
    list_users,
    record_event,
    remove_user,
    revoke_token,
    role_allows,
    role_in,
    set_password,
    set_role,
    token_digest,
    user_for_token,
    verify_password,
)
from systemic.store.repository import create_workspace, ensure_default_workspace

PASSWORD = "four words make a phrase"


@pytest.mark.production_argon2
def test_password_hash_is_argon2id_salted_and_verifies() -> None:
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first.startswith("$argon2id$") and first != second  # salted
    assert PASSWORD not in first
    assert verify_password(first, PASSWORD) and verify_password(second, PASSWORD)
    assert not verify_password(first, PASSWORD + "x")
    assert not verify_password("not a hash", PASSWORD)
    assert "m=65536" in first  # the library's recommended memory cost (RFC 9106), not lowered


def test_roles_are_ordered() -> None:
    assert [role_allows("editor", r) for r in ("viewer", "editor", "admin")] == [True, True, False]
    assert not role_allows(None, "viewer") and not role_allows("owner", "viewer")
    with pytest.raises(AccountError, match="unknown role"):
        role_allows("admin", "superuser")


def test_users_roles_and_removal(sqlite_store: Store) -> None:
    with sqlite_store.session() as s:
        ws = ensure_default_workspace(s)
        other = create_workspace(s, name="NHS trust", slug="trust")
        create_user(s, "amira", PASSWORD, display_name="Amira")
        with pytest.raises(AccountError, match="already exists"):
            create_user(s, "amira", PASSWORD)
        with pytest.raises(AccountError, match="at least 12"):
            create_user(s, "bob", "short")
        create_user(s, "bob", PASSWORD)
        set_role(s, "amira", ws.id, "admin")
        set_role(s, "bob", ws.id, "viewer")
        set_role(s, "bob", ws.id, "editor")
        set_role(s, "bob", other.id, "viewer")
        with pytest.raises(AccountError, match="unknown role"):
            set_role(s, "bob", ws.id, "owner")
        s.commit()
        users = {u.username: roles for u, roles in list_users(s)}
        assert users == {
            "amira": {"default": "admin"},
            "bob": {"default": "editor", "trust": "viewer"},
        }
        assert count_admins(s) == 1
        bob = s.scalar(select(UserAccount).where(UserAccount.username == "bob"))
        set_role(s, "bob", other.id, None)
        assert role_in(s, bob.id, other.id) is None
        remove_user(s, "bob")
        s.commit()
        assert [u.username for u, _ in list_users(s)] == ["amira"]
        with pytest.raises(AccountError, match="no user"):
            set_role(s, "bob", ws.id, "viewer")


def test_authenticate_and_throttle_per_user_and_per_ip(sqlite_store: Store) -> None:
    policy = ThrottlePolicy(max_failures_per_user=3, max_failures_per_ip=5)
    t0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    with sqlite_store.session() as s:
        create_user(s, "amira", PASSWORD)
        assert (
            authenticate(s, "amira", PASSWORD, ip="10.0.0.1", policy=policy, now=t0).username
            == "amira"
        )
        for i in range(3):
            with pytest.raises(InvalidCredentialsError):
                authenticate(
                    s,
                    "amira",
                    "wrong guess!!",
                    ip="10.0.0.1",
                    policy=policy,
                    now=t0 + timedelta(seconds=i),
                )
        # Locked: even the right password is refused, with the time to wait.
        with pytest.raises(LoginThrottledError) as locked:
            authenticate(
                s, "amira", PASSWORD, ip="10.0.0.9", policy=policy, now=t0 + timedelta(minutes=1)
            )
        assert 14 * 60 <= locked.value.retry_after <= 15 * 60
        # After the lock-out window the right password works again.
        later = t0 + timedelta(minutes=16)
        assert authenticate(s, "amira", PASSWORD, ip="10.0.0.1", policy=policy, now=later)
        # Per address: many usernames guessed from one address lock that address.
        for i in range(5):
            with pytest.raises(InvalidCredentialsError):
                authenticate(
                    s,
                    f"nobody{i}",
                    "x" * 12,
                    ip="10.6.6.6",
                    policy=policy,
                    now=later + timedelta(seconds=i),
                )
        with pytest.raises(LoginThrottledError):
            authenticate(
                s,
                "amira",
                PASSWORD,
                ip="10.6.6.6",
                policy=policy,
                now=later + timedelta(seconds=10),
            )
        assert authenticate(
            s, "amira", PASSWORD, ip="10.0.0.2", policy=policy, now=later + timedelta(seconds=10)
        )


def test_disabled_user_and_changed_password(sqlite_store: Store) -> None:
    with sqlite_store.session() as s:
        user = create_user(s, "amira", PASSWORD)
        set_password(s, "amira", "a brand new pass phrase")
        with pytest.raises(InvalidCredentialsError):
            authenticate(s, "amira", PASSWORD, ip="1")
        user.disabled = True
        with pytest.raises(InvalidCredentialsError):
            authenticate(s, "amira", "a brand new pass phrase", ip="1")


def test_tokens_stored_hashed_shown_once_and_revocable(sqlite_store: Store) -> None:
    with sqlite_store.session() as s:
        create_user(s, "script", PASSWORD)
        secret, row = create_token(s, "script", "nightly import")
        s.commit()
        assert secret.startswith("syst_") and len(secret) > 40
        stored = s.execute(text("SELECT token_sha256, name FROM api_token")).one()
        assert stored == (token_digest(secret), "nightly import")
        assert secret not in str(stored)
        assert user_for_token(s, secret).username == "script"
        with pytest.raises(InvalidCredentialsError):
            user_for_token(s, secret[:-1] + ("A" if secret[-1] != "A" else "B"))
        with pytest.raises(InvalidCredentialsError):
            user_for_token(s, "Bearer nonsense")
        revoke_token(s, row.id)
        with pytest.raises(InvalidCredentialsError):
            user_for_token(s, secret)
        assert s.get(ApiToken, row.id).revoked_at is not None


def test_audit_trail_is_append_only_in_the_database(sqlite_store: Store) -> None:
    with sqlite_store.session() as s:
        record_event(s, actor="amira", action="export", before=None, after={"n": 1})
        s.commit()
    for statement in ("UPDATE audit_event SET actor = 'mallory'", "DELETE FROM audit_event"):
        with pytest.raises(DBAPIError, match="append-only"), sqlite_store.engine.begin() as conn:
            conn.execute(text(statement))
    with sqlite_store.session() as s:
        (event,) = s.scalars(select(AuditEvent))
        assert (event.actor, event.after) == ("amira", {"n": 1})
