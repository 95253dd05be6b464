"""End-to-end: a simulated town, `systemic learn` on its events, then `systemic calibrate`."""

from __future__ import annotations

import json

import polars as pl
import typer
from typer.testing import CliRunner

from systemic.cli import app as systemic_app
from systemic.commands.calibrate import register
from systemic.simulate import Scenario, load_scenario, run, write_events

RUNNER = CliRunner()

# The engine may warm a town up before recording; these runs skip it for speed.
NO_WARM_UP = {"burn_in_years": 0.0} if "burn_in_years" in Scenario.model_fields else {}
SCENARIO = f"""
preset = "silo"
years = 1
{"burn_in_years = 0.0" if NO_WARM_UP else ""}
[population]
people = 1000
"""


def _flat(text: str) -> str:
    return " ".join(text.split())


def _calibrate_app() -> typer.Typer:
    app = typer.Typer()
    app.command("noop")(lambda: None)  # keep `calibrate` a named subcommand
    register(app)
    return app


def test_learn_then_calibrate(tmp_path) -> None:
    (tmp_path / "town.toml").write_text(SCENARIO)
    truth = load_scenario(
        {
            "preset": "silo",
            "years": 1,
            "population": {"people": 1000, "re_present_per_week": 0.3},
            **NO_WARM_UP,
        }
    )
    write_events(run(truth, seed=5, events=True), tmp_path / "ds")
    learnt = RUNNER.invoke(
        systemic_app,
        ["learn", str(tmp_path / "ds"), "--out", str(tmp_path / "learnt"), "--no-charts"],
    )
    assert learnt.exit_code == 0, learnt.output
    result = RUNNER.invoke(
        _calibrate_app(),
        [
            "calibrate",
            str(tmp_path / "town.toml"),
            "--target",
            str(tmp_path / "learnt"),
            "--params",
            "population.re_present_per_week,costs.a_and_e",
            "--bounds",
            "population.re_present_per_week=0.05:0.5",
            "--residents",
            "1000",
            "--aggregates",
            "contacts_per_1000,failure_demand_share",
            "--seeds",
            "1",
            "--budget",
            "8",
            "--out",
            str(tmp_path / "cal"),
        ],
    )
    assert result.exit_code == 0, result.output
    out = tmp_path / "cal"
    text = (out / "calibration.md").read_text()
    assert text.startswith("# Calibration")
    params = pl.read_csv(out / "parameters.csv")
    assert params["parameter"].to_list() == ["population.re_present_per_week", "costs.a_and_e"]
    # Moving from 0.2 toward the truth (0.3): failure demand rises with re-presentation.
    fitted = json.loads((out / "fitted.json").read_text())["fitted"]
    assert fitted["population.re_present_per_week"] > 0.22
    assert params.filter(pl.col("parameter") == "costs.a_and_e")["identified"].to_list() == [False]
    fit = pl.read_csv(out / "fit.csv")
    assert set(fit["aggregate"]) == {"contacts_per_1000", "failure_demand_share"}


def test_calibrate_reports_bad_input(tmp_path) -> None:
    (tmp_path / "town.toml").write_text(SCENARIO)
    (tmp_path / "t.json").write_text(json.dumps({"failure_demand_share": 0.5}))
    base = [
        "calibrate",
        str(tmp_path / "town.toml"),
        "--target",
        str(tmp_path / "t.json"),
        "--out",
        str(tmp_path / "cal"),
    ]
    bad_param = RUNNER.invoke(_calibrate_app(), [*base, "--params", "population.peple"])
    assert bad_param.exit_code == 2
    assert "not a numeric parameter" in _flat(bad_param.output)
    bad_bounds = RUNNER.invoke(
        _calibrate_app(), [*base, "--params", "population.seek_per_week", "--bounds", "x=1"]
    )
    assert bad_bounds.exit_code == 2 and "NAME=LOW:HIGH" in _flat(bad_bounds.output)
    missing = RUNNER.invoke(
        _calibrate_app(),
        [
            "calibrate",
            str(tmp_path / "town.toml"),
            "--target",
            str(tmp_path / "nope"),
            "--params",
            "population.seek_per_week",
            "--out",
            str(tmp_path / "cal"),
        ],
    )
    assert missing.exit_code == 2 and "no such target" in _flat(missing.output)
    bad_method = RUNNER.invoke(
        _calibrate_app(), [*base, "--params", "population.seek_per_week", "--method", "magic"]
    )
    assert bad_method.exit_code == 2 and "choose simplex or least_squares" in _flat(
        bad_method.output
    )
