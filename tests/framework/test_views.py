"""Views for the pages: purpose tree with coverage, localities, timeline, dashboard."""

from __future__ import annotations

from datetime import date

from systemic.framework import (
    WorkspaceSnapshot,
    dashboard,
    experiments_timeline,
    localities,
    purpose_coverage,
    purpose_tree,
    system_conditions,
)

TODAY = date(2026, 6, 1)


def test_purpose_tree_nests_and_counts_coverage() -> None:
    snap = WorkspaceSnapshot.empty()
    snap.add("purpose_statement", {"text": "Live the life I want", "level": "system"}, "root")
    snap.add("purpose_statement", {"text": "Stay at home", "parent_id": "root"}, "a")
    snap.add("purpose_statement", {"text": "See friends", "parent_id": "root"}, "b")
    snap.add("purpose_statement", {"text": "Get out", "parent_id": "b"}, "c")
    snap.add("measure", {"name": "Days at home", "purpose_statement_ids": ["a"]}, "m")
    snap.add("team", {"name": "T", "purpose_statement_ids": ["a", "c"]}, "t")
    (root,) = purpose_tree(snap)
    assert root.statement.id == "root"
    assert [child.statement.id for child in root.children] == ["a", "b"]
    a, b = root.children
    assert [x.id for x in a.measures] == ["m"] and [x.id for x in a.teams] == ["t"]
    assert [child.statement.id for child in b.children] == ["c"]
    assert (root.covered, a.covered, b.covered, b.children[0].covered) == (False, True, False, True)
    assert purpose_coverage(snap) == 0.5
    assert purpose_coverage(WorkspaceSnapshot.empty()) is None


def test_localities_with_rights_and_index() -> None:
    snap = WorkspaceSnapshot.empty()
    snap.add("locality", {"name": "south"}, "s")
    snap.add("locality", {"name": "North"}, "n")
    snap.add("team", {"name": "N team", "locality_id": "n"}, "t")
    for n, made in enumerate(["local", "local", "escalated"]):
        snap.add(
            "decision_right",
            {"locality_id": "n", "decision_kind": f"k{2 - n}", "made": made},
            f"d{n}",
        )
    north, south = localities(snap)
    assert north.locality.name == "North" and south.locality.name == "south"
    assert [t.id for t in north.teams] == ["t"]
    assert [r.decision_kind for r in north.decision_rights] == ["k0", "k1", "k2"]
    assert (north.local_index.decisions, north.local_index.local) == (3, 2)
    assert abs(north.local_index.index - 2 / 3) < 1e-12
    assert south.local_index.index is None and south.local_index.escalated_share == 0.0


def test_conditions_register_puts_harmful_first() -> None:
    snap = WorkspaceSnapshot.empty()
    snap.add("system_condition", {"name": "B helpful", "judgement": "helpful"}, "1")
    snap.add("system_condition", {"name": "a harmful", "judgement": "harmful"}, "2")
    snap.add("system_condition", {"name": "C unassessed"}, "3")
    assert [c.id for c in system_conditions(snap)] == ["2", "3", "1"]


def test_experiments_timeline_order_status_and_evidence() -> None:
    snap = WorkspaceSnapshot.empty()
    snap.add("measure", {"name": "m"}, "m")
    snap.add("experiment", {"title": "undated"}, "u")
    snap.add("experiment", {"title": "later", "start_date": "2026-07-01"}, "l")
    snap.add(
        "experiment",
        {
            "title": "running",
            "start_date": "2026-05-01",
            "end_date": "2026-08-01",
            "measure_ids": ["m", "gone"],
        },
        "r",
    )
    snap.add(
        "experiment", {"title": "ended", "start_date": "2026-01-01", "end_date": "2026-02-01"}, "e"
    )
    snap.add(
        "experiment",
        {
            "title": "decided",
            "start_date": "2026-01-02",
            "end_date": "2026-02-01",
            "decision": "spread",
        },
        "d",
    )
    views = experiments_timeline(snap, TODAY)
    assert [(v.experiment.id, v.status) for v in views] == [
        ("e", "ended"),
        ("d", "decided"),
        ("r", "running"),
        ("l", "planned"),
        ("u", "planned"),
    ]
    running = views[2]
    assert [m.id for m in running.measures] == ["m"]


def test_dashboard_counts() -> None:
    snap = WorkspaceSnapshot.empty()
    snap.add("locality", {"name": "North"}, "n")
    board = dashboard(snap)
    assert board.counts["locality"] == 1 and board.counts["measure"] == 0
    assert board.findings_by_severity == {"error": 0, "warning": 1, "info": 0}
