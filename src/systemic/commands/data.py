"""``systemic import``, ``systemic inspect`` and ``systemic export``.

Thin over :mod:`systemic.data`: the commands parse options, call the library
and render its results with Rich.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import TaskID
from rich.table import Table

from systemic.commands._console import console, fail, progress
from systemic.data import (
    DatasetSummary,
    SystemicDataError,
    export_events,
    import_file,
    inspect_dataset,
    load_key,
    load_mapping,
    open_dataset,
)
from systemic.data.dataset import create_dataset
from systemic.data.importer import Pseudonymiser


def summary_tables(summary: DatasetSummary) -> list[Table]:
    """Rich tables showing a dataset summary (presentation only)."""
    head = Table(title=f"Dataset {summary.path}", show_header=False)
    head.add_column("what")
    head.add_column("value", justify="right")
    head.add_row("events", f"{summary.events:,}")
    head.add_row("people", f"{summary.people:,}")
    head.add_row("services", f"{summary.services.height:,}")
    head.add_row("activities", f"{summary.activity_count:,}")
    if summary.cases is None:
        head.add_row("cases", "no case_id mapped (each person's events are their case)")
    else:
        head.add_row("cases", f"{summary.cases:,}")
        head.add_row("cases spanning people", f"{summary.cases_spanning_people:,}")
    head.add_row("from", str(summary.first) if summary.first else "-")
    head.add_row("to", str(summary.last) if summary.last else "-")
    head.add_row(
        "rows read / rejected / filtered",
        f"{summary.read:,} / {summary.rejected:,} / {summary.filtered:,}",
    )
    head.add_row("schema version", summary.schema_version)

    sources = Table(title="Sources")
    counts = ("read", "accepted", "rejected", "filtered")
    for col in ("id", "name", "format", *counts):
        sources.add_column(col, justify="right" if col in counts else "left")
    for row in summary.sources.iter_rows():
        sources.add_row(*[f"{v:,}" if isinstance(v, int) else str(v) for v in row])

    tables = [head, sources]
    for title, frame in (
        ("Services", summary.services),
        (
            f"Activities (top {summary.activities.height} of {summary.activity_count})",
            summary.activities,
        ),
        ("Kinds", summary.kinds),
    ):
        t = Table(title=title)
        t.add_column(frame.columns[0])
        t.add_column("events", justify="right")
        for name, n in frame.iter_rows():
            t.add_row(str(name), f"{n:,}")
        tables.append(t)
    reasons = Table(title="Reject reasons")
    for col in ("field", "reason", "rows"):
        reasons.add_column(col, justify="right" if col == "rows" else "left")
    for field, reason, n in summary.reject_reasons.iter_rows():
        reasons.add_row(str(field), str(reason), f"{n:,}")
    if summary.reject_reasons.height == 0:
        reasons.add_row("-", "no rejected rows", "0")
    tables.append(reasons)
    if summary.filters.height:  # only sources whose mapping has filters
        filters = Table(title="Filtered rows (the mapping's filters)")
        for col in ("source", "filter", "rows"):
            filters.add_column(col, justify="right" if col == "rows" else "left")
        for source, label, n in summary.filters.iter_rows():
            filters.add_row(str(source), str(label), f"{n:,}")
        tables.append(filters)
    return tables


def print_summary(summary: DatasetSummary) -> None:
    for table in summary_tables(summary):
        console.print(table)


def import_command(
    sources: list[Path] = typer.Argument(
        ..., help="Source files: CSV (.csv, .csv.gz), Parquet or XES."
    ),
    mapping: Path = typer.Option(
        ..., "--mapping", "-m", help="Mapping TOML file (see docs/data.md)."
    ),
    into: Path = typer.Option(..., "--into", "-i", help="Dataset folder (created if new)."),
    allow_duplicate: bool = typer.Option(
        False,
        "--allow-duplicate",
        help="Import a file even if the dataset already holds one with the same content.",
    ),
) -> None:
    """Import source files into a dataset, pseudonymising person identifiers.

    Each file becomes one source in the dataset's manifest. Rows that cannot
    be imported are kept in the rejects table with the reason.
    """
    try:
        m = load_mapping(mapping)
        ds = create_dataset(into)
        pseudonymiser = Pseudonymiser(load_key())
        with progress() as bar:
            for path in sources:
                task = bar.add_task(f"importing {path.name}", total=None)

                def advance(_: Path, rows: int, task: TaskID = task) -> None:
                    bar.update(task, completed=rows)

                entry = import_file(
                    path,
                    m,
                    ds,
                    on_progress=advance,
                    pseudonymiser=pseudonymiser,
                    allow_duplicate=allow_duplicate,
                )
                bar.update(task, total=entry.read, completed=entry.read)
                filtered = f", filtered {entry.filtered:,}" if entry.filters else ""
                console.print(
                    f"{path.name}: read {entry.read:,}, accepted {entry.accepted:,}, "
                    f"rejected {entry.rejected:,}{filtered} (source {entry.id})"
                )
                if entry.filtered and not entry.accepted:
                    console.print(
                        f"[bold]Every row of {path.name} was filtered or rejected[/]: check the "
                        "mapping's filters (systemic inspect shows what each removed)"
                    )
    except SystemicDataError as exc:
        fail(str(exc))
        return
    if any(s.rejected for s in ds.manifest.sources):
        console.print(f"See why rows were rejected: systemic inspect {into}")


def inspect_command(
    dataset: Path = typer.Argument(..., help="Dataset folder."),
    top: int = typer.Option(15, help="How many activities to list."),
) -> None:
    """Show what a dataset holds: counts, services, activities, dates, people, rejects."""
    try:
        summary = inspect_dataset(dataset, top=top)
    except SystemicDataError as exc:
        fail(str(exc))
        return
    print_summary(summary)


def export_command(
    dataset: Path = typer.Argument(..., help="Dataset folder."),
    out: Path = typer.Option(..., "--out", "-o", help="Output file: .csv, .parquet or .xes."),
) -> None:
    """Export a dataset's events (person ids stay pseudonyms) to CSV, Parquet or XES."""
    try:
        n = export_events(open_dataset(dataset), out)
    except SystemicDataError as exc:
        fail(str(exc))
        return
    console.print(f"wrote {n:,} events to {out}")


def register(app: typer.Typer) -> None:
    """Attach the data commands to the ``systemic`` CLI."""
    app.command("import")(import_command)
    app.command("inspect")(inspect_command)
    app.command("export")(export_command)
