"""Request body and field size limits (the review stored 1, 10 and 100 MB descriptions)."""

from __future__ import annotations

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
