"""In Chromium: an experiment on a learnt count of contacts, analysed on its page.

North (about 100 contacts a week) and South (about 10) from the hand-worked learn
result in :mod:`tests.framework.big_and_small`: the page reads the comparison as
relative changes, -11% against the other localities, as ``systemic experiment
--from`` does, not as a difference of 19 contacts. Screenshots go to the test's tmp
folder and ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.framework import big_and_small
from tests.web.conftest import add_learn_folder
from tests.web.test_browser_pages import (  # noqa: F401  (fixtures)
    Shots,
    browser_page,
    server,
    sign_in,
)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def bring_in(database: Path, learn_dir: Path) -> None:
    big_and_small.write_learn_folder(learn_dir)
    add_learn_folder(database, learn_dir)


def test_an_experiment_on_a_learnt_count_reads_as_a_relative_change(
    server: str,  # noqa: F811
    browser_page: tuple[object, list[str], object],  # noqa: F811
    tmp_path: Path,
) -> None:
    from playwright.sync_api import expect

    page, outside, _ = browser_page
    shots = Shots(page, tmp_path / "shots")
    bring_in(tmp_path / "workspace.db", tmp_path / "learn")
    token = (tmp_path / "admin-token").read_text()

    def post(plural: str, payload: dict[str, object]) -> str:
        made = httpx.post(f"{server}/api/{plural}", json=payload, timeout=30,
                          headers={"Authorization": f"Bearer {token}"})  # fmt: skip
        assert made.status_code == 201, made.text
        return str(made.json()["id"])

    north = post("localities", {"name": "North"})
    post("localities", {"name": "South"})
    measure = post("measures", {
        "name": "Contacts in North", "data_source": "learn", "learn_result": "town",
        "series_name": "contacts", "locality": "North",
    })  # fmt: skip
    experiment = post("experiments", {
        "title": "One conversation in North", "start_date": big_and_small.START.isoformat(),
        "locality_id": north, "measure_ids": [measure],
    })  # fmt: skip

    sign_in(page, server)
    page.goto(f"{server}/experiments/{experiment}")
    page.get_by_role("button", name="Analyse").click()
    found = page.locator(".measure-evidence").first
    expect(found).to_contain_text("North moved -11% relative to", timeout=30_000)
    found.locator("summary").click()
    said = found.locator("dd", has_text="relative to the other localities (South)")
    expect(said).to_contain_text("-11% [")
    expect(found).to_contain_text("-20% in North, -10% in the other localities")
    found.scroll_into_view_if_needed()
    shots.take("experiment-relative-evidence")
    # The learning cycle's one line on the experiment quotes the same stored figures.
    page.goto(f"{server}/cycle")
    expect(page.locator("body")).to_contain_text(
        "Contacts in North: changed (no direction of improvement set), -11% ["
    )
    shots.take("cycle-relative-evidence")
    assert outside == []
