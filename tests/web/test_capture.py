"""The capture page: a demand recorded in a few taps, masked before it is stored.

Editors capture; a viewer sees today's counts but neither the form nor anyone's
words. A form sent twice stores one demand (its key is the demand's id); the
fresh form after a save keeps the channel, service and locality and confirms
what was saved with today's count; "what failed" is kept only for failure.
Identifiers are masked by the store whichever way a demand comes in (this page,
the generic form, the JSON API).
"""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient

from systemic.store.repository import ensure_default_workspace, history, list_objects
from tests.web.conftest import add_user, open_session

SAID = (
    "this is the 3rd time ive rung, Mrs Okafor at 14 Hill Rd LS6 2AB, "
    "call 07700 900123 or okafor.j@example.com, NHS 943 476 5919, NI QQ123456C"
)


def _key(html: str) -> str:
    found = re.search(r'name="capture_key" value="([0-9a-f]{32})"', html)
    assert found, "the capture form carries a key"
    return found.group(1)


def _stored(app: FastAPI) -> list:
    with app.state.store.session() as session:
        ws = ensure_default_workspace(session)
        return list_objects(session, ws.id, "demand")


def test_a_capture_is_stored_masked_and_a_fresh_form_follows(client: TestClient) -> None:
    assert client.post("/api/masked_names", json={"name": "Okafor"}).status_code == 201
    locality = client.post("/api/localities", json={"name": "Hillside"}).json()["id"]
    page = client.get("/capture")
    assert page.status_code == 200 and "You have" not in page.text
    key = _key(page.text)
    form = {
        "capture_key": key,
        "verbatim": SAID,
        "what_matters": "ring me back on 0113 496 0000 please",
        "demand_class": "failure",
        "what_failed": "chasing_progress",
        "demand_type": "chase a repair",
        "resolved_first_contact": "no",
        "channel": "phone",
        "service": "Housing repairs",
        "locality_id": locality,
        "received_at": "2026-07-01T09:30",
    }
    saved = client.post("/capture", data=form, follow_redirects=False)
    assert saved.status_code == 303
    assert saved.headers["location"] == f"/capture?captured={key}"
    [demand] = _stored(client.app)  # type: ignore[arg-type]
    assert demand.id == key
    assert demand.verbatim == (
        "this is the 3rd time ive rung, Mrs [name] at 14 Hill Rd [postcode], "
        "call [phone] or [email], NHS [nhs number], NI [ni number]"
    )
    assert demand.what_matters == "ring me back on [phone] please"
    assert (demand.demand_class, demand.what_failed, demand.resolved_first_contact) == (
        "failure",
        "chasing_progress",
        False,
    )
    # 09:30 on a July morning in the UK is 08:30 UTC.
    assert demand.received_at.isoformat() == "2026-07-01T08:30:00+00:00"
    assert demand.retain_until is not None  # the workspace's retention applies
    fresh = client.get(saved.headers["location"]).text
    assert "Saved: failure demand — chasing progress (chase a repair)" in fresh
    assert "You have captured <strong>1</strong> today" in fresh
    assert _key(fresh) != key
    assert re.search(r'<textarea id="verbatim"[^>]*>\s*</textarea>', fresh)  # empty again
    assert 'value="Housing repairs"' in fresh  # the same desk, the same service
    assert re.search(rf'<option value="{locality}" selected>', fresh)
    assert '<option value="chase a repair">' in fresh  # the team's types are offered
    assert "[postcode]" in fresh and "LS6 2AB" not in fresh  # recent captures, masked
    # Neither the history nor the page of the demand holds the clear text.
    with client.app.state.store.session() as session:  # type: ignore[attr-defined]
        ws = ensure_default_workspace(session)
        entries = history(session, ws.id, kind="demand")
    assert "07700" not in str(entries) and "Okafor" not in str(entries)


def test_the_same_form_sent_twice_stores_one_demand(client: TestClient) -> None:
    key = _key(client.get("/capture").text)
    form = {"capture_key": key, "verbatim": "where is my bin", "demand_class": "value"}
    first = client.post("/capture", data=form, follow_redirects=False)
    second = client.post("/capture", data=form, follow_redirects=False)
    assert first.headers["location"] == f"/capture?captured={key}"
    assert second.headers["location"] == f"/capture?captured={key}&again=1"
    assert len(_stored(client.app)) == 1  # type: ignore[arg-type]
    assert "Already saved" in client.get(second.headers["location"]).text


def test_a_key_that_is_not_a_key_still_stores_the_demand(client: TestClient) -> None:
    for key in ("", "not-a-key", "0" * 31):
        response = client.post(
            "/capture", data={"capture_key": key, "verbatim": "bins missed"}, follow_redirects=False
        )
        assert response.status_code == 303
    assert len(_stored(client.app)) == 3  # type: ignore[arg-type]


