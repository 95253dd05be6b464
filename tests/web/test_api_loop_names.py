"""A system map's loop names through the API: a name, or a loop, given twice is refused (422)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

R1 = {"name": "R1", "kind": "reinforcing", "factors": ["a", "b"]}
B1 = {"name": "B1", "kind": "balancing", "factors": ["b", "c"]}


def _errors_on_loop_names(response: Any) -> list[str]:
    assert response.status_code == 422, response.text
    return [e["msg"] for e in response.json()["detail"] if e["loc"][:2] == ["body", "loop_names"]]


@pytest.mark.parametrize(
    ("names", "said"),
    [
        ([R1, {**B1, "name": "R1"}], "loops #1 and #2 have the name 'R1'"),
        ([R1, B1, {**R1, "name": "R9"}], "loops #1 and #3 have the same loop"),
    ],
)
def test_a_name_or_a_loop_given_twice_is_refused(
    client: TestClient, names: list[dict[str, Any]], said: str
) -> None:
    created = client.post("/api/system_maps", json={"name": "Housing", "loop_names": [R1, B1]})
    assert created.status_code == 201, created.text
    the_map = created.json()

    posted = client.post("/api/system_maps", json={"name": "Twice", "loop_names": names})
    assert any(said in msg for msg in _errors_on_loop_names(posted)), posted.json()

    patched = client.patch(f"/api/system_maps/{the_map['id']}", json={"loop_names": names})
    assert any(said in msg for msg in _errors_on_loop_names(patched)), patched.json()
    kept = client.get(f"/api/system_maps/{the_map['id']}").json()["loop_names"]
    assert [n["name"] for n in kept] == ["R1", "B1"]
    assert "Twice" not in {m["name"] for m in client.get("/api/system_maps").json()}


def test_distinct_names_for_distinct_loops_are_kept(client: TestClient) -> None:
    names = [R1, B1, {"name": "R2", "kind": "reinforcing", "factors": ["a", "c"]}]
    created = client.post("/api/system_maps", json={"name": "Housing", "loop_names": names})
    assert created.status_code == 201, created.text
    assert [n["name"] for n in created.json()["loop_names"]] == ["R1", "B1", "R2"]
