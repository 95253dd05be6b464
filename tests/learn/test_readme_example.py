"""The README's real example says what `systemic learn` says today.

The README quotes the summary of learning the hospital log (with the shipped
mapping and unit-cost example) and a few facts about it. This test runs the
same commands' functions on the same log and compares, so the front page
cannot drift from the code.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from systemic.cli import app
from systemic.data import open_dataset

from .conftest import RealDatasets

ROOT = Path(__file__).resolve().parents[2]
COSTS = ROOT / "examples" / "unit_costs" / "uk_health_social_care.toml"


def _readme_summary() -> dict[str, object]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"`learnt-hospital/summary\.json`:\s*```json\n(.*?)```", text, re.S)
    assert found, "README.md no longer quotes learnt-hospital/summary.json"
    return json.loads(found.group(1))


def test_readme_real_example_matches_learn(real_datasets: RealDatasets, tmp_path: Path) -> None:
    out = tmp_path / "learnt-hospital"
    res = CliRunner().invoke(
        app,
        [
            "learn",
            str(real_datasets["hospital"]),
            "--out",
            str(out),
            "--unit-costs",
            str(COSTS),
            "--no-charts",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "Wrote tables and summary.json (no charts)" in res.output
    assert not (out / "charts").exists() or not any((out / "charts").iterdir())
    summary = _readme_summary()
    assert json.loads((out / "summary.json").read_text()) == summary
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    episodes = pl.read_parquet(out / "row_level" / "episodes.parquet")
    mean = f"the mean is {episodes['hand_offs'].mean():.1f} hand-offs per need"
    assert mean in readme, mean
    days = f"run more than {summary['median_case_days']:.0f} days"
    hand_offs = f"median of {summary['median_hand_offs']:.0f} hand-offs"
    inferred = (
        f"flag {summary['inferred_failure_contacts']:,} of the {summary['contacts']:,} "
        f"consultations ({100 * summary['inferred_failure_share']:.0f}%)"
    )
    unknown = f"{100 * summary['unknown_share']:.0f}% of contacts remain unknown"
    uncosted = f"all {summary['uncosted_events']:,} events are reported as uncosted"
    for fact in (days, hand_offs, inferred, unknown, uncosted):
        assert fact in readme, fact
    assert summary["failure_demand_share"] is None and summary["classified_contacts"] == 0
    services = (
        open_dataset(real_datasets["hospital"])
        .events(["service"])
        # the mapping keeps the 16 rows without a department as "Unknown department"
        .filter(pl.col("service") != "Unknown department")
        .select(pl.col("service").n_unique())
        .collect()
        .item()
    )
    facts = (
        f"{summary['people']:,} gynaecology patients, {summary['events']:,} events "
        f"in {services} departments"
    )
    assert facts in readme, facts
