"""Which numbers leave through the API, and why none of them needs small-number suppression.

Counts of people or events (1-4) must leave the system as "<5". The API
computes no such count: it serves the workspace's own objects and a few
figures about those objects. This test is the evidence, and a tripwire: it
lists every number in every API response schema, each with the reason it is
not a count of people or events. A new route or field that returns a number
fails here until it is classified, and, if it counts people or events, sent
out through ``systemic.data.disclosure.suppress_counts``.

The free-form documents (``/api/export``, ``/api/history``, the audit trail's
``before``/``after``) carry the same objects' fields and nothing else; the
export is checked below.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

#: Every number in an API response, and why it is not a count of people or events.
NOT_PERSONAL_COUNTS: dict[str, str] = {
    "AuditOut.counts{}": "audit findings per severity: a count of workspace objects",
    "LocalIndexOut.decisions": "decision rights recorded for a locality (workspace objects)",
    "LocalIndexOut.local": "decision rights made locally (workspace objects)",
    "LocalIndexOut.escalated": "decision rights escalated (workspace objects)",
    "LocalIndexOut.index": "the share of those decision rights made locally",
    "Locality.population": "the population a locality serves, as staff entered it (context)",
    "Measure.target": "a target value a member typed in (flagged by the audit)",
    "SeriesPoint.value": "a measure's uploaded series, returned exactly as stored",
    "RelationshipObservation.trust": "a 1-5 judgement of trust, not a count",
    "AuditEventOut.id": "the audit entry's row number",
    "Factor.x": "a factor's saved position on the system map (map units), not a count",
    "Factor.y": "a factor's saved position on the system map (map units), not a count",
    # An experiment's stored evidence: statistics of a measure's series as the workspace
    # holds it (uploaded, or a learn result's published tables with small counts already
    # suppressed and read as gaps), never a count of people computed here.
    "EvidenceAnalysis.version": "the number of an analysis run (1, 2, ...)",
    "MeasureEvidence.n_before": "how many periods (weeks or months) of the series precede the "
    "start: a count of periods, not of people",
    "MeasureEvidence.n_after": "how many periods of the series follow the start",
    "MeasureEvidence.baseline_mean": "the mean of the published series before the start",
    "MeasureEvidence.baseline_lower": "the lower process limit of the published series",
    "MeasureEvidence.baseline_upper": "the upper process limit of the published series",
    "MeasureEvidence.change_in_locality": "the change in the locality's published series",
    "MeasureEvidence.change_in_others": "the change in the other localities' published series",
    "MeasureEvidence.did": "difference in differences of the published series",
    "MeasureEvidence.did_lower": "the lower end of that difference's bootstrap interval",
    "MeasureEvidence.did_upper": "the upper end of that difference's bootstrap interval",
}


def _numbers(schema: dict[str, Any], components: dict[str, Any]) -> set[str]:
    """Dotted paths (``Model.field``) of every integer or number in a response schema."""
    found: set[str] = set()

    def walk(node: dict[str, Any], where: str, seen: frozenset[str]) -> None:
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[1]
            if name not in seen:
                walk(components[name], name, seen | {name})
            return
        for key in ("anyOf", "oneOf", "allOf"):
            for option in node.get(key, []):
                walk(option, where, seen)
        if node.get("type") in ("integer", "number"):
            found.add(where)
        if node.get("type") == "array" and "items" in node:
            walk(node["items"], where, seen)
        for name, child in node.get("properties", {}).items():
            walk(child, f"{where}.{name}", seen)
        if isinstance(node.get("additionalProperties"), dict):
            walk(node["additionalProperties"], f"{where}{{}}", seen)

    walk(schema, "", frozenset())
    return found


def test_every_number_the_api_returns_is_classified(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    components = schema["components"]["schemas"]
    returned: dict[str, set[str]] = {}
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            for status, response in operation.get("responses", {}).items():
                body = response.get("content", {}).get("application/json", {}).get("schema")
                if status.startswith("2") and body:
                    for number in _numbers(body, components):
                        returned.setdefault(number, set()).add(f"{method.upper()} {path}")
    unclassified = {
        n: sorted(paths) for n, paths in returned.items() if n not in NOT_PERSONAL_COUNTS
    }
    assert unclassified == {}, (
        "numbers leaving through the API that nobody has classified; if they count people "
        f"or events, suppress them with suppress_counts: {unclassified}"
    )
    # The list is not stale either: each entry is still returned by some route.
    assert set(NOT_PERSONAL_COUNTS) == set(returned)
    assert "GET /api/localities/{object_id}/local_index" in returned["LocalIndexOut.local"]


def test_the_export_carries_only_the_workspace_s_own_objects(client: TestClient) -> None:
    """The export is free-form JSON: its numbers are the objects' fields listed above."""
    client.post("/api/localities", json={"name": "North", "population": 3})
    client.post(
        "/api/measures",
        json={
            "name": "People waiting",
            "target": 2,
            "series": [{"period": "2026-01-05", "value": 3}, {"period": "2026-01-12", "value": 4}],
        },
    )
    client.post(
        "/api/relationships",
        json={
            "party_a": "Ward team",
            "party_b": "Day centre",
            "observations": [{"observed_on": "2026-03-01", "trust": 4, "power": "with"}],
        },
    )
    document = client.get("/api/export").json()
    from systemic.framework.kinds import KINDS

    kinds = set(document["objects"]) if isinstance(document.get("objects"), dict) else set()
    assert kinds <= set(KINDS)
    numbers: list[tuple[str, Any]] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, bool):
            return
        if isinstance(node, int | float):
            numbers.append((where, node))
        elif isinstance(node, dict):
            for key, value in node.items():
                walk(value, key)
        elif isinstance(node, list):
            for value in node:
                walk(value, where)

    walk(document, "")
    fields = {name.rsplit(".", 1)[-1] for name in NOT_PERSONAL_COUNTS}
    # The small numbers typed in come back as typed: they are stored content, not counts.
    assert {"population", "target", "value", "trust"} <= {where for where, _ in numbers}
    assert {where for where, _ in numbers} <= fields | {"format_version"}
