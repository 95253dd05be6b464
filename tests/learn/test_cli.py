"""``systemic learn`` end to end on each real log: tables, summary, charts."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from systemic.cli import app
from systemic.data.disclosure import is_suppressed

from .conftest import RealDatasets

ROOT = Path(__file__).resolve().parents[2]
COSTS = ROOT / "examples" / "unit_costs" / "uk_health_social_care.toml"
TABLES = [
    "service_edges",
    "service_starts",
    "service_ends",
    "activity_edges",
    "activity_starts",
    "activity_ends",
    "service_variants",
    "activity_variants",
    "demand_by_class",
    "demand_by_type",
    "demand_by_service",
    "demand_by_channel",
    "demand_by_locality",
    "demand_by_week",
    "preventable_by_locality",
    "failure_demand_pareto",
    "inferred_failure_pareto",
    "failure_work_pareto",
    "failure_signals",
    "cost_by_service",
    "cost_by_locality",
    "localities",
    "end_to_end_distribution",
]
CHARTS = ["failure_demand_pareto", "end_to_end_times", "journey_map", "hand_offs_by_locality"]


#: The keys issue 14 asks summary.json to carry (each defined in docs/learn.md).
SUMMARY_KEYS = (
    "cases",
    "median_case_days",
    "needs",
    "median_need_days",
    "contacts",
    "classified_contacts",
    "inferred_failure_contacts",
    "unknown_contacts",
    "failure_demand_share",
    "failure_work_events",
    "failure_work_share",
    "cost_of_failure_demand",
    "cost_of_failure_work",
    "cost_of_hand_offs",
    "uncosted_events",
)


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


@pytest.mark.parametrize("log", ["sepsis", "hospital", "receipt"])
def test_learn_writes_tables_summary_and_charts(
    log: str, real_datasets: RealDatasets, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    res = CliRunner().invoke(
        app, ["learn", str(real_datasets[log]), "--out", str(out), "--unit-costs", str(COSTS)]
    )
    assert res.exit_code == 0, res.output
    summary = json.loads((out / "summary.json").read_text())
    for key in SUMMARY_KEYS:
        assert key in summary
    assert summary["events"] > 8000 and summary["people"] > 1000
    # every log's case is its person: a need never cuts a case, so needs are cases
    assert summary["needs"] == summary["cases"] == summary["people"]
    assert summary["contacts"] == summary["classified_contacts"] + (
        summary["inferred_failure_contacts"]
        + summary["inferred_value_contacts"]
        + summary["unknown_contacts"]
    )
    for name in TABLES:
        parquet = pl.read_parquet(out / "tables" / f"{name}.parquet")
        csv = pl.read_csv(out / "tables" / f"{name}.csv", infer_schema_length=0)
        assert parquet.height == csv.height
        # no published count is between 1 and 4
        for col in ("count", "contacts", "episodes", "events", "people", "failure", "value"):
            if col in csv.columns:
                vals = [v for v in csv[col].to_list() if v is not None and not is_suppressed(v)]
                assert all(int(v) == 0 or int(v) >= 5 for v in vals), (name, col)
    assert pl.read_parquet(out / "tables" / "activity_edges.parquet").height > 10
    assert pl.read_parquet(out / "row_level" / "episodes.parquet").height == summary["needs"]
    assert pl.read_parquet(out / "row_level" / "cases.parquet").height == summary["cases"]
    for chart in CHARTS:
        png = out / "charts" / f"{chart}.png"
        svg = out / "charts" / f"{chart}.svg"
        assert svg.read_text().lstrip().startswith("<svg")
        width, height = png_size(png)
        assert width >= 300 and height >= 150, (chart, width, height)
        assert png.stat().st_size > 3000


def test_hospital_journey_map_shows_hand_offs_between_departments(
    real_datasets: RealDatasets, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["learn", str(real_datasets["hospital"]), "-o", str(out)])
    assert res.exit_code == 0, res.output
    edges = pl.read_parquet(out / "tables" / "service_edges.parquet")
    assert edges.height > 20
    svg = (out / "charts" / "journey_map.svg").read_text()
    top = edges.row(0, named=True)
    assert top["from"] in svg and top["to"] in svg
    summary = json.loads((out / "summary.json").read_text())
    assert summary["median_hand_offs"] >= 0
    localities = pl.read_parquet(out / "tables" / "localities.parquet")
    assert float(localities["mean_hand_offs"][0]) > 1


def test_bad_unit_costs_fail_with_the_key(real_datasets: RealDatasets, tmp_path: Path) -> None:
    bad = tmp_path / "c.toml"
    bad.write_text('currency = "GBP"\n')
    res = CliRunner().invoke(
        app,
        [
            "learn",
            str(real_datasets["sepsis"]),
            "-o",
            str(tmp_path / "o"),
            "--unit-costs",
            str(bad),
        ],
    )
    assert res.exit_code == 2
    assert "year" in res.output


def test_not_a_dataset_is_reported(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["learn", str(tmp_path), "-o", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert "not a dataset" in " ".join(res.output.split())


def test_rules_switch_from_the_command_line(real_datasets: RealDatasets, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["learn", str(real_datasets["sepsis"]), "-o", str(out), "--no-charts"]
    res = CliRunner().invoke(
        app, [*args, "--no-repeat-contact", "--contact-after-hand-off", "--repeat-window-days", "7"]
    )
    assert res.exit_code == 0, res.output
    summary = json.loads((out / "summary.json").read_text())
    settings = summary["settings"]
    assert settings["repeat_contact"] is False and settings["contact_after_hand_off"] is True
    assert settings["repeat_window_days"] == 7
    signals = pl.read_parquet(out / "row_level" / "../tables/failure_signals.parquet")
    on = dict(signals.select("failure_signal", "on").rows())
    assert on == {
        "repeat_contact": False,
        "recontact_after_closure": True,
        "contact_after_hand_off": True,
    }
    repeat = signals.filter(pl.col("failure_signal") == "repeat_contact")["contacts"].item()
    assert repeat in (0, "0")
