"""Measures read learn's published series by name: suppressed cells are gaps, never numbers."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from systemic.cli import app
from systemic.learn import learn_events, write_outputs
from systemic.learn.series import learn_series
from systemic.measures import spc_chart
from systemic.measures.chart import chart_spec
from systemic.measures.errors import SeriesError
from systemic.measures.learnt import read_learnt_series

RUNNER = CliRunner()
MONDAY = dt.datetime(2025, 1, 6, 9, tzinfo=dt.UTC)


def town_events(weeks: int = 40) -> pl.DataFrame:
    """Big North (30 contacts a week), small South (1 to 6 a week), needs of a few days."""
    rows = []
    for w in range(weeks):
        for i in range(30):
            person = f"n{(w * 30 + i) % 400}"
            day = MONDAY + dt.timedelta(weeks=w, days=i % 5, hours=i)
            rows.append((person, "North", day, "failure" if (i + w) % 3 == 0 else "value"))
        for i in range(1 + w % 6):
            rows.append((f"s{w}-{i}", "South", MONDAY + dt.timedelta(weeks=w, days=i), "failure"))
    return pl.DataFrame(
        {
            "person_id": [r[0] for r in rows],
            "locality": [r[1] for r in rows],
            "timestamp": [r[2] for r in rows],
            "demand_class": [r[3] for r in rows],
            "service": ["Housing"] * len(rows),
            "activity": ["call"] * len(rows),
            "kind": ["contact"] * len(rows),
        }
    )


@pytest.fixture(scope="module")
def learnt(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, pl.DataFrame]]:
    out = tmp_path_factory.mktemp("learnt")
    result = learn_events(town_events())
    write_outputs(result, out, charts=False)
    return out, learn_series(result)


def test_a_suppressed_week_is_a_gap_and_every_other_week_is_the_published_number(
    learnt: tuple[Path, dict[str, pl.DataFrame]],
) -> None:
    out, row_level = learnt
    series = read_learnt_series(out, "failure_demand_share", locality="South")
    truth = row_level["week"].filter(pl.col("locality") == "South")
    small = (truth["failure_contacts"] < 5) & (truth["failure_contacts"] > 0)
    read = series.frame.join(truth.rename({"period": "date"}), on="date")
    assert read.height == truth.height
    gaps = read.filter(pl.col("value").is_null())
    # Every week with a count under 5 is a gap; no suppressed cell became a number.
    assert set(gaps["date"]) >= set(truth.filter(small)["period"])
    shown = read.filter(pl.col("value").is_not_null())
    assert shown["value"].to_list() == shown["failure_contacts"].cast(pl.Float64).to_list()
    assert shown["denominator"].to_list() == shown["contacts"].cast(pl.Float64).to_list()
    assert f"{gaps.height} weeks suppressed" in series.notes[0]


def test_a_p_chart_draws_no_line_across_a_suppressed_week(
    learnt: tuple[Path, dict[str, pl.DataFrame]],
) -> None:
    out, _ = learnt
    series = read_learnt_series(out, "failure_demand_share", locality="South")
    result = spc_chart(
        series.frame, chart="p", value="value", denominator="denominator", improvement="decrease"
    )
    gap = result.points.filter(pl.col("value").is_null())
    assert gap.height and gap["point_type"].null_count() == gap.height
    spec = chart_spec(result, notes=series.notes)
    lines = [layer for layer in spec["layer"] if layer.get("mark", {}).get("type") == "line"]
    assert lines and all(
        layer["mark"]["invalid"] == "break-paths-filter-domains" for layer in lines
    )
    assert any("suppressed" in line for line in spec["title"]["subtitle"])


def test_durations_leave_out_the_record_edges_and_say_so(
    learnt: tuple[Path, dict[str, pl.DataFrame]],
) -> None:
    out, row_level = learnt
    series = read_learnt_series(out, "end_to_end_days_per_need", locality="North")
    truth = row_level["week"].filter(pl.col("locality") == "North")
    kept = truth.filter(pl.col("edge").is_null())["period"].to_list()
    assert series.frame["date"].to_list() == kept
    assert truth.height > len(kept)
    assert any("record start" in n and "record end" in n for n in series.notes)


def test_unknown_names_are_clear_errors(learnt: tuple[Path, dict[str, pl.DataFrame]]) -> None:
    out, _ = learnt
    with pytest.raises(SeriesError, match="failure_demand_share"):
        read_learnt_series(out, "failure_rate")
    with pytest.raises(SeriesError, match="North, South"):
        read_learnt_series(out, "contacts", locality="Westfield")


def test_spc_and_experiment_from_a_learn_folder_without_lowering_the_threshold(
    learnt: tuple[Path, dict[str, pl.DataFrame]], tmp_path: Path
) -> None:
    out, _ = learnt
    spc = RUNNER.invoke(
        app,
        ["spc", "--from", str(out), "--series", "failure_demand_share", "--locality", "South",
         "--out", str(tmp_path / "spc")],
    )  # fmt: skip
    assert spc.exit_code == 0, spc.output
    assert "suppressed" in spc.output
    table = pl.read_csv(tmp_path / "spc" / "spc.csv")
    assert table["value"].null_count() > 0
    summary = json.loads((tmp_path / "spc" / "summary.json").read_text())
    assert summary["notes"] and summary["groups"][0]["n_missing"] == table["value"].null_count()
    experiment = RUNNER.invoke(
        app,
        ["experiment", "--from", str(out), "--series", "failure_demand_share",
         "--locality", "North", "--start", "2025-06-02", "--n-boot", "200",
         "--out", str(tmp_path / "exp")],
    )  # fmt: skip
    assert experiment.exit_code == 0, experiment.output
    evidence = json.loads((tmp_path / "exp" / "evidence.json").read_text())
    assert evidence["locality"] == "North"
    assert evidence["difference_in_differences"]["n_other_localities"] == 1
    wrong = RUNNER.invoke(app, ["spc", "--from", str(out), "--out", str(tmp_path / "x")])
    assert wrong.exit_code != 0 and "--series" in wrong.output


def test_an_experiment_on_a_count_series_compares_relative_changes(
    learnt: tuple[Path, dict[str, pl.DataFrame]], tmp_path: Path
) -> None:
    """Failure-demand contacts a week in North against South: the published weeks'
    after/before means, recomputed here, give the relative changes the CLI reports."""
    out, _ = learnt
    start = "2025-06-02"
    args = ["experiment", "--from", str(out), "--series", "failure_contacts", "--locality",
            "North", "--start", start, "--n-boot", "200"]  # fmt: skip
    counted = RUNNER.invoke(app, [*args, "--out", str(tmp_path / "rel")])
    assert counted.exit_code == 0, counted.output
    did = json.loads((tmp_path / "rel" / "evidence.json").read_text())["difference_in_differences"]
    assert did["scale"] == "relative"
    series = read_learnt_series(out, "failure_contacts", every_locality=True).frame
    weeks = series.pivot(on="locality", index="date", values="value").drop_nulls()
    after = weeks["date"] >= pl.lit(start).str.to_date()

    def moved(place: str) -> float:
        return weeks.filter(after)[place].mean() / weeks.filter(~after)[place].mean() - 1

    assert did["change_in_locality"] == pytest.approx(moved("North"))
    assert did["change_in_others"] == pytest.approx(moved("South"))
    assert did["estimate"] == pytest.approx((1 + moved("North")) / (1 + moved("South")) - 1)
    differenced = RUNNER.invoke(app, [*args, "--scale", "difference", "--out", str(tmp_path / "d")])
    assert differenced.exit_code == 0, differenced.output
    plain = json.loads((tmp_path / "d" / "evidence.json").read_text())["difference_in_differences"]
    assert plain["scale"] == "difference"
    assert plain["change_in_locality"] == pytest.approx(
        weeks.filter(after)["North"].mean() - weeks.filter(~after)["North"].mean()
    )
