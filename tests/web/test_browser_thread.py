"""In Chromium, the whole thread: data -> learn -> measure -> experiment -> evidence -> redesign.

A small town's contact log is imported and learnt with the CLI (as a team would),
the learn result brought into the workspace; then, in the browser: a purpose
statement, a measure defined from learn's failure-demand series with "lower is
better" and its chart, an experiment in North with a PDSA cycle, "Analyse" and the
stored evidence, a system condition and a redesign decision linked to it and to the
experiment. The thread of the purpose is then read from the dashboard, the purpose
page, the statement's page and the report (``systemic report``), and must be the
same in all of them. Screenshots go to the test's tmp folder and
``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.web.conftest import fill_live_measure
from tests.web.test_browser_pages import (  # noqa: F401  (fixtures)
    Shots,
    browser_page,
    server,
    sign_in,
)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

MONDAY = dt.datetime(2025, 1, 6, 9)
START = "2025-06-23"  # week 24: North's failure demand halves from here
PURPOSE = "When I ask for help I only have to tell my story once"
MAPPING = """\
[source]
name = "Housing repairs line"

[fields]
person_id = "tenant"
activity = "what"
timestamp = "when"
locality = "ward"

[constants]
service = "Housing"
channel = "phone"

[timestamp]
formats = ["iso"]
zone = "Europe/London"

[privacy]
identifiers = ["tenant"]

[[rules]]
activity = "Chase repair"
kind = "contact"
demand_class = "failure"

