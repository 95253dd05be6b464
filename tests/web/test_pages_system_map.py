"""The system map's own routes: saving places, SVG and Kumu export, Kumu import, roles."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from html import unescape

from fastapi import FastAPI
from fastapi.testclient import TestClient

from systemic.framework.kumu import from_kumu
from tests.web.conftest import add_user, open_session

SVG = "{http://www.w3.org/2000/svg}"


def make_map(client: TestClient) -> tuple[str, dict[str, str]]:
    """A small map: demand <-> workload (R), workload <-> budget (B), rules -> demand."""

    def post(plural: str, payload: dict) -> str:
        response = client.post(f"/api/{plural}", json=payload)
        assert response.status_code == 201, response.text
        return response.json()["id"]

    m = post("system_maps", {"name": "Front door"})
    f = {
        name: post("factors", {"system_map_id": m, "name": name, "kind": kind, "tags": tags})
        for name, kind, tags in (
            ("Failure demand", "demand", ["front door"]),
            ("Workload", "capacity", []),
            ("Budget", None, []),
            ("Eligibility rules", "system_condition", ["national"]),
        )
    }
    for cause, effect, sign in (
        ("Failure demand", "Workload", "+"),
        ("Workload", "Failure demand", "+"),
        ("Workload", "Budget", "+"),
        ("Budget", "Workload", "-"),
        ("Eligibility rules", "Failure demand", "+"),
    ):
        post(
            "causal_links",
            {"system_map_id": m, "cause_id": f[cause], "effect_id": f[effect], "polarity": sign},
        )
    return m, f


def test_the_page_offers_filters_and_says_which_factors_need_a_place(client: TestClient) -> None:
    m, f = make_map(client)
    html = client.get(f"/map?map={m}").text
    assert 'id="filter-loop"' in html and '<option value="R1" data-kind="reinforcing">' in html
    assert '<option value="front door">front door</option>' in html  # tags to filter by
    # Positions still to be saved ride in a data attribute (no inline script: the CSP).
    unsaved = html.split('<div id="map-unsaved" hidden data-positions="')[1].split('"')[0]
    assert sorted(json.loads(unescape(unsaved))) == sorted(f.values())  # four still to save
    assert "/static/system_map.js" in html


def test_saved_places_are_kept_and_drawn(client: TestClient) -> None:
    m, f = make_map(client)
    positions = {fid: [100.0 * n, 50.0 * n] for n, fid in enumerate(f.values())}
    response = client.post(f"/map/{m}/layout", json={"positions": positions})
    assert response.status_code == 200 and response.json() == {"saved": 4}
    # Saving the same places again changes nothing.
    assert client.post(f"/map/{m}/layout", json={"positions": positions}).json() == {"saved": 0}
    html = client.get(f"/map?map={m}").text
    assert 'id="map-unsaved"' not in html
    for fid, (x, y) in positions.items():
        assert f'data-key="{fid}"' in html and f'transform="translate({x:.1f},{y:.1f})"' in html
    # The factor's form has no x or y, and saving the form keeps the place.
    form = client.get(f"/factors/{f['Workload']}/edit").text
    assert 'name="x"' not in form and 'name="y"' not in form
    client.post(
        f"/factors/{f['Workload']}/edit",
        data={"system_map_id": m, "name": "Workload of the team", "kind": "capacity"},
    )
    record = client.get(f"/api/factors/{f['Workload']}").json()
    assert record["name"] == "Workload of the team"
    assert (record["x"], record["y"]) == tuple(positions[f["Workload"]])


def test_places_of_factors_not_on_the_map_are_refused(client: TestClient) -> None:
    m, f = make_map(client)
    response = client.post(f"/map/{m}/layout", json={"positions": {"nope": [1, 2]}})
    assert response.status_code == 422
    assert "not factors of this map: nope" in response.json()["detail"]
    bad = client.post(f"/map/{m}/layout", json={"positions": {f["Budget"]: [1e9, 0]}})
    assert bad.status_code == 422 and "100000" in bad.text
    assert client.post(f"/map/{m}/layout", json={"places": {}}).status_code == 422


def test_a_viewer_may_look_and_export_but_not_move(app: FastAPI, client: TestClient) -> None:
    m, f = make_map(client)
    viewer = open_session(TestClient(app), add_user(app.state.store, "vera", "viewer"))
    html = viewer.get(f"/map?map={m}").text
    assert 'data-can-edit="false"' in html and 'id="map-unsaved"' not in html
    assert "Import a map from Kumu" not in html
    assert viewer.get(f"/map/{m}/svg").status_code == 200
    assert viewer.get(f"/map/{m}/kumu.json").status_code == 200
    moved = viewer.post(f"/map/{m}/layout", json={"positions": {f["Budget"]: [1, 2]}})
    assert moved.status_code == 403
    assert viewer.post("/map/import", files={"kumu_file": ("a.json", b"{}")}).status_code == 403


def test_svg_export_is_the_map_in_its_layout(client: TestClient) -> None:
    m, f = make_map(client)
    response = client.get(f"/map/{m}/svg?loop=B1")
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert 'filename="front-door.svg"' in response.headers["content-disposition"]
    root = ET.fromstring(response.text.split("\n", 1)[1])
    keys = sorted(g.get("data-key") for g in root.iter(f"{SVG}g") if g.get("class") == "factor")
    assert keys == sorted(f.values())
    labels = [g.get("data-loop") for g in root.iter(f"{SVG}g") if g.get("data-loop")]
    assert labels == ["B1"]  # the highlighted loop alone is labelled
    assert client.get(f"/map/{'0' * 32}/svg").status_code == 404


def test_kumu_export_reads_back_and_imports_as_a_new_map(client: TestClient) -> None:
    m, f = make_map(client)
    exported = client.get(f"/map/{m}/kumu.json")
    assert exported.headers["content-type"].startswith("application/json")
    read = from_kumu(exported.json())
    assert sorted(x.name for x in read.factors) == sorted(f)
    response = client.post(
        "/map/import",
        files={"kumu_file": ("front-door.json", exported.content, "application/json")},
        data={"name": "Front door, again"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    new_map = response.headers["location"].split("map=")[1].split("&")[0]
    assert new_map != m
    loops = client.get(f"/api/system_maps/{new_map}/loops").json()
    assert sorted((lp["name"], sorted(lp["factor_names"])) for lp in loops) == [
        ("B1", ["Budget", "Workload"]),
        ("R1", ["Failure demand", "Workload"]),
    ]
    factors = [x for x in client.get("/api/factors").json() if x["system_map_id"] == new_map]
    assert {(x["name"], x["kind"], tuple(x["tags"])) for x in factors} == {
        ("Failure demand", "demand", ("front door",)),
        ("Workload", "capacity", ()),
        ("Budget", None, ()),
        ("Eligibility rules", "system_condition", ("national",)),
    }
    assert all(x["x"] is not None for x in factors)  # the positions came along


def test_an_import_says_what_it_refused_and_why(client: TestClient) -> None:
    doc = {
        "elements": [{"label": "A"}, {"label": "B"}],
        "connections": [{"from": "A", "to": "B", "type": "+"}, {"from": "B", "to": "A"}],
    }
    response = client.post(
        "/map/import", files={"kumu_file": ("map.json", json.dumps(doc).encode())}
    )
    assert response.status_code == 200
    assert "Made a new map with 2 factors and 1 link." in response.text
    assert "connection 2 (B → A): no polarity" in response.text
    not_json = client.post("/map/import", files={"kumu_file": ("notes.txt", b"hello")})
    assert not_json.status_code == 422 and "notes.txt is not JSON" in not_json.text
    nothing = client.post("/map/import", data={"name": "x"})
    assert nothing.status_code == 422 and "Choose a Kumu JSON file" in nothing.text
