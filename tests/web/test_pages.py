"""The server-rendered pages: every page renders, forms create, edit, delete, and
show validation messages; controls are labelled; nothing comes from a CDN.

Runs on SQLite and, when configured, PostgreSQL (the ``client`` fixture).
"""

from __future__ import annotations

import html as html_lib
import itertools
import re
from html.parser import HTMLParser
from typing import Any

from fastapi.testclient import TestClient

from systemic.framework.kinds import KINDS

LEVEL_PAGES = ["/", "/mission", "/paradigm", "/organisation", "/people", "/cycle", "/map", "/audit"]


class Page(HTMLParser):
    """Collects what the accessibility checks need from one HTML page."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.controls: list[dict[str, str]] = []
        self.label_for: set[str] = set()
        self.h1 = 0
        self.landmarks: set[str] = set()
        self.sources: list[str] = []
        self.ids: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if "id" in a:
            self.ids.append(a["id"])
        if tag in ("input", "select", "textarea") and a.get("type") != "hidden":
            self.controls.append({"tag": tag, **a})
        if tag == "label" and "for" in a:
            self.label_for.add(a["for"])
        if tag == "h1":
            self.h1 += 1
        if tag in ("main", "nav", "header", "footer"):
            self.landmarks.add(tag)
        for key in ("src", "href", "action", "hx-get", "hx-post"):
            if key in a:
                self.sources.append(a[key])


def errors_on(html: str) -> dict[str, str]:
    """Field name -> message shown under the field."""
    found = re.findall(
        r'id="field-([a-z_]+)">.*?<span class="error-message" id="error-\1">([^<]*)</span>',
        html,
        re.S,
    )
    return {name: html_lib.unescape(message) for name, message in found}


def created_id(response: Any, plural: str) -> str:
    assert response.status_code == 303, response.text[:2000]
    location = response.headers["location"]
    match = re.fullmatch(rf"/{plural}/([0-9a-f]{{32}})\?saved=1", location)
    assert match, location
    return match.group(1)


def post_form(client: TestClient, plural: str, data: dict[str, Any]) -> Any:
    return client.post(f"/{plural}/new", data=data, follow_redirects=False)


def populate(client: TestClient) -> dict[str, str]:
    """One object of every kind, created through the pages' own forms."""
    ids: dict[str, str] = {}

    def make(kind: str, data: dict[str, Any]) -> str:
        plural = KINDS[kind].plural
        ids[kind] = created_id(post_form(client, plural, data), plural)
        return ids[kind]

    make("locality", {"name": "Northgate", "population": "12000", "boundary": "Wards 3 and 4"})
    make(
        "purpose_statement",
        {
            "text": "Help me stay in my own home",
            "voice": "I",
            "consent": "on",
            "locality_id": ids["locality"],
        },
    )
    make("principle", {"name": "Local by default", "description": "Decide close to people."})
    make(
        "team",
        {
            "name": "Northgate team",
            "locality_id": ids["locality"],
            "members": "Asha\nBen",
            "services": "Housing\nAdult social care",
            "purpose_statement_ids": ids["purpose_statement"],
        },
    )
    make(
        "decision_right",
        {
            "locality_id": ids["locality"],
            "decision_kind": "spend up to £500",
            "made": "escalated",
            "reason": "Budget held centrally",
        },
    )
    make(
        "story",
        {
            "title": "Mrs K's boiler",
            "text": "I rang six times.",
            "consent": "on",
            "told_on": "2026-03-01",
            "purpose_statement_ids": ids["purpose_statement"],
        },
    )
    make(
        "system_condition",
        {
            "name": "Four-hour target",
            "kind": "measure_or_target",
            "owner": "national",
            "judgement": "harmful",
            "proposal": "Measure time to resolution instead.",
            "evidence": "Demand study | /learn/demand\nComplaints review",
            "principle_ids": ids["principle"],
            "story_ids": ids["story"],
        },
    )
    make(
        "conversation",
        {
            "what_matters": "Seeing my grandchildren",
            "strengths": "family\nneighbours",
            "agreed_actions": "Ask about a bus pass",
            "person_holds_record": "on",
            "held_on": "2026-04-02",
            "locality_id": ids["locality"],
        },
    )
    make("community_asset", {"name": "Lunch club", "kind": "group", "locality_id": ids["locality"]})
    make(
        "relationship",
        {
            "party_a": "Housing",
            "party_b": "Tenants' association",
            "observations": "2026-01-05, 2, over, first meeting\n2026-06-01, 4, with, co-designed",
        },
    )
    make(
        "measure",
        {
            "name": "Days at home",
            "kind": "outcome",
            "data_source": "series",
            "series": "2026-01-01, 27\n2026-02-01, 25.5",
            "owner_team_id": ids["team"],
            "purpose_statement_ids": ids["purpose_statement"],
        },
    )
    make(
        "experiment",
        {
            "title": "One visit, one worker",
            "question": "Does one worker cut hand-offs?",
            "start_date": "2026-01-01",
            "end_date": "2026-03-31",
            "result": "Fewer repeat calls.",
            "decision": "adopt",
            "measure_ids": ids["measure"],
            "purpose_statement_ids": ids["purpose_statement"],
            "story_ids": ids["story"],
        },
    )
    make(
        "redesign_decision",
        {
            "title": "Merge the front doors",
            "level": "organisation",
            "decided_by": "Board",
            "experiment_ids": ids["experiment"],
            "review_date": "2027-01-01",
        },
    )
    the_map = make("system_map", {"name": "Housing repairs"})
    a = make("factor", {"system_map_id": the_map, "name": "Repeat calls"})
    b = make("factor", {"system_map_id": the_map, "name": "Repair backlog"})
    make(
        "causal_link",
        {
            "system_map_id": the_map,
            "cause_id": a,
            "effect_id": b,
            "polarity": "+",
            "confidence": "high",
        },
    )
    ids["factor_b"] = b
    ids["factor_a"] = a
    return ids


