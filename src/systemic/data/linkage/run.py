"""One linkage run: read, clean, score, form people, write what may leave.

The output folder holds only record ids, person keys, probabilities, weights
and counts:

- ``links.csv``: ``source``, ``record_id``, ``person_key``, ``match_probability``
- ``quality.json``: the model's parameters, people formed, cluster sizes,
  comparisons per blocking rule, expected precision and recall per threshold
- ``review.csv``: the pairs in the uncertain band, with a ``decision`` column
  for a person to fill in (``confirm`` or ``reject``) and read back
- ``pairs.parquet``: every scored pair (ids and probabilities), so that a
  review can be applied without linking again
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from systemic.data.errors import SourceError
from systemic.data.export import neutralise_formulas
from systemic.data.linkage.clusters import (
    PAIR_KEYS,
    best_probability,
    canonical_pairs,
    form_people,
)
from systemic.data.linkage.model import score, untrained_levels
from systemic.data.linkage.quality import (
    CANDIDATE_THRESHOLDS,
    choose_threshold,
    parameters,
    people_summary,
    threshold_table,
)
from systemic.data.linkage.records import RECORD_ID, SOURCE, read_source, source_name
from systemic.data.linkage.settings import LinkSettings, LinkSettingsError, load_link_settings

LINKS = "links.csv"
QUALITY = "quality.json"
REVIEW = "review.csv"
PAIRS = "pairs.parquet"
DECISIONS = ("confirm", "reject")


@dataclass
class LinkResult:
    """What a run wrote and its headline figures."""

    out: Path
    links: pl.DataFrame
    quality: dict[str, Any]

    @property
    def threshold(self) -> float:
        return float(self.quality["threshold"]["chosen"])


def link_files(
    paths: Sequence[str | Path],
    settings: LinkSettings | str | Path,
    out: str | Path,
    *,
    backend: str = "duckdb",
    spark: Any = None,
) -> LinkResult:
    """Link the records of ``paths`` to people and write the output folder.

    Each file's source name is its file name without the extension; two
    files with the same name are refused (their records could not be told
    apart in the link table).
    """
    s = settings if isinstance(settings, LinkSettings) else load_link_settings(settings)
    if not paths:
        raise SourceError("no files to link", hint="give one or more CSV or Parquet files")
    names = [source_name(p) for p in paths]
    absent = sorted(set(s.sources) - {"default"} - set(names))
    if absent:
        origin = settings if not isinstance(settings, LinkSettings) else "the settings"
        raise LinkSettingsError(
            f"{origin}: the settings name source(s) {', '.join(absent)} but no file of that "
            f"name was given (the files given are {', '.join(names)}): give each file "
            f"(e.g. {absent[0]}.csv), or remove its [sources.{absent[0]}] section"
        )
    seen: dict[str, Path] = {}
    for p, name in zip(paths, names, strict=True):
        if name in seen:
            raise SourceError(
                f"has the same name as {seen[name]} once the extension is removed ({name!r})",
                path=str(p),
                hint="rename one of the files: the name is the source in links.csv",
            )
        seen[name] = Path(p)
    started = time.perf_counter()
    tables = [read_source(p, s) for p in paths]
    read_seconds = time.perf_counter() - started
    scored = score(tables, s, backend=backend, spark=spark)
    records = pl.concat(
        [
            t.select(pl.col(SOURCE).alias("source"), pl.col(RECORD_ID).alias("record_id"))
            for t in tables
        ]
    )
    del tables  # the clear fields go as soon as the pairs are scored
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    pairs = scored.pairs
    pairs.write_parquet(out_dir / PAIRS)
    table = threshold_table(pairs, CANDIDATE_THRESHOLDS, blocking_recall=scored.blocking_recall)
    chosen = s.linkage.threshold
    threshold = choose_threshold(table) if chosen == "auto" else float(chosen)
    quality: dict[str, Any] = {
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "sources": names,
        "link_type": s.linkage.link_type,
        "backend": backend,
        "training": scored.training,
        "model": {
            **parameters(scored.parameters),
            "untrained_levels": untrained_levels(scored.parameters),
        },
        "warnings": scored.warnings,
        "blocking": scored.blocking,
        "blocking_recall": scored.blocking_recall,
        "scored_pairs": pairs.height,
        "pairs_floor": s.linkage.floor,
        "threshold": {
            "chosen": threshold,
            "how": "best expected F1" if chosen == "auto" else "set in the settings",
            "candidates": table,
        },
        "review_band": list(s.linkage.review_band),
        "seconds": {"read_and_clean": round(read_seconds, 2)},
    }
    records.write_parquet(out_dir / "records.parquet")
    result = _form_and_write(out_dir, records, pairs, quality, decisions=None)
    result.quality["seconds"]["total"] = round(time.perf_counter() - started, 2)
    _write_json(out_dir / QUALITY, result.quality)
    return result


def _effective_pairs(pairs: pl.DataFrame, decisions: pl.DataFrame | None) -> pl.DataFrame:
    """Scored pairs with reviewed ones set: confirmed at probability 1, rejected at 0."""
    base = pairs.select(*PAIR_KEYS, "match_probability")
    if decisions is None or not decisions.height:
        return base
    decided = decisions.select(*PAIR_KEYS, "decision")
    base = base.join(decided, on=PAIR_KEYS, how="left")
    extra = decided.join(base.select(PAIR_KEYS), on=PAIR_KEYS, how="anti").filter(
        pl.col("decision") == "confirm"
    )
    base = pl.concat(
        [
            base,
            extra.with_columns(pl.lit(None, pl.Float64).alias("match_probability")).select(
                base.columns
            ),
        ]
    )
    prob = (
        pl.when(pl.col("decision") == "confirm")
        .then(1.0)
        .when(pl.col("decision") == "reject")
        .then(0.0)
        .otherwise(pl.col("match_probability"))
    )
    return base.with_columns(prob.alias("match_probability")).drop("decision")


def _form_and_write(
    out_dir: Path,
    records: pl.DataFrame,
    pairs: pl.DataFrame,
    quality: dict[str, Any],
    *,
    decisions: pl.DataFrame | None,
) -> LinkResult:
    threshold = float(quality["threshold"]["chosen"])
    people = form_people(records, pairs, threshold=threshold, decisions=decisions)
    effective = _effective_pairs(pairs, decisions)
    probability = best_probability(records, effective, people)
    links = people.select("source", "record_id", "person_key").with_columns(
        probability.round(6).alias("match_probability")
    )
    neutralise_formulas(links).write_csv(out_dir / LINKS)  # opened in a spreadsheet too
    quality["people"] = people_summary(people)
    low, high = quality["review_band"]
    band = pairs.filter(pl.col("match_probability").is_between(low, high, closed="left"))
    quality["review"] = {
        "band": [low, high],
        "pairs_in_band": band.height,
        "decisions_applied": _decision_counts(decisions),
    }
    _write_review(out_dir / REVIEW, band, people, decisions)
    return LinkResult(out=out_dir, links=links, quality=quality)


def _decision_counts(decisions: pl.DataFrame | None) -> dict[str, int]:
    if decisions is None:
        return {"confirm": 0, "reject": 0}
    return {d: int((decisions["decision"] == d).sum()) for d in DECISIONS}


def _write_review(
    path: Path, band: pl.DataFrame, people: pl.DataFrame, decisions: pl.DataFrame | None
) -> None:
    """The uncertain band, strongest first, with each field's weight and a decision column."""
    keyed = people.select("source", "record_id", "person_key")
    weights = [c for c in band.columns if c.startswith("mw_")]
    rows = (
        band.sort("match_probability", descending=True)
        .join(
            keyed.rename({"source": "source_l", "record_id": "record_id_l", "person_key": "_kl"}),
            on=["source_l", "record_id_l"],
            how="left",
        )
        .join(
            keyed.rename({"source": "source_r", "record_id": "record_id_r", "person_key": "_kr"}),
            on=["source_r", "record_id_r"],
            how="left",
        )
        .with_columns(
            pl.when(pl.col("_kl") == pl.col("_kr"))
            .then(pl.lit("yes"))
            .otherwise(pl.lit("no"))
            .alias("linked_now"),
            pl.col("match_probability").round(6),
            pl.col("match_weight").round(3),
            *[pl.col(w).round(3).alias("weight_" + w.removeprefix("mw_")) for w in weights],
        )
    )
    if decisions is not None and decisions.height:
        rows = rows.join(decisions.select(*PAIR_KEYS, "decision"), on=PAIR_KEYS, how="left")
    else:
        rows = rows.with_columns(pl.lit(None, pl.String).alias("decision"))
    rows.select(
        *PAIR_KEYS,
        "match_probability",
        "match_weight",
        *["weight_" + w.removeprefix("mw_") for w in weights],
        "linked_now",
        pl.col("decision").fill_null(""),
    ).pipe(neutralise_formulas).write_csv(path)