[[rules]]
activity = "Report repair"
kind = "contact"
demand_class = "value"
"""


def write_town(path: Path, weeks: int = 36) -> None:
    """North: 60 calls a week, 40% chasing (failure demand), 20% from week 24; East and
    South: 40 a week, 40% throughout."""
    rng = random.Random(15)
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["tenant", "ward", "when", "what"])
        for week in range(weeks):
            for ward, size in (("North", 60), ("East", 40), ("South", 40)):
                chance = 0.2 if ward == "North" and week >= 24 else 0.4
                for i in range(size):
                    when = MONDAY + dt.timedelta(weeks=week, days=i % 5, minutes=7 * i)
                    what = "Chase repair" if rng.random() < chance else "Report repair"
                    out.writerow(
                        [f"T{ward}{(week * size + i) % 500}", ward, when.isoformat(), what]
                    )


def systemic(*args: str, cwd: Path) -> str:
    """Run the installed CLI as a user would; fail with its output if it fails."""
    command = [str(Path(sys.executable).parent / "systemic"), *args]
    run = subprocess.run(command, cwd=cwd, env=dict(os.environ), capture_output=True, text=True)
    assert run.returncode == 0, f"{' '.join(args)}\n{run.stdout}\n{run.stderr}"
    return run.stdout + run.stderr


def links(html: str, plural: str) -> set[str]:
    return set(re.findall(rf"/{plural}/([0-9a-f]{{32}})", html))


def test_the_thread_from_learn_to_redesign_is_the_same_everywhere(
    server: str,  # noqa: F811
    browser_page: tuple[object, list[str], object],  # noqa: F811
    tmp_path: Path,
) -> None:
    from playwright.sync_api import expect

    page, outside, _ = browser_page
    shots = Shots(page, tmp_path / "shots")
    database = tmp_path / "workspace.db"
    write_town(tmp_path / "town.csv")
    (tmp_path / "mapping.toml").write_text(MAPPING, encoding="utf-8")
    systemic("import", "town.csv", "--mapping", "mapping.toml", "--into", "town", cwd=tmp_path)
    said = systemic("learn", "town", "--out", "learnt", "--no-charts", "--workspace", "default",
                    "--name", "town", "--db", str(database), cwd=tmp_path)  # fmt: skip
    assert "Brought learn result 'town' into workspace 'default' as version 1" in said

    sign_in(page, server)

    # Purpose, and the locality the experiment runs in.
    page.goto(server + "/purpose_statements/new")
    page.locator("[name=text]").fill(PURPOSE)
    page.locator("form button[type=submit]").last.click()
    expect(page.locator("h1")).to_contain_text("tell my story once")
    purpose_id = page.url.split("/purpose_statements/")[1].split("?")[0]
    page.goto(server + "/localities/new")
    page.locator("[name=name]").fill("North")
    page.locator("form button[type=submit]").last.click()
    expect(page.locator("h1")).to_contain_text("North")

    # A measure from learn's failure-demand series, lower is better.
    page.goto(f"{server}/measures/new?purpose_statement_ids={purpose_id}")
    fill_live_measure(page)
    shots.take("thread-measure-form")
    page.locator("form button[type=submit]").last.click()
    expect(page.locator("h1")).to_contain_text("Failure-demand share in North")
    measure_id = page.url.split("/measures/")[1].split("?")[0]
    expect(page.locator(".measure-chart svg")).to_be_visible(timeout=30_000)
    expect(page.locator(".measure-chart")).to_contain_text("learn result town, version 1")
    shots.take("thread-measure-chart")

    # An experiment in North on that measure, with a PDSA cycle.
    page.goto(f"{server}/experiments/new?measure_ids={measure_id}")
    page.locator("[name=title]").fill("Neighbourhood team takes the whole call")
    page.locator("[name=locality_id]").select_option(label="North")
    page.locator("[name=start_date]").fill(START)
    page.locator("form button[type=submit]").last.click()
    expect(page.locator("h1")).to_contain_text("Neighbourhood team")
    experiment_id = page.url.split("/experiments/")[1].split("?")[0]
    cycle = page.locator("form.cycle-form").last
    expect(cycle).to_be_visible(timeout=30_000)
    cycle.get_by_label("Plan").fill("One officer owns each repair from the first call")
    cycle.get_by_label("Prediction").fill("Chasing calls in North halve within eight weeks")
    cycle.get_by_label("Started on").fill(START)
    cycle.get_by_role("button", name="Add cycle").click()
    expect(page.locator("ol.cycles")).to_contain_text("One officer owns each repair")
    expect(page.locator("ol.cycles h3")).to_have_text(f"Cycle 1: {START}")

    # Analyse: the evidence is stored on the experiment and shown.
    page.get_by_role("button", name="Analyse").click()
    latest = page.locator("article.analysis").first
    expect(latest).to_contain_text("Version 1 (latest)", timeout=30_000)
    expect(latest).to_contain_text("Failure-demand share in North")
    expect(latest.locator(".badge")).to_have_text("Improvement")
    expect(latest).to_contain_text("special-cause improvement")
    expect(latest).to_contain_text("the other 2 localities")
    latest.get_by_text("What it read").click()
    expect(latest).to_contain_text("town, version 1")
    # The figures under the verdict are the verdict's, in the same units.
    read = latest.inner_text()
    did = re.search(
        r"difference in differences of (-[\d.]+) percentage points \(95% bootstrap interval "
        r"(-?[\d.]+) percentage points to (-?[\d.]+) percentage points",
        read,
    )
    assert did, read
    estimate, lower, upper = did.groups()
    assert f"{estimate} [{lower}, {upper}] percentage points" in read, read
    shots.take("thread-experiment-evidence")

    # A harmful system condition, and the redesign decision that changes it.
    page.goto(server + "/system_conditions/new")
    page.locator("[name=name]").fill("Close each call within eight minutes")
    page.locator("[name=judgement]").select_option("harmful")
    page.locator("form button[type=submit]").last.click()
    expect(page.locator("h1")).to_contain_text("eight minutes")
    condition_id = page.url.split("/system_conditions/")[1].split("?")[0]
    page.goto(f"{server}/redesign_decisions/new?experiment_ids={experiment_id}")
    page.locator("[name=title]").fill("Every neighbourhood team owns its repairs")
    page.get_by_label("Close each call within eight minutes").check()
    page.locator("form button[type=submit]").last.click()
    expect(page.locator("h1")).to_contain_text("owns its repairs")
    decision_id = page.url.split("/redesign_decisions/")[1].split("?")[0]
    grounds = page.locator("section.decision-grounds")
    expect(grounds).to_contain_text("Close each call within eight minutes", timeout=30_000)
    expect(grounds).to_contain_text("evidence version 1")
    expect(grounds).to_contain_text("Failure-demand share in North")
    shots.take("thread-decision")

    # The thread of the purpose, the same on every page and in the report.
    expected = {
        "experiments": {experiment_id},
        "evidence": {experiment_id},
        "decisions": {decision_id},
        "measures": {measure_id},
    }
    page.goto(server + "/")
    row = page.locator("tr", has=page.locator(f'a[href="/purpose_statements/{purpose_id}"]'))
    cells = {
        name: row.locator(f'td[data-label="{label}"]').inner_html()
        for name, label in (
            ("experiments", "Experiments"),
            ("evidence", "Evidence"),
            ("decisions", "Redesign decisions"),
            ("measures", "Measures"),
        )
    }
    dashboard = {
        "experiments": links(cells["experiments"], "experiments"),
        "evidence": links(cells["evidence"], "experiments"),
        "decisions": links(cells["decisions"], "redesign_decisions"),
        "measures": links(cells["measures"], "measures"),
    }
    assert dashboard == expected
    shots.take("thread-dashboard")

    page.goto(f"{server}/purpose_statements/{purpose_id}")
    block = page.locator("dl.thread")
    terms = {"Measures": "measures", "Experiments": "experiments", "Evidence": "evidence",
             "Redesign decisions": "decisions"}  # fmt: skip
    statement_page = {}
    for term, name in terms.items():
        html = block.locator(f"dt:text-is('{term}') + dd").inner_html()
        plural = {"decisions": "redesign_decisions", "measures": "measures"}.get(
            name, "experiments"
        )
        statement_page[name] = links(html, plural)
    assert statement_page == expected
    shots.take("thread-purpose-statement")

    page.goto(server + "/mission")
    item = page.locator(f"li#ps-{purpose_id}")
    expect(item).to_contain_text("1 experiment")
    assert links(item.inner_html(), "experiments") == expected["experiments"]
    shots.take("thread-mission")

    systemic("report", "town", "--workspace", str(database), "--out", "report.html",
             cwd=tmp_path)  # fmt: skip
    report = (tmp_path / "report.html").read_text(encoding="utf-8")
    page.set_content(report)
    table = page.locator("table", has=page.get_by_text(PURPOSE)).first
    header = [h.strip() for h in table.locator("th").all_inner_texts()]
    row_cells = table.locator("tr", has=page.get_by_text(PURPOSE)).locator("td, th")
    values = dict(zip(header, [c.strip() for c in row_cells.all_inner_texts()], strict=False))
    assert values["experiments"] == "Neighbourhood team takes the whole call"
    assert values["evidence"] == "Neighbourhood team takes the whole call"
    assert values["redesign decisions"] == "Every neighbourhood team owns its repairs"
    assert values["measures"] == "Failure-demand share in North"
    table.scroll_into_view_if_needed()
    shots.take("thread-report")

    # The audit is satisfied on both counts the evidence answers.
    audit = page.goto(server + "/audit")
    assert audit is not None
    text = page.locator("main").inner_text()
    assert "is judged harmful and no redesign decision changes it" not in text
    assert "hold no stored evidence" not in text
    assert condition_id and outside == []
