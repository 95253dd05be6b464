"""``systemic spc``: an SPC chart of a series from a CSV file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from systemic.commands._console import console, fail

if TYPE_CHECKING:
    from systemic.measures.learnt import LearntSeries


_FROM_HELP = (
    "A folder written by `systemic learn --out`: read --series from its published "
    "tables/series_weekly.csv (suppressed cells are gaps, never numbers)."
)
_SERIES_HELP = (
    "With --from: the series to read, e.g. failure_demand_share, contacts, needs_ended, "
    "end_to_end_days_per_need, end_to_end_days_per_case, failure_contacts."
)


def _learnt(learn_dir: Path, name: str | None, period: str, **kw: object) -> LearntSeries:
    from systemic.measures.learnt import read_learnt_series

    if name is None:
        raise _usage("--from needs --series NAME (e.g. --series failure_demand_share)")
    return read_learnt_series(learn_dir, name, period=period, **kw)  # type: ignore[arg-type]


def _usage(message: str) -> Exception:
    from systemic.measures import SPCOptionError

    return SPCOptionError(message)


def spc(
    series: Path | None = typer.Argument(
        None, help="CSV file with one row per date (or use --from LEARN_DIR --series NAME)."
    ),
    learn_dir: Path | None = typer.Option(None, "--from", help=_FROM_HELP),
    series_name: str | None = typer.Option(None, "--series", help=_SERIES_HELP),
    locality: str | None = typer.Option(
        None, "--locality", help="With --from: one locality (default: all localities together)."
    ),
    period: str = typer.Option("week", "--period", help="With --from: week or month."),
    date: str | None = typer.Option(None, "--date", help="Column holding the date."),
    value: str | None = typer.Option(None, "--value", help="Column holding the value (or count)."),
    denominator: str | None = typer.Option(
        None, "--denominator", help="Column holding the denominator (p and u charts)."
    ),
    chart: str | None = typer.Option(
        None, "--chart", help="xmr, p, u, c, t or g (default xmr; with --from, the series' own)."
    ),
    improvement: str | None = typer.Option(
        None,
        "--improvement",
        help="Which way is better: increase, decrease, neutral "
        "(default increase; with --from, the series' own).",
    ),
    target: float | None = typer.Option(None, "--target", help="Target (for assurance)."),
    rebase: list[str] = typer.Option(
        [],
        "--rebase",
        help="Date (YYYY-MM-DD) where a new group starts; repeat it or separate dates by commas.",
    ),
    fix_after: int | None = typer.Option(
        None, "--fix-after", help="Set the limits from the first N points of each group."
    ),
    no_screen: bool = typer.Option(
        False, "--no-screen", help="Do not screen large moving ranges (the Excel tool's limits)."
    ),
    rules: str = typer.Option("mdc", "--rules", help="Rule set: mdc or mdc-excel-2023."),
    per: float = typer.Option(1.0, "--per", help="Scale a u-chart, e.g. 1000 per 1,000."),
    title: str | None = typer.Option(None, "--title", help="Chart title."),
    out: Path = typer.Option(..., "--out", help="Folder for spc.csv, summary.json, spc.svg/png."),
) -> None:
    """Chart a series with the Making Data Count rules; write the points, a summary and a chart.

    Reads a CSV file (--date, --value) or, with --from, a series learn published.
    Writes spc.csv (date, value, mean, lpl, upl, point_type: one row per point),
    summary.json (groups with mean and limits, icons, warnings, notes), spc.svg and spc.png.
    """
    from systemic.measures import MeasuresError, read_series, spc_chart, summarise
    from systemic.measures.chart import write_chart

    notes: tuple[str, ...] = ()
    try:
        if learn_dir is not None:
            if series is not None:
                raise _usage("give either a CSV file or --from LEARN_DIR, not both")
            learnt = _learnt(learn_dir, series_name, period, locality=locality)
            d = learnt.definition
            frame, date, value = learnt.frame, "date", "value"
            denominator = "denominator" if d.denominator else None
            chart, improvement = chart or d.chart, improvement or d.improvement
            notes = learnt.notes
            title = title or learnt.label
            y_title = d.unit
        else:
            if series is None or date is None or value is None:
                raise _usage(
                    "give a CSV file with --date and --value, or --from LEARN_DIR --series NAME"
                )
            frame = read_series(series, date=date, value=value, denominator=denominator)
            y_title = value
        chart, improvement = chart or "xmr", improvement or "increase"
        result = spc_chart(
            frame,
            chart=chart,  # type: ignore[arg-type]
            date=date,
            value=value,
            denominator=denominator,
            improvement=improvement,  # type: ignore[arg-type]
            target=target,
            rebase=[d.strip() for text in rebase for d in text.split(",") if d.strip()],
            fix_after_n_points=fix_after,
            screen_outliers=not no_screen,
            rules=rules,  # type: ignore[arg-type]
            per=per,
        )
    except MeasuresError as exc:
        fail(str(exc))
        return
    out.mkdir(parents=True, exist_ok=True)
    table = result.points.select("date", "value", "mean", "lpl", "upl", "point_type")
    table.write_csv(out / "spc.csv")
    summary = {**summarise(result), "notes": list(notes)}
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    svg, png = write_chart(
        result, out, title=title or f"{value} ({chart})", y_title=y_title, notes=notes
    )
    console.print(
        f"{result.points.height} points in {result.groups.height} group(s); "
        f"variation: {summary['variation_icon']}; assurance: {summary['assurance_icon']}"
    )
    for note in notes:
        console.print(f"note: {note}", highlight=False)
    for warning in result.warnings:
        console.print(f"[yellow]warning:[/] {warning}", highlight=False)
    console.print(f"wrote {out / 'spc.csv'}, {out / 'summary.json'}, {svg.name}, {png.name}")


def funnel(
    localities: Path = typer.Argument(..., help="CSV file with one row per locality."),
    locality: str = typer.Option("locality", "--locality", help="Column naming the locality."),
    numerator: str = typer.Option(..., "--numerator", help="Column holding the count."),
    denominator: str = typer.Option(..., "--denominator", help="Column holding the denominator."),
    kind: str = typer.Option("proportion", "--kind", help="proportion or rate."),
    overdispersion: str = typer.Option(
        "none", "--overdispersion", help="none, additive or multiplicative (Spiegelhalter 2005)."
    ),
    per: float = typer.Option(1.0, "--per", help="Scale a rate, e.g. 1000 per 1,000."),
    title: str = typer.Option("Funnel plot", "--title", help="Chart title."),
    out: Path = typer.Option(..., "--out", help="Folder for funnel.csv, funnel.json, charts."),
) -> None:
    """Compare localities at one time: 95% and 99.8% funnel limits around the pooled rate."""
    from systemic.measures import MeasuresError, funnel_plot
    from systemic.measures.chart import write_funnel_chart
    from systemic.measures.series import read_measure_csv

    try:
        frame = read_measure_csv(
            localities, numeric=[numerator, denominator], text=[locality], unique=[locality]
        )
        result = funnel_plot(
            frame,
            locality=locality,
            numerator=numerator,
            denominator=denominator,
            kind=kind,  # type: ignore[arg-type]
            overdispersion=overdispersion,  # type: ignore[arg-type]
            per=per,
        )
    except MeasuresError as exc:
        fail(str(exc))
        return
    from systemic.data.export import neutralise_formulas

    out.mkdir(parents=True, exist_ok=True)
    # Locality names come from the user's file; people open funnel.csv in a spreadsheet.
    neutralise_formulas(result.localities).write_csv(out / "funnel.csv")
    about = {
        "kind": result.kind,
        "target": result.target,
        "per": result.per,
        "overdispersion": result.overdispersion,
        "phi": result.phi,
        "tau2": result.tau2,
        "positions": dict(
            result.localities.group_by("position").len().sort("position").iter_rows()
        ),
    }
    (out / "funnel.json").write_text(json.dumps(about, indent=2) + "\n")
    svg, png = write_funnel_chart(result, out, title=title)
    outside = result.localities.filter(result.localities["position"] != "within")
    console.print(
        f"{result.localities.height} localities, target {result.target * result.per:.4g}; "
        f"outside the 95% limits: {', '.join(outside['locality']) or 'none'}"
    )
    console.print(f"wrote {out / 'funnel.csv'}, {out / 'funnel.json'}, {svg.name}, {png.name}")


def experiment(
    series: Path | None = typer.Argument(
        None,
        help="CSV file with one row per locality and date (or use --from LEARN_DIR --series NAME).",
    ),
    learn_dir: Path | None = typer.Option(None, "--from", help=_FROM_HELP),
    series_name: str | None = typer.Option(None, "--series", help=_SERIES_HELP),
    period: str = typer.Option("week", "--period", help="With --from: week or month."),
    date: str | None = typer.Option(None, "--date", help="Column holding the date."),
    value: str | None = typer.Option(None, "--value", help="Column holding the measure."),
    locality_column: str = typer.Option(
        "locality", "--locality-column", help="Column naming the locality."
    ),
    locality: str = typer.Option(..., "--locality", help="Where the experiment ran."),
    start: str = typer.Option(..., "--start", help="When it started (YYYY-MM-DD)."),
    denominator: str | None = typer.Option(
        None, "--denominator", help="Denominator column (p and u charts)."
    ),
    chart: str | None = typer.Option(
        None, "--chart", help="xmr, p, u, c, t or g (default xmr; with --from, the series' own)."
    ),
    improvement: str | None = typer.Option(
        None,
        "--improvement",
        help="Which way is better: increase, decrease, neutral "
        "(default increase; with --from, the series' own).",
    ),
    rules: str = typer.Option("mdc", "--rules", help="Rule set: mdc or mdc-excel-2023."),
    n_boot: int = typer.Option(2000, "--n-boot", help="Bootstrap resamples."),
    seed: int = typer.Option(0, "--seed", help="Seed of the bootstrap."),
    scale: str | None = typer.Option(
        None,
        "--scale",
        help="Compare with the other localities as a difference (in the measure's units) or "
        "relative (as a share of the level before: for counts in places of different sizes). "
        "Default difference; with --from, relative for count series.",
    ),
    out: Path = typer.Option(..., "--out", help="Folder for evidence.json and the charts."),
) -> None:
    """Did an experiment in one locality change the system? SPC plus a comparison with the rest."""
    from systemic.measures import MeasuresError, experiment_evidence, summarise
    from systemic.measures.chart import write_chart
    from systemic.measures.experiment import default_scale
    from systemic.measures.series import read_measure_csv

    notes: tuple[str, ...] = ()
    try:
        if learn_dir is not None:
            if series is not None:
                raise _usage("give either a CSV file or --from LEARN_DIR, not both")
            learnt = _learnt(learn_dir, series_name, period, every_locality=True)
            d = learnt.definition
            if locality not in set(learnt.frame["locality"].to_list()):
                raise _usage(
                    f"no locality {locality!r} in {learnt.source}; choose one of: "
                    + ", ".join(learnt.frame["locality"].unique(maintain_order=True).to_list())
                )
            frame, date, value, locality_column = learnt.frame, "date", "value", "locality"
            denominator = "denominator" if d.denominator else None
            chart, improvement = chart or d.chart, improvement or d.improvement
            scale = scale or default_scale(whole_periods=d.whole_periods)
            notes = learnt.notes
            y_title, name = d.unit, d.title
        else:
            if series is None or date is None or value is None:
                raise _usage(
                    "give a CSV file with --date and --value, or --from LEARN_DIR --series NAME"
                )
            frame = read_measure_csv(
                series,
                numeric=[value] + ([denominator] if denominator else []),
                date=date,
                text=[locality_column],
                unique=[locality_column, date],
            )
            y_title, name = value, value
        evidence = experiment_evidence(
            frame,
            locality=locality,
            start=start,
            date=date,
            value=value,
            locality_column=locality_column,
            denominator=denominator,
            chart=(chart or "xmr"),  # type: ignore[arg-type]
            improvement=(improvement or "increase"),  # type: ignore[arg-type]
            rules=rules,  # type: ignore[arg-type]
            n_boot=n_boot,
            seed=seed,
            scale=(scale or default_scale(whole_periods=False)),  # type: ignore[arg-type]
        )
    except MeasuresError as exc:
        fail(str(exc))
        return
    out.mkdir(parents=True, exist_ok=True)
    did = evidence.did
    about = {
        "locality": evidence.locality,
        "start": evidence.start.date().isoformat(),
        "signal": evidence.signal,
        "signal_rules": list(evidence.signal_rules),
        "conclusion": evidence.conclusion,
        "difference_in_differences": None if did is None else did.__dict__,
        "verdict": evidence.verdict,
        "baseline_chart": summarise(evidence.baseline_chart),
        "rebased_chart": summarise(evidence.rebased_chart),
        "notes": list(notes),
    }
    (out / "evidence.json").write_text(json.dumps(about, indent=2, default=str) + "\n")
    write_chart(evidence.baseline_chart, out, stem="baseline", y_title=y_title,
                title=f"{name} in {locality}: limits from before {start}",
                markers=[evidence.start], notes=notes)  # fmt: skip
    write_chart(evidence.rebased_chart, out, stem="rebased", y_title=y_title,
                title=f"{name} in {locality}: rebased at {start}", notes=notes)  # fmt: skip
    console.print(evidence.verdict, highlight=False)
    for note in notes:
        console.print(f"note: {note}", highlight=False)
    console.print(f"wrote {out / 'evidence.json'} and baseline/rebased charts (svg, png)")


def register(app: typer.Typer) -> None:
    """Attach ``systemic spc``, ``systemic funnel`` and ``systemic experiment``."""
    app.command("spc")(spc)
    app.command("funnel")(funnel)
    app.command("experiment")(experiment)