def test_every_page_renders_on_a_new_workspace(client: TestClient):
    for path in LEVEL_PAGES:
        response = client.get(path)
        assert response.status_code == 200, path
        page = Page(response.text)
        assert page.h1 == 1, path
        assert {"main", "nav", "header", "footer"} <= page.landmarks, path
        assert f'href="{path}" aria-current="page"' in response.text, path
        assert 'class="skip-link" href="#main"' in response.text


def test_every_page_and_object_renders_with_data(client: TestClient):
    ids = populate(client)
    for path in LEVEL_PAGES:
        response = client.get(path)
        assert response.status_code == 200, path
        assert Page(response.text).h1 == 1
    for kind, object_id in ids.items():
        kind = kind.removesuffix("_a").removesuffix("_b")
        plural = KINDS[kind].plural
        for path in (f"/{plural}/{object_id}", f"/{plural}/{object_id}/edit"):
            response = client.get(path)
            assert response.status_code == 200, path
            assert Page(response.text).h1 == 1


def test_level_pages_show_what_belongs_to_them(client: TestClient):
    ids = populate(client)
    mission = client.get("/mission").text
    assert "Help me stay in my own home" in mission
    assert f'href="/measures/{ids["measure"]}"' in mission
    # Coverage badges: the statement has 1 measure, 1 team, 1 experiment.
    assert "1 measure<" in mission and "1 team<" in mission and "1 experiment<" in mission

    paradigm = client.get("/paradigm").text
    assert "Four-hour target" in paradigm and "harmful" in paradigm
    assert "Worked against by" in paradigm

    organisation = client.get("/organisation").text
    # One decision right, escalated: 0 of 1 made locally.
    assert "0% — 0 of 1 kinds of decision made locally" in organisation
    assert "Northgate team" in organisation and "spend up to £500" in organisation

    people = client.get("/people").text
    assert "Seeing my grandchildren" in people and "Lunch club" in people
    assert "trust 4 of 5" in people and "trust up from 2" in people

    cycle = client.get("/cycle").text
    assert "One visit, one worker" in cycle and "Merge the front doors" in cycle
    assert f'href="/experiments/{ids["experiment"]}"' in cycle
    # The timeline spans the experiment's dates.
    assert "timeline-bar" in cycle


