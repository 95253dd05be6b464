"""Workspaces on one server are isolated: route by route, another workspace's user
finds nothing (404, never 403, so not even existence leaks) and sees nothing.

The routes are read from the app itself, so a route added later is walked too:
every path with an object id is tried with ids of the council's objects by the
NHS trust's admin and must answer 404; every other page and API read must not
show any of the council's ids or names; creating or linking with the council's
ids must fail.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from systemic.framework.kinds import KINDS
from systemic.store.repository import create_workspace
from tests.trust.routes import route_table
from tests.web.conftest import add_user, open_session
from tests.web.test_api import valid_payload

PLURAL_TO_KIND = {spec.plural: name for name, spec in KINDS.items()}
#: Path parameters that name their kind themselves (``/map/{map_id}/svg``).
PARAM_TO_KIND = {"map_id": "system_map"}
#: Path parameters that are not ids (a PDSA cycle's number): a value that exists.
NOT_IDS = {"index": "0"}
#: Served to anyone, or not about workspace objects.
SKIPPED = ("/login", "/logout", "/static/", "/openapi.json")
PARAM = re.compile(r"\{([a-z_]+)(?::path)?\}")


def _council(client: TestClient) -> dict[str, list[str]]:
    """One object of each kind in the council's workspace (with what it points at)."""
    made: dict[str, list[str]] = {}
    for kind, spec in KINDS.items():
        response = client.post(f"/api/{spec.plural}", json=valid_payload(client, kind))
        assert response.status_code == 201, response.text
        made.setdefault(kind, []).append(response.json()["id"])
    for kind, spec in KINDS.items():
        for item in client.get(f"/api/{spec.plural}").json():
            if item["id"] not in made[kind]:
                made[kind].append(item["id"])
    return made


def _fill(path: str, made: dict[str, list[str]]) -> str:
    """The path with each id parameter set to a council object of the right kind."""
    parts = path.strip("/").split("/")
    filled = []
    kind = None
    for part in parts:
        name = PARAM.fullmatch(part)
        if name is None:
            kind = PLURAL_TO_KIND.get(part, kind)
            filled.append(part)
            continue
        if name.group(1) in NOT_IDS:
            filled.append(NOT_IDS[name.group(1)])
            continue
        named = PARAM_TO_KIND.get(name.group(1), kind)
        assert named is not None, f"cannot tell the kind of {part} in {path}"
        filled.append(made[named][0])
    return "/" + "/".join(filled)


def _shows_council(
    text: str, made: dict[str, list[str]], names: list[str], asked: str = ""
) -> list[str]:
    """Council ids (other than those the request itself named) and names in ``text``."""
    ids = [i for found in made.values() for i in found if i in text and i not in asked]
    return ids + [n for n in names if n in text]


def test_every_route_hides_another_workspaces_objects(app: FastAPI, client: TestClient) -> None:
    made = _council(client)
    names = ["Riverside", "Help me stay in my own home", "Mrs K's boiler"]
    names.append("Seeing my grandchildren")
    council_text = client.get("/api/export").text
    assert all(n in council_text for n in names)  # the markers are really there to leak
    with app.state.store.session() as session:
        trust = create_workspace(session, "NHS trust", "trust", seed=False)
        session.commit()
        trust_id = trust.id
    other = open_session(TestClient(app), add_user(app.state.store, "bea", "admin", trust_id))
    assert other.get("/api/workspace").json()["slug"] == "trust"

    walked = 0
    for path, methods in route_table(app):
        if path.startswith(SKIPPED):
            continue
        for method in sorted(methods - {"HEAD", "OPTIONS"}):
            if PARAM.search(path):
                if path.startswith("/api/audit/rules"):
                    continue  # audit rules are named, not workspace objects
                url = _fill(path, made)
                body: Any = {} if path.startswith("/api") else None
                response = other.request(
                    method, url, json=body if method in ("POST", "PUT", "PATCH") else None
                )
                assert response.status_code == 404, (method, url, response.status_code)
                assert not _shows_council(response.text, made, names, url), (method, url)
            elif method == "GET":
                response = other.get(path)
                assert response.status_code == 200, (path, response.status_code)
                assert not _shows_council(response.text, made, names), path
            walked += 1
    assert walked > 150

    # Reading or prefilling with the council's ids in the query shows nothing of theirs.
    for url in (
        f"/map?map_id={made['system_map'][0]}",
        f"/api/factors?system_map_id={made['system_map'][0]}",
        f"/teams/new?locality_id={made['locality'][0]}",
        f"/api/history?object_id={made['principle'][0]}",
    ):
        response = other.get(url)
        assert response.status_code in (200, 404, 422), url
        assert not _shows_council(response.text, made, names, url), url

    # Pointing at, or linking, the council's objects from the trust is "not found".
    team = other.post("/api/teams", json={"name": "Ward team", "locality_id": made["locality"][0]})
    assert team.status_code in (404, 422), team.text
    assert made["locality"][0] not in other.get("/api/teams").text
    own = other.post("/api/principles", json={"name": "Trust principle"}).json()
    linked = other.put(
        f"/api/system_conditions/{made['system_condition'][0]}/principles/{own['id']}"
    )
    assert linked.status_code == 404
    for action in ("/links/new", "/links/delete"):
        form_link = other.post(
            action,
            data={
                "source_kind": "system_condition",
                "relation": "principles",
                "source_id": made["system_condition"][0],
                "target_id": own["id"],
            },
            follow_redirects=False,
        )
        assert form_link.status_code == 404, (action, form_link.status_code)
    # Importing the council's export into the trust cannot replace the council (and the
    # refusal is the one any other workspace's name gets: tests/web/test_import_disclosure.py).
    document = client.get("/api/export").json()
    replaced = other.post("/api/import?replace=true", json=document)
    assert replaced.status_code == 403
    assert len(client.get("/api/principles").json()) == len(made["principle"])
    # And the council still sees only its own.
    assert own["id"] not in client.get("/api/principles").text
