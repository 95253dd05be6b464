"""Request body and field size limits (the review stored 1, 10 and 100 MB descriptions)."""

from __future__ import annotations

import re

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from systemic.web.limits import RequestLimits
from tests.web.live import live_server

DEFAULTS = RequestLimits()


def test_a_field_over_the_limit_is_refused_on_the_api(client: TestClient) -> None:
    too_long = "x" * (DEFAULTS.max_field_chars + 1)
    response = client.post("/api/principles", json={"name": "Ok", "description": too_long})
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "description"]
    assert f"{DEFAULTS.max_field_chars:,}" in error["msg"] and "shorten" in error["msg"]
    made = client.post("/api/principles", json={"name": "Ok", "description": "fine"}).json()
    patched = client.patch(f"/api/principles/{made['id']}", json={"description": too_long})
    assert patched.status_code == 422
    assert client.get(f"/api/principles/{made['id']}").json()["description"] == "fine"


def test_a_field_at_the_limit_is_kept(client: TestClient) -> None:
    exactly = "y" * DEFAULTS.max_field_chars
    response = client.post("/api/principles", json={"name": "Ok", "description": exactly})
    assert response.status_code == 201
    assert len(response.json()["description"]) == DEFAULTS.max_field_chars


def test_a_field_over_the_limit_is_refused_on_the_form(client: TestClient) -> None:
    response = client.post(
        "/principles/new",
        data={"name": "Ok", "description": "z" * (DEFAULTS.max_field_chars + 1)},
    )
    assert response.status_code == 422
    assert "the most a field may hold is 100,000" in response.text
    assert all(p["name"] != "Ok" for p in client.get("/api/principles").json())


