"""The repository: workspaces isolated, history kept, links and deletes consistent."""

from __future__ import annotations

import itertools

import pytest

from systemic.store import (
    InvalidObjectError,
    NotFoundError,
    Store,
    WorkspaceConflictError,
    open_store,
)
from systemic.store import repository as repo
from systemic.store.queries import dashboard, localities, purpose_tree, system_maps


def test_new_workspace_is_seeded_with_the_spiral(store: Store) -> None:
    with store.session() as s:
        ws = repo.create_workspace(s, "Anytown Council")
        assert ws.slug == "anytown-council"
        (the_map,) = system_maps(s, ws.id)
        assert the_map.system_map.name == "Failure-demand spiral"
        assert len(the_map.factors) == 6 and len(the_map.links) == 7
        assert [lp.kind for lp in the_map.loops] == ["reinforcing", "reinforcing"]
        bare = repo.create_workspace(s, "Bare", seed=False)
        assert system_maps(s, bare.id) == []
        with pytest.raises(WorkspaceConflictError):
            repo.create_workspace(s, "Again", slug="anytown-council")


def test_workspaces_do_not_see_each_other(store: Store) -> None:
    with store.session() as s:
        a = repo.create_workspace(s, "A", seed=False)
        b = repo.create_workspace(s, "B", seed=False)
        loc = repo.create(s, a.id, "locality", {"name": "North"})
        purpose = repo.create(s, a.id, "purpose_statement", {"text": "Stay well"})
        s.commit()
        assert repo.list_objects(s, b.id, "locality") == []
        with pytest.raises(NotFoundError):
            repo.get(s, b.id, "locality", loc.id)
        with pytest.raises(NotFoundError):
            repo.update(s, b.id, "locality", loc.id, {"name": "Stolen"})
        with pytest.raises(NotFoundError):
            repo.delete_object(s, b.id, "locality", loc.id)
        # Pointing at another workspace's objects is refused, field by field.
        with pytest.raises(InvalidObjectError) as err:
            repo.create(s, b.id, "team", {"name": "T", "locality_id": loc.id})
        assert err.value.errors[0]["loc"] == ("locality_id",)
        with pytest.raises(InvalidObjectError) as err:
            repo.create(s, b.id, "measure", {"name": "M", "purpose_statement_ids": [purpose.id]})
        assert err.value.errors[0]["loc"] == ("purpose_statement_ids", 0)
        measure = repo.create(s, b.id, "measure", {"name": "M"})
        with pytest.raises(NotFoundError):
            repo.link(s, b.id, "measure", measure.id, "purpose_statements", purpose.id)
        assert repo.get(s, a.id, "locality", loc.id).name == "North"


def test_history_records_who_changed_what(store: Store) -> None:
    with store.session() as s:
        ws = repo.create_workspace(s, "W", seed=False)
        loc = repo.create(s, ws.id, "locality", {"name": "North"}, actor="sam")
        repo.update(
            s, ws.id, "locality", loc.id, {"name": "North", "population": 900}, actor="amina"
        )
        repo.update(s, ws.id, "locality", loc.id, {"population": 900}, actor="amina")  # no-op
        team = repo.create(s, ws.id, "team", {"name": "T"})
        purpose = repo.create(s, ws.id, "purpose_statement", {"text": "Stay well"})
        repo.link(s, ws.id, "team", team.id, "purpose_statements", purpose.id, actor="jo")
        repo.unlink(s, ws.id, "team", team.id, "purpose_statements", purpose.id, actor="jo")
        repo.delete_object(s, ws.id, "locality", loc.id, actor="sam")
        s.commit()
        entries = repo.history(s, ws.id, object_id=loc.id)
        assert [(h.action, h.actor) for h in entries] == [
            ("create", "sam"),
            ("update", "amina"),
            ("delete", "sam"),
        ]
        assert entries[1].changes == {"changes": {"population": [None, 900]}}
        assert entries[2].changes["before"]["name"] == "North"
        team_log = repo.history(s, ws.id, kind="team")
        assert [h.action for h in team_log] == ["create", "link", "unlink"]
        assert team_log[1].changes == {"relation": "purpose_statements", "target_id": purpose.id}
        assert all(a.at <= b.at for a, b in itertools.pairwise(entries))


def test_invalid_update_changes_nothing(store: Store) -> None:
    with store.session() as s:
        ws = repo.create_workspace(s, "W", seed=False)
        exp = repo.create(s, ws.id, "experiment", {"title": "t", "start_date": "2026-03-01"})
        with pytest.raises(InvalidObjectError, match="end_date"):
            repo.update(s, ws.id, "experiment", exp.id, {"end_date": "2026-01-01"})
        with pytest.raises(InvalidObjectError, match="no such field"):
            repo.update(s, ws.id, "experiment", exp.id, {"colour": "red"})
        assert repo.get(s, ws.id, "experiment", exp.id) == exp
        with pytest.raises(ValueError, match="unknown kind"):
            repo.create(s, ws.id, "spaceship", {})


def test_views_through_the_store(store: Store) -> None:
    with store.session() as s:
        ws = repo.create_workspace(s, "W", seed=False)
        root = repo.create(s, ws.id, "purpose_statement", {"text": "Live well"})
        child = repo.create(
            s, ws.id, "purpose_statement", {"text": "Stay home", "parent_id": root.id}
        )
        repo.create(s, ws.id, "measure", {"name": "m", "purpose_statement_ids": [child.id]})
        loc = repo.create(s, ws.id, "locality", {"name": "North"})
        repo.create(s, ws.id, "decision_right", {"locality_id": loc.id, "decision_kind": "spend"})
        (node,) = purpose_tree(s, ws.id)
        assert node.children[0].covered and not node.covered
        (view,) = localities(s, ws.slug)
        assert view.local_index.index == 1.0
        board = dashboard(s, ws.id)
        assert board.counts["purpose_statement"] == 2
        assert board.purpose_coverage == 0.5
        # root uncovered (warning) and North has no team (warning)
        assert board.findings_by_severity == {"error": 0, "warning": 2, "info": 0}


def test_default_workspace_is_default_else_the_first_by_name_else_made(store: Store) -> None:
    with store.session() as session:
        made = repo.default_workspace(session)  # none yet: the default one is made
        assert made.slug == "default" and len(repo.list_workspaces(session)) == 1
        repo.create_workspace(session, "Aardvark council", "aardvark", seed=False)
        assert repo.default_workspace(session).slug == "default"
    other = open_store("sqlite://")
    with other.session() as session:
        repo.create_workspace(session, "Zebra trust", "zebra", seed=False)
        repo.create_workspace(session, "Aardvark council", "aardvark", seed=False)
        assert repo.default_workspace(session).slug == "aardvark"  # first by name
        assert len(repo.list_workspaces(session)) == 2  # nothing made
    other.dispose()
