"""Hostile text in every object, then every page: user text is always escaped.

Each plain-text field of every kind is filled, through the JSON API, with a
payload naming its kind and field; every page of the app (lists, object pages,
edit forms, the levels, the map, the audit) is then fetched and must not hold
any payload unescaped.
"""

from __future__ import annotations

import datetime as dt
import re
import typing

import pytest
from fastapi.testclient import TestClient

from systemic.framework.kinds import KINDS
from systemic.web.app import create_app
from tests.trust.routes import get_paths

ORDER = [
    "locality", "purpose_statement", "principle", "team", "decision_right", "story",
    "system_condition", "conversation", "community_asset", "relationship", "measure",
    "experiment", "redesign_decision", "system_map", "factor", "factor", "causal_link",
]  # fmt: skip


#: Pages only a secured app serves (they list users and workspaces): tested signed in.
SIGNED_IN_ONLY = ("/admin/members", "/account/password")


def payloads(kind: str, field: str) -> list[str]:
    tag = f"{kind}.{field}"
    return [
        f'<script>alert("{tag}")</script>',
        f'"><img src=x onerror=alert("{tag}")>',
        f"'><svg onload=alert('{tag}')>",
    ]


def hostile(kind: str, field: str, n: int) -> str:
    return payloads(kind, field)[n % 3]


def body_for(kind: str, created: dict[str, list[str]], n: int) -> dict[str, typing.Any]:
    spec = KINDS[kind]
    body: dict[str, typing.Any] = {}
    for name, info in spec.fields.model_fields.items():
        annotation = info.annotation
        if name.endswith("_ids"):
            continue  # links: ids only
        if name.endswith("_id"):
            target = spec.references.get(name) if hasattr(spec, "references") else None
            target = target or name.removesuffix("_id")
            ids = created.get(target if isinstance(target, str) else "", [])
            if name in ("cause_id", "effect_id"):
                ids = created.get("factor", [])
                body[name] = ids[0] if name == "cause_id" else ids[-1]
            elif ids:
                body[name] = ids[0]
            continue
        if annotation is str:
            body[name] = hostile(kind, name, n)
        elif annotation == list[str]:
            body[name] = [hostile(kind, name, n + 1)]
    return body


@pytest.fixture(scope="module")
def hostile_app(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[TestClient, dict[str, list[str]]]:
    client = TestClient(create_app(tmp_path_factory.mktemp("xss") / "ws.db", secure=False))
    created: dict[str, list[str]] = {}
    maps = client.get("/api/system_maps").json()
    created["system_map"] = [m["id"] for m in maps]
    for n, kind in enumerate(ORDER):
        spec = KINDS[kind]
        body = body_for(kind, created, n)
        response = client.post(f"/api/{spec.plural}", json=body)
        assert response.status_code in (200, 201), (kind, response.text)
        created.setdefault(kind, []).insert(0, response.json()["id"])
    return client, created


def test_no_page_shows_user_text_unescaped(hostile_app) -> None:  # type: ignore[no-untyped-def]
    client, created = hostile_app
    plural_to_kind = {spec.plural: name for name, spec in KINDS.items()}
    pages: list[str] = []
    for path in get_paths(client.app):
        if path.startswith(("/api", "/static", "/openapi", "/docs", "/redoc")):
            continue
        if path in SIGNED_IN_ONLY:
            continue  # not served by an open app: see the signed-in test below
        if "{map_id}" in path:  # the system map's exports (SVG, Kumu JSON)
            pages += [path.replace("{map_id}", map_id) for map_id in created["system_map"]]
        elif "{object_id}" in path:
            kind = plural_to_kind.get(path.strip("/").split("/")[0])
            for object_id in created.get(kind, []):
                pages.append(path.replace("{object_id}", object_id))
        else:
            pages.append(path)
    for map_id in created["system_map"]:
        pages.append(f"/map?map_id={map_id}")
    assert len(pages) > 60
    every_payload = [
        p for kind in set(ORDER) for f in KINDS[kind].fields.model_fields for p in payloads(kind, f)
    ]
    shown = 0
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, (page, response.status_code)
        if response.headers["content-type"].startswith("application/json"):
            # Data to download (a Kumu export), never shown by a browser as a page.
            assert "attachment" in response.headers["content-disposition"], page
            continue
        html = response.text
        leaked = [p for p in every_payload if p in html]
        assert not leaked, (page, leaked[:3])
        assert not re.search(r"<script>alert\(|<img src=x onerror|<svg onload", html), page
        shown += html.count("&lt;script&gt;alert(") + html.count("&#34;&gt;&lt;img")
    assert shown > 20  # the payloads were shown, escaped, on the pages


def test_member_and_workspace_names_are_escaped_for_signed_in_users(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The members page and the workspace switcher show names users and admins chose."""
    from systemic.store import open_store
    from systemic.store.accounts import create_user, set_role, start_session
    from systemic.store.repository import create_workspace, ensure_default_workspace
    from systemic.web.security import SecuritySettings
    from systemic.web.security.session import SessionCodec, new_session

    secret = "xss-test-session-secret-0123456789abcdef"
    store = open_store(tmp_path / "ws.db")
    with store.session() as session:
        council = ensure_default_workspace(session)
        trust = create_workspace(session, payloads("workspace", "name")[1], "trust", seed=False)
        admin = create_user(
            session, "ada", "a long pass phrase for tests", display_name=hostile("user", "ada", 0)
        )
        create_user(
            session, "ed", "a long pass phrase for tests", display_name=hostile("user", "ed", 2)
        )
        set_role(session, "ada", council.id, "admin")
        set_role(session, "ada", trust.id, "viewer")
        set_role(session, "ed", council.id, "editor")
        session.commit()
        admin_id = admin.id
        session_secret = start_session(session, admin_id, max_age=dt.timedelta(minutes=1))
        session.commit()
    client = TestClient(create_app(store=store, security=SecuritySettings(secret_key=secret)))
    client.cookies.set(
        "systemic_session",
        SessionCodec(secret, max_age=60).dump(new_session(admin_id, session_secret)),
    )
    every_payload = [
        *payloads("workspace", "name"),
        *payloads("user", "ada"),
        *payloads("user", "ed"),
    ]
    for page in ("/admin/members", "/account/password", "/"):
        response = client.get(page)
        assert response.status_code == 200, page
        leaked = [p for p in every_payload if p in response.text]
        assert not leaked, (page, leaked)
        assert not re.search(r"<script>alert\(|<img src=x onerror|<svg onload", response.text)
    assert "&lt;svg onload" in client.get("/admin/members").text  # ed, shown escaped
    assert "&lt;img src=x onerror" in client.get("/").text  # the trust, in the switcher
    store.dispose()
