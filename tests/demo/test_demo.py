"""The demo pipeline at reduced size: the whole cycle runs, and the report's
figures are the underlying tables' figures (nothing typed in)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import polars as pl
import pytest

from systemic.demo import DemoConfig, run_demo
from systemic.learn import learn
from systemic.report.build import pct

SMALL = DemoConfig(
    people=5_000,
    calibration_people=3_000,
    calibration_budget=4,
    comparison_people=3_000,
    comparison_runs=4,
    comparison_years=3,
)
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return run_demo(tmp_path_factory.mktemp("demo") / "out", SMALL)


def test_everything_is_written(demo):
    for path in (
        demo.report,
        demo.workspace_db,
        demo.learn_dir / "summary.json",
        demo.dataset / "manifest.json",
        demo.out / "comparison_summary.csv",
    ):
        assert path.exists(), path


def test_report_figures_match_the_tables(demo):
    html = demo.report.read_text()
    summary = json.loads((demo.learn_dir / "summary.json").read_text())
    # learn again from the dataset, independently of the pipeline's result
    again = learn(demo.dataset).summary()
    assert again.events == demo.learn.events == summary["events"]
    assert pct(again.failure_demand_share) == pct(summary["failure_demand_share"])
    assert f"{pct(again.failure_demand_share)} of contacts were failure demand" in html
    assert f">{summary['people']:,}<" in html
    # the experiment's verdict and the audit's findings are the computed ones
    assert demo.evidence.verdict.split(".")[0] in html
    errors = sum(f.severity == "error" for f in demo.seed.findings)
    assert re.search(rf'<div class="v">{errors}</div><div class="l">errors</div>', html)
    # the headline's ten-year cost difference is the comparison table's median
    table = pl.read_csv(demo.out / "comparison_summary.csv")
    cost = table.filter((pl.col("metric") == "cost") & (pl.col("series") == "difference"))
    silo = table.filter((pl.col("metric") == "cost") & (pl.col("series") == "a"))
    share = abs(cost["median"].item()) / silo["median"].item()
    word = "less" if cost["median"].item() < 0 else "more"
    assert f"would cost {share:.0%} {word} than the silo design" in html


def test_audit_shows_a_realistic_mix(demo):
    rules = {f.rule_id for f in demo.seed.findings}
    assert {
        "locality-without-team",
        "target-on-activity",
        "harmful-condition-without-proposal",
    } <= rules
    # the experiment and its measures are linked, so they raise nothing
    flagged = {f.object_id for f in demo.seed.findings}
    assert demo.seed.ids["experiment:team"] not in flagged
    assert demo.seed.ids["measure:failure"] not in flagged


def test_dataset_is_what_learn_reads(demo):
    events = pl.scan_parquet(str(demo.dataset / "events" / "*" / "*.parquet")).collect()
    # records start after the burn-in, like a real extract
    assert events["timestamp"].min().year == 2025
    assert events.height == demo.learn.events
    assert set(events["locality"].unique()) == {
        "Northfield",
        "Riverside",
        "Old Town",
        "Hillcrest",
        "Meadows",
        "Eastgate",
    }


@pytest.mark.browser
def test_report_opens_in_chromium(demo, tmp_path):
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    ]
    shot = tmp_path / "report.png"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=args)
        page = browser.new_page(viewport={"width": 1100, "height": 1400})
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(demo.report.as_uri())
        assert page.locator("h1").inner_text().startswith("Demo town")
        assert page.locator("section svg").count() >= 6
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    assert all(u.startswith("file:") for u in requests), requests
    assert shot.stat().st_size > 50_000
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(shot, ARTIFACTS / "demo-report.png")


def _weekly(people: int, with_experiment: bool):
    import datetime as dt

    from systemic.demo import town_scenario
    from systemic.simulate import load_scenario, run

    data = town_scenario(DemoConfig(people=people))
    if not with_experiment:
        data.pop("experiments")
    steps = run(load_scenario(data), seed=SMALL.seed).steps
    return steps.filter(pl.col("date") >= dt.datetime(2025, 1, 6, tzinfo=dt.UTC)).select(
        "date", "locality", "failure_demand", "contacts"
    )


def test_experiment_signal_comes_from_the_mechanism():
    """The same town and seed with and without the neighbourhood team (common random
    numbers): with the team, Northfield's failure-demand share falls against the other
    localities; without it, it does not (it drifts up, as the most deprived locality)."""
    from systemic.measures import experiment_evidence

    def did(frame):
        return experiment_evidence(
            frame,
            locality="Northfield",
            start="2027-01-04",
            value="failure_demand",
            denominator="contacts",
            chart="p",
            improvement="decrease",
            seed=1,
        ).did

    with_team, without = did(_weekly(50_000, True)), did(_weekly(50_000, False))
    assert with_team.upper < 0, with_team  # a fall beyond the other localities
    assert without.estimate > 0, without  # no team: no fall
    assert with_team.estimate < without.estimate - 0.02  # the team's own effect
