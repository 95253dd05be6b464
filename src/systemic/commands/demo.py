"""``systemic demo``: the whole reform cycle on a simulated town, in one command.

``systemic demo`` simulates the demo town, learns from its records, charts
the measures, judges the experiment, seeds a workspace, compares the silo and
local designs over ten years and writes one HTML report
(:mod:`systemic.demo`). ``systemic demo --real-logs`` instead imports the
three published real logs in ``../shared/data/real`` with the mappings in
``examples/mappings`` and prints what each dataset holds.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import typer

from systemic.commands._console import console, fail
from systemic.commands.data import print_summary
from systemic.data import SystemicDataError, import_sources, inspect_dataset

#: (dataset name, source file, mapping file)
REAL_LOGS = (
    ("sepsis", "sepsis.csv.gz", "sepsis.toml"),
    ("hospital_bpic2011", "hospital_bpic2011.csv.gz", "hospital_bpic2011.toml"),
    ("receipt_wabo", "receipt_wabo.xes.gz", "receipt_wabo.toml"),
)

CITATIONS = (
    "Mannhardt, F. (2016). Sepsis Cases - Event Log. 4TU.ResearchData.",
    "van Dongen, B.F. (2011). Real-life event logs - Hospital log (BPI Challenge 2011). "
    "4TU.ResearchData.",
    "Buijs, J.C.A.M. (2014). Receipt phase of an environmental permit application process "
    "('WABO'), CoSeLoG project. 4TU.ResearchData.",
)


def repo_root() -> Path:
    """The repository holding this package (src/systemic/commands -> root)."""
    return Path(__file__).resolve().parents[3]


def default_real_data() -> Path:
    return repo_root().parent / "shared" / "data" / "real"


def import_real_logs(out: Path, real_data: Path, mappings: Path) -> list[Path]:
    """Import each real log into ``out/<name>``, replacing earlier demo output."""
    made = []
    for name, source, mapping in REAL_LOGS:
        target = out / name
        if target.exists():
            shutil.rmtree(target)
        import_sources([real_data / source], mappings / mapping, target)
        made.append(target)
    return made


def demo_command(
    out: Path = typer.Option(Path("demo-output"), "--out", help="Folder for everything made."),
    people: int = typer.Option(50_000, help="Residents of the demo town."),
    runs: int = typer.Option(24, help="Runs in the ten-year comparison ensemble."),
    seed: int = typer.Option(2026, help="Random seed: the same seed gives the same demo."),
    dask: str | None = typer.Option(
        None, "--dask", help="Run the ensemble on Dask: 'local' or a scheduler address."
    ),
    real_logs: bool = typer.Option(
        False, "--real-logs", help="Instead, import the three published real logs."
    ),
    real_data: Path = typer.Option(
        None, "--real-data", help="Folder of the real logs (default: ../shared/data/real)."
    ),
) -> None:
    """Run the whole cycle on a simulated town and write the report and workspace."""
    if real_logs:
        _real_logs(out, real_data)
        return
    from systemic.commands._console import progress
    from systemic.demo import DemoConfig, run_demo

    config = DemoConfig(
        people=people,
        calibration_people=min(DemoConfig.calibration_people, people),
        comparison_people=min(DemoConfig.comparison_people, people),
        comparison_runs=runs,
        seed=seed,
        dask=dask,
    )
    tasks: dict[str, int] = {}
    with progress() as bar:

        def on_progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        result = run_demo(out, config, progress=on_progress)
    s = result.summary
    console.print(f"[bold]Report:[/] {result.report}")
    console.print(
        f"Failure demand (classified): {s['failure_demand_share']:.0%} of classified contacts; "
        f"audit findings: {s['audit_findings']}."
    )
    console.print(s["experiment_headline"])
    db = result.workspace_db
    console.print(
        "Open the workspace on the seeded data: first make yourself its admin (you choose "
        f"the password), then serve it:\n  [bold]systemic user add YOUR-NAME --role admin "
        f"--db {db}[/]\n  [bold]systemic serve --db {db}[/]"
    )


def _real_logs(out: Path, real_data: Path | None) -> None:
    real = real_data or default_real_data()
    if not real.exists():
        fail(f"real logs not found at {real}: pass --real-data FOLDER")
    try:
        datasets = import_real_logs(out, real, repo_root() / "examples" / "mappings")
        for path in datasets:
            print_summary(inspect_dataset(path))
    except SystemicDataError as exc:
        fail(str(exc))
    console.print("Data: " + " | ".join(CITATIONS))


def register(app: typer.Typer) -> None:
    """Add ``systemic demo``."""
    app.command("demo")(demo_command)
