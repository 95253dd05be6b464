"""``systemic simulate``: run scenarios, ensembles and comparisons of designs."""

from __future__ import annotations

from pathlib import Path

import typer

from systemic.commands._console import console, fail, progress

simulate_app = typer.Typer(
    help="Simulate people, needs and services over years to compare service designs.",
    no_args_is_help=True,
)

DASK_HELP = "Run on Dask: 'local' (a 2-worker LocalCluster) or a scheduler address."


def _prepare(bar) -> None:  # type: ignore[no-untyped-def]
    """Load the compiled step as a step of its own (the first time, it compiles)."""
    from systemic.simulate import prepare

    task = bar.add_task("preparing the simulation engine", total=1)
    if prepare() > 5:
        console.print("compiled the simulation engine (once per machine and version)")
    bar.update(task, completed=1)


def _load(path: Path):
    from systemic.simulate import ScenarioError, load_scenario

    try:
        return load_scenario(path)
    except ScenarioError as err:
        fail(str(err))


@simulate_app.command("run")
def run_command(
    scenario: Path = typer.Argument(..., help="Scenario TOML file (a preset plus overrides)."),
    out: Path = typer.Option(..., "--out", help="Folder for tables and charts."),
    seed: int = typer.Option(0, "--seed", help="Random seed: the same seed gives the same result."),
    events: Path | None = typer.Option(
        None, "--events", help="Also write the simulated events as a dataset in this folder."
    ),
    runs: int = typer.Option(1, "--runs", min=1, help="Runs in an ensemble (1: a single run)."),
    dask: str | None = typer.Option(None, "--dask", help=DASK_HELP),
) -> None:
    """Run a scenario once (or as an ensemble with --runs) and write tables and charts."""
    from systemic.simulate import run, write_events
    from systemic.simulate.ensemble import run_ensemble
    from systemic.simulate.outputs import write_ensemble, write_run

    sc = _load(scenario)
    if runs > 1 and events is not None:
        fail("--events writes one run's events: use it without --runs (or with --runs 1)")
    with progress() as bar:
        if dask is None:
            _prepare(bar)
        if runs == 1:
            task = bar.add_task(f"simulating {sc.name}", total=sc.steps)
            result = run(
                sc,
                seed=seed,
                events=events is not None,
                on_step=lambda done, total: bar.update(task, completed=done),
            )
            files = write_run(result, out)
            if events is not None:
                task = bar.add_task("writing events", total=1)
                ds = write_events(result, events)
                bar.update(task, completed=1)
                console.print(f"events: {ds.manifest.accepted:,} rows in dataset [bold]{events}[/]")
            summary = result.summary()
            console.print(
                f"failure demand share {summary['failure_demand_share']:.1%}, "
                f"crises per 1,000 a year {summary['crises_per_1000']:.1f}, "
                f"cost per resident a year £{summary['cost_per_resident']:,.0f}"
            )
        else:
            task = bar.add_task(f"ensemble of {sc.name}", total=runs)
            ens = run_ensemble(
                sc,
                runs=runs,
                seed=seed,
                dask=dask,
                on_run=lambda done, total: bar.update(task, completed=done),
            )
            files = write_ensemble(ens, out)
    console.print(f"wrote {len(files)} files to [bold]{out}[/]")


@simulate_app.command("compare")
def compare_command(
    a: Path = typer.Argument(..., help="Scenario A (the baseline)."),
    b: Path = typer.Argument(..., help="Scenario B (the alternative)."),
    out: Path = typer.Option(..., "--out", help="Folder for tables and charts."),
    runs: int = typer.Option(20, "--runs", min=1, help="Runs of each design."),
    seed: int = typer.Option(0, "--seed", help="Random seed shared by both designs."),
    dask: str | None = typer.Option(None, "--dask", help=DASK_HELP),
) -> None:
    """Compare two designs on common random numbers: differences B - A with bands."""
    from systemic.simulate.compare import compare
    from systemic.simulate.outputs import write_comparison

    sa, sb = _load(a), _load(b)
    with progress() as bar:
        if dask is None:
            _prepare(bar)
        task = bar.add_task(f"{sa.name} vs {sb.name}", total=runs)
        try:
            result = compare(
                sa,
                sb,
                runs=runs,
                seed=seed,
                dask=dask,
                on_run=lambda done, total: bar.update(task, completed=done),
            )
        except ValueError as err:
            fail(str(err))
    files = write_comparison(result, out)
    diff = result.summary.filter(series="difference")
    for row in diff.iter_rows(named=True):
        console.print(
            f"{row['metric']:>18}: B - A median {row['median']:,.2f} "
            f"(95% band {row['p2_5']:,.2f} to {row['p97_5']:,.2f})",
            highlight=False,
        )
    console.print(f"wrote {len(files)} files to [bold]{out}[/]")


@simulate_app.command("presets")
def presets_command() -> None:
    """List the named designs and how they differ."""
    from systemic.simulate import PRESETS

    for name, data in PRESETS.items():
        d = data["design"]
        held = sorted(set(d["route"].values()))
        console.print(f"[bold]{name}[/]: prevention {d['prevention']}, needs held by {held}")


def register(app: typer.Typer) -> None:
    """Attach ``systemic simulate`` to the root command."""
    app.add_typer(simulate_app, name="simulate")
