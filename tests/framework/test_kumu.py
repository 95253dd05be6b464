"""Kumu JSON: a map written out reads back the same; what cannot be used is refused."""

from __future__ import annotations

import json

import pytest

from systemic.framework.kumu import KumuFormatError, from_kumu, to_kumu
from systemic.framework.map_layout import layout_of
from systemic.framework.snapshot import WorkspaceSnapshot
from systemic.framework.views import system_map


def spiral() -> WorkspaceSnapshot:
    snap = WorkspaceSnapshot.empty()
    snap.add("system_map", {"name": "Spiral"}, "m")
    snap.add(
        "factor",
        {
            "system_map_id": "m",
            "name": "Failure demand",
            "kind": "demand",
            "level": "people",
            "tags": ["front door"],
            "x": 10.0,
            "y": 20.0,
        },
        "fd",
    )
    snap.add("factor", {"system_map_id": "m", "name": "Workload", "kind": "capacity"}, "wl")
    snap.add(
        "factor",
        {
            "system_map_id": "m",
            "name": "Silo rules",
            "kind": "system_condition",
            "description": "Eligibility set nationally",
        },
        "sr",
    )
    for n, (cause, effect, sign, delay) in enumerate(
        [("fd", "wl", "+", False), ("wl", "fd", "+", True), ("sr", "fd", "-", False)]
    ):
        snap.add(
            "causal_link",
            {
                "system_map_id": "m",
                "cause_id": cause,
                "effect_id": effect,
                "polarity": sign,
                "delay": delay,
                "evidence": "team survey" if n == 0 else "",
            },
            f"l{n}",
        )
    return snap


def test_a_map_round_trips_through_kumu_json() -> None:
    view = system_map(spiral(), "m")
    layout = layout_of(view)
    document = json.loads(json.dumps(to_kumu(view, layout)))  # as a file would carry it
    read = from_kumu(document)
    assert read.rejected == []
    assert read.name == "Spiral"
    by_name = {f.name: f for f in read.factors}
    assert {(f.name, f.kind, f.level, tuple(f.tags)) for f in read.factors} == {
        ("Failure demand", "demand", "people", ("front door",)),
        ("Workload", "capacity", None, ()),
        ("Silo rules", "system_condition", None, ()),
    }
    assert by_name["Silo rules"].description == "Eligibility set nationally"
    assert by_name["Failure demand"].position == (10.0, 20.0)
    assert by_name["Workload"].position == layout.positions["wl"]
    names = {f.key: f.name for f in read.factors}
    assert sorted(
        (names[link.cause], names[link.effect], link.polarity, link.delay, link.evidence)
        for link in read.links
    ) == [
        ("Failure demand", "Workload", "+", False, "team survey"),
        ("Silo rules", "Failure demand", "-", False, ""),
        ("Workload", "Failure demand", "+", True, ""),
    ]


def test_a_blueprint_with_labels_for_ids_is_read() -> None:
    doc = {
        "elements": [
            {"label": "A", "type": "Outcome"},
            {"label": "B", "type": "Stakeholder", "tags": "x|y"},
        ],
        "connections": [
            {"from": "A", "to": "B", "type": "negative"},
            {"from": "B", "to": "A", "connection type": "same", "delay": "yes"},
        ],
    }
    read = from_kumu(doc)
    assert [(f.name, f.kind, f.tags) for f in read.factors] == [
        ("A", "outcome", []),
        ("B", None, ["x", "y", "Stakeholder"]),  # an unknown type is kept as a tag
    ]
    assert [(link.cause, link.effect, link.polarity, link.delay) for link in read.links] == [
        ("A", "B", "-", False),
        ("B", "A", "+", True),
    ]


def test_what_cannot_be_used_is_refused_with_its_reason() -> None:
    doc = {
        "elements": [{"label": "A"}, {"label": ""}, {"label": "A"}, "junk", {"label": "B"}],
        "connections": [
            {"from": "A", "to": "B"},
            {"from": "A", "to": "Z", "type": "+"},
            {"from": "A", "to": "A", "type": "+"},
            {"from": "A", "to": "B", "type": "+"},
            {"from": "A", "to": "B", "type": "-"},
        ],
    }
    read = from_kumu(doc)
    assert [f.name for f in read.factors] == ["A", "B"]
    assert len(read.links) == 1
    assert read.rejected == [
        "element 2: it has no label",
        "element 3 (A): a second element with this id or label",
        "element 4: not an object",
        "connection 1 (A → B): no polarity; give its connection type as + or - (found 'nothing')",
        'connection 2 (A → Z): "to" names no element in the file',
        "connection 3 (A → A): a factor cannot cause itself",
        "connection 5 (A → B): these two elements are already connected",
    ]


@pytest.mark.parametrize("doc", [[], {"nodes": []}, {"elements": "A"}, "text"])
def test_a_file_that_is_not_a_kumu_map_is_refused(doc) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(KumuFormatError, match="elements"):
        from_kumu(doc)
