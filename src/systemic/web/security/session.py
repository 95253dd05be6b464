"""Signed session cookies and CSRF tokens.

The session cookie holds the user id, the secret of a server-side session
(``systemic.store.accounts.start_session``: signing out or changing the password
deletes it, so a saved cookie stops working at once) and a per-session CSRF
token, signed and time-stamped with itsdangerous. It is HttpOnly, SameSite=Lax,
and Secure whenever the request came over HTTPS.

>>> codec = SessionCodec("s" * 32, max_age=60)
>>> data = codec.load(codec.dump(new_session("u1", "session-secret")))
>>> data["uid"], data["sid"]
('u1', 'session-secret')
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer


def new_csrf_token() -> str:
    """A fresh random CSRF token."""
    return secrets.token_urlsafe(32)


def new_session(user_id: str, session_secret: str) -> dict[str, Any]:
    """The content of a new session cookie for a user who just signed in, naming the
    server-side session ``session_secret``."""
    return {"uid": user_id, "sid": session_secret, "csrf": new_csrf_token()}


def tokens_match(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison of two CSRF tokens (False when either is missing)."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


class SessionCodec:
    """Signs and checks session cookies; ``load`` returns None for anything not valid."""

    def __init__(self, secret_key: str, *, max_age: int, salt: str = "systemic-session") -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt=salt)
        self.max_age = max_age

    def dump(self, data: dict[str, Any]) -> str:
        """The signed cookie value."""
        return str(self._serializer.dumps(data))

    def load(self, value: str | None) -> dict[str, Any] | None:
        """The session, or None when the value is missing, forged, expired or malformed."""
        if not value or len(value) > 4096:
            return None
        try:
            data = self._serializer.loads(value, max_age=self.max_age)
        except BadSignature:  # also covers SignatureExpired
            return None
        if not isinstance(data, dict) or not all(
            isinstance(data.get(k), str) for k in ("uid", "sid", "csrf")
        ):
            return None
        return data


def cookie_options(*, secure: bool, max_age: int | None) -> dict[str, Any]:
    """Attributes for ``Response.set_cookie`` of a session or CSRF cookie."""
    return {
        "httponly": True,
        "samesite": "lax",
        "secure": secure,
        "max_age": max_age,
        "path": "/",
    }
