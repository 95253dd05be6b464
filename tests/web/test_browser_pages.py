"""End to end in a real browser: a new user threads purpose → measure → experiment.

Debian's Chromium is driven by Playwright against the workspace served by uvicorn
on 127.0.0.1 (a temporary SQLite file). Every page is screenshotted, at desktop
and phone width, into the test's tmp folder and ``test-artifacts/screenshots/``.
Any request to an address other than 127.0.0.1 fails the test. The app is the
secured one (``create_app(...)``, secure by default): the browser signs in through the
sign-in page first, as a new user would; scripts use an API token.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.conftest import CHROMIUM_ARGS
from tests.web.conftest import sign_in_browser
from tests.web.live import workspace_process

CHROMIUM = Path("/usr/bin/chromium")
ADMIN, PASSWORD = "amira", "a long pass phrase of words"
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Debian's Chromium is not installed at /usr/bin/chromium "
        "(apt-get install -y chromium; .ci/run does this)",
    ),
]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """The secured workspace app under uvicorn on a free loopback port, on a temp SQLite
    file whose admin is ``ADMIN`` (an API token for scripts in ``tmp_path/admin-token``)."""
    from systemic.store import open_store
    from systemic.store.accounts import create_token, create_user, set_role
    from systemic.store.repository import ensure_default_workspace

    database = tmp_path / "workspace.db"
    store = open_store(database)
    with store.session() as session:
        workspace = ensure_default_workspace(session)
        create_user(session, ADMIN, PASSWORD, display_name="Amira")
        set_role(session, ADMIN, workspace.id, "admin")
        secret, _ = create_token(session, ADMIN, "browser test")
        session.commit()
    store.dispose()
    (tmp_path / "admin-token").write_text(secret)
    with workspace_process(database, tmp_path) as url:
        yield url


@pytest.fixture
def browser_page(tmp_path: Path) -> Iterator[tuple[object, list[str], object]]:
    """A Chromium page that refuses (and records) any request off the loopback address."""
    from playwright.sync_api import sync_playwright

    outside: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})

        def guard(route, request) -> None:  # type: ignore[no-untyped-def]
            host = urlparse(request.url).hostname
            if request.url.startswith(("data:", "about:")) or host == "127.0.0.1":
                route.continue_()
            else:
                outside.append(request.url)
                route.abort()

        context.route("**/*", guard)
        # A second browser with JavaScript switched off: the pages must work without it.
        plain = browser.new_context(
            viewport={"width": 375, "height": 812}, java_script_enabled=False
        )
        plain.route("**/*", guard)
        page = context.new_page()
        try:
            yield page, outside, plain.new_page()
        finally:
            plain.close()
            context.close()
            browser.close()


class Shots:
    """Saves full-page screenshots to the tmp folder and to test-artifacts/."""

    def __init__(self, page: object, folder: Path) -> None:
        self.page = page
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.saved: list[Path] = []

    def take(self, name: str) -> Path:
        path = self.folder / f"{len(self.saved) + 1:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
        self.saved.append(path)
        # Copied as taken, so a failing run still leaves what it saw.
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, ARTIFACTS / path.name)
        return path


PAGES = [
    ("/", "dashboard"),
    ("/mission", "mission"),
    ("/paradigm", "paradigm"),
    ("/organisation", "organisation"),
    ("/people", "people"),
    ("/cycle", "cycle"),
    ("/map", "map"),
    ("/audit", "audit"),
]


def sign_in(page, server: str) -> None:  # type: ignore[no-untyped-def]
    """Sign in as the admin through the sign-in page, as a person would; lands on the
    dashboard."""
    sign_in_browser(page, server, ADMIN, PASSWORD, "Amira")


def add_examples(server: str, statement_id: str, measure_id: str, token: str) -> None:
    """A locality with a team and decision rights, a story, a conversation, a system
    condition, a relationship, an ended experiment and a redesign decision."""
    import httpx

    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server, timeout=30, headers=headers) as api:

        def post(plural: str, payload: dict) -> str:
            response = api.post(f"/api/{plural}", json=payload)
            assert response.status_code == 201, response.text
            return response.json()["id"]

        locality = post("localities", {"name": "Northgate", "population": 11800})
        team = post(
            "teams",
            {
                "name": "Northgate neighbourhood team",
                "locality_id": locality,
                "services": ["Housing", "Adult social care"],
                "members": ["Asha", "Ben", "Cai"],
                "purpose_statement_ids": [statement_id],
            },
        )
        for kind, made, reason in (
            ("spend up to £500", "local", "Team budget"),
            ("eligibility", "escalated", "Panel decides"),
            ("closing a case", "local", ""),
        ):
            post(
                "decision_rights",
                {"locality_id": locality, "decision_kind": kind, "made": made, "reason": reason},
            )
        story = post(
            "stories",
            {
                "title": "Six calls about one boiler",
                "text": "I rang six times and told my story to five people.",
                "told_by": "Tenant",
                "consent": True,
                "told_on": "2026-09-14",
                "locality_id": locality,
            },
        )
        post(
            "conversations",
            {
                "what_matters": "Getting to my grandson's football on Saturdays",
                "strengths": ["neighbour drives"],
                "agreed_actions": ["Ask about community transport"],
                "person_holds_record": True,
                "held_on": "2026-10-03",
                "locality_id": locality,
            },
        )
        post(
            "community_assets",
            {"name": "Tuesday lunch club", "kind": "group", "locality_id": locality},
        )
        post(
            "relationships",
            {
                "party_a": "Housing",
                "party_b": "Tenants' association",
                "observations": [
                    {"observed_on": "2026-01-10", "trust": 2, "power": "over"},
                    {"observed_on": "2026-09-10", "trust": 4, "power": "with"},
                ],
            },
        )
        principle = post("principles", {"name": "Local by default"})
        post(
            "system_conditions",
            {
                "name": "Four-hour response target",
                "kind": "measure_or_target",
                "owner": "local",
                "judgement": "harmful",
                "effect": "Visits closed fast, then people call back.",
                "proposal": "Measure days at home instead.",
                "principle_ids": [principle],
                "story_ids": [story],
            },
        )
        ended = post(
            "experiments",
            {
                "title": "Repairs triage by the front desk",
                "start_date": "2026-05-01",
                "end_date": "2026-08-31",
                "result": "Repeat calls fell by a third.",
                "decision": "adopt",
                "measure_ids": [measure_id],
                "team_id": team,
            },
        )
        monthly = [31, 29, 33, 30, 32, 28, 30, 24, 22, 21, 20, 19]
        post(
            "measures",
            {
                "name": "Repeat calls per 100 households",
                "kind": "outcome",
                "data_source": "series",
                "purpose_statement_ids": [statement_id],
                "series": [
                    {"period": f"2026-{m:02d}-01", "value": v}
                    for m, v in enumerate(monthly, start=1)
                ],
            },
        )
        # And one thing the audit should catch: a volume target with no purpose behind it.
        post("measures", {"name": "Calls answered in 20 seconds", "kind": "process", "target": 80})
        post(
            "redesign_decisions",
            {
                "title": "One front door for repairs",
                "level": "organisation",
                "change": "Front desk can order repairs.",
                "decided_by": "Housing board",
                "decided_on": "2026-09-20",
                "experiment_ids": [ended],
                "story_ids": [story],
            },
        )


def test_new_user_threads_purpose_measure_experiment(server: str, browser_page, tmp_path: Path):
    from playwright.sync_api import expect

    page, outside, no_js_page = browser_page
    shots = Shots(page, tmp_path / "screenshots")
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on(
        "console",
        # A 422 is the server's answer to a form with problems: expected, not a fault.
        lambda message: (
            problems.append(f"console: {message.text}")
            if message.type == "error" and "status of 422" not in message.text
            else None
        ),
    )

    # Signing in is the first thing a new user does (the no-JS browser too).
    sign_in(page, server)
    shots.take("signed-in")
    sign_in(no_js_page, server)

    # An empty workspace: every page renders.
    for path, name in PAGES:
        page.goto(server + path)
        expect(page.locator("h1")).to_be_visible()
        shots.take(f"empty-{name}")
    page.get_by_role("link", name="Password").click()
    expect(page.get_by_role("heading", name="Change your password")).to_be_visible()
    shots.take("change-password")

    # Keyboard: the first Tab lands on the skip link, which takes focus to the content.
    page.goto(server + "/")
    page.keyboard.press("Tab")
    expect(page.locator(".skip-link")).to_be_focused()
    shots.take("keyboard-skip-link")
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    page.keyboard.press("Tab")
    shots.take("keyboard-focus-after-skip")

    # 1. A purpose statement, starting from the dashboard. Submitting it empty shows
    #    the server's message on the form.
    page.get_by_role("link", name="Add a purpose statement").first.click()
    expect(page.get_by_role("heading", name="Add purpose statement")).to_be_visible()
    page.get_by_role("button", name="Save purpose statement").click()
    expect(page.locator("#error-summary")).to_contain_text("Statement, in the words used")
    expect(page.locator("#field-text .error-message")).to_have_text("This is needed.")
    expect(page.locator("#text")).to_be_focused()  # the field with the problem has focus
    shots.take("form-validation-error")
    statement = "Help me stay in my own home, with people I know"
    page.get_by_label("Statement, in the words used").fill(statement)
    page.get_by_label("Voice").select_option("I")
    page.get_by_label("Who said it").fill("A resident, Northgate listening session")
    page.get_by_label("Consent given to record and use these words").check()
    page.get_by_role("button", name="Save purpose statement").click()
    expect(page.locator("h1")).to_contain_text(statement)
    expect(page.get_by_role("status")).to_have_text("Saved.")
    statement_url = urlparse(page.url).path

    # 2. A measure derived from it (the statement is already ticked on the form).
    page.get_by_role("link", name="Derive a measure from it").click()
    expect(page.get_by_label(statement)).to_be_checked()
    page.get_by_label("Name").fill("Days living at home")
    page.get_by_label("Kind", exact=True).select_option("outcome")
    page.get_by_label("Operational definition").fill(
        "Days in the month each person supported spends living in their own home."
    )
    shots.take("form-measure")
    page.get_by_role("button", name="Save measure").click()
    expect(page.locator("h1")).to_have_text("Days living at home")
    expect(page.locator("dl.fields")).to_contain_text(statement)
    measure_url = urlparse(page.url).path

    # 3. An experiment using the measure (measure and its purpose come ticked).
    page.get_by_role("link", name="Start an experiment using this measure").click()
    expect(page.get_by_label("Days living at home")).to_be_checked()
    expect(page.get_by_label(statement)).to_be_checked()
    page.get_by_label("Title").fill("One worker follows each person through")
    page.get_by_label("Question we want to answer").fill(
        "Does one named worker reduce repeat contacts?"
    )
    page.get_by_label("What we predict will happen").fill("Fewer hand-offs, more days at home.")
    page.get_by_label("Start date").fill("2026-11-02")
    page.get_by_role("button", name="Save experiment").click()
    expect(page.locator("h1")).to_have_text("One worker follows each person through")
    experiment_url = urlparse(page.url).path
    shots.take("object-experiment")

    # The dashboard shows the thread: statement → measure → experiment, linked.
    page.goto(server + "/")
    row = page.locator("table tbody tr", has_text=statement)
    expect(row).to_have_count(1)
    expect(row.locator(f'a[href="{statement_url}"]')).to_be_visible()
    expect(row.locator(f'a[href="{measure_url}"]')).to_have_text("Days living at home")
    expect(row.locator(f'a[href="{experiment_url}"]')).to_have_text(
        "One worker follows each person through"
    )

    # The audit has nothing to say about any of the three.
    page.goto(server + "/audit")
    expect(page.locator("h1")).to_have_text("Coherence audit")
    for url in (statement_url, measure_url, experiment_url):
        expect(page.locator(f'.finding a[href="{url}"]')).to_have_count(0)
    expect(page.get_by_text("No findings")).to_be_visible()

    # The map: highlighting a loop swaps the picture in place (htmx) and keeps the URL.
    page.goto(server + "/map")
    expect(page.locator("svg.system-map")).to_be_visible()
    expect(page.locator(".loop-list")).to_contain_text("reinforcing")
    page.locator(".loop-list a", has_text="highlight").first.click()
    expect(page.locator(".loop-list")).to_contain_text("(highlighted)")
    assert "loop=" in page.url

    # More of a working workspace, through the JSON API, so every page has something to show.
    token = (tmp_path / "admin-token").read_text()
    add_examples(server, statement_url.rsplit("/", 1)[1], measure_url.rsplit("/", 1)[1], token)

    page.goto(server + "/audit")
    expect(page.locator(".finding", has_text="Calls answered in 20 seconds")).to_have_count(2)

    # A measure with a series: its SPC chart arrives after the page (htmx), with a reading.
    page.goto(server + "/mission")
    page.get_by_role("link", name="Repeat calls per 100 households").first.click()
    expect(page.locator(".measure-chart svg")).to_be_visible(timeout=30_000)
    expect(page.locator(".measure-chart")).to_contain_text("Variation: special cause")
    shots.take("object-measure-chart")

    # Every page again, now with data, at desktop and at phone width.
    for path, name in [*PAGES, (statement_url, "object-purpose"), (measure_url, "object-measure")]:
        page.goto(server + path)
        expect(page.locator("h1")).to_be_visible()
        shots.take(f"data-{name}")
    page.set_viewport_size({"width": 375, "height": 812})
    for path, name in [*PAGES, ("/conversations/new", "form-conversation")]:
        page.goto(server + path)
        expect(page.locator("h1")).to_be_visible()
        # Nothing wider than the phone's screen, except tables and the map, which scroll.
        overflow = page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= 375, f"{path} is {overflow}px wide at phone width"
        shots.take(f"phone-{name}")

    # Without JavaScript (on a phone): add a conversation, then correct a mistake in it.
    no_js = Shots(no_js_page, tmp_path / "screenshots-no-js")
    no_js_page.goto(server + "/people")
    no_js_page.get_by_role("link", name="Record a conversation").click()
    no_js_page.get_by_role("button", name="Save conversation").click()
    expect(no_js_page.locator("#field-what_matters .error-message")).to_have_text("This is needed.")
    no_js_page.get_by_label("What matters to the person, in their words").fill(
        "Staying in touch with my sister"
    )
    no_js_page.get_by_label("Strengths").fill("phone calls\nchurch friends")
    no_js_page.get_by_role("button", name="Save conversation").click()
    expect(no_js_page.locator("h1")).to_have_text("“Staying in touch with my sister”")
    no_js_page.get_by_role("link", name="Edit").click()
    no_js_page.get_by_label("The person holds this record").check()
    no_js_page.get_by_role("button", name="Save changes").click()
    expect(no_js_page.locator("dl.fields")).to_contain_text("The person holds this record")
    no_js.take("no-js-conversation")

    assert not outside, f"requests left the machine: {outside}"
    assert not problems, problems
    assert len(shots.saved) >= 2 * len(PAGES)
