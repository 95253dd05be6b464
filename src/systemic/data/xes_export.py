"""Write a dataset's events as an IEEE 1849 XES event log (plain or gzip).

One ``<trace>`` per ``case_id`` (or per person when there is no ``case_id``
column), events in time order within it. Keys written:

========================  =================================================
event column              XES attribute
========================  =================================================
``case_id``               trace ``concept:name`` (string)
``activity``              ``concept:name`` (string)
``timestamp``             ``time:timestamp`` (date, ISO 8601, ``+00:00``)
``lifecycle``             ``lifecycle:transition`` (string)
``service``               ``org:group`` (string)
``cost``                  ``systemic:cost`` (float)
``source_row``            ``systemic:source_row`` (int)
other model fields        ``systemic:<field>`` (string), e.g.
                          ``systemic:person_id``, ``systemic:kind``
``attr_<name>``           ``<name>`` typed by the column (string, int,
                          float, boolean or date); ``attr:<name>`` if
                          ``<name>`` is one of the keys above
========================  =================================================

A missing value (null) writes no attribute: XES has no null. Characters that
XML 1.0 cannot hold at all (control characters other than tab, line feed and
carriage return) are written as U+FFFD and counted in the returned
:class:`XesWriteSummary`; every other character, including ``& < > "`` and
line breaks, is escaped so that a reader gets back exactly what was written.

Writing is streamed by case: events are sorted by case (through a temporary
Parquet file when given a LazyFrame) and written a batch at a time, so the
XML text never has to fit in memory. The file appears complete or not at all
(written beside the target, then renamed).

>>> import tempfile, pathlib, datetime as dt, polars as pl
>>> from systemic.data.xes import read_xes
>>> events = pl.DataFrame({"person_id": ["p1", "p1"], "service": ["Housing"] * 2,
...     "activity": ["Call", "Visit"], "case_id": ["c1", "c1"],
...     "timestamp": [dt.datetime(2024, 1, d, 9, tzinfo=dt.UTC) for d in (1, 2)]})
>>> path = pathlib.Path(tempfile.mkdtemp()) / "housing.xes.gz"
>>> write_xes(events, path).traces
1
>>> read_xes(path)["concept:name"].to_list()
['Call', 'Visit']
"""

from __future__ import annotations

import gzip as gzip_module
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, cast

import polars as pl
import pyarrow.parquet as pq

#: Model fields with a standard XES key: (XES type, key).
STANDARD_KEYS: dict[str, tuple[str, str]] = {
    "activity": ("string", "concept:name"),
    "timestamp": ("date", "time:timestamp"),
    "lifecycle": ("string", "lifecycle:transition"),
    "service": ("string", "org:group"),
}

#: Prefix of keys for the other model and provenance fields.
SYSTEMIC_PREFIX = "systemic:"

#: Prefix given to an attribute whose name is a key the writer already uses.
ATTRIBUTE_KEY_PREFIX = "attr:"

#: Events per written batch.
BATCH_ROWS = 50_000

_TYPED_FIELDS = {"cost": "float", "source_row": "int"}
_ORDER_COLUMNS = ("timestamp", "source", "source_row")
_INVALID_XML = r"[\x00-\x08\x0B\x0C\x0E-\x1F\x{FFFE}\x{FFFF}]"

_HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1849-2016" xes.features="" xmlns="http://www.xes-standard.org/">
\t<extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>
\t<extension name="Time" prefix="time" uri="http://www.xes-standard.org/time.xesext"/>
\t<extension name="Lifecycle" prefix="lifecycle" uri="http://www.xes-standard.org/lifecycle.xesext"/>
\t<extension name="Organizational" prefix="org" uri="http://www.xes-standard.org/org.xesext"/>
\t<classifier name="Activity" keys="concept:name"/>
\t<string key="concept:name" value="{name}"/>
"""


@dataclass(frozen=True)
class XesWriteSummary:
    """What :func:`write_xes` wrote."""

    path: Path
    traces: int
    events: int
    replaced_characters: int


def write_xes(
    events: pl.DataFrame | pl.LazyFrame,
    path: str | os.PathLike[str],
    *,
    gzip: bool | None = None,
    log_name: str | None = None,
) -> XesWriteSummary:
    """Write events (the systemic event schema) to ``path`` as XES.

    ``gzip=None`` compresses when the name ends in ``.gz``. The log's
    ``concept:name`` is ``log_name`` or the file's stem. Returns counts of
    traces, events and values whose XML-illegal characters were replaced.

    >>> import tempfile, pathlib, datetime as dt, polars as pl
    >>> events = pl.DataFrame({"person_id": ["p1"], "service": ["GP"], "activity": ["Visit"],
    ...     "timestamp": [dt.datetime(2024, 3, 1, tzinfo=dt.UTC)]})
    >>> s = write_xes(events, pathlib.Path(tempfile.mkdtemp()) / "gp.xes")
    >>> (s.traces, s.events)
    (1, 1)
    """
    path = Path(path)
    if gzip is None:
        gzip = path.name.endswith(".gz")
    lf = events.lazy()
    schema = lf.collect_schema()
    case_column = "case_id" if "case_id" in schema else "person_id"
    if case_column not in schema:
        raise ValueError("events need a case_id or person_id column to group them into traces")
    for required in ("activity", "timestamp"):
        if required not in schema:
            raise ValueError(f"events lack the {required!r} column that XES needs")
    if not isinstance(schema["timestamp"], pl.Datetime) or schema["timestamp"].time_zone is None:
        raise ValueError(
            f"timestamp has type {schema['timestamp']}: expected a timezone-aware datetime "
            "(conform_events gives one)"
        )
    columns = _attribute_plan(schema, case_column)
    order = [case_column] + [c for c in _ORDER_COLUMNS if c in schema]
    name = log_name if log_name is not None else path.name.split(".")[0]

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    traces = written = replaced = 0
    try:
        with _open_output(partial, gzip) as out, tempfile.TemporaryDirectory() as scratch:
            out.write(_HEADER.format(name=_escape_text(name)).encode("utf-8"))
            previous_case: object = _NO_CASE
            for batch in _sorted_batches(events, lf, order, Path(scratch)):
                text, previous_case, new_traces, bad = _batch_xml(
                    batch, case_column, columns, previous_case
                )
                out.write(text.encode("utf-8"))
                traces += new_traces
                written += batch.height
                replaced += bad
            if written:
                out.write(b"\t</trace>\n")
            out.write(b"</log>\n")
        os.replace(partial, path)
    finally:
        if partial.exists():
            partial.unlink()
    return XesWriteSummary(path=path, traces=traces, events=written, replaced_characters=replaced)


class _NoCase:
    """Marker for 'no trace open yet' (distinct from a null case id)."""


_NO_CASE = _NoCase()


def _open_output(path: Path, compress: bool) -> IO[bytes]:
    if compress:
        return cast(IO[bytes], gzip_module.open(path, "wb", compresslevel=6))
    return open(path, "wb")


def _sorted_batches(
    events: pl.DataFrame | pl.LazyFrame, lf: pl.LazyFrame, order: list[str], scratch: Path
) -> Iterator[pl.DataFrame]:
    """Events sorted by case then time, a batch at a time."""
    sorted_lf = lf.sort(order, nulls_last=True, maintain_order=True)
    if isinstance(events, pl.DataFrame):
        yield from sorted_lf.collect().iter_slices(BATCH_ROWS)
        return
    spill = scratch / "sorted.parquet"
    sorted_lf.sink_parquet(spill, row_group_size=BATCH_ROWS)
    for record_batch in pq.ParquetFile(spill).iter_batches(batch_size=BATCH_ROWS):
        frame = pl.from_arrow(record_batch)
        assert isinstance(frame, pl.DataFrame)
        yield frame


def _attribute_plan(schema: pl.Schema, case_column: str) -> list[tuple[str, str, str]]:
    """(column, XES type, key) for every column written as an event attribute."""
    plan: list[tuple[str, str, str]] = []
    used: set[str] = set()
    attributes = []
    for column, dtype in schema.items():
        if column == case_column:
            continue
        if column.startswith("attr_"):
            attributes.append((column, dtype))
            continue
        if column in STANDARD_KEYS:
            xes_type, key = STANDARD_KEYS[column]
        else:
            xes_type, key = _TYPED_FIELDS.get(column, "string"), SYSTEMIC_PREFIX + column
        plan.append((column, xes_type, key))
        used.add(key)
    if case_column == "case_id" and "person_id" not in schema:
        used.add(SYSTEMIC_PREFIX + "person_id")
    for column, dtype in attributes:
        key = column.removeprefix("attr_")
        while key in used or key == "concept:name":
            key = ATTRIBUTE_KEY_PREFIX + key
        used.add(key)
        plan.append((column, _xes_type(dtype), key))
    return plan


def _xes_type(dtype: pl.DataType) -> str:
    if dtype.is_integer():
        return "int"
    if dtype.is_float():
        return "float"
    if dtype == pl.Boolean:
        return "boolean"
    if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
        return "date"
    return "string"


def _value_text(column: str, xes_type: str, dtype: pl.DataType) -> pl.Expr:
    """The attribute's value as text, before XML escaping."""
    col = pl.col(column)
    if xes_type == "date":
        return col.dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%dT%H:%M:%S%.6f+00:00")
    if xes_type == "boolean":
        return col.cast(pl.String)  # "true" / "false", as xs:boolean writes them
    if xes_type == "float":
        text = col.cast(pl.Float64).cast(pl.String)
        return text.replace_strict(
            {"inf": "INF", "-inf": "-INF", "NaN": "NaN"}, default=text, return_dtype=pl.String
        )
    if dtype == pl.String:
        return col
    return col.cast(pl.String)


