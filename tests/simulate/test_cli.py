"""End-to-end: `systemic simulate run` and `systemic simulate compare`."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from systemic.cli import app
from systemic.data import open_dataset

RUNNER = CliRunner()


def EVENTS(tmp: Path) -> list[str]:  # noqa: N802 - reads as an option
    return ["--events", str(tmp / "ds")]


def OUT(path: Path) -> list[str]:  # noqa: N802 - reads as an option
    return ["--out", str(path)]


SMALL = """
preset = "{preset}"
years = 1
[population]
people = 600
[[localities]]
name = "North"
share = 1
deprivation = 1.2
community_strength = 0.4
[[localities]]
name = "South"
share = 1
deprivation = 0.9
community_strength = 0.6
[uncertainty]
"crisis.rate_per_week" = [0.05, 0.2]
"""


def _write(tmp_path: Path, preset: str) -> Path:
    f = tmp_path / f"{preset}.toml"
    f.write_text(SMALL.format(preset=preset))
    return f


def test_run_writes_tables_chart_and_events(tmp_path: Path) -> None:
    sc = _write(tmp_path, "silo")
    out = tmp_path / "out"
    res = RUNNER.invoke(
        app,
        ["simulate", "run", str(sc), "--seed", "3", "--out", str(out), *EVENTS(tmp_path)],
    )
    assert res.exit_code == 0, res.output
    tables = ("steps.parquet", "steps.csv", "services.parquet", "summary.csv")
    for name in (*tables, "chart.svg", "chart.png"):
        assert (out / name).exists(), name
    assert (out / "chart.svg").read_text().lstrip().startswith("<svg")
    assert (out / "chart.png").read_bytes()[:4] == b"\x89PNG"
    steps = pl.read_parquet(out / "steps.parquet")
    events = open_dataset(tmp_path / "ds").events().collect()
    assert events.filter(kind="contact").height == steps["contacts"].sum()
    # Same seed, same tables.
    out2 = tmp_path / "out2"
    RUNNER.invoke(app, ["simulate", "run", str(sc), "--seed", "3", "--out", str(out2)])
    assert pl.read_parquet(out2 / "steps.parquet").equals(steps)


def test_run_ensemble_and_compare(tmp_path: Path) -> None:
    silo, local = _write(tmp_path, "silo"), _write(tmp_path, "local")
    res = RUNNER.invoke(
        app, ["simulate", "run", str(silo), "--runs", "3", "--out", str(tmp_path / "ens")]
    )
    assert res.exit_code == 0, res.output
    bands = pl.read_parquet(tmp_path / "ens" / "bands.parquet")
    assert bands["runs"].unique().to_list() == [3]
    res = RUNNER.invoke(
        app,
        ["simulate", "compare", str(silo), str(local), "--runs", "3", *OUT(tmp_path / "cmp")],
    )
    assert res.exit_code == 0, res.output
    assert "failure_demand" in res.output
    for name in ("summary.csv", "bands.parquet", "difference.svg", "difference.png", "designs.png"):
        assert (tmp_path / "cmp" / name).exists(), name
    summary = pl.read_csv(tmp_path / "cmp" / "summary.csv")
    assert set(summary["series"]) == {"a", "b", "difference"}


def test_bad_scenario_names_the_key(tmp_path: Path) -> None:
    f = tmp_path / "bad.toml"
    f.write_text("[population]\npeople = -5\n")
    res = RUNNER.invoke(app, ["simulate", "run", str(f), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2
    flat = res.output.replace("\n", "")  # the console wraps long lines
    assert "population.people" in flat and "bad.toml:2" in flat


def test_systemic_learn_reads_a_simulated_town(tmp_path: Path) -> None:
    """The event dataset goes through `systemic learn` like a real one (via the CLI only)."""
    import json

    root = [c.name for c in app.registered_groups] + [c.name for c in app.registered_commands]
    if "learn" not in root:
        import pytest

        pytest.skip("systemic learn is not available in this build")
    sc = _write(tmp_path, "silo")
    RUNNER.invoke(
        app, ["simulate", "run", str(sc), "--seed", "1", *OUT(tmp_path / "o"), *EVENTS(tmp_path)]
    )
    res = RUNNER.invoke(app, ["learn", str(tmp_path / "ds"), "--out", str(tmp_path / "learned")])
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "learned" / "summary.json").read_text())
    steps = pl.read_parquet(tmp_path / "o" / "steps.parquet")
    assert summary["contacts"] == steps["contacts"].sum()
    assert summary["failure_contacts"] == steps["failure_demand"].sum()
