"""``systemic calibrate``: fit scenario parameters to what ``systemic learn`` measured."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from systemic.commands._console import console, err_console, fail, progress


def _bounds(values: list[str]) -> dict[str, tuple[float, float]]:
    out = {}
    for item in values:
        name, _, rng = item.partition("=")
        low, _, high = rng.partition(":")
        try:
            out[name.strip()] = (float(low), float(high))
        except ValueError:
            fail(f"--bounds {item!r}: write NAME=LOW:HIGH, e.g. population.seek_per_week=0.1:0.6")
    return out


def calibrate_command(
    scenario: Path = typer.Argument(..., help="Scenario TOML file (a preset plus overrides)."),
    target: Path = typer.Option(
        ...,
        "--target",
        help="A `systemic learn` output folder, or a .json/.csv/.parquet table of targets.",
    ),
    params: str = typer.Option(
        ...,
        "--params",
        help="Comma-separated dotted parameters to fit (* ties one across services).",
    ),
    out: Path = typer.Option(..., "--out", help="Folder for the calibration report and tables."),
    residents: int | None = typer.Option(
        None, "--residents", min=1, help="Residents of the area (for contacts per 1,000)."
    ),
    years: float | None = typer.Option(
        None, "--years", help="Years the data cover (default: the span of learn's weeks)."
    ),
    bounds: list[str] = typer.Option(
        [], "--bounds", help="NAME=LOW:HIGH for a parameter (repeatable)."
    ),
    aggregates: str | None = typer.Option(
        None, "--aggregates", help="Comma-separated aggregates to match (default: all usable)."
    ),
    seeds: str = typer.Option("1,2", "--seeds", help="Seeds (common random numbers)."),
    budget: int = typer.Option(60, "--budget", min=2, help="Most evaluations of the search."),
    method: str = typer.Option(
        "least_squares", "--method", help="Search: least_squares, or simplex (Sobol + Nelder-Mead)."
    ),
    burn_in: float = typer.Option(
        0.0, "--burn-in", min=0.0, help="Years simulated before the observed window."
    ),
) -> None:
    """Fit scenario parameters so simulated aggregates match a dataset's, and say which the
    data cannot identify."""
    from systemic.simulate import ScenarioError, load_scenario
    from systemic.simulate.calibrate import (
        CalibrationError,
        calibrate,
        read_targets,
        render_calibration,
    )

    try:
        sc = load_scenario(scenario)
        targets = read_targets(target, residents=residents, years=years)
        names = [p.strip() for p in params.split(",") if p.strip()]
        wanted = [a.strip() for a in aggregates.split(",")] if aggregates else None
        seed_list = [int(s) for s in seeds.split(",") if s.strip()]
    except (ScenarioError, CalibrationError) as err:
        fail(str(err))
        return
    except ValueError:
        fail(f"--seeds {seeds!r}: give whole numbers separated by commas, e.g. 1,2")
        return
    if target.is_dir() and residents is None:
        err_console.print(
            "note: without --residents, contacts per 1,000 residents are not matched", style="dim"
        )
    try:
        with progress() as bar:
            task = bar.add_task("calibrating", total=budget)
            result = calibrate(
                sc,
                targets,
                names,
                bounds=_bounds(bounds),
                aggregates=wanted,
                seeds=seed_list,
                budget=budget,
                method=method,
                burn_in_years=burn_in,
                on_evaluation=lambda n, _loss: bar.update(task, completed=min(n, budget)),
            )
    except (ScenarioError, CalibrationError) as err:
        fail(str(err))
        return
    out.mkdir(parents=True, exist_ok=True)
    text = render_calibration(result)
    (out / "calibration.md").write_text(text, encoding="utf-8")
    result.parameters.write_csv(out / "parameters.csv")
    result.fit.write_csv(out / "fit.csv")
    result.correlation.write_csv(out / "correlation.csv")
    result.history.write_csv(out / "history.csv")
    (out / "fitted.json").write_text(
        json.dumps({"scenario": str(scenario), "fitted": result.fitted}, indent=2),
        encoding="utf-8",
    )
    console.print(text, markup=False, highlight=False)
    console.print(f"wrote calibration.md, tables and fitted.json to {out}")


def register(app: typer.Typer) -> None:
    """Add ``systemic calibrate`` to the command line."""
    app.command("calibrate")(calibrate_command)