def _escaped(text: pl.Expr) -> pl.Expr:
    """XML-escape for a double-quoted attribute value (keeps tabs and line breaks)."""
    return (
        text.str.replace_all(_INVALID_XML, "\ufffd")
        .str.replace_all("&", "&amp;", literal=True)
        .str.replace_all("<", "&lt;", literal=True)
        .str.replace_all(">", "&gt;", literal=True)
        .str.replace_all('"', "&quot;", literal=True)
        .str.replace_all("\t", "&#9;", literal=True)
        .str.replace_all("\n", "&#10;", literal=True)
        .str.replace_all("\r", "&#13;", literal=True)
    )


def _escape_text(value: str) -> str:
    value = re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]", "\ufffd", value)
    for raw, entity in (
        ("&", "&amp;"),
        ("<", "&lt;"),
        (">", "&gt;"),
        ('"', "&quot;"),
        ("\t", "&#9;"),
        ("\n", "&#10;"),
        ("\r", "&#13;"),
    ):
        value = value.replace(raw, entity)
    return value


def _batch_xml(
    batch: pl.DataFrame,
    case_column: str,
    columns: list[tuple[str, str, str]],
    previous_case: object,
) -> tuple[str, object, int, int]:
    """XML text of one sorted batch, the batch's last case, new traces, replaced values."""
    schema = batch.schema
    parts: list[pl.Expr] = [pl.lit("\t\t<event>\n")]
    bad_counts: list[pl.Expr] = []
    for column, xes_type, key in columns:
        text = _value_text(column, xes_type, schema[column])
        parts.append(
            pl.concat_str(
                [
                    pl.lit(f'\t\t\t<{xes_type} key="{_escape_text(key)}" value="'),
                    _escaped(text),
                    pl.lit('"/>\n'),
                ]
            )
        )
        if xes_type == "string":
            bad_counts.append(text.str.contains(_INVALID_XML).fill_null(False).cast(pl.Int64))
    parts.append(pl.lit("\t\t</event>\n"))

    case = pl.col(case_column).cast(pl.String)
    first_is_new = isinstance(previous_case, _NoCase)
    before = pl.lit(None if first_is_new else previous_case, pl.String)
    is_first_row = pl.int_range(pl.len()) == 0
    new_trace = (
        pl.when(is_first_row)
        .then(pl.lit(True) if first_is_new else case.ne_missing(before))
        .otherwise(case.ne_missing(case.shift(1)))
    )
    has_open_trace = pl.when(is_first_row).then(pl.lit(not first_is_new)).otherwise(True)
    trace_open = pl.concat_str(
        [
            pl.when(new_trace & has_open_trace).then(pl.lit("\t</trace>\n")).otherwise(pl.lit("")),
            pl.when(new_trace).then(pl.lit("\t<trace>\n")).otherwise(pl.lit("")),
            pl.when(new_trace & case.is_not_null())
            .then(
                pl.concat_str(
                    [
                        pl.lit('\t\t<string key="concept:name" value="'),
                        _escaped(case),
                        pl.lit('"/>\n'),
                    ]
                )
            )
            .otherwise(pl.lit("")),
        ]
    )
    xml = pl.concat_str([trace_open, pl.concat_str(parts, ignore_nulls=True)])
    bad = pl.sum_horizontal(bad_counts) if bad_counts else pl.lit(0)
    result = batch.select(
        xml.str.join("").alias("xml"),
        new_trace.sum().alias("traces"),
        bad.sum().alias("bad"),
        case.last().alias("last"),
    )
    row = result.row(0, named=True)
    return row["xml"] or "", row["last"], int(row["traces"]), int(row["bad"])
