"""Open redirects through ``next``: the review's addresses stay on this site everywhere.

The add form's Back and Cancel links and the address a saved form returns to,
like the sign-in page, follow ``next`` only when it is a path on this site.
Browsers read ``/\\evil.example/`` and ``/<TAB>/evil.example/`` as ``//evil.example/``.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from systemic.web.security.redirects import safe_next

ATTACKS = ["/\\evil.example/", "/\t/evil.example/", "//evil.example/", "https://evil.example/"]


def _links(html: str) -> list[str]:
    return re.findall(r'href="([^"]*)"', html) + re.findall(r'name="_next" value="([^"]*)"', html)


@pytest.mark.parametrize("attack", ATTACKS)
def test_the_add_form_never_links_off_site(client: TestClient, attack: str) -> None:
    page = client.get("/stories/new", params={"next": attack})
    assert page.status_code == 200
    html = page.text.replace("&#34;", '"')
    assert "evil.example" not in html, [link for link in _links(html) if "evil" in link]


@pytest.mark.parametrize("attack", ATTACKS)
def test_a_saved_form_never_returns_off_site(client: TestClient, attack: str) -> None:
    response = client.post(
        "/stories/new",
        data={"title": "A story", "text": "told", "_next": attack},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text[:500]
    assert response.headers["location"].startswith("/stories/")


def test_a_local_next_is_kept(client: TestClient) -> None:
    page = client.get("/stories/new", params={"next": "/people?x=1"})
    assert 'href="/people?x=1"' in page.text


@pytest.mark.parametrize(
    "raw",
    [*ATTACKS, "/%5Cevil.example/", "/%09/evil.example/", "/\nx", "javascript:alert(1)", ""],
)
def test_safe_next_refuses_every_way_off_site(raw: str) -> None:
    assert safe_next(raw) == "/"