def test_dashboard_threads_purpose_to_measures_and_experiments(client: TestClient):
    ids = populate(client)
    html = client.get("/").text
    row = re.search(r"<tr>\s*<th scope=\"row\".*?</tr>", html, re.S).group(0)
    assert f"/purpose_statements/{ids['purpose_statement']}" in row
    assert f"/measures/{ids['measure']}" in row
    assert f"/experiments/{ids['experiment']}" in row
    assert f"/teams/{ids['team']}" in row


def test_every_form_labels_every_control(client: TestClient):
    ids = populate(client)  # so reference and relation choices are on the forms
    for kind in KINDS:
        plural = KINDS[kind].plural
        for path in (f"/{plural}/new", f"/{plural}/{ids[kind]}/edit", f"/{plural}/{ids[kind]}"):
            response = client.get(path)
            assert response.status_code == 200, path
            page = Page(response.text)
            assert page.controls or not path.endswith(("/new", "/edit")), path
            for control in page.controls:
                assert control.get("id") in page.label_for, (path, control)
            assert len(page.ids) == len(set(page.ids)), f"ids on {path} must be unique"


def test_validation_errors_are_shown_on_the_form_and_input_is_kept(client: TestClient):
    response = post_form(client, "purpose_statements", {"text": "   ", "said_by": "A tenant"})
    assert response.status_code == 422
    assert errors_on(response.text) == {"text": "This is needed."}
    assert 'aria-invalid="true"' in response.text
    assert re.search(r'<textarea id="text" [^>]*autofocus', response.text)  # focus on it
    assert '<a href="#text">' in response.text  # the summary links to the field
    assert 'value="A tenant"' in response.text  # nothing typed is lost

    response = post_form(
        client,
        "experiments",
        {"title": "Try it", "start_date": "2026-05-01", "end_date": "2026-04-01"},
    )
    assert response.status_code == 422
    assert errors_on(response.text) == {"end_date": "End date must not be before start date"}

    response = post_form(client, "localities", {"name": "North", "population": "many"})
    assert errors_on(response.text) == {"population": "Enter a whole number, for example 1200."}

    response = post_form(
        client,
        "relationships",
        {"party_a": "A", "party_b": "B", "observations": "2026-01-01, 9, with"},
    )
    assert response.status_code == 422
    message = errors_on(response.text)["observations"]
    assert message.startswith("Line 1 ('2026-01-01, 9, with'): trust")

    response = post_form(client, "measures", {"name": "X", "purpose_statement_ids": "f" * 32})
    assert response.status_code == 422
    assert "no longer exists" in errors_on(response.text)["purpose_statement_ids"]

    # Nothing was stored by any of the refused forms.
    assert client.get("/api/experiments").json() in ([], {"items": []})


def test_forms_create_objects_that_link_both_ways(client: TestClient):
    ids = populate(client)
    statement = client.get(f"/purpose_statements/{ids['purpose_statement']}").text
    # Incoming links are listed on the statement's own page.
    assert f"/measures/{ids['measure']}" in statement
    assert f"/teams/{ids['team']}" in statement
    assert f"/experiments/{ids['experiment']}" in statement
    assert "created it" in statement  # history
    edit = client.get(f"/purpose_statements/{ids['purpose_statement']}/edit").text
    assert f'<option value="{ids["purpose_statement"]}"' not in edit  # not its own parent

    condition = client.get(f"/api/system_conditions/{ids['system_condition']}").json()
    assert condition["evidence"] == [
        {"label": "Demand study", "href": "/learn/demand"},
        {"label": "Complaints review", "href": ""},
    ]
    relationship = client.get(f"/api/relationships/{ids['relationship']}").json()
    assert [o["trust"] for o in relationship["observations"]] == [2, 4]
    measure = client.get(f"/api/measures/{ids['measure']}").json()
    assert [p["value"] for p in measure["series"]] == [27, 25.5]
    assert measure["purpose_statement_ids"] == [ids["purpose_statement"]]


