"""Using a link table at import: each record id becomes its person key.

A mapping names the link table in a ``[person]`` section; its ``person_id``
field then names the record-id column the linkage settings named for this
source::

    [fields]
    person_id = "tenancy_ref"        # the source's record id

    [person]
    links = "linked/links.csv"       # written by `systemic link`
    source = "housing"               # default: this file's name without extension

The person key then goes through the same keyed HMAC as any identifier, so a
person has one pseudonym in every source. A record whose id is not in the
link table gets no person and is rejected, counted with the other rejects.

>>> import polars as pl, tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "links.csv").write_text("source,record_id,person_key,match_probability\\n"
...     "housing,T1,p-aa,1.0\\nbenefits,C9,p-aa,1.0\\n")
>>> person_keys(pl.Series(["T1", "T2"]), d / "links.csv", "housing").to_list()
['p-aa', None]
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import polars as pl

from systemic.data.errors import SourceError
from systemic.data.export import restore_formulas

LINK_COLUMNS = ("source", "record_id", "person_key")


@lru_cache(maxsize=8)
def _table(path: str, mtime_ns: int, source: str) -> tuple[dict[str, str], int]:
    frame = restore_formulas(pl.read_csv(path, infer_schema=False))  # written with a ' before =
    missing = [c for c in LINK_COLUMNS if c not in frame.columns]
    if missing:
        raise SourceError(
            f"is not a link table: it lacks column(s) {missing}",
            path=path,
            hint="give [person] links the links.csv that `systemic link` wrote",
        )
    rows = frame.filter(pl.col("source") == source)
    return dict(zip(rows["record_id"].to_list(), rows["person_key"].to_list(), strict=True)), (
        rows.height
    )


def _load(links: str | Path, source: str) -> dict[str, str]:
    p = Path(links)
    if not p.exists():
        raise SourceError(
            "link table not found", path=str(p), hint="check [person] links in the mapping"
        )
    table, n = _table(str(p), p.stat().st_mtime_ns, source)
    if n == 0:
        raise SourceError(
            f"the link table has no records of source {source!r}",
            path=str(p),
            hint="set [person] source to the source's name in links.csv "
            "(the linked file's name without extension)",
        )
    return table


def person_keys(record_ids: pl.Series, links: str | Path, source: str) -> pl.Series:
    """The person key of each record id (null when the id is not in the link table)."""
    table = _load(links, source)
    ids = record_ids.cast(pl.String).str.strip_chars()
    return ids.replace_strict(table, default=None, return_dtype=pl.String).alias(record_ids.name)


def source_for(person: Any, path: str | Path) -> str:
    """The source name to look up: ``[person] source``, else the file's name sans extension."""
    if person.source:
        return str(person.source)
    name = Path(path).name
    return name.rsplit(".", 1)[0] if "." in name else name


def linkage_notes(person: Any, path: str | Path) -> dict[str, Any]:
    """What the manifest records of the link table used: file, digest, threshold."""
    links = Path(person.links)
    notes: dict[str, Any] = {
        "links": str(links),
        "links_sha256": hashlib.sha256(links.read_bytes()).hexdigest(),
        "links_source": source_for(person, path),
    }
    quality = links.parent / "quality.json"
    if quality.exists():
        q = json.loads(quality.read_text(encoding="utf-8"))
        chosen = q.get("threshold", {}).get("chosen")
        row = next(
            (r for r in q.get("threshold", {}).get("candidates", []) if r["threshold"] == chosen),
            {},
        )
        notes.update(
            {
                "threshold": chosen,
                "expected_precision": row.get("expected_precision"),
                "expected_recall": row.get("expected_recall"),
                "review_decisions": q.get("review", {}).get("decisions_applied"),
            }
        )
    return {"linkage": notes}
