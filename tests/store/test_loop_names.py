"""Loop names are stored with the map as loops appear, and survive export and import."""

from __future__ import annotations

from systemic.framework.views import system_map
from systemic.store import Store, load_snapshot, open_store
from systemic.store import repository as repo
from systemic.store.transfer import export_workspace, import_workspace


def _link(session, ws: str, map_id: str, cause: str, effect: str, sign: str = "+") -> str:  # type: ignore[no-untyped-def]
    fields = {"system_map_id": map_id, "cause_id": cause, "effect_id": effect, "polarity": sign}
    return repo.create(session, ws, "causal_link", fields).id


def _names(session, ws: str, map_id: str) -> dict[str, tuple[str, ...]]:  # type: ignore[no-untyped-def]
    view = system_map(load_snapshot(session, ws), map_id)
    return {loop.name: loop.factors for loop in view.named_loops}


def test_names_are_stored_as_links_are_added_and_never_move(store: Store) -> None:
    with store.session() as session:
        ws = repo.ensure_default_workspace(session).id
        m = repo.create(session, ws, "system_map", {"name": "Spiral"}).id
        f = {
            n: repo.create(session, ws, "factor", {"system_map_id": m, "name": n}).id
            for n in ("demand", "workload", "thresholds", "budget")
        }
        _link(session, ws, m, f["demand"], f["workload"])
        _link(session, ws, m, f["workload"], f["demand"])
        _link(session, ws, m, f["workload"], f["budget"])
        _link(session, ws, m, f["budget"], f["workload"], "-")
        session.commit()
        stored = repo.get(session, ws, "system_map", m).loop_names
        assert [(n.name, n.kind) for n in stored] == [("R1", "reinforcing"), ("B1", "balancing")]
        before = _names(session, ws, m)
        assert before == {
            "R1": (f["demand"], f["workload"]),
            "B1": (f["workload"], f["budget"]),
        }
        # A factor added first in the drawing order, with links closing a new loop.
        new = repo.create(session, ws, "factor", {"system_map_id": m, "name": "new"}).id
        _link(session, ws, m, new, f["demand"])
        _link(session, ws, m, f["demand"], new, "-")
        _link(session, ws, m, f["thresholds"], f["demand"])  # closes no loop
        session.commit()
        after = _names(session, ws, m)
        assert {k: after[k] for k in before} == before
        assert set(after) - set(before) == {"B2"}
        # Changing a link's sign makes a new loop; the old name is not handed out again.
        flip = next(
            c.id
            for c in repo.list_objects(session, ws, "causal_link")
            if (c.cause_id, c.effect_id) == (f["budget"], f["workload"])
        )
        repo.update(session, ws, "causal_link", flip, {"polarity": "+"})
        session.commit()
        assert _names(session, ws, m)["R2"] == (f["workload"], f["budget"])
        assert "B1" not in _names(session, ws, m)


def test_loop_names_travel_with_an_export(store: Store) -> None:
    with store.session() as session:
        ws = repo.ensure_default_workspace(session).id
        m = repo.create(session, ws, "system_map", {"name": "Spiral"}).id
        a = repo.create(session, ws, "factor", {"system_map_id": m, "name": "a"}).id
        b = repo.create(session, ws, "factor", {"system_map_id": m, "name": "b"}).id
        _link(session, ws, m, a, b)
        _link(session, ws, m, b, a)
        session.commit()
        document = export_workspace(session, "default")
    other = open_store("sqlite://")
    try:
        with other.session() as session:
            import_workspace(session, document)
            session.commit()
            assert _names(session, ws, m) == {"R1": (a, b)}
            assert export_workspace(session, "default") == document
    finally:
        other.dispose()
