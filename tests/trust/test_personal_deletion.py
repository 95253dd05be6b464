"""Deleted personal text leaves no copy: history, export, backups and the audit trail.

The review's attack: an editor creates a story, edits its text, deletes it (204);
a viewer's ``GET /api/history`` still returned title, text, teller and the earlier
version, and so did ``/api/export`` and backups.
"""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from systemic.store import open_store, repository
from systemic.store.backup import backup
from systemic.store.repository import ensure_default_workspace
from tests.trust.test_web_security import _csrf_of, _settings, _users, sign_in

SECRETS = ("Mrs K's week", "She called seven times", "nobody came at all", "daughter Jo")


def _app(tmp_path: Path):  # type: ignore[no-untyped-def]
    from systemic.web.app import create_app
    from systemic.web.security import install_security

    store = open_store(tmp_path / "ws.db")
    _users(store)
    app = create_app(store=store, secure=False)
    install_security(app, store, _settings())
    return TestClient(app), store


def _leaks(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


def test_a_deleted_story_leaves_no_text_in_history_export_trail_or_backup(
    tmp_path: Path,
) -> None:
    client, store = _app(tmp_path)
    sign_in(client, "ed")
    csrf = {"X-CSRF-Token": _csrf_of(client, store)}
    story = client.post(
        "/api/stories",
        json={"title": SECRETS[0], "text": SECRETS[1], "told_by": SECRETS[3]},
        headers=csrf,
    ).json()
    edited = client.patch(f"/api/stories/{story['id']}", json={"text": SECRETS[2]}, headers=csrf)
    assert edited.status_code == 200
    assert client.delete(f"/api/stories/{story['id']}", headers=csrf).status_code == 204
    history = client.get(f"/api/stories/{story['id']}/history").json()
    # Only the fact of deletion remains: when and by whom.
    assert [(h["action"], h["actor"]) for h in history] == [("delete", "ed")]
    assert not _leaks(str(history))
    client.cookies.clear()
    sign_in(client, "vera")
    assert not _leaks(client.get("/api/history").text)
    assert not _leaks(client.get("/api/export").text)
    client.cookies.clear()
    sign_in(client, "ada")
    assert not _leaks(client.get("/api/export").text)
    assert not _leaks(client.get("/api/audit-trail").text)
    backup(store.engine, tmp_path / "bk")
    for path in (tmp_path / "bk").rglob("*"):
        if path.is_file():
            assert not _leaks(path.read_text(encoding="utf-8")), path
    store.dispose()


def test_viewers_see_no_personal_text_in_history(tmp_path: Path) -> None:
    client, store = _app(tmp_path)
    sign_in(client, "ed")
    csrf = {"X-CSRF-Token": _csrf_of(client, store)}
    story = client.post(
        "/api/stories", json={"title": SECRETS[0], "text": SECRETS[1]}, headers=csrf
    ).json()
    client.patch(f"/api/stories/{story['id']}", json={"text": SECRETS[2]}, headers=csrf)
    conversation = client.post(
        "/api/conversations", json={"what_matters": SECRETS[3]}, headers=csrf
    ).json()
    # Editors keep the story's history (with its text) while it stands.
    assert SECRETS[2] in client.get(f"/api/stories/{story['id']}/history").text
    client.cookies.clear()
    sign_in(client, "vera")
    for path in (
        "/api/history",
        "/api/history?kind=story",
        f"/api/stories/{story['id']}/history",
        f"/api/conversations/{conversation['id']}/history",
    ):
        answer = client.get(path)
        assert answer.status_code == 200 and not _leaks(answer.text), path
    actions = [h["action"] for h in client.get(f"/api/stories/{story['id']}/history").json()]
    assert actions == ["create", "update"]  # the facts stay; the words do not
    # The whole-workspace export is for admins only (a viewer is refused outright, so
    # its history, with or without people's words, never reaches them).
    export = client.get("/api/export")
    assert export.status_code == 403 and not _leaks(export.text)
    store.dispose()


def test_deletion_in_the_store_keeps_other_objects_history(tmp_path: Path) -> None:
    store = open_store(tmp_path / "s.db")
    with store.session() as s:
        ws = ensure_default_workspace(s).id
        story = repository.create(s, ws, "story", {"title": SECRETS[0]}, actor="ed")
        condition = repository.create(
            s, ws, "system_condition", {"name": "Targets", "story_ids": [story.id]}, actor="ed"
        )
        repository.delete_object(s, ws, "story", story.id, actor="ed")
        s.commit()
        kept = [h.action for h in repository.history(s, ws, object_id=condition.id)]
        assert kept == ["create"]
        gone = repository.history(s, ws, object_id=story.id)
        assert [(h.action, h.actor, h.changes) for h in gone] == [
            ("delete", "ed", {"personal_text": "removed when it was deleted"})
        ]
    store.dispose()
