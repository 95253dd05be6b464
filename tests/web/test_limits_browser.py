"""Form text over the size limits, in Chromium: the form again naming the field, or a
page saying the limit (never Starlette's bare JSON 400). Screenshots go to the test's
tmp folder and ``test-artifacts/screenshots/``."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.web.conftest import sign_in_browser
from tests.web.test_browser_pages import (  # noqa: F401 (fixtures)
    ADMIN,
    ARTIFACTS,
    PASSWORD,
    browser_page,
    pytestmark,
    server,
)

MIB = 1024 * 1024


def _shot(page, tmp_path: Path, name: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / f"limits-{name}.png"
    page.screenshot(path=str(path), full_page=False)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy2(path, ARTIFACTS / path.name)


def _send_principle(page, url: str, description_chars: int) -> None:  # type: ignore[no-untyped-def]
    page.goto(url + "/principles/new")
    page.locator("[name=name]").fill("Ask what matters first")
    # Typed text of this size is slow to fill key by key: set the value directly.
    page.locator("[name=description]").evaluate(
        "(el, n) => { el.value = 'w'.repeat(n); }", description_chars
    )
    page.locator("form button[type=submit]").last.click()


def test_form_text_over_the_limits_in_a_browser(server: str, browser_page, tmp_path: Path) -> None:  # noqa: F811
    from playwright.sync_api import expect

    page, outside, plain = browser_page
    sign_in_browser(page, server, ADMIN, PASSWORD, "Amira")

    # 1.5 MiB: within the body limit, over the field limit: the form again (htmx swap).
    _send_principle(page, server, 3 * MIB // 2)
    error = page.locator("#error-description")
    expect(error).to_contain_text(
        "Text is 1,572,864 characters; the most a field may hold is 100,000"
    )
    expect(page.get_by_role("heading", name="Please correct this problem")).to_be_visible()
    _shot(page, tmp_path, "field-over-limit")

    # 2.5 MiB: over the body limit: a notice above the form, which keeps the text.
    _send_principle(page, server, 5 * MIB // 2)
    notice = page.locator("#request-notice")
    expect(notice.get_by_role("heading", name="Too much to send")).to_be_visible()
    expect(notice).to_contain_text("at most 2,097,152 bytes")
    assert page.locator("[name=description]").evaluate("el => el.value.length") == 5 * MIB // 2
    _shot(page, tmp_path, "body-over-limit")

    # Without JavaScript (no htmx): the browser's own form post gets the same page.
    sign_in_browser(plain, server, ADMIN, PASSWORD, "Amira")
    plain.goto(server + "/principles/new")
    plain.locator("[name=name]").fill("Ask what matters first")
    plain.locator("[name=description]").fill("w" * (5 * MIB // 2))
    plain.locator("form button[type=submit]").last.click()
    expect(plain.get_by_role("heading", name="Too much to send")).to_be_visible()
    _shot(plain, tmp_path, "body-over-limit-no-js")
    plain.go_back()  # as the page says: the text is still in the form
    assert plain.locator("[name=description]").evaluate("el => el.value.length") == 5 * MIB // 2
    assert outside == []
