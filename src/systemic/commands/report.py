"""``systemic report``: one self-contained HTML report of a dataset (and a workspace)."""

from __future__ import annotations

from pathlib import Path

import typer

from systemic.commands._console import err_console, fail


def report_command(
    dataset: Path = typer.Argument(..., help="Dataset folder (from `systemic import`)."),
    out: Path = typer.Option(Path("report.html"), "--out", "-o", help="The HTML file to write."),
    workspace: Path | None = typer.Option(
        None, "--workspace", help="Workspace database (SQLite file or URL) to report on too."
    ),
    workspace_name: str | None = typer.Option(
        None,
        "--workspace-name",
        help="Which workspace of that database (its short name); default: 'default', or the "
        "only one.",
    ),
    unit_costs: Path | None = typer.Option(
        None, "--unit-costs", help="Unit-cost TOML table for the cost of failure."
    ),
    episode_gap_days: float = typer.Option(90, help="Gap (days) that starts a new episode."),
    threshold: int = typer.Option(5, help="Suppress counts below this (1-4 show as <5)."),
    title: str | None = typer.Option(None, help="Title at the top of the report."),
    locality: str | None = typer.Option(
        None, help="Locality whose SPC charts to show (default: the first)."
    ),
) -> None:
    """Write one self-contained HTML report: journeys, failure demand, measures, the four levels."""
    from systemic.data import SystemicDataError
    from systemic.learn import LearnConfig, UnitCostError, load_unit_costs
    from systemic.report import write_html
    from systemic.report.build import dataset_report
    from systemic.store.errors import StoreError

    try:
        config = LearnConfig(episode_gap_days=episode_gap_days, suppression_threshold=threshold)
        table = load_unit_costs(unit_costs) if unit_costs else None
    except (ValueError, UnitCostError) as exc:
        fail(str(exc))
        return
    if workspace is not None and "://" not in str(workspace) and not workspace.exists():
        fail(f"{workspace}: no workspace database there; give the file `systemic serve` uses")
        return
    if workspace_name is not None and workspace is None:
        fail("--workspace-name picks a workspace of the database given with --workspace: give both")
        return
    try:
        with err_console.status("Learning from the dataset and drawing the report..."):
            doc = dataset_report(
                dataset,
                workspace=workspace,
                workspace_name=workspace_name,
                config=config,
                unit_costs=table,
                threshold=threshold,
                title=title,
                focus_locality=locality,
            )
            path = write_html(doc, out)
    except (SystemicDataError, StoreError) as exc:
        fail(str(exc))
        return
    err_console.print(f"Wrote {path} ({path.stat().st_size // 1024} KB, works offline).")


def register(app: typer.Typer) -> None:
    """Add ``systemic report``."""
    app.command("report")(report_command)
