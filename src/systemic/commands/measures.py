"""``systemic spc``: an SPC chart of a series from a CSV file."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from systemic.commands._console import console, fail


def spc(
    series: Path = typer.Argument(..., help="CSV file with one row per date."),
    date: str = typer.Option(..., "--date", help="Column holding the date."),
    value: str = typer.Option(..., "--value", help="Column holding the value (or count)."),
    denominator: str | None = typer.Option(
        None, "--denominator", help="Column holding the denominator (p and u charts)."
    ),
    chart: str = typer.Option("xmr", "--chart", help="xmr, p, u, c, t or g."),
    improvement: str = typer.Option(
        "increase", "--improvement", help="Which way is better: increase, decrease, neutral."
    ),
    target: float | None = typer.Option(None, "--target", help="Target (for assurance)."),
    rebase: list[str] = typer.Option(
        [], "--rebase", help="Date (YYYY-MM-DD) where a new group starts; repeatable."
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

    Writes spc.csv (date, value, mean, lpl, upl, point_type: one row per point),
    summary.json (groups with mean and limits, icons, warnings), spc.svg and spc.png.
    """
    from systemic.measures import MeasuresError, read_series, spc_chart, summarise
    from systemic.measures.chart import write_chart

    try:
        frame = read_series(series, date=date, value=value, denominator=denominator)
        result = spc_chart(
            frame,
            chart=chart,  # type: ignore[arg-type]
            date=date,
            value=value,
            denominator=denominator,
            improvement=improvement,  # type: ignore[arg-type]
            target=target,
            rebase=rebase,
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
    summary = summarise(result)
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    svg, png = write_chart(result, out, title=title or f"{value} ({chart})", y_title=value)
    console.print(
        f"{result.points.height} points in {result.groups.height} group(s); "
        f"variation: {summary['variation_icon']}; assurance: {summary['assurance_icon']}"
    )
    for warning in result.warnings:
        console.print(f"[yellow]warning:[/] {warning}", highlight=False)
    console.print(f"wrote {out / 'spc.csv'}, {out / 'summary.json'}, {svg.name}, {png.name}")


def register(app: typer.Typer) -> None:
    """Attach ``systemic spc`` to the root command."""
    app.command("spc")(spc)