def test_a_problem_keeps_what_was_typed_and_the_key(client: TestClient) -> None:
    key = _key(client.get("/capture").text)
    response = client.post(
        "/capture",
        data={"capture_key": key, "verbatim": "", "demand_type": "report a repair"},
    )
    assert response.status_code == 422
    assert "This is needed." in response.text
    assert _key(response.text) == key
    assert 'value="report a repair"' in response.text
    assert _stored(client.app) == []  # type: ignore[arg-type]


def test_what_failed_is_kept_only_for_failure(client: TestClient) -> None:
    # The page drops it for value demand (hidden there); the store refuses it.
    client.post(
        "/capture",
        data={"verbatim": "new bin please", "demand_class": "value", "what_failed": "not_done"},
    )
    [demand] = _stored(client.app)  # type: ignore[arg-type]
    assert (demand.demand_class, demand.what_failed) == ("value", None)
    refused = client.post(
        "/api/demands",
        json={"verbatim": "x", "demand_class": "value", "what_failed": "not_done"},
    )
    assert refused.status_code == 422
    assert "only for failure demand" in refused.text


def test_the_api_and_the_generic_form_mask_too(client: TestClient) -> None:
    made = client.post("/api/demands", json={"verbatim": "email me at a.b@example.org"})
    assert made.json()["verbatim"] == "email me at [email]"
    changed = client.patch(
        f"/api/demands/{made.json()['id']}", json={"verbatim": "postcode is sw1a1aa"}
    )
    assert changed.json()["verbatim"] == "postcode is [postcode]"
    posted = client.post(
        "/demands/new",
        data={"verbatim": "NHS number 9434765919", "channel": "letter"},
        follow_redirects=False,
    )
    assert posted.status_code == 303
    texts = sorted(d.verbatim for d in _stored(client.app))  # type: ignore[arg-type]
    assert texts == ["NHS number [nhs number]", "postcode is [postcode]"]


def test_a_viewer_sees_counts_not_the_form_nor_the_words(app: FastAPI, client: TestClient) -> None:
    client.post("/capture", data={"verbatim": "my neighbour Mr Idris keeps ringing"})
    viewer = open_session(TestClient(app), add_user(app.state.store, "vera", "viewer"))
    page = viewer.get("/capture")
    assert page.status_code == 200
    assert "the team 1" in page.text
    assert '<form class="capture-form"' not in page.text and "Idris" not in page.text
    assert viewer.post("/capture", data={"verbatim": "x"}).status_code == 403
    assert viewer.get("/capture/names").status_code == 403


def test_two_editors_count_their_own_captures(app: FastAPI, client: TestClient) -> None:
    other = open_session(TestClient(app), add_user(app.state.store, "eli", "editor"))
    for n in range(3):
        client.post("/capture", data={"verbatim": f"ada's contact {n}"})
    other.post("/capture", data={"verbatim": "eli's contact"})
    page = other.get("/capture").text
    assert "you 1, the team 4" in page
    assert "eli&#39;s contact" in page and "ada&#39;s contact" not in page


def test_a_viewer_is_not_shown_the_words_on_the_page_or_the_api(
    app: FastAPI, client: TestClient
) -> None:
    made = client.post(
        "/api/demands",
        json={
            "verbatim": "my neighbour Mr Idris keeps ringing",
            "what_matters": "some sleep",
            "demand_class": "failure",
            "what_failed": "not_done",
        },
    ).json()
    assert client.get(f"/api/demands/{made['id']}").json()["verbatim"].startswith("my neighbour")
    viewer = open_session(TestClient(app), add_user(app.state.store, "vera", "viewer"))
    read = viewer.get(f"/api/demands/{made['id']}").json()
    listed = viewer.get("/api/demands").json()
    for shown in (read, listed[0]):
        assert shown["verbatim"] == shown["what_matters"] == "(personal text withheld)"
        assert (shown["demand_class"], shown["what_failed"]) == ("failure", "not_done")
    page = viewer.get(f"/demands/{made['id']}")
    assert page.status_code == 200
    assert "Idris" not in page.text and "some sleep" not in page.text
    assert "(personal text withheld)" in page.text
    history = viewer.get(f"/api/demands/{made['id']}/history").json()
    assert "Idris" not in str(history) and "not_done" in str(history)


def test_the_full_form_checks_the_retention_date_like_a_story(client: TestClient) -> None:
    past = client.post(
        "/demands/new", data={"verbatim": "bins", "channel": "web", "retain_until": "2020-01-01"}
    )
    assert past.status_code == 422 and "This date has passed" in past.text
    kept = client.post("/demands/new", data={"verbatim": "bins", "channel": "web"})
    assert "no date set: kept until someone deletes it" in kept.text
