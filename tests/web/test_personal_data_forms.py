"""Consent and the retention date on the story and conversation forms.

The controls are labelled and described for screen readers; the date is
checked (a real date, not before the story itself, not already past); what is
saved is what the API returns and the object page states; and a story saved
through the form is purged by the retention run once its date has passed.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from systemic.store.retention import run_retention
from tests.web.test_pages import Page, errors_on

FUTURE = (date.today() + timedelta(days=400)).isoformat()
PAST = (date.today() - timedelta(days=3)).isoformat()


@pytest.mark.parametrize("plural", ["stories", "conversations"])
def test_the_forms_offer_labelled_consent_and_retention_controls(
    client: TestClient, plural: str
) -> None:
    html = client.get(f"/{plural}/new").text
    page = Page(html)
    controls = {c["name"]: c for c in page.controls}
    assert controls["consent"]["type"] == "checkbox"
    assert controls["retain_until"]["type"] == "date"
    assert {"consent", "retain_until"} <= page.label_for
    assert re.search(r'<label for="consent">Consent given to record and use these words', html)
    assert re.search(r'<label for="retain_until">Keep until \(then deleted\)', html)
    # The hints are tied to their controls.
    assert controls["retain_until"]["aria-describedby"] == "hint-retain_until"
    assert "retention run" in html and 'id="hint-retain_until"' in html
    assert controls["consent"]["aria-describedby"] == "hint-consent"


def test_a_story_saved_with_consent_and_a_date_shows_both(client: TestClient) -> None:
    response = client.post(
        "/stories/new",
        data={"title": "Ten calls to get a ramp", "consent": "on", "retain_until": FUTURE},
        follow_redirects=False,
    )
    assert response.status_code == 303
    path = response.headers["location"].split("?")[0]
    story_id = path.rsplit("/", 1)[1]
    stored = client.get(f"/api/stories/{story_id}").json()
    assert stored["consent"] is True and stored["retain_until"] == FUTURE
    shown = dict(re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", client.get(path).text, re.S))
    assert shown["Consent given to record and use these words"] == "yes"
    assert shown["Keep until (then deleted)"] == FUTURE


def test_a_conversation_without_a_date_says_it_is_kept(client: TestClient) -> None:
    response = client.post(
        "/conversations/new", data={"what_matters": "Seeing my grandson"}, follow_redirects=False
    )
    assert response.status_code == 303
    path = response.headers["location"].split("?")[0]
    stored = client.get(f"/api/conversations/{path.rsplit('/', 1)[1]}").json()
    assert stored["consent"] is False and stored["retain_until"] is None
    shown = dict(re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", client.get(path).text, re.S))
    assert shown["Consent given to record and use these words"] == "no"
    assert shown["Keep until (then deleted)"] == "no date set: kept until someone deletes it"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (PAST, "This date has passed, so the story would be deleted"),
        ("2027-02-31", "Enter a date, for example"),
        ("next year", "Enter a date, for example"),
    ],
)
def test_a_bad_retention_date_is_refused_and_the_input_kept(
    client: TestClient, given: str, expected: str
) -> None:
    response = client.post(
        "/stories/new", data={"title": "Kept words", "consent": "on", "retain_until": given}
    )
    assert response.status_code == 422
    assert errors_on(response.text)["retain_until"].startswith(expected)
    assert f'value="{given}"' in response.text and 'value="Kept words"' in response.text
    assert client.get("/api/stories").json() == []


def test_the_date_cannot_be_before_the_story_was_told(client: TestClient) -> None:
    told = (date.today() + timedelta(days=30)).isoformat()
    keep = (date.today() + timedelta(days=10)).isoformat()
    response = client.post(
        "/stories/new", data={"title": "Words", "told_on": told, "retain_until": keep}
    )
    assert response.status_code == 422
    assert "before the story itself" in errors_on(response.text)["retain_until"]


def test_editing_keeps_or_changes_the_stored_date(client: TestClient) -> None:
    # An item imported with a date now past may still be edited without changing it.
    made = client.post(
        "/api/conversations", json={"what_matters": "Walking again", "retain_until": PAST}
    ).json()
    edit = f"/conversations/{made['id']}/edit"
    kept = client.post(
        edit,
        data={"what_matters": "Walking to the shop", "retain_until": PAST},
        follow_redirects=False,
    )
    assert kept.status_code == 303
    again = client.post(edit, data={"what_matters": "Walking", "retain_until": "2001-01-01"})
    assert again.status_code == 422
    later = client.post(
        edit,
        data={"what_matters": "Walking", "consent": "on", "retain_until": FUTURE},
        follow_redirects=False,
    )
    assert later.status_code == 303
    stored = client.get(f"/api/conversations/{made['id']}").json()
    assert stored["consent"] is True and stored["retain_until"] == FUTURE


def test_a_story_saved_through_the_form_is_purged_after_its_date(
    app: FastAPI, client: TestClient
) -> None:
    keep = (date.today() + timedelta(days=5)).isoformat()
    client.post("/stories/new", data={"title": "Short-lived", "retain_until": keep})
    [story] = client.get("/api/stories").json()
    engine = app.state.store.engine
    assert run_retention(engine, today=date.fromisoformat(keep)).purged == []
    purged = run_retention(engine, today=date.fromisoformat(keep) + timedelta(days=1)).purged
    assert [item.object_id for item in purged] == [story["id"]]
    assert client.get("/api/stories").json() == []
