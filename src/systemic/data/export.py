"""Export events to CSV, Parquet or XES, in a shape that imports again.

:func:`export_mapping` gives the mapping that re-imports an exported file:
person ids are already pseudonyms, timestamps are ISO 8601 in UTC, and
attribute columns lose their ``attr_`` prefix (which the import puts back).

>>> import tempfile, pathlib, datetime as dt, polars as pl
>>> events = pl.DataFrame({"person_id": ["a1"], "service": ["Housing"], "activity": ["call"],
...     "timestamp": [dt.datetime(2024, 1, 2, 9, tzinfo=dt.UTC)], "attr_ward": ["North"]})
>>> out = pathlib.Path(tempfile.mkdtemp()) / "events.csv"
>>> export_events(events, out)
1
>>> out.read_text().splitlines()[1].split(",")[:4]
['a1', 'Housing', 'call', '2024-01-02T09:00:00.000000Z']

Text that a spreadsheet would run as a formula (starting with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return) is written with a leading ``'``, so
opening the CSV in Excel or LibreOffice never runs it (see
:func:`neutralise_formulas`); :func:`export_mapping` takes the ``'`` off again
on import, so the export still round-trips.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import polars as pl

from systemic.data.dataset import Dataset
from systemic.data.mapping import Mapping, parse_mapping
from systemic.data.schema import ATTRIBUTE_PREFIX, EVENT_SCHEMA, MODEL_FIELDS, conform_events

ExportFormat = Literal["csv", "parquet", "xes"]

#: A value a spreadsheet would treat as a formula, or one already escaped (so that
#: escaping can be undone exactly): any number of ``'`` then a formula character.
FORMULA_START = r"^'*[=+\-@\t\r]"

_ISO = "%Y-%m-%dT%H:%M:%S%.6fZ"


def neutralise_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    """Text columns with a ``'`` before any value a spreadsheet would run as a formula.

    Use it on every table written as CSV for people to open (exports, learn's
    tables, a person's subject-access files). Values already starting with ``'``
    and then a formula character get one more, so that
    :func:`restore_formulas` gives back exactly the original.

    >>> frame = pl.DataFrame({"v": ["=cmd|' /C calc'!A0", "@SUM(A1)", "-3", "ok", "'=x", None]})
    >>> neutralise_formulas(frame)["v"].to_list()
    ["'=cmd|' /C calc'!A0", "'@SUM(A1)", "'-3", 'ok', "''=x", None]
    >>> restore_formulas(neutralise_formulas(frame))["v"].to_list() == frame["v"].to_list()
    True
    """
    text = [
        c
        for c, t in frame.schema.items()
        if t == pl.String or isinstance(t, pl.Categorical | pl.Enum)
    ]
    return frame.with_columns(
        [
            pl.when(pl.col(c).cast(pl.String).str.contains(FORMULA_START))
            .then(pl.lit("'") + pl.col(c).cast(pl.String))
            .otherwise(pl.col(c).cast(pl.String))
            .alias(c)
            for c in text
        ]
    )


def restore_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    """Undo :func:`neutralise_formulas` on text columns (one ``'`` taken off)."""
    text = [c for c, t in frame.schema.items() if t == pl.String]
    return frame.with_columns(
        [
            pl.when(pl.col(c).str.contains(r"^'+[=+\-@\t\r]"))
            .then(pl.col(c).str.slice(1))
            .otherwise(pl.col(c))
            .alias(c)
            for c in text
        ]
    )


def _export_frame(events: Dataset | pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    lf = events.events() if isinstance(events, Dataset) else conform_events(events)
    names = lf.collect_schema().names()
    renames = {}
    for c in names:
        if c.startswith(ATTRIBUTE_PREFIX):
            bare = c[len(ATTRIBUTE_PREFIX) :]
            if bare not in EVENT_SCHEMA and bare not in names:
                renames[c] = bare
    keep = [c for c in names if c not in ("source", "source_row")]
    return lf.select(keep).rename(renames).collect()


def export_events(
    events: Dataset | pl.DataFrame | pl.LazyFrame,
    path: str | Path,
    *,
    format: ExportFormat | None = None,
) -> int:
    """Write events (a dataset or a frame) to ``path``; returns the number of rows.

    The format comes from ``format`` or the file name (.csv, .parquet, .xes).
    Person ids are written as the pseudonyms they are.
    """
    path = Path(path)
    fmt = format or (
        "parquet" if path.suffix == ".parquet" else "xes" if ".xes" in path.name else "csv"
    )
    if fmt == "xes":
        from systemic.data.xes_export import write_xes  # written alongside; imported when needed

        lf = events.events() if isinstance(events, Dataset) else conform_events(events)
        frame = lf.collect()
        write_xes(frame, path)
        return frame.height
    frame = _export_frame(events)
    if fmt == "parquet":
        frame.write_parquet(path)
    else:
        neutralise_formulas(frame).write_csv(path, datetime_format=_ISO)
    return frame.height


#: Where :func:`systemic.data.xes_export.write_xes` puts each model field.
XES_KEYS = {
    "case_id": "case:concept:name",
    "activity": "concept:name",
    "timestamp": "time:timestamp",
    "lifecycle": "lifecycle:transition",
    "service": "org:group",
    "cost": "systemic:cost",
}


def export_mapping(columns: list[str], *, name: str = "systemic export") -> Mapping:
    """The mapping that imports a file written by :func:`export_events`.

    ``columns`` are the file's columns (for XES, the raw columns the XES
    reader yields, e.g. ``concept:name``).

    >>> export_mapping(["person_id", "service", "activity", "timestamp", "ward"]).fields["service"]
    'service'
    >>> export_mapping(["systemic:person_id", "concept:name", "time:timestamp",
    ...     "org:group"]).fields["activity"]
    'concept:name'
    """
    drop: list[str] = []
    if "concept:name" in columns:  # an XES export
        fields = {f: k for f, k in XES_KEYS.items() if k in columns}
        fields |= {f: f"systemic:{f}" for f in MODEL_FIELDS if f"systemic:{f}" in columns}
        drop = [c for c in columns if c in ("systemic:source", "systemic:source_row")]
    else:
        fields = {c: c for c in columns if c in MODEL_FIELDS}
    return parse_mapping(
        {
            "source": {"name": name},
            "fields": fields,
            "timestamp": {"formats": ["iso"], "zone": "UTC", "future_tolerance": "1d"},
            "privacy": {"already_pseudonymised": True, "keep_text": "text" in fields},
            "csv": {"restore_formulas": True},
            "attributes": {"drop": drop},
        }
    )
