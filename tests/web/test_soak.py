"""Zero 500s from 20 clients for 60 s against ``systemic serve`` (``make soak``).

The review's 20 clients got 32 errors in 60 s: 31 ``IntegrityError UNIQUE`` from
the same link made at once, one ``database is locked`` from noting a token's use,
each followed by a dropped connection. Here 20 clients, each with its own API
token, read pages and the API, create and change stories, all make the *same*
link over and over, and ask for ``/static/%00`` and over-long static names, for
``SYSTEMIC_SOAK_SECONDS`` (60 by default). No answer may be a 5xx and no
connection may fail. The short version in the normal suite is
``tests/web/test_concurrency.py``.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from systemic.store import open_store
from systemic.store.accounts import create_token
from tests.conftest import pg_url
from tests.trust.server import Server

CLIENTS = 20
SECONDS = float(os.environ.get("SYSTEMIC_SOAK_SECONDS", "60"))
PAGES = ["/", "/mission", "/people", "/cycle", "/audit", "/organisation"]


def _tokens(db: str, n: int) -> list[dict[str, str]]:
    """One API token per client (each token's use is noted: the write the review saw fail)."""
    store = open_store(db)
    try:
        with store.session() as session:
            secrets = [create_token(session, "soak", f"client {i}")[0] for i in range(n)]
            session.commit()
    finally:
        store.dispose()
    return [{"Authorization": f"Bearer {secret}"} for secret in secrets]


async def _client(
    n: int, url: str, headers: dict[str, str], link: str, until: float, seen: Counter, errors: list
) -> None:
    limits = httpx.Limits(max_keepalive_connections=1, keepalive_expiry=2.0)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60, limits=limits) as http:
        r = 0
        while time.monotonic() < until:
            r += 1
            steps = [
                ("GET", PAGES[(n + r) % len(PAGES)], None),
                ("GET", "/api/stories", None),
                ("POST", "/api/stories", {"title": f"client {n} round {r}", "text": "soak"}),
                ("PUT", link, None),
                ("GET", "/static/%00" if r % 2 else "/static/" + "x" * 300, None),
                ("GET", "/static/systemic.css", None),
            ]
            for method, path, body in steps:
                try:
                    response = await http.request(method, path, json=body)
                except httpx.HTTPError as exc:
                    errors.append(f"{method} {path}: {exc!r}")
                    continue
                seen[response.status_code] += 1
                if response.status_code >= 500:
                    errors.append(f"{method} {path}: {response.status_code} {response.text[:200]}")
                elif method == "POST" and response.status_code == 201:
                    story = response.json()["id"]
                    changed = await http.patch(f"/api/stories/{story}", json={"text": "changed"})
                    seen[changed.status_code] += 1
                    if changed.status_code >= 500:
                        errors.append(f"PATCH story: {changed.status_code}")


def _soak(db: str, tmp_path: Path) -> None:
    server = Server(db, tmp_path / "soak.log").start()
    try:
        headers = _tokens(db, CLIENTS)
        made = [
            httpx.post(server.url + f"/api/{plural}", json=body, headers=server.headers).json()
            for plural, body in (
                ("measures", {"name": "Calls that recur"}),
                ("purpose_statements", {"text": "Help me sort it out once"}),
            )
        ]
        link = f"/api/measures/{made[0]['id']}/purpose_statements/{made[1]['id']}"
        seen: Counter = Counter()
        errors: list[str] = []
        until = time.monotonic() + SECONDS

        async def run() -> None:
            await asyncio.gather(
                *(
                    _client(n, server.url, headers[n], link, until, seen, errors)
                    for n in range(CLIENTS)
                )
            )

        asyncio.run(run())
        log = (tmp_path / "soak.log").read_text()
    finally:
        server.stop()
    print(
        f"{sum(seen.values())} requests in {SECONDS:.0f} s: {dict(sorted(seen.items()))}; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    assert errors == [], errors[:20]
    assert sum(seen.values()) > CLIENTS * 6
    assert "Traceback" not in log, log[-3000:]


@pytest.mark.soak
def test_no_500s_from_twenty_clients_sqlite(tmp_path: Path) -> None:
    _soak(str(tmp_path / "soak.db"), tmp_path)


@pytest.mark.soak
@pytest.mark.postgres
def test_no_500s_from_twenty_clients_postgres(tmp_path: Path) -> None:
    if not pg_url():
        pytest.skip("SYSTEMIC_TEST_PG_URL is not set (see .ci/run)")
    from tests.store.databases import pg_schema

    with pg_schema() as url:
        _soak(url, tmp_path)
