"""In Chromium: a live measure defined from learn's failure-demand series, lower is better.

A learn result is brought into the workspace, the measure is defined on its form
(source, series, locality, p-chart, "lower is better", a baseline, a rebase with
its reason, an annotation), an experiment on it starts, and the chart shows all of
them; a second extract adds a version and the page redraws from it. Screenshots go
to the test's tmp folder and ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import polars as pl
import pytest

from tests.web.conftest import add_learn_folder, fill_live_measure
from tests.web.test_browser_pages import (  # noqa: F401  (fixtures)
    Shots,
    browser_page,
    server,
    sign_in,
)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

MONDAY = dt.datetime(2025, 1, 6, 9, tzinfo=dt.UTC)


def town(weeks: int) -> pl.DataFrame:
    """North: 40 contacts a week, a third failure demand, falling to a sixth from week 24
    (and a quiet week 10 of 3 contacts, suppressed when published); East: 20 a week;
    South: 12 a week, 2 in every ninth (suppressed when published)."""
    rng = random.Random(15)
    rows = []
    for w in range(weeks):
        sizes = {"North": 3 if w == 10 else 40, "East": 20, "South": 2 if w % 9 == 4 else 12}
        for place, size in sizes.items():
            chance = (0.17 if w >= 24 else 0.33) if place == "North" else 0.5
            for i in range(size):
                day = MONDAY + dt.timedelta(weeks=w, days=i % 5, hours=i % 8)
                failure = rng.random() < chance
                rows.append((f"{place}{(w * size + i) % 700}", place, day, failure))
    return pl.DataFrame(
        {
            "person_id": [r[0] for r in rows],
            "locality": [r[1] for r in rows],
            "timestamp": [r[2] for r in rows],
            "demand_class": ["failure" if r[3] else "value" for r in rows],
            "service": ["Housing"] * len(rows),
            "activity": ["call"] * len(rows),
            "kind": ["contact"] * len(rows),
        }
    )


def bring_in(database: Path, learn_dir: Path, weeks: int) -> None:
    from systemic.learn import learn_events, write_outputs

    write_outputs(learn_events(town(weeks)), learn_dir, charts=False)
    add_learn_folder(database, learn_dir)


def test_a_live_measure_from_learns_failure_demand_series(
    server: str,  # noqa: F811
    browser_page: tuple[object, list[str], object],  # noqa: F811
    tmp_path: Path,
) -> None:
    from playwright.sync_api import expect

    page, outside, _ = browser_page
    shots = Shots(page, tmp_path / "shots")
    database = tmp_path / "workspace.db"
    bring_in(database, tmp_path / "learn-1", weeks=36)
    sign_in(page, server)

    page.goto(server + "/measures/new")
    # The learn results brought into the workspace are offered, with their series.
    expect(page.locator("[name=learn_result] option[value=town]")).to_contain_text(
        "town (version 1, 36 weeks: failure-demand share of classified contacts"
    )
    fill_live_measure(page)
    page.locator("[name=baseline_end]").fill("2025-05-26")
    page.locator("[name=rebases]").fill("2025-08-04, triage moved to the neighbourhood team")
    page.locator("[name=annotations]").fill("2025-03-03, phone system down for two days")
    shots.take("measure-form")
    page.locator("form button[type=submit]").last.click()
    expect(page.locator("h1")).to_contain_text("Failure-demand share in North")
    measure_id = page.url.split("/measures/")[1].split("?")[0]

    token = (tmp_path / "admin-token").read_text()
    import httpx

    created = httpx.post(
        server + "/api/experiments",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "title": "Neighbourhood team in North",
            "start_date": "2025-06-23",
            "measure_ids": [measure_id],
        },
        timeout=30,
    )
    assert created.status_code == 201, created.text

    page.goto(f"{server}/measures/{measure_id}")
    chart = page.locator(".measure-chart svg")
    expect(chart).to_be_visible(timeout=30_000)
    reading = page.locator(".measure-reading")
    expect(reading).to_contain_text("lower is better")
    expect(reading).to_contain_text("limits recalculated: triage moved to the neighbourhood team")
    expect(page.locator(".measure-chart")).to_contain_text(
        "2025-06-23: Experiment: Neighbourhood team in North"
    )
    expect(page.locator(".measure-chart")).to_contain_text("version 1")
    svg = chart.first.inner_html()
    assert "Neighbourhood team in North" in svg and "phone system down" in svg
    shots.take("measure-chart-v1")

    bring_in(database, tmp_path / "learn-2", weeks=44)
    page.reload()
    expect(page.locator(".measure-chart svg")).to_be_visible(timeout=30_000)
    expect(page.locator(".measure-chart")).to_contain_text("version 2 (the newest)")
    expect(page.locator(".measure-chart")).to_contain_text("Earlier extracts")
    shots.take("measure-chart-v2")

    page.goto(f"{server}/measures/{measure_id}/chart?version=1")
    expect(page.locator(".measure-chart")).to_contain_text("version 1")
    shots.take("measure-chart-history")
    assert outside == []