def test_new_forms_are_prefilled_from_the_page_they_came_from(client: TestClient):
    ids = populate(client)
    form = client.get(f"/experiments/new?measure_ids={ids['measure']}").text
    # The measure, and the purpose it was derived from, come ticked.
    assert f'value="{ids["measure"]}" checked' in form
    assert f'value="{ids["purpose_statement"]}" checked' in form
    form = client.get(f"/teams/new?locality_id={ids['locality']}").text
    assert f'<option value="{ids["locality"]}" selected>' in form


def test_edit_changes_the_object_and_records_history(client: TestClient):
    ids = populate(client)
    path = f"/principles/{ids['principle']}"
    form = client.get(f"{path}/edit").text
    assert 'value="Local by default"' in form
    response = client.post(
        f"{path}/edit",
        data={"name": "Local by default, always", "description": ""},
        follow_redirects=False,
    )
    assert response.status_code == 303
    page = client.get(path).text
    assert "Local by default, always" in page
    assert "changed name, description" in page

    response = client.post(f"{path}/edit", data={"name": ""})
    assert response.status_code == 422
    assert errors_on(response.text) == {"name": "This is needed."}
    assert client.get(f"/api/principles/{ids['principle']}").json()["name"] == (
        "Local by default, always"
    )


def test_delete_removes_the_object(client: TestClient):
    ids = populate(client)
    response = client.post(f"/stories/{ids['story']}/delete", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/people?saved=deleted"
    assert client.get(f"/stories/{ids['story']}").status_code == 404
    assert client.post(f"/stories/{ids['story']}/delete").status_code == 404
    assert "Mrs K" not in client.get("/people").text


def test_unknown_objects_are_a_plain_not_found_page(client: TestClient):
    response = client.get("/measures/" + "0" * 32)
    assert response.status_code == 404
    assert "There is no measure with id" in response.text
    assert client.get("/measures/" + "0" * 32 + "/edit").status_code == 404


def test_decision_right_toggles_with_and_without_htmx(client: TestClient):
    ids = populate(client)
    path = f"/decision_rights/{ids['decision_right']}/toggle"
    partial = client.post(path, headers={"HX-Request": "true"})
    assert partial.status_code == 200
    assert partial.text.lstrip().startswith(f'<tr id="right-{ids["decision_right"]}">')
    assert ">local<" in partial.text
    full = client.post(path, follow_redirects=False)
    assert full.status_code == 303
    right = client.get(f"/api/decision_rights/{ids['decision_right']}").json()
    assert right["made"] == "escalated"


def test_map_page_lists_the_seeded_spiral_loops(client: TestClient):
    html = client.get("/map").text
    assert "<svg" in html and "Failure-demand spiral" in html
    # The seeded spiral has two reinforcing loops through "Stretched services", each
    # read from its earliest-added factor (hand-checked against seed.SPIRAL_LINKS).
    loops = re.findall(r'<span class="badge (\w+)">(\w+) \1</span> ([^<\n]+)', html)
    assert [(kind, name) for kind, name, _ in loops] == [
        ("reinforcing", "R1"),
        ("reinforcing", "R2"),
    ]
    chains = {chain.strip() for _, _, chain in loops}
    assert (
        "Hand-offs and premature closure → Failure demand → Stretched services → "
        "Hand-offs and premature closure" in chains
    )
    area = client.get("/map/area?loop=R2").text
    assert "(highlighted)" in area and "<main" not in area


def test_map_page_names_a_balancing_loop(client: TestClient):
    ids = populate(client)
    the_map = client.get(f"/api/factors/{ids['factor_a']}").json()["system_map_id"]
    created_id(
        post_form(
            client,
            "causal_links",
            {
                "system_map_id": the_map,
                "cause_id": ids["factor_b"],
                "effect_id": ids["factor_a"],
                "polarity": "-",
                "confidence": "medium",
            },
        ),
        "causal_links",
    )
    html = client.get(f"/map?map={the_map}").text
    assert re.search(
        r'<span class="badge balancing">B1 balancing</span> Repeat calls → '
        r"Repair backlog → Repeat calls",
        html,
    )


def test_audit_page_links_findings_to_objects_and_clears_when_fixed(client: TestClient):
    measure = created_id(
        post_form(
            client, "measures", {"name": "Calls answered", "kind": "process", "target": "100"}
        ),
        "measures",
    )
    html = client.get("/audit").text
    assert f'<a href="/measures/{measure}">Calls answered</a>' in html
    assert "Measure not derived from any purpose statement" in html
    assert "Target set on an activity or volume measure" in html
    assert "Why this matters" in html
    statement = created_id(
        post_form(client, "purpose_statements", {"text": "Fix it first time"}), "purpose_statements"
    )
    client.post(
        f"/measures/{measure}/edit",
        data={"name": "Calls answered", "kind": "outcome", "purpose_statement_ids": statement},
    )
    html = client.get("/audit").text
    assert f'href="/measures/{measure}"' not in html
    assert "No findings" in html


def test_pages_load_nothing_from_another_site(client: TestClient):
    populate(client)
    for path in LEVEL_PAGES:
        page = Page(client.get(path).text)
        outside = [s for s in page.sources if re.match(r"(https?:)?//", s)]
        assert outside == [], path
    css = client.get("/static/systemic.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert "http" not in css.text
    htmx = client.get("/static/htmx.min.js")
    assert htmx.status_code == 200 and b"htmx" in htmx.content
    assert client.get("/static/htmx.LICENSE").status_code == 200
    assert client.get("/static/missing.js").status_code == 404
    assert client.get("/static/%2e%2e/pages/site.py").status_code == 404


def test_measure_page_offers_an_spc_chart_of_its_series(client: TestClient):
    values = [27, 25, 26, 28, 24, 25, 27, 29, 30, 31, 30, 32]
    series = "\n".join(f"2026-{month:02d}-01, {v}" for month, v in enumerate(values, start=1))
    measure = created_id(
        post_form(client, "measures", {"name": "Days at home", "series": series}), "measures"
    )
    page = client.get(f"/measures/{measure}").text
    assert f'hx-get="/measures/{measure}/chart"' in page
    assert f'<a href="/measures/{measure}/chart" hx-boost="false">' in page  # without JS

    fragment = client.get(f"/measures/{measure}/chart", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<svg" in fragment.text and "<main" not in fragment.text
    # XmR by hand: mean 334/12; limits mean ± 2.66 × mean moving range (19/11).
    mean = sum(values) / len(values)
    ranges = [abs(b - a) for a, b in itertools.pairwise(values)]
    spread = 2.66 * sum(ranges) / len(ranges)
    expected = (
        f"From 2026-01-01 the mean is {mean:.3g} and the usual range "
        f"{mean - spread:.3g} to {mean + spread:.3g}."
    )
    assert expected in fragment.text
    whole = client.get(f"/measures/{measure}/chart")
    assert whole.status_code == 200 and "<main" in whole.text

    short = created_id(
        post_form(client, "measures", {"name": "Few", "series": "2026-01-01, 1"}), "measures"
    )
    assert "/chart" not in client.get(f"/measures/{short}").text


def test_existing_objects_are_linked_and_unlinked_from_the_linked_page(client: TestClient):
    ids = populate(client)
    other = created_id(
        post_form(client, "purpose_statements", {"text": "Fix it first time"}), "purpose_statements"
    )
    page = client.get(f"/purpose_statements/{other}").text
    # The statement's page offers the existing measure to link (it is not linked yet).
    assert 'action="/links/new"' in page and f'<option value="{ids["measure"]}">' in page
    form = {
        "source_kind": "measure",
        "relation": "purpose_statements",
        "source_id": ids["measure"],
        "target_id": other,
    }
    response = client.post("/links/new", data=form, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/purpose_statements/{other}?saved=1"
    measure = client.get(f"/api/measures/{ids['measure']}").json()
    assert sorted(measure["purpose_statement_ids"]) == sorted([ids["purpose_statement"], other])
    assert "Unlink" in client.get(f"/purpose_statements/{other}").text

    client.post("/links/delete", data=form, follow_redirects=False)
    measure = client.get(f"/api/measures/{ids['measure']}").json()
    assert measure["purpose_statement_ids"] == [ids["purpose_statement"]]
    bad = client.post("/links/new", data={**form, "relation": "nonsense"})
    assert bad.status_code == 422
