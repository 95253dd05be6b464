"""``systemic demand``: classify what people said and estimate failure demand honestly."""

from __future__ import annotations

from pathlib import Path

import typer

from systemic.commands._console import console, err_console, fail
from systemic.extras import missing_extra

demand_app = typer.Typer(
    help="A demand study: classify contacts from their words, estimate failure demand.",
    no_args_is_help=True,
)


def _study(
    contacts: Path,
    text: str,
    id: str,
    labels: Path,
    features: str,
    cache: Path | None,
    seed: int,
    suggest: int,
):  # type: ignore[no-untyped-def]
    from systemic.demand.inputs import DemandInputError, read_contacts, read_labels
    from systemic.demand.study import run_study

    try:
        frame = read_contacts(contacts, text=text, id=id)
        read = read_labels(labels, frame["id"])
        if read.rejected.height:
            first = read.rejected.row(0, named=True)
            err_console.print(
                f"{read.rejected.height} labels could not be used and were kept in "
                f"rejected_labels.csv (first: {first['file']}, line {first['line']}: "
                f"{first['reason']})",
                highlight=False,
            )
        with err_console.status(
            f"Classifying {frame.height:,} contacts from {read.frame.height:,} labels ({features})"
        ):
            return run_study(
                frame,
                read.frame,
                features=features,
                cache_dir=cache,
                rejected_labels=read.rejected,
                seed=seed,
                suggest=suggest,
            )
    except (DemandInputError, ValueError) as exc:
        fail(str(exc))


_CONTACTS = typer.Argument(..., help="Contacts: a CSV file or a dataset folder.")
_TEXT = typer.Option("text", "--text", help="Column holding what the person said.")
_ID = typer.Option("id", "--id", help="Column holding the contact's id.")
_LABELS = typer.Option(
    ..., "--labels", help="CSV of labelled contacts: id, demand_class (value/failure), ..."
)
_FEATURES = typer.Option(
    "tfidf",
    "--features",
    help="tfidf (words and characters; the more accurate on the shipped corpus, and fast) or "
    "minilm (sentence embeddings; compare on your own labels).",
)
_SEED = typer.Option(0, help="Seed for folds and the bootstrap.")


def estimate(
    contacts: Path = _CONTACTS,
    text: str = _TEXT,
    id: str = _ID,
    labels: Path = _LABELS,
    out: Path = typer.Option(..., "--out", "-o", help="Folder for estimate.json and the rest."),
    features: str = _FEATURES,
    cache: Path | None = typer.Option(
        None, "--cache", help="Folder for cached embeddings (default: OUT/cache)."
    ),
    seed: int = _SEED,
    charts: bool = typer.Option(True, "--charts/--no-charts", help="Draw SVG and PNG charts."),
) -> None:
    """Estimate the failure-demand share from a labelled sample and the classified rest."""
    from systemic.demand.outputs import write_study

    study = _study(contacts, text, id, labels, features, cache or out / "cache", seed, 50)
    write_study(study, out, charts=charts)
    e, alone, m = study.estimate, study.labelled_only, study.metrics
    console.print(
        f"Failure demand: [bold]{e.share:.1%}[/] of {e.contacts:,} contacts "
        f"(95% interval {e.low:.1%} to {e.high:.1%}), from {e.labelled:,} labels and the "
        f"classifier corrected for its error.",
        highlight=False,
    )
    console.print(
        f"Labelled sample alone: {alone.share:.1%} ({alone.low:.1%} to {alone.high:.1%}). "
        f"Classifier ({study.features}) cross-validated accuracy {m.accuracy:.1%} on "
        f"{m.labelled:,} labels.",
        highlight=False,
    )
    for need in study.labels_needed:
        more = need["classifier_corrected"]
        if more:
            console.print(
                f"To narrow the interval to {need['width']:.0%} wide: about {more:,} more "
                "random labels.",
                highlight=False,
            )
    console.print(f"Wrote {out}/estimate.json, contacts.csv, tables and charts.", highlight=False)


def suggest(
    contacts: Path = _CONTACTS,
    text: str = _TEXT,
    id: str = _ID,
    labels: Path = _LABELS,
    count: int = typer.Option(20, "--count", "-n", help="How many contacts to suggest."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write the suggestions as CSV."),
    features: str = _FEATURES,
    cache: Path | None = typer.Option(None, "--cache", help="Folder for cached embeddings."),
    seed: int = _SEED,
) -> None:
    """Which contacts to label next: those the classifier is least sure of, first.

    For the share's interval, keep labelling a *random* sample too: the
    estimate relies on random labels; suggestions improve the classifier.
    """
    import polars as pl

    from systemic.demand.mask import mask_identifiers

    study = _study(contacts, text, id, labels, features, cache, seed, count)
    table = study.suggestions.with_columns(
        pl.col("text").map_elements(mask_identifiers, return_dtype=pl.String)
    )
    if out is not None:
        from systemic.data.export import neutralise_formulas

        out.parent.mkdir(parents=True, exist_ok=True)
        neutralise_formulas(table).write_csv(out)  # opened in a spreadsheet
        console.print(f"Wrote {table.height} suggestions to {out}", highlight=False)
        return
    for row in table.iter_rows(named=True):
        console.print(f"{row['id']}\t{row['p_failure']:.2f}\t{row['text']}", highlight=False)


def register(app: typer.Typer) -> None:
    """Attach ``systemic demand estimate``, ``suggest`` and ``capture export``."""
    demand_app.command("estimate")(estimate)
    demand_app.command("suggest")(suggest)
    try:  # `capture export` reads the workspace: only with the web extra
        from systemic.commands.demand_capture import capture_app
    except ImportError as exc:
        if missing_extra(exc) is None:
            raise
    else:
        demand_app.add_typer(capture_app, name="capture")
    app.add_typer(demand_app, name="demand")
