"""Security headers on every response, a CSP without inline script, no server banner,
and the client's address taken from the trusted proxy hops only."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from systemic.web.app import create_app
from systemic.web.pages.site import STATIC_DIR, TEMPLATES_DIR
from systemic.web.security import SecuritySettings
from systemic.web.security.middleware import client_ip
from tests.web.conftest import SECRET
from tests.web.live import live_server

EVERY = ("content-security-policy", "x-content-type-options", "x-frame-options", "referrer-policy")


def _has_headers(response) -> None:  # type: ignore[no-untyped-def]
    missing = [h for h in EVERY if h not in response.headers]
    assert not missing, (response.request.url, response.status_code, missing)


def test_every_kind_of_response_carries_the_headers(app: FastAPI, client: TestClient) -> None:
    anonymous = TestClient(app)
    responses = [
        anonymous.get("/mission", follow_redirects=False),  # the redirect to /login
        anonymous.get("/login"),
        anonymous.get("/api/workspace"),  # 401
        anonymous.get("/static/systemic.css"),
        anonymous.get("/static/nothing-here.css"),  # 404
        client.get("/"),
        client.get("/api/stories"),
        client.get("/stories/not-an-id"),
        client.post("/api/principles", json={"name": "x" * 10, "bogus": 1}),  # 422
    ]
    assert responses[0].status_code == 303
    for response in responses:
        _has_headers(response)
    assert responses[5].headers["cache-control"] == "no-store"
    assert "max-age" in responses[3].headers["cache-control"]  # shipped files may be cached


def test_the_policy_allows_no_inline_script() -> None:
    from systemic.web.security.headers import CONTENT_SECURITY_POLICY

    policy = CONTENT_SECURITY_POLICY.decode()
    script = re.search(r"script-src ([^;]*)", policy)
    assert script is not None and script.group(1).split() == ["'self'"]
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy


def test_no_template_holds_an_inline_script_or_handler() -> None:
    """What the policy would block must not be there: scripts are files under static/."""
    offenders = []
    for path in sorted(Path(TEMPLATES_DIR).glob("*.html")):
        text = path.read_text()
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in tag:
                offenders.append(f"{path.name}: {tag}")
        offenders += [f"{path.name}: {m}" for m in re.findall(r"\son[a-z]+=", text)]
        offenders += [f"{path.name}: hx-on" for m in re.findall(r"hx-on", text)]
    assert not offenders
    assert (Path(STATIC_DIR) / "htmx.min.js").is_file()


def test_the_pages_load_no_script_from_elsewhere(client: TestClient) -> None:
    page = client.get("/").text
    sources = re.findall(r'<script[^>]*src="([^"]+)"', page)
    assert sources and all(s.startswith("/static/") for s in sources)


def test_the_server_sends_no_banner(app: FastAPI) -> None:
    with live_server(app) as base:
        response = httpx.get(base + "/login")
    assert response.status_code == 200
    assert "server" not in response.headers
    _has_headers(response)


@pytest.mark.parametrize(
    ("forwarded", "hops", "expected"),
    [
        ("6.6.6.6, 203.0.113.7", 1, "203.0.113.7"),  # the client's made-up entry is ignored
        ("1.1.1.1, 2.2.2.2, 203.0.113.7", 1, "203.0.113.7"),
        ("6.6.6.6, 203.0.113.7, 10.0.0.5", 2, "203.0.113.7"),  # two proxies
        ("203.0.113.7", 2, "10.0.0.1"),  # fewer entries than proxies: not via them
    ],
)
def test_the_client_address_counts_trusted_hops_from_the_right(
    forwarded: str, hops: int, expected: str
) -> None:
    settings = SecuritySettings(secret_key="k" * 32, trust_proxy_headers=True, proxy_hops=hops)
    scope = {"client": ("10.0.0.1", 1234)}
    assert client_ip(scope, {"x-forwarded-for": forwarded}, settings) == expected


def test_rotating_x_forwarded_for_does_not_escape_throttling(migrated_url: str) -> None:
    """The review escaped sign-in throttling by sending a new leftmost address each time."""
    settings = SecuritySettings(secret_key=SECRET, trust_proxy_headers=True, proxy_hops=1)
    app = create_app(migrated_url, security=settings)
    client = TestClient(app)
    statuses = []
    for n in range(25):
        page = client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token is not None
        statuses.append(
            client.post(
                "/login",
                data={"username": f"nobody{n}", "password": "wrong", "csrf_token": token.group(1)},
                headers={"X-Forwarded-For": f"198.51.100.{n}, 203.0.113.9"},
            ).status_code
        )
    app.state.store.dispose()
    assert statuses[:20] == [401] * 20  # 20 failures from one address (the policy's limit)
    assert statuses[20:] == [429] * 5  # then that address is throttled, whatever it claims
