"""``systemic link``: link the records of silos to people, before anything is shared."""

from __future__ import annotations

from pathlib import Path

import typer

from systemic.commands._console import console, err_console, fail


def link_command(
    files: list[Path] = typer.Argument(
        None,
        help="CSV or Parquet files to link (each file's name without extension is its source).",
    ),
    settings: Path | None = typer.Option(
        None, "--settings", "-s", help="Linkage settings TOML (see examples/linkage/)."
    ),
    out: Path = typer.Option(
        ..., "--out", "-o", help="Folder for links.csv, quality.json, review.csv."
    ),
    review: Path | None = typer.Option(
        None,
        "--review",
        help="An edited review.csv: re-form people in --out with its confirm/reject decisions "
        "(no files or settings needed).",
    ),
    backend: str = typer.Option(
        "duckdb", help="duckdb (this machine) or spark (needs the 'spark' extra and a session)."
    ),
) -> None:
    """Link records to people from names, dates of birth, addresses and other clear fields.

    Run it inside the organisation, on the clear extracts, before anything is
    pseudonymised or shared. The output holds record ids and person keys, never
    a clear identifier.
    """
    from systemic.data import SystemicDataError
    from systemic.data.linkage import apply_review, link_files

    try:
        if review is not None:
            if files:
                fail("give either files to link or --review with the folder of an earlier run")
            with err_console.status("Applying the review's decisions..."):
                result = apply_review(out, review)
        else:
            if not files:
                fail(
                    "give the CSV or Parquet files to link, e.g. "
                    "systemic link a.csv b.csv --settings s.toml --out linked"
                )
            if settings is None:
                fail("give --settings: the linkage settings TOML (see examples/linkage/febrl.toml)")
                return
            if backend not in ("duckdb", "spark"):
                fail(f"--backend {backend!r}: use duckdb or spark")
            spark = None
            if backend == "spark":
                spark = _spark_session()
            with err_console.status(f"Linking {len(files)} file(s) with {backend}..."):
                result = link_files(files, settings, out, backend=backend, spark=spark)
    except SystemicDataError as exc:
        fail(str(exc))
        return
    q = result.quality
    t = q["threshold"]
    row = (
        next(r for r in t["candidates"] if r["threshold"] == t["chosen"])
        if any(r["threshold"] == t["chosen"] for r in t["candidates"])
        else None
    )
    people = q["people"]
    console.print(
        f"{people['records']:,} records linked to {people['people']:,} people "
        f"({people['people_in_more_than_one_source']:,} in more than one source); "
        f"threshold {t['chosen']}"
        + (
            f", expected precision {row['expected_precision']:.3f}, "
            f"expected recall {row['expected_recall']:.3f}"
            if row and row["expected_precision"] is not None and row["expected_recall"] is not None
            else ", no expected precision or recall (no pair at or above it)"
            if row
            else ""
        ),
        highlight=False,
    )
    console.print(
        f"{q['review']['pairs_in_band']:,} pairs to review in {out / 'review.csv'} "
        f"(match probability {q['review']['band'][0]} to {q['review']['band'][1]})",
        highlight=False,
    )
    for warning in q.get("warnings", []):
        err_console.print(f"warning: {warning}", markup=False, highlight=False)
    err_console.print(f"Wrote links.csv, quality.json and review.csv to {out}")


def _spark_session():  # pragma: no cover - needs Java and the spark extra
    import shutil

    try:
        import pyspark  # noqa: F401
    except ImportError:
        fail("the spark backend needs the 'spark' extra: pip install 'systemic[spark]'")
    if not shutil.which("java"):
        fail("the spark backend needs Java 17 on the PATH (e.g. apt-get install openjdk-17-jre)")
    from systemic.data.linkage.model import local_spark_session

    return local_spark_session()


def register(app: typer.Typer) -> None:
    """Attach ``systemic link`` to the root command."""
    app.command("link")(link_command)
