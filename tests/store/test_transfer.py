"""Export and import: one JSON document that round-trips exactly, across backends."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from systemic.store import (
    ImportFormatError,
    Store,
    WorkspaceConflictError,
    export_workspace,
    import_workspace,
    open_store,
    set_rule,
)
from systemic.store import repository as repo


def populate(store: Store) -> str:
    """A workspace using every kind and every relation."""
    with store.session() as s:
        ws = repo.create_workspace(s, "Anytown", "anytown")
        w = ws.id
        loc = repo.create(s, w, "locality", {"name": "North", "population": 9000})
        root = repo.create(s, w, "purpose_statement", {"text": "Live well", "level": "system"})
        child = repo.create(
            s,
            w,
            "purpose_statement",
            {
                "text": "Help me stay at home",
                "voice": "I",
                "parent_id": root.id,
                "locality_id": loc.id,
                "consent": True,
                "said_by": "tenant",
            },
        )
        principle = repo.create(s, w, "principle", {"name": "Local by default"})
        team = repo.create(
            s,
            w,
            "team",
            {
                "name": "North team",
                "locality_id": loc.id,
                "members": ["A"],
                "purpose_statement_ids": [child.id],
            },
        )
        repo.create(
            s,
            w,
            "decision_right",
            {
                "locality_id": loc.id,
                "decision_kind": "spend",
                "made": "escalated",
                "reason": "central budget",
            },
        )
        story = repo.create(
            s,
            w,
            "story",
            {"title": "Six calls", "told_on": "2026-02-03", "purpose_statement_ids": [child.id]},
        )
        repo.create(
            s,
            w,
            "system_condition",
            {
                "name": "Eligibility threshold",
                "judgement": "harmful",
                "proposal": "Lower it",
                "evidence": [{"label": "demand study", "href": "/learn/x"}],
                "principle_ids": [principle.id],
                "story_ids": [story.id],
            },
        )
        repo.create(s, w, "conversation", {"what_matters": "My garden", "strengths": ["son"]})
        repo.create(s, w, "masked_name", {"name": "Okafor"})
        repo.create(
            s,
            w,
            "demand",
            {
                "verbatim": "Mrs Okafor chasing the boiler again, ring 07700 900123",
                "channel": "phone",
                "locality_id": loc.id,
                "demand_class": "failure",
                "what_failed": "chasing_progress",
                "resolved_first_contact": False,
            },
        )
        repo.create(s, w, "community_asset", {"name": "Lunch club", "locality_id": loc.id})
        repo.create(
            s,
            w,
            "relationship",
            {
                "party_a": "Council",
                "party_b": "Residents",
                "observations": [{"observed_on": "2026-01-01", "trust": 2, "power": "over"}],
            },
        )
        measure = repo.create(
            s,
            w,
            "measure",
            {
                "name": "Days at home",
                "owner_team_id": team.id,
                "target": 300.5,
                "series": [{"period": "2026-01-01", "value": 280.25}],
                "purpose_statement_ids": [child.id, root.id],
            },
        )
        exp = repo.create(
            s,
            w,
            "experiment",
            {
                "title": "One worker",
                "start_date": "2026-01-01",
                "end_date": "2026-03-01",
                "team_id": team.id,
                "measure_ids": [measure.id],
                "story_ids": [story.id],
                "purpose_statement_ids": [child.id],
                "result": "Fewer hand-offs",
                "decision": "adopt",
            },
        )
        repo.create(
            s,
            w,
            "redesign_decision",
            {
                "title": "One front door",
                "experiment_ids": [exp.id],
                "measure_ids": [measure.id],
                "story_ids": [story.id],
                "review_date": "2027-01-01",
            },
        )
        repo.update(s, w, "locality", loc.id, {"boundary": "Wards 1-3"}, actor="sam")
        set_rule(s, w, "locality-without-team", enabled=False)
        s.commit()
        return ws.id


def test_round_trip_is_exact(store: Store, tmp_path: Path) -> None:
    populate(store)
    with store.session() as s:
        document = export_workspace(s, "anytown")
    assert all(document["objects"][k] for k in document["objects"])  # every kind present
    text = json.dumps(document)
    target = open_store(f"sqlite:///{tmp_path / 'empty.db'}")
    with target.session() as s:
        import_workspace(s, json.loads(text))
        s.commit()
    with target.session() as s:
        again = export_workspace(s, "anytown")
    target.dispose()
    assert again == document
    assert json.dumps(again) == text


def test_import_into_a_database_with_the_workspace(store: Store) -> None:
    populate(store)
    with store.session() as s:
        document = export_workspace(s, "anytown")
        with pytest.raises(WorkspaceConflictError, match="already exists"):
            import_workspace(s, document)
        s.rollback()
        loc = repo.list_objects(s, document["workspace"]["id"], "locality")[0]
        repo.update(s, document["workspace"]["id"], "locality", loc.id, {"name": "Changed"})
        s.commit()
        import_workspace(s, document, replace=True)
        s.commit()
        assert export_workspace(s, "anytown") == document


def test_bad_documents_are_refused_with_the_key(store: Store) -> None:
    with store.session() as s:
        with pytest.raises(ImportFormatError, match="format"):
            import_workspace(s, {"format": "csv"})
        with pytest.raises(ImportFormatError, match="format_version"):
            import_workspace(s, {"format": "systemic-workspace", "format_version": 99})
        with pytest.raises(ImportFormatError, match="'workspace'"):
            import_workspace(s, {"format": "systemic-workspace", "format_version": 1})
        doc = {
            "format": "systemic-workspace",
            "format_version": 1,
            "workspace": {
                "id": "a" * 32,
                "slug": "x",
                "name": "x",
                "created_at": "2026-01-01T00:00:00+00:00",
            },
            "objects": {"locality": [{"name": "no id"}]},
        }
        with pytest.raises(ImportFormatError, match=r"objects\.locality\[0\]"):
            import_workspace(s, doc)
        s.rollback()
        doc["objects"] = {"spaceship": []}
        with pytest.raises(ImportFormatError, match="unknown kinds"):
            import_workspace(s, doc)


def test_documents_with_dangling_or_duplicate_ids_are_refused(store: Store) -> None:
    populate(store)
    with store.session() as s:
        document = export_workspace(s, "anytown")
    fresh = json.loads(json.dumps(document))
    fresh["workspace"].update(id="b" * 32, slug="copy")
    for records in fresh["objects"].values():
        for record in records:
            record["workspace_id"] = "b" * 32
    with store.session() as s:
        # Same object ids as the original workspace: refused, nothing half-imported.
        with pytest.raises(WorkspaceConflictError, match="already exists in this database"):
            import_workspace(s, fresh)
        s.rollback()
        assert [w.slug for w in repo.list_workspaces(s)] == ["anytown"]

    dangling = json.loads(json.dumps(document))
    dangling["objects"]["measure"][0]["purpose_statement_ids"] = ["z" * 32]
    twice = json.loads(json.dumps(document))
    twice["objects"]["principle"].append(twice["objects"]["principle"][0])
    naive = json.loads(json.dumps(document))
    naive["history"][0]["at"] = "2026-01-01T00:00:00"
    target = open_store("sqlite://")
    with target.session() as s:
        with pytest.raises(ImportFormatError, match=r"measure\[0\]\.purpose_statement_ids"):
            import_workspace(s, dangling)
        s.rollback()
        with pytest.raises(ImportFormatError, match="more than once"):
            import_workspace(s, twice)
        s.rollback()
        with pytest.raises(ImportFormatError, match=r"history\.0\.at"):
            import_workspace(s, naive)
    target.dispose()