def test_a_body_over_the_limit_is_refused_before_it_is_read(client: TestClient) -> None:
    body = b'{"name": "' + b"a" * DEFAULTS.max_body_bytes + b'"}'
    response = client.post(
        "/api/principles", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert "larger than this server accepts (2,097,152 bytes)" in response.json()["detail"]
    assert "content-security-policy" in response.headers


def test_a_streamed_body_without_a_length_is_cut_off(app: FastAPI, client: TestClient) -> None:
    """No Content-Length (chunked): the limit is counted as the body arrives."""
    chunk = b"b" * 65536

    def chunks():  # type: ignore[no-untyped-def]
        yield b'{"name": "'
        for _ in range(DEFAULTS.max_body_bytes // len(chunk) + 2):
            yield chunk
        yield b'"}'

    headers = dict(client.headers)
    with live_server(app) as base:
        response = httpx.post(
            base + "/api/principles",
            content=chunks(),
            headers={**headers, "Content-Type": "application/json"},
            cookies=dict(client.cookies),
            timeout=60,
        )
    assert response.status_code == 413, response.text[:300]


def test_a_form_body_over_the_limit_is_413(client: TestClient) -> None:
    response = client.post(
        "/principles/new", data={"name": "Ok", "description": "d" * DEFAULTS.max_body_bytes}
    )
    assert response.status_code == 413


def test_the_limits_are_configurable(app: FastAPI, client: TestClient) -> None:
    previous = app.state.limits
    app.state.limits = RequestLimits(max_field_chars=10)
    try:
        response = client.post("/api/principles", json={"name": "eleven char"})
    finally:
        app.state.limits = previous
    assert response.status_code == 422
    assert "the most a field may hold is 10:" in response.json()["detail"][0]["msg"]


def test_a_list_of_texts_counts_as_one_field(app: FastAPI, client: TestClient) -> None:
    # The recheck of the review: a conversation's strengths, 20 items of 90,000
    # characters each, were accepted (1.8 million characters in one field).
    previous = app.state.limits
    app.state.limits = RequestLimits(max_field_chars=10)
    try:
        over = client.post(
            "/api/conversations", json={"what_matters": "ok", "strengths": ["123456", "789012"]}
        )
        within = client.post(
            "/api/conversations", json={"what_matters": "ok", "strengths": ["12345", "1234"]}
        )
    finally:
        app.state.limits = previous
    assert over.status_code == 422, over.text
    [error] = over.json()["detail"]
    assert error["loc"] == ["body", "strengths"]
    assert "12 characters" in error["msg"] and "the most a field may hold is 10:" in error["msg"]
    assert within.status_code == 201, within.text


MIB = 1024 * 1024


def _assert_secured(response) -> None:  # type: ignore[no-untyped-def]
    for header in ("content-security-policy", "x-frame-options", "x-content-type-options"):
        assert header in response.headers, header
    assert response.headers["cache-control"] == "no-store"


def test_a_form_field_over_a_mebibyte_shows_the_form_again(client: TestClient) -> None:
    # Starlette's form parser refused any value over 1 MiB with its own JSON 400
    # ("Field exceeded maximum size of 1024KB"); the body (1.5 MiB) is within the
    # body limit, so the value is read and refused like any field over the limit.
    text = "z" * (3 * MIB // 2)
    urlencoded = client.post(
        "/principles/new", data={"name": "Ok", "description": text}, headers={"Accept": "text/html"}
    )
    multipart = client.post(
        "/principles/new",
        files={"name": (None, "Ok"), "description": (None, text)},
        headers={"Accept": "text/html"},
    )
    for response in (urlencoded, multipart):
        assert response.status_code == 422, response.text[:300]
        assert response.headers["content-type"].startswith("text/html")
        assert '<form method="post"' in response.text and 'name="description"' in response.text
        assert (
            '<span class="error-message" id="error-description">Text is 1,572,864 characters; '
            "the most a field may hold is 100,000: shorten it" in response.text
        )
        _assert_secured(response)
    assert all(p["name"] != "Ok" for p in client.get("/api/principles").json())


def test_a_form_body_over_the_limit_is_a_page_for_a_browser(client: TestClient) -> None:
    data = {"name": "Ok", "description": "d" * DEFAULTS.max_body_bytes}
    page = client.post(
        "/principles/new", data=data, headers={"Accept": "text/html,application/xhtml+xml"}
    )
    # htmx (the pages' boosted forms): a notice put above the form, which keeps the text.
    notice = client.post("/principles/new", data=data, headers={"HX-Request": "true"})
    for response in (page, notice):
        assert response.status_code == 413
        assert response.headers["content-type"].startswith("text/html")
        assert "Too much to send" in response.text
        assert "at most 2,097,152 bytes" in response.text
        assert "shorten it or split it over several objects" in response.text
        assert "--max-body-bytes" in response.text
        _assert_secured(response)
    assert "<h1>Too much to send</h1>" in page.text and "Nothing was saved" in page.text
    assert notice.text.startswith('<div class="error-summary" role="alert"')
    assert notice.headers["hx-retarget"] == "#request-notice"
    assert 'id="request-notice"' in client.get("/principles/new").text
    # A script still gets JSON.
    response = client.post("/principles/new", data=data, headers={"Accept": "application/json"})
    assert response.status_code == 413 and "2,097,152 bytes" in response.json()["detail"]


def test_sign_in_with_a_value_over_a_mebibyte_is_refused_by_the_sign_in_page(
    app: FastAPI,
) -> None:
    with TestClient(app) as anonymous:
        page = anonymous.get("/login")
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert found is not None
        response = anonymous.post(
            "/login",
            data={"username": "u" * (3 * MIB // 2), "password": "p", "csrf_token": found[1]},
            headers={"Accept": "text/html"},
        )
    assert response.status_code == 401, response.text[:300]
    assert "Unknown username or wrong password." in response.text
    _assert_secured(response)


def test_what_a_caller_said_over_a_mebibyte_shows_the_capture_form_again(
    client: TestClient,
) -> None:
    # The phone form: a multipart post (as a phone may send it) of 1.5 MiB.
    form = {"verbatim": "said " * (3 * MIB // 10), "demand_class": "value", "channel": "phone"}
    response = client.post(
        "/capture",
        files={k: (None, v) for k, v in form.items()},
        headers={"Accept": "text/html"},
        follow_redirects=False,
    )
    assert response.status_code == 422, response.text[:300]
    assert "the most a field may hold is 100,000" in response.text
    _assert_secured(response)
    assert client.get("/api/demands").json() == []
