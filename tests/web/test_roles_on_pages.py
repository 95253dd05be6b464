"""Pages offer each user only what their role lets them do.

A viewer reads every page and object but is shown no "Add", "Edit", "Delete",
link, unlink or toggle control (nor the add/edit forms themselves); an editor
and an admin see them all. Every page is rendered for real, as each role.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from systemic.framework.kinds import KINDS
from tests.web.conftest import add_user, open_session
from tests.web.test_pages import LEVEL_PAGES, populate


class Actions(HTMLParser):
    """The change controls on a page: links to add/edit forms and forms that post."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.edit_links: list[str] = []
        self.posting_forms: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        href = a.get("href", "").split("?")[0]
        if tag == "a" and href.endswith(("/new", "/edit")):
            self.edit_links.append(a["href"])
        if tag == "form" and a.get("method", "get").lower() == "post":
            self.posting_forms.append(a.get("action", ""))
        if "hx-post" in a:
            self.posting_forms.append(a["hx-post"])


@pytest.fixture
def populated(app: FastAPI, client: TestClient) -> dict[str, str]:
    return populate(client)


def _object_pages(ids: dict[str, str]) -> list[str]:
    return [
        f"/{KINDS[kind.removesuffix('_a').removesuffix('_b')].plural}/{object_id}"
        for kind, object_id in ids.items()
    ]


def test_a_viewer_sees_no_control_they_cannot_use(app: FastAPI, populated) -> None:  # type: ignore[no-untyped-def]
    viewer = open_session(TestClient(app), add_user(app.state.store, "vera", "viewer"))
    for path in LEVEL_PAGES + _object_pages(populated):
        response = viewer.get(path)
        assert response.status_code == 200, path
        found = Actions(response.text)
        assert found.edit_links == [], (path, found.edit_links)
        # Signing out is the only thing a viewer can post.
        assert found.posting_forms == ["/logout"], (path, found.posting_forms)
        assert ">Delete" not in response.text and ">Edit<" not in response.text, path
    # The add and edit forms themselves are refused, not just hidden.
    kind, object_id = next(iter(populated.items()))
    plural = KINDS[kind].plural
    assert viewer.get(f"/{plural}/new").status_code == 403
    assert viewer.get(f"/{plural}/{object_id}/edit").status_code == 403


@pytest.mark.parametrize("role", ["editor", "admin"])
def test_editors_and_admins_see_every_control(app: FastAPI, populated, role: str) -> None:  # type: ignore[no-untyped-def]
    user = open_session(TestClient(app), add_user(app.state.store, f"user_{role}", role))
    for path in LEVEL_PAGES:
        if path in ("/audit",):
            continue  # the audit page lists findings; it has nothing to add
        found = Actions(user.get(path).text)
        assert any(link.split("?")[0].endswith("/new") for link in found.edit_links), path
    for path in _object_pages(populated):
        response = user.get(path)
        found = Actions(response.text)
        assert f"{path}/edit" in found.edit_links, path
        assert f"{path}/delete" in found.posting_forms, path
    organisation = Actions(user.get("/organisation").text)
    assert any(action.endswith("/toggle") for action in organisation.posting_forms)
    kind, object_id = next(iter(populated.items()))
    plural = KINDS[kind].plural
    assert user.get(f"/{plural}/new").status_code == 200
    assert user.get(f"/{plural}/{object_id}/edit").status_code == 200
