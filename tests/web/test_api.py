"""The JSON API, route by route: create, read, list, update, delete, link, errors."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from systemic.framework.kinds import KINDS


def _post(client: TestClient, plural: str, payload: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"/api/{plural}", json=payload)
    assert response.status_code == 201, response.text
    return response.json()


def valid_payload(client: TestClient, kind: str) -> dict[str, Any]:
    """A valid create payload for a kind, creating what it needs to point at."""
    if kind == "decision_right":
        loc = _post(client, "localities", {"name": "North"})
        return {
            "locality_id": loc["id"],
            "decision_kind": "spend",
            "made": "escalated",
            "reason": "Budget held centrally",
        }
    if kind in ("factor", "causal_link"):
        the_map = _post(client, "system_maps", {"name": "Housing map"})
        if kind == "factor":
            return {"system_map_id": the_map["id"], "name": "Waiting list"}
        a = _post(client, "factors", {"system_map_id": the_map["id"], "name": "Waiting list"})
        b = _post(client, "factors", {"system_map_id": the_map["id"], "name": "Complaints"})
        return {
            "system_map_id": the_map["id"],
            "cause_id": a["id"],
            "effect_id": b["id"],
            "polarity": "+",
            "confidence": "high",
        }
    return {
        "locality": {"name": "Riverside", "population": 12000, "boundary": "Wards 3 and 4"},
        "purpose_statement": {
            "text": "Help me stay in my own home",
            "voice": "I",
            "said_by": "Tenant",
            "consent": True,
        },
        "principle": {"name": "Local by default"},
        "team": {"name": "Riverside team", "members": ["A", "B"], "services": ["Housing"]},
        "story": {
            "title": "Mrs K's boiler",
            "text": "I rang six times.",
            "consent": True,
            "told_on": "2026-03-01",
        },
        "system_condition": {
            "name": "Four-hour target",
            "kind": "measure_or_target",
            "owner": "national",
            "judgement": "harmful",
            "evidence": [{"label": "demand study", "href": "/learn/1"}],
        },
        "conversation": {
            "what_matters": "Seeing my grandchildren",
            "strengths": ["family"],
            "person_holds_record": True,
        },
        "community_asset": {"name": "Lunch club", "kind": "group"},
        "relationship": {
            "party_a": "Housing",
            "party_b": "Tenants' association",
            "observations": [{"observed_on": "2026-01-05", "trust": 2, "power": "over"}],
        },
        "measure": {
            "name": "Days at home",
            "kind": "outcome",
            "series": [{"period": "2026-01-01", "value": 3.5}],
        },
        "experiment": {
            "title": "One visit, one worker",
            "start_date": "2026-01-01",
            "end_date": "2026-03-31",
            "question": "Does one worker cut hand-offs?",
        },
        "redesign_decision": {
            "title": "Merge front doors",
            "level": "organisation",
            "review_date": "2027-01-01",
        },
        "system_map": {"name": "Adult care map"},
        "demand": {
            "received_at": "2026-03-01T09:30:00Z",
            "channel": "face_to_face",
            "service": "Housing repairs",
            "verbatim": "third time ringing about the boiler",
            "demand_class": "failure",
            "demand_type": "chase a repair",
            "what_failed": "chasing_progress",
            "resolved_first_contact": False,
        },
        "masked_name": {"name": "Okafor"},
    }[kind]


#: A field each kind can change, and the new value.
UPDATES: dict[str, tuple[str, Any]] = {
    "locality": ("population", 15000),
    "purpose_statement": ("status", "adopted"),
    "principle": ("description", "Decide where the work is"),
    "team": ("members", ["A", "B", "C"]),
    "decision_right": ("made", "local"),
    "story": ("consent", False),
    "system_condition": ("proposal", "Ask to pilot without it"),
    "conversation": ("agreed_actions", ["Lift to the club on Tuesdays"]),
    "community_asset": ("description", "Tuesdays at the hall"),
    "relationship": ("party_b", "Residents"),
    "measure": ("definition", "Days in the quarter spent at home"),
    "experiment": ("decision", "adopt"),
    "redesign_decision": ("change", "One front door"),
    "system_map": ("description", "Drawn with the team"),
    "factor": ("description", "Households waiting"),
    "causal_link": ("polarity", "-"),
    "demand": ("demand_type", "chase a repair visit"),
    "masked_name": ("name", "Idris"),
}

#: A field each kind refuses, the bad value, and what the message says.
INVALID: dict[str, tuple[str, Any, str]] = {
    "locality": ("population", -1, "greater than or equal to 0"),
    "purpose_statement": ("voice", "they", "Input should be"),
    "principle": ("name", "   ", "must not be empty"),
    "team": ("members", "A", "valid list"),
    "decision_right": ("made", "maybe", "Input should be"),
    "story": ("told_on", "not a date", "date"),
    "system_condition": ("kind", "rumour", "Input should be"),
    "conversation": ("what_matters", "", "must not be empty"),
    "community_asset": ("name", "", "must not be empty"),
    "relationship": ("observations", [{"observed_on": "2026-01-01", "trust": 9}], "less than"),
    "measure": ("kind", "volume", "Input should be"),
    "experiment": ("decision", "continue", "Input should be"),
    "redesign_decision": ("level", "galaxy", "Input should be"),
    "system_map": ("name", "", "must not be empty"),
    "factor": ("name", "", "must not be empty"),
    "causal_link": ("polarity", "0", "Input should be"),
    "demand": ("channel", "pigeon", "Input should be"),
    "masked_name": ("name", "", "must not be empty"),
}


def test_every_kind_has_cases() -> None:
    assert set(UPDATES) == set(KINDS) == set(INVALID)


@pytest.mark.parametrize("kind", list(KINDS))
def test_create_read_list_update_delete(client: TestClient, kind: str) -> None:
    plural = KINDS[kind].plural
    payload = valid_payload(client, kind)
    created = _post(client, plural, payload)
    for key, value in payload.items():
        if key == "observations":
            assert created[key][0]["trust"] == value[0]["trust"]
        elif key != "series":
            assert created[key] == value, key
    assert len(created["id"]) == 32 and created["created_at"] == created["updated_at"]

    read = client.get(f"/api/{plural}/{created['id']}")
    assert read.status_code == 200 and read.json() == created
    listed = client.get(f"/api/{plural}").json()
    assert created in listed

    field, value = UPDATES[kind]
    updated = client.patch(f"/api/{plural}/{created['id']}", json={field: value})
    assert updated.status_code == 200, updated.text
    assert updated.json()[field] == value
    assert updated.json()["updated_at"] > created["updated_at"]
    assert client.get(f"/api/{plural}/{created['id']}").json()[field] == value

    history = client.get(f"/api/{plural}/{created['id']}/history").json()
    assert [h["action"] for h in history] == ["create", "update"]
    assert history[1]["changes"]["changes"][field][1] == value

    assert client.delete(f"/api/{plural}/{created['id']}").status_code == 204
    assert client.get(f"/api/{plural}/{created['id']}").status_code == 404
    assert created["id"] not in {x["id"] for x in client.get(f"/api/{plural}").json()}
    history = client.get(f"/api/{plural}/{created['id']}/history").json()
    assert history[-1]["action"] == "delete"


@pytest.mark.parametrize("kind", list(KINDS))
def test_validation_errors_name_the_field(client: TestClient, kind: str) -> None:
    plural = KINDS[kind].plural
    payload = valid_payload(client, kind)
    field, bad, message = INVALID[kind]
    response = client.post(f"/api/{plural}", json={**payload, field: bad})
    assert response.status_code == 422
    errors = response.json()["detail"]
    assert any(e["loc"][:2] == ["body", field] and message in e["msg"] for e in errors), errors

    created = _post(client, plural, payload)
    response = client.patch(f"/api/{plural}/{created['id']}", json={field: bad})
    assert response.status_code == 422
    assert client.get(f"/api/{plural}/{created['id']}").json() == created

    unknown = client.post(f"/api/{plural}", json={**payload, "colour": "red"})
    assert unknown.status_code == 422
    assert ["body", "colour"] in [e["loc"] for e in unknown.json()["detail"]]


@pytest.mark.parametrize("kind", list(KINDS))
def test_not_found(client: TestClient, kind: str) -> None:
    plural = KINDS[kind].plural
    missing = "0" * 32
    assert client.get(f"/api/{plural}/{missing}").status_code == 404
    assert client.patch(f"/api/{plural}/{missing}", json={}).status_code == 404
    assert client.delete(f"/api/{plural}/{missing}").status_code == 404
    assert client.get(f"/api/{plural}/{missing}/history").status_code == 404
    assert "no " in client.get(f"/api/{plural}/{missing}").json()["detail"]
    for relation in KINDS[kind].relations:
        assert client.put(f"/api/{plural}/{missing}/{relation}/{missing}").status_code == 404


@pytest.mark.parametrize(
    ("kind", "relation"),
    [(k, r) for k, spec in KINDS.items() for r in spec.relations],
)
def test_link_and_unlink(client: TestClient, kind: str, relation: str) -> None:
    spec = KINDS[kind]
    target_kind = spec.relations[relation]
    source = _post(client, spec.plural, valid_payload(client, kind))
    target = _post(client, KINDS[target_kind].plural, valid_payload(client, target_kind))
    field = spec.relation_field(relation)
    url = f"/api/{spec.plural}/{source['id']}/{relation}/{target['id']}"

    linked = client.put(url)
    assert linked.status_code == 200, linked.text
    assert linked.json()[field] == [target["id"]]
    assert client.put(url).json()[field] == [target["id"]]  # linking twice is harmless
    assert client.get(f"/api/{spec.plural}/{source['id']}").json()[field] == [target["id"]]

    unlinked = client.delete(url)
    assert unlinked.status_code == 200 and unlinked.json()[field] == []
    assert client.delete(url).status_code == 404  # no longer linked

    missing = f"/api/{spec.plural}/{source['id']}/{relation}/{'f' * 32}"
    assert client.put(missing).status_code == 404
    actions = [h["action"] for h in client.get(f"/api/{spec.plural}/{source['id']}/history").json()]
    assert actions == ["create", "link", "unlink"]

    # Links can also be given as id lists on create and update, and are checked.
    bad = client.post(f"/api/{spec.plural}", json={**valid_payload(client, kind), field: ["nope"]})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", field, 0]
    patched = client.patch(f"/api/{spec.plural}/{source['id']}", json={field: [target["id"]]})
    assert patched.json()[field] == [target["id"]]
    # Deleting the target removes the link.
    assert client.delete(f"/api/{KINDS[target_kind].plural}/{target['id']}").status_code == 204
    assert client.get(f"/api/{spec.plural}/{source['id']}").json()[field] == []


def test_references_must_exist(client: TestClient) -> None:
    response = client.post("/api/teams", json={"name": "T", "locality_id": "nowhere"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "locality_id"]
    assert "no locality" in response.json()["detail"][0]["msg"]
    # A required reference missing altogether is a field error too.
    response = client.post("/api/decision_rights", json={"decision_kind": "spend"})
    assert response.status_code == 422
    assert ["body", "locality_id"] in [e["loc"] for e in response.json()["detail"]]


def test_deleting_a_locality_clears_pointers_and_removes_its_rights(client: TestClient) -> None:
    loc = _post(client, "localities", {"name": "West"})
    team = _post(client, "teams", {"name": "West team", "locality_id": loc["id"]})
    right = _post(client, "decision_rights", {"locality_id": loc["id"], "decision_kind": "spend"})
    assert client.delete(f"/api/localities/{loc['id']}").status_code == 204
    assert client.get(f"/api/teams/{team['id']}").json()["locality_id"] is None
    assert client.get(f"/api/decision_rights/{right['id']}").status_code == 404


def test_list_filters_by_reference(client: TestClient) -> None:
    north = _post(client, "localities", {"name": "North"})
    south = _post(client, "localities", {"name": "South"})
    _post(client, "teams", {"name": "N1", "locality_id": north["id"]})
    _post(client, "teams", {"name": "S1", "locality_id": south["id"]})
    names = [t["name"] for t in client.get(f"/api/teams?locality_id={north['id']}").json()]
    assert names == ["N1"]
    bad = client.get("/api/teams?colour=red")
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "colour"]


def test_purpose_tree_refuses_cycles(client: TestClient) -> None:
    root = _post(client, "purpose_statements", {"text": "Live well"})
    child = _post(client, "purpose_statements", {"text": "Stay at home", "parent_id": root["id"]})
    response = client.patch(
        f"/api/purpose_statements/{root['id']}", json={"parent_id": child["id"]}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "parent_id"]
    self_parent = client.patch(
        f"/api/purpose_statements/{root['id']}", json={"parent_id": root["id"]}
    )
    assert self_parent.status_code == 422


def test_causal_links_stay_on_one_map_and_are_unique(client: TestClient) -> None:
    link = valid_payload(client, "causal_link")
    _post(client, "causal_links", link)
    duplicate = client.post("/api/causal_links", json=link)
    assert duplicate.status_code == 422 and "already linked" in duplicate.text
    itself = client.post("/api/causal_links", json={**link, "effect_id": link["cause_id"]})
    assert itself.status_code == 422 and "cannot cause itself" in itself.text
    other = _post(client, "system_maps", {"name": "Other"})
    moved = client.post("/api/causal_links", json={**link, "system_map_id": other["id"]})
    assert moved.status_code == 422 and "another system map" in moved.text


def test_experiment_dates_in_order(client: TestClient) -> None:
    response = client.post(
        "/api/experiments",
        json={"title": "Backwards", "start_date": "2026-05-01", "end_date": "2026-04-01"},
    )
    assert response.status_code == 422
    assert "end_date must not be before start_date" in response.text


def test_seeded_map_loops(client: TestClient) -> None:
    maps = client.get("/api/system_maps").json()
    assert [m["name"] for m in maps] == ["Failure-demand spiral"]
    loops = client.get(f"/api/system_maps/{maps[0]['id']}/loops").json()
    names = sorted(tuple(sorted(loop["factor_names"])) for loop in loops)
    assert names == [
        ("Crisis demand", "Stretched services", "Tighter thresholds and less prevention"),
        ("Failure demand", "Hand-offs and premature closure", "Stretched services"),
    ]
    assert {loop["kind"] for loop in loops} == {"reinforcing"}
    assert client.get(f"/api/system_maps/{'0' * 32}/loops").status_code == 404


def test_a_negative_link_makes_the_spiral_loop_balancing(client: TestClient) -> None:
    the_map = client.get("/api/system_maps").json()[0]
    factors = {
        f["name"]: f["id"] for f in client.get(f"/api/factors?system_map_id={the_map['id']}").json()
    }
    links = client.get(f"/api/causal_links?system_map_id={the_map['id']}").json()
    crisis = next(c for c in links if c["cause_id"] == factors["Crisis demand"])
    client.patch(f"/api/causal_links/{crisis['id']}", json={"polarity": "-"})
    loops = client.get(f"/api/system_maps/{the_map['id']}/loops").json()
    kinds = {tuple(sorted(lp["factor_names"])): lp["kind"] for lp in loops}
    assert (
        kinds[("Crisis demand", "Stretched services", "Tighter thresholds and less prevention")]
        == "balancing"
    )
    assert (
        kinds[("Failure demand", "Hand-offs and premature closure", "Stretched services")]
        == "reinforcing"
    )


def test_local_index_route(client: TestClient) -> None:
    loc = _post(client, "localities", {"name": "East"})
    for kind, made in [
        ("spend", "local"),
        ("eligibility", "escalated"),
        ("closing a case", "local"),
        ("staffing", "local"),
    ]:
        _post(
            client,
            "decision_rights",
            {"locality_id": loc["id"], "decision_kind": kind, "made": made},
        )
    index = client.get(f"/api/localities/{loc['id']}/local_index").json()
    assert index == {
        "locality_id": loc["id"],
        "decisions": 4,
        "local": 3,
        "escalated": 1,
        "index": 0.75,
    }
    assert client.get(f"/api/localities/{'0' * 32}/local_index").status_code == 404


def test_audit_route_finds_and_clears(client: TestClient) -> None:
    assert client.get("/api/audit").json() == {
        "findings": [],
        "counts": {"error": 0, "warning": 0, "info": 0},
    }
    measure = _post(client, "measures", {"name": "Calls answered", "kind": "process", "target": 95})
    findings = client.get("/api/audit").json()["findings"]
    assert {(f["rule_id"], f["severity"], f["path"]) for f in findings} == {
        ("measure-without-purpose", "error", f"/measures/{measure['id']}"),
        ("target-on-activity", "warning", f"/measures/{measure['id']}"),
    }
    assert all(f["why"] for f in findings)
    purpose = _post(client, "purpose_statements", {"text": "Fix it first time"})
    client.put(f"/api/measures/{measure['id']}/purpose_statements/{purpose['id']}")
    client.patch(f"/api/measures/{measure['id']}", json={"target": None})
    assert client.get("/api/audit").json()["findings"] == []


def test_audit_rules_route(client: TestClient) -> None:
    rules = client.get("/api/audit/rules").json()
    assert len(rules) == 10 and all(r["why"] for r in rules)
    _post(client, "localities", {"name": "Hill"})
    assert client.get("/api/audit").json()["counts"]["warning"] == 1
    off = client.patch("/api/audit/rules/locality-without-team", json={"enabled": False})
    assert off.status_code == 200 and off.json()["enabled"] is False
    assert client.get("/api/audit").json()["findings"] == []
    louder = client.patch(
        "/api/audit/rules/locality-without-team", json={"enabled": True, "severity": "error"}
    )
    assert louder.json()["severity"] == "error"
    assert client.get("/api/audit").json()["counts"] == {"error": 1, "warning": 0, "info": 0}
    assert client.patch("/api/audit/rules/nope", json={"enabled": False}).status_code == 404
    bad = client.patch("/api/audit/rules/locality-without-team", json={"severity": "loud"})
    assert bad.status_code == 422


def test_audit_on_a_given_date(client: TestClient) -> None:
    measure = _post(client, "measures", {"name": "Days at home"})
    _post(
        client,
        "experiments",
        {"title": "Trial", "end_date": "2026-01-31", "measure_ids": [measure["id"]]},
    )
    late = client.get("/api/audit?on=2026-02-01").json()["findings"]
    early = client.get("/api/audit?on=2026-01-15").json()["findings"]
    assert "experiment-without-result" in {f["rule_id"] for f in late}
    assert "experiment-without-result" not in {f["rule_id"] for f in early}


def test_workspace_and_history_routes(app, client: TestClient) -> None:  # type: ignore[no-untyped-def]
    from tests.web.conftest import add_user, sign_in

    ws = client.get("/api/workspace").json()
    assert ws["slug"] == "default"
    _post(client, "principles", {"name": "Pull, not push"})
    # History records the signed-in user; a header cannot claim to be someone else.
    client.headers["X-Systemic-Actor"] = "amina"
    _post(client, "principles", {"name": "Local by default"})
    add_user(app.state.store, "amina", "editor")
    sign_in(client, "amina")
    _post(client, "principles", {"name": "Strengths first"})
    history = client.get("/api/history?kind=principle").json()
    assert [(h["actor"], h["changes"]["after"]["name"]) for h in history] == [
        ("ada", "Pull, not push"),
        ("ada", "Local by default"),
        ("amina", "Strengths first"),
    ]
    assert len(client.get("/api/history?limit=1").json()) == 1
    assert client.get("/api/history?kind=nope").status_code == 422


def test_export_import_routes(client: TestClient) -> None:
    _post(client, "principles", {"name": "Pull, not push"})
    document = client.get("/api/export").json()
    assert document["format"] == "systemic-workspace"
    assert client.post("/api/import", json=document).status_code == 409
    replaced = client.post("/api/import?replace=true", json=document)
    assert replaced.status_code == 201
    assert client.get("/api/export").json() == document
    bad = client.post("/api/import", json={"format": "other"})
    assert bad.status_code == 422


def test_openapi_lists_every_route(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    for spec in KINDS.values():
        assert set(paths[f"/api/{spec.plural}"]) == {"get", "post"}
        assert set(paths[f"/api/{spec.plural}/{{object_id}}"]) == {"get", "patch", "delete"}
        for relation in spec.relations:
            link = paths[f"/api/{spec.plural}/{{object_id}}/{relation}/{{target_id}}"]
            assert set(link) == {"put", "delete"}
    measure = schema["components"]["schemas"]["MeasureFields"]
    assert measure["properties"]["kind"]["enum"] == [
        "outcome",
        "process",
        "balancing",
        "capability",
        "demand",
    ]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "North\x00"}, "name"),
        ({"name": "North", "population": 10**20}, "population"),
    ],
)
def test_values_a_database_cannot_store_are_422(
    client: TestClient, payload: dict[str, Any], field: str
) -> None:
    response = client.post("/api/localities", json=payload)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", field]


def test_not_a_number_target_is_422(client: TestClient) -> None:
    response = client.post(
        "/api/measures",
        content='{"name": "m", "target": NaN}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "target"]


def test_no_page_loads_from_a_cdn(client: TestClient) -> None:
    # FastAPI's Swagger and ReDoc pages fetch scripts from a CDN: they are switched off.
    assert client.get("/docs").status_code == 404
    assert client.get("/redoc").status_code == 404
    assert client.get("/openapi.json").status_code == 200


def test_a_middleware_can_choose_the_workspace_per_request(app, client: TestClient) -> None:
    from systemic.store.repository import create_workspace
    from systemic.web.app import create_app

    with app.state.store.session() as session:
        other = create_workspace(session, "Other trust", "other", seed=False)
        session.commit()
    _post(client, "principles", {"name": "Default's principle"})
    inner = create_app(store=app.state.store, workspace=app.state.workspace, secure=False)

    async def choose(scope, receive, send):  # type: ignore[no-untyped-def]
        # What a sign-in middleware does: pick the workspace from the request.
        for key, value in scope.get("headers", []):
            if key == b"x-test-workspace":
                scope.setdefault("state", {})["workspace"] = value.decode()
        await inner(scope, receive, send)

    chooser = TestClient(choose)
    headers = {"X-Test-Workspace": "other"}
    assert chooser.get("/api/workspace", headers=headers).json()["id"] == other.id
    assert chooser.get("/api/principles", headers=headers).json() == []
    created = chooser.post("/api/principles", json={"name": "Other's"}, headers=headers)
    assert created.json()["workspace_id"] == other.id
    assert [p["name"] for p in chooser.get("/api/principles").json()] == ["Default's principle"]
    missing = chooser.get("/api/principles", headers={"X-Test-Workspace": "nope"})
    assert missing.status_code == 404
