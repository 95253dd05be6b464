"""Settings of sign-in and sessions, and where the signing key comes from.

>>> settings = SecuritySettings(secret_key="k" * 32)
>>> settings.cookie_name, settings.session_max_age
('systemic_session', 28800)
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from systemic.store.accounts import ThrottlePolicy

#: Environment variable holding the session signing key itself.
SECRET_ENV = "SYSTEMIC_SESSION_SECRET"
#: Environment variable naming a file that holds the session signing key.
SECRET_FILE_ENV = "SYSTEMIC_SESSION_SECRET_FILE"


class SecurityConfigError(ValueError):
    """The security settings cannot be used (e.g. a signing key that is too short)."""


def load_secret_key() -> str:
    """The session signing key: ``$SYSTEMIC_SESSION_SECRET``, else the file named by
    ``$SYSTEMIC_SESSION_SECRET_FILE``, else a random key for this process only (sessions
    then end when the server restarts)."""
    if os.environ.get(SECRET_ENV):
        return os.environ[SECRET_ENV]
    path = os.environ.get(SECRET_FILE_ENV)
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SecurityConfigError(
                f"{SECRET_FILE_ENV}={path}: cannot read the session key ({exc.strerror}); "
                "create it with `python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
            ) from exc
    return secrets.token_urlsafe(48)


def _default_workspace(scope: MutableMapping[str, Any]) -> str | None:
    """The workspace an earlier middleware chose (``scope["state"]["workspace"]``), else
    the app's (``app.state.workspace``), as ``systemic.web.deps.workspace_slug`` reads it."""
    chosen = scope.get("state", {}).get("workspace")
    if chosen:
        return str(chosen)
    app = scope.get("app")
    return getattr(getattr(app, "state", None), "workspace", None)


@dataclass
class SecuritySettings:
    """How the app authenticates and protects requests.

    ``trust_proxy_headers``: believe ``X-Forwarded-Proto``/``X-Forwarded-For`` (only
    behind a reverse proxy that sets them); ``proxy_hops``: how many proxies in front
    of the app append to ``X-Forwarded-For`` (the client is that many entries from
    the right; entries further left are the client's own claims).
    ``public_paths``: prefixes served to anyone (their routes declare ``public``; a
    test checks the two agree). Roles are declared on the routes themselves.
    ``workspace_of``: the workspace (slug or id) a request works in.
    """

    secret_key: str = field(default_factory=load_secret_key, repr=False)
    cookie_name: str = "systemic_session"
    csrf_cookie_name: str = "systemic_login_csrf"
    csrf_header: str = "X-CSRF-Token"
    csrf_field: str = "csrf_token"
    session_max_age: int = 8 * 3600
    trust_proxy_headers: bool = False
    proxy_hops: int = 1
    throttle: ThrottlePolicy = field(default_factory=ThrottlePolicy)
    public_paths: tuple[str, ...] = ("/login", "/static/")
    workspace_of: Callable[[MutableMapping[str, Any]], str | None] = _default_workspace

    def __post_init__(self) -> None:
        if self.proxy_hops < 1:
            raise SecurityConfigError(
                f"proxy_hops must be 1 or more (the proxies in front of the app), "
                f"not {self.proxy_hops}"
            )
        if len(self.secret_key) < 32:
            raise SecurityConfigError(
                "the session signing key must have at least 32 characters; "
                f"set {SECRET_ENV} or {SECRET_FILE_ENV}"
            )
