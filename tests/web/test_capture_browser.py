"""Two people capturing demand at once, on phones, in Chromium.

Debian's Chromium (Playwright) opens two browser contexts at phone size
(390 x 844), each signed in through the sign-in page as a different editor,
against the secured app under uvicorn on 127.0.0.1 (a temporary SQLite file).
Both capture demands with the save buttons pressed at the same moment (one of
them twice in a row, as a hurried thumb does); a third context without
JavaScript captures one more. Every capture must be stored exactly once, with
the identifiers masked in what is stored and in what the pages show; "what
failed" appears only once failure is chosen. Screenshots go to the test's tmp
folder and ``test-artifacts/screenshots/`` (not tracked).
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
from tests.web.test_browser_pages import ARTIFACTS, CHROMIUM

PASSWORD = "a long pass phrase of words"
EDITORS = {"asha": "Asha", "ben": "Ben"}
PHONE = {"width": 390, "height": 844}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's Chromium is not installed"),
]

#: What people said, with identifiers of every kind in their usual spellings.
SAID = {
    "asha": [
        "3rd time ringing about the boiler, Mrs Okafor, 07700 900123, LS6 2AB",
        "email back to j.okafor@example.com about the letter dated 12/03/2026",
        "new tenancy, wants a bin for 14 Hill Road, NI qq 12 34 56 c",
    ],
    "ben": [
        "NHS no 9434765919, nobody came on Tuesday at 10:30, ring (0113) 496 0000",
        "paid £45.50 but still got a reminder, postcode ls62ab",
        "OKAFOR again: +44 (0)7700 900123, chasing the ramp",
    ],
}
CLEAR = ["07700", "900123", "0113", "496 0000", "LS6 2AB", "ls62ab", "okafor", "9434765919",
         "example.com", "qq 12"]  # fmt: skip


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The secured app under uvicorn on a temp SQLite file with two editors, a locality
    and a name to mask; yields its URL and the database file."""
    from systemic.store import open_store
    from systemic.store.accounts import create_user, set_role
    from systemic.store.repository import create, ensure_default_workspace

    database = tmp_path / "workspace.db"
    store = open_store(database)
    with store.session() as session:
        workspace = ensure_default_workspace(session)
        for username, name in EDITORS.items():
            create_user(session, username, PASSWORD, display_name=name)
            set_role(session, username, workspace.id, "editor")
        create(session, workspace.id, "locality", {"name": "Hillside"})
        create(session, workspace.id, "masked_name", {"name": "Okafor"})
        session.commit()
    store.dispose()
    with workspace_process(database, tmp_path) as url:
        yield url, database


def _shot(page, tmp_path: Path, name: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / f"capture-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy2(path, ARTIFACTS / path.name)


def _sign_in(page, url: str, username: str) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    sign_in_browser(page, url, username, PASSWORD, EDITORS[username], path="/capture")
    if not page.url.endswith("/capture"):
        page.goto(url + "/capture")
    expect(page.get_by_role("heading", name="Capture demand")).to_be_visible()


def _fill(page, said: str, failure: bool, demand_type: str) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page.locator("#verbatim").fill(said)
    what_failed = page.locator("fieldset.what-failed")
    if failure:
        page.locator("label.tile", has_text="Failure demand").click()
        expect(what_failed).to_be_visible()
        what_failed.locator("label.tile", has_text="Chasing progress").click()
    else:
        page.locator("label.tile", has_text="Value demand").click()
        expect(what_failed).to_be_hidden()
    page.locator("#demand_type").fill(demand_type)
    page.locator("#resolved_first_contact label.tile", has_text="No").click()


def test_two_editors_capture_at_once_on_phones(server: tuple[str, Path], tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    from systemic.store import open_store
    from systemic.store.repository import ensure_default_workspace, list_objects

    url, database = server
    outside: list[str] = []

    def guard(route, request) -> None:  # type: ignore[no-untyped-def]
        if (
            request.url.startswith(("data:", "about:"))
            or urlparse(request.url).hostname == "127.0.0.1"
        ):
            route.continue_()
        else:
            outside.append(request.url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        pages = {}
        for username in EDITORS:
            context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
            context.route("**/*", guard)
            pages[username] = context.new_page()
            _sign_in(pages[username], url, username)
        asha, ben = pages["asha"], pages["ben"]
        expect(asha.locator("fieldset.what-failed")).to_be_hidden()  # until failure is chosen
        _shot(asha, tmp_path, "01-empty-form")

        for round_, (a_said, b_said) in enumerate(zip(SAID["asha"], SAID["ben"], strict=True)):
            _fill(asha, a_said, failure=round_ != 2, demand_type="chase a repair")
            _fill(ben, b_said, failure=round_ != 1, demand_type="report a missed visit")
            if round_ == 0:
                _shot(asha, tmp_path, "02-filled-failure")
            # Both press save at the same moment; Ben's thumb presses twice.
            asha.locator(".capture-save").dispatch_event("click")
            ben.locator(".capture-save").dispatch_event("click")
            if round_ == 1:
                ben.locator(".capture-save").dispatch_event("click")
            for page, n in ((asha, round_ + 1), (ben, round_ + 1)):
                expect(page.locator("#capture-saved")).to_contain_text(
                    f"You have captured {n} today"
                )
                expect(page.locator("#verbatim")).to_have_value("")
        _shot(asha, tmp_path, "03-after-three-saves")
        _shot(ben, tmp_path, "04-other-editor")

        # Recent captures show the masked words, never the clear ones.
        for page in (asha, ben):
            shown = page.locator(".capture-recent").inner_text().lower()
            assert "[phone]" in shown or "[nhs number]" in shown
            assert not [c for c in CLEAR if c.lower() in shown], shown

        # Without JavaScript the form still posts, and a fresh form follows.
        plain = browser.new_context(viewport=PHONE, java_script_enabled=False)
        plain.route("**/*", guard)
        page = plain.new_page()
        _sign_in(page, url, "ben")
        page.locator("#verbatim").fill("no JS here: call 020 7946 0018")
        page.locator("label.tile", has_text="Value demand").click()
        page.locator(".capture-save").click()
        expect(page.locator("#capture-saved")).to_contain_text("You have captured 4 today")
        _shot(page, tmp_path, "05-without-javascript")
        browser.close()

    assert outside == []
    store = open_store(database)
    with store.session() as session:
        ws = ensure_default_workspace(session)
        stored = list_objects(session, ws.id, "demand")
    store.dispose()
    assert len(stored) == 7  # 3 + 3 + 1: none lost, the double press stored once
    texts = [d.verbatim for d in stored]
    for text in texts:
        assert not [c for c in CLEAR if c.lower() in text.lower()], text
    assert "12/03/2026" in " ".join(texts) and "£45.50" in " ".join(texts)  # not identifiers
    assert "no JS here: call [phone]" in texts
    failures = [d for d in stored if d.demand_class == "failure"]
    assert len(failures) == 4 and {d.what_failed for d in failures} == {"chasing_progress"}
