"""No 500s under concurrency (the review's 20 clients got 32), and the errors that
remain possible are answered properly.

- the same link made by many requests at once is made once, every request 200;
- a token's ``last_used_at`` note never fails a request, even with the database
  locked by another writer;
- ``/static/%00`` and over-long static names are 404, not 500;
- an unexpected error is a 500 that says ``Connection: close`` (the server drops
  the connection after it), and SQLite giving up on a lock is a 503 to retry.

The long run (20 clients for 60 s) is ``tests/web/test_soak.py``, marked soak.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from systemic.store import repository
from systemic.store.accounts import create_token
from systemic.web.app import create_app
from tests.web.conftest import ADMIN
from tests.web.live import live_server

CLIENTS = 20


def _token(app: FastAPI) -> str:
    with app.state.store.session() as session:
        secret, _ = create_token(session, ADMIN, "concurrency test")
        session.commit()
    return secret


def _measure_and_statement(app: FastAPI) -> tuple[str, str]:
    with app.state.store.session() as session:
        ws = repository.get_workspace(session, app.state.workspace).id
        measure = repository.create(session, ws, "measure", {"name": "Calls that recur"})
        statement = repository.create(
            session, ws, "purpose_statement", {"text": "Help me sort it out once"}
        )
        session.commit()
    return measure.id, statement.id


def test_the_same_link_made_at_once_by_twenty_clients(app: FastAPI) -> None:
    measure_id, statement_id = _measure_and_statement(app)
    headers = {"Authorization": f"Bearer {_token(app)}"}
    path = f"/api/measures/{measure_id}/purpose_statements/{statement_id}"
    start = threading.Barrier(CLIENTS)

    def put(base: str) -> int:
        with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
            start.wait()
            return http.put(path).status_code

    with live_server(app) as base, ThreadPoolExecutor(CLIENTS) as pool:
        statuses = list(pool.map(put, [base] * CLIENTS))
        linked = httpx.get(base + f"/api/measures/{measure_id}", headers=headers).json()
    assert statuses == [200] * CLIENTS
    assert linked["purpose_statement_ids"] == [statement_id]
    with app.state.store.session() as session:
        ws = repository.get_workspace(session, app.state.workspace).id
        links = [
            e
            for e in repository.history(session, ws, kind="measure", object_id=measure_id)
            if e.action == "link"
        ]
    assert len(links) == 1  # made once, recorded once


def test_a_locked_database_does_not_fail_a_token_request(app: FastAPI, migrated_url: str) -> None:
    if not migrated_url.startswith("sqlite"):
        pytest.skip("the lock is SQLite's")
    headers = {"Authorization": f"Bearer {_token(app)}"}  # never used: its use is written
    blocker = sqlite3.connect(migrated_url.removeprefix("sqlite:///"), timeout=1)
    blocker.execute("BEGIN IMMEDIATE")  # another writer holds the lock for the whole request
    try:
        began = time.monotonic()
        response = TestClient(app).get("/api/workspace", headers=headers)
        waited = time.monotonic() - began
    finally:
        blocker.rollback()
        blocker.close()
    assert response.status_code == 200, response.text
    assert waited < 30


@pytest.mark.parametrize(
    "name", ["%00", "a%00.css", "x" * 300, "y" * 5000, "..%2F..%2Fetc%2Fpasswd"]
)
def test_bad_static_names_are_not_found(client: TestClient, name: str) -> None:
    response = TestClient(client.app).get(f"/static/{name}")  # type: ignore[arg-type]
    assert response.status_code == 404


def _app_with(route_error: Exception) -> TestClient:
    app = create_app("sqlite://", secure=False)

    def fail() -> None:
        raise route_error

    app.add_api_route("/fail", fail)
    return TestClient(app, raise_server_exceptions=False)


def test_an_unexpected_error_is_a_500_that_closes_the_connection() -> None:
    response = _app_with(RuntimeError("boom")).get("/fail")
    assert response.status_code == 500
    assert response.headers["connection"] == "close"
    assert "boom" not in response.text  # no internals in the answer
    assert "content-security-policy" in response.headers


def test_sqlite_giving_up_on_a_lock_is_a_503_to_retry() -> None:
    locked = OperationalError("UPDATE x", {}, sqlite3.OperationalError("database is locked"))
    response = _app_with(locked).get("/fail")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert "try again" in response.json()["detail"]