def _unescaped(value: str) -> str:
    """A value as it was before :func:`neutralise_formulas` (one leading ``'`` off).

    >>> _unescaped("'=x"), _unescaped("''=x"), _unescaped("'a"), _unescaped("A1")
    ('=x', "'=x", "'a", 'A1')
    """
    return value[1:] if re.match(r"^'+[=+\-@\t\r]", value) else value


def read_decisions(path: str | Path, records: pl.DataFrame) -> pl.DataFrame:
    """The reviewed pairs of an edited review file (rows with a decision).

    Raises :class:`SourceError` naming the line and column for a decision
    other than ``confirm``/``reject``/blank, or a record not in the link.
    """
    p = Path(path)
    if not p.exists():
        raise SourceError(
            "review file not found", path=str(p), hint="check the path given to --review"
        )
    known = set(zip(records["source"].to_list(), records["record_id"].to_list(), strict=True))
    rows: list[dict[str, str]] = []
    with p.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in [*PAIR_KEYS, "decision"] if c not in (reader.fieldnames or [])]
        if missing:
            raise SourceError(
                f"the review file lacks column(s) {missing}",
                path=str(p),
                line=1,
                hint="edit the review.csv that `systemic link` wrote, keeping its columns",
            )
        for line, row in enumerate(reader, start=2):
            row.update({k: _unescaped(row[k] or "") for k in PAIR_KEYS})
            decision = (row["decision"] or "").strip().lower()
            if not decision:
                continue
            if decision not in DECISIONS:
                raise SourceError(
                    f"decision {row['decision']!r} is not 'confirm', 'reject' or blank",
                    path=str(p),
                    line=line,
                    field="decision",
                    hint="write confirm (same person), reject (different people) or leave it blank",
                )
            for side in ("l", "r"):
                if (row[f"source_{side}"], row[f"record_id_{side}"]) not in known:
                    raise SourceError(
                        f"the record in source_{side}/record_id_{side} is not in this linkage",
                        path=str(p),
                        line=line,
                        field=f"record_id_{side}",
                        hint="review the review.csv of the same output folder",
                    )
            rows.append({**{k: row[k] for k in PAIR_KEYS}, "decision": decision})
    schema = {k: pl.String for k in [*PAIR_KEYS, "decision"]}
    frame = canonical_pairs(pl.DataFrame(rows, schema=schema))
    return frame.unique(subset=PAIR_KEYS, keep="last", maintain_order=True)


def apply_review(out: str | Path, review: str | Path) -> LinkResult:
    """Re-form the people of an output folder with a reviewer's decisions.

    Rewrites ``links.csv``, ``quality.json`` and ``review.csv`` (which keeps
    the decisions, so a review can continue).
    """
    out_dir = Path(out)
    for name in (QUALITY, PAIRS, "records.parquet"):
        if not (out_dir / name).exists():
            raise SourceError(
                f"{name} is missing",
                path=str(out_dir),
                hint="give --out the folder a `systemic link` run wrote",
            )
    quality = json.loads((out_dir / QUALITY).read_text(encoding="utf-8"))
    records = pl.read_parquet(out_dir / "records.parquet")
    pairs = pl.read_parquet(out_dir / PAIRS)
    decisions = read_decisions(review, records)
    result = _form_and_write(out_dir, records, pairs, quality, decisions=decisions)
    _write_json(out_dir / QUALITY, result.quality)
    return result


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n", encoding="utf-8")
