"""The audit trail is installed by the store: every writer is audited, under one name.

The review found ``systemic workspace import`` and ``workspace create`` unaudited
(the web app installed the listener), and history and the audit trail naming the
actor in two different ways.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from systemic.cli import app
from systemic.store import acting_as, open_store, repository
from systemic.store.accounts import AuditEvent
from systemic.store.audit_trail import current_actor_name

runner = CliRunner()


@pytest.fixture(autouse=True)
def _actor_reset() -> Iterator[None]:
    """A CLI command names its user for the rest of the process: not for other tests."""
    token = current_actor_name.set(None)
    yield
    current_actor_name.reset(token)


def _trail(db: Path) -> list[tuple[str, str, str]]:
    store = open_store(db)
    with store.session() as s:
        rows = s.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        out = [(e.actor, e.action, e.object_kind) for e in rows]
    store.dispose()
    return out


def test_workspace_create_and_import_from_the_cli_are_audited(tmp_path: Path) -> None:
    me = f"cli:{getpass.getuser()}"
    db = tmp_path / "w.db"
    made = runner.invoke(app, ["workspace", "create", "Anytown council", "--db", str(db)])
    assert made.exit_code == 0, made.output
    trail = _trail(db)
    assert (me, "create", "workspace") in trail
    assert (me, "create", "system_map") in trail  # the seeded map too
    exported = tmp_path / "ws.json"
    assert (
        runner.invoke(app, ["workspace", "export", str(exported), "--db", str(db)]).exit_code == 0
    )
    other = tmp_path / "other.db"
    imported = runner.invoke(app, ["workspace", "import", str(exported), "--db", str(other)])
    assert imported.exit_code == 0, imported.output
    actions = {(a, k) for actor, a, k in _trail(other) if actor == me}
    assert {("create", "workspace"), ("create", "factor"), ("create", "causal_link")} <= actions
    document = json.loads(exported.read_text())
    assert {h["actor"] for h in document["history"]} == {me}  # history names the same actor


def test_history_and_the_trail_name_the_actor_one_way(tmp_path: Path) -> None:
    store = open_store(tmp_path / "s.db")
    with acting_as("amira"), store.session() as s:
        ws = repository.create_workspace(s, "Town", seed=False)
        principle = repository.create(s, ws.id, "principle", {"name": "Pull, not push"})
        repository.update(s, ws.id, "principle", principle.id, {"description": "Demand first"})
        s.commit()
    with store.session() as s:  # nobody named: "system" in both
        repository.delete_object(s, ws.id, "principle", principle.id)
        s.commit()
        history = [(h.actor, h.action) for h in repository.history(s, ws.id)]
        trail = [
            (e.actor, e.action)
            for e in s.scalars(
                select(AuditEvent)
                .where(AuditEvent.object_id == principle.id)
                .order_by(AuditEvent.id)
            )
        ]
    assert history == trail == [("amira", "create"), ("amira", "update"), ("system", "delete")]
    store.dispose()


def test_every_new_sessionmaker_is_watched_even_at_a_reused_address() -> None:
    """SQLAlchemy's event registry is keyed by id(): a collected sessionmaker's
    address, reused by a new one, must not make the new one look watched."""
    import gc

    from sqlalchemy import create_engine, event
    from sqlalchemy.orm import sessionmaker

    from systemic.store.audit_trail import _before_flush, watch_sessions

    engine = create_engine("sqlite://")
    unwatched = 0
    for _ in range(20):
        sessions = sessionmaker(engine)
        watch_sessions(sessions)
        watch_sessions(sessions)  # idempotent
        with sessions() as session:
            listeners = session.dispatch.before_flush
            if sum(1 for fn in listeners if fn is _before_flush) != 1:
                unwatched += 1
        del sessions, session
        gc.collect()
    assert unwatched == 0
    assert not event.contains(sessionmaker(engine), "before_flush", lambda *a: None)
    engine.dispose()
