"""The service-data model: one table of events, versioned.

A contact is an event whose ``kind`` is ``contact``. Required fields identify
who (a pseudonym), where in the system (``service``), what (``activity``) and
when (``timestamp``, timezone-aware, stored in UTC). Every other column of a
source is kept as an attribute column named ``attr_<source column>`` so that
nothing from the source is lost.

Two bookkeeping columns record provenance and give a stable source order,
used to break ties between events with the same timestamp:
``source`` (the manifest's source id) and ``source_row`` (the row's line or
position in that source, 1-based).

>>> from systemic.data.schema import EVENT_SCHEMA, REQUIRED_FIELDS
>>> REQUIRED_FIELDS
('person_id', 'service', 'activity', 'timestamp')
>>> str(EVENT_SCHEMA["timestamp"])
"Datetime(time_unit='us', time_zone='UTC')"
"""

from __future__ import annotations

import polars as pl

SCHEMA_VERSION = "1.0"

TIMESTAMP = pl.Datetime("us", "UTC")

#: Fields every event must have.
REQUIRED_FIELDS: tuple[str, ...] = ("person_id", "service", "activity", "timestamp")

#: Optional fields of the model, in the order they are stored.
OPTIONAL_FIELDS: tuple[str, ...] = (
    "event_id",
    "case_id",
    "lifecycle",
    "channel",
    "locality",
    "kind",
    "demand_type",
    "demand_class",
    "preventable",
    "cost",
    "text",
)

#: Provenance columns written by the importers.
PROVENANCE_FIELDS: tuple[str, ...] = ("source", "source_row")

MODEL_FIELDS: tuple[str, ...] = REQUIRED_FIELDS + OPTIONAL_FIELDS

#: Prefix of attribute columns (every other source column).
ATTRIBUTE_PREFIX = "attr_"

#: The allowed values of the categorical fields.
KINDS: tuple[str, ...] = ("contact", "assessment", "referral", "intervention", "closure", "other")
DEMAND_CLASSES: tuple[str, ...] = ("value", "failure", "unknown")
PREVENTABLE: tuple[str, ...] = ("yes", "no", "unknown")

CATEGORIES: dict[str, tuple[str, ...]] = {
    "kind": KINDS,
    "demand_class": DEMAND_CLASSES,
    "preventable": PREVENTABLE,
}

#: Storage types of the model's fields (attributes keep their own types).
EVENT_SCHEMA: dict[str, pl.DataType] = {
    "person_id": pl.String(),
    "service": pl.String(),
    "activity": pl.String(),
    "timestamp": TIMESTAMP,
    "event_id": pl.String(),
    "case_id": pl.String(),
    "lifecycle": pl.String(),
    "channel": pl.String(),
    "locality": pl.String(),
    "kind": pl.String(),
    "demand_type": pl.String(),
    "demand_class": pl.String(),
    "preventable": pl.String(),
    "cost": pl.Float64(),
    "text": pl.String(),
    "source": pl.String(),
    "source_row": pl.Int64(),
}

#: The ``people`` table: one row per pseudonymised person.
PEOPLE_SCHEMA: dict[str, pl.DataType] = {
    "person_id": pl.String(),
    "locality": pl.String(),
}

#: The rejects table: the source row (as text: person identifiers replaced by
#: their pseudonym, and any value that may be part of a name withheld, see
#: systemic.data.withholding), where it came from and why it was rejected.
REJECT_SCHEMA: dict[str, pl.DataType] = {
    "source": pl.String(),
    "file": pl.String(),
    "line": pl.Int64(),
    "field": pl.String(),
    "reason": pl.String(),
    "row": pl.String(),
}


def attribute_column(name: str) -> str:
    """The stored name of a source column kept as an attribute.

    >>> attribute_column("diagnosis")
    'attr_diagnosis'
    """
    return f"{ATTRIBUTE_PREFIX}{name}"


def attribute_columns(columns: list[str]) -> list[str]:
    """The attribute columns among ``columns``, in order."""
    return [c for c in columns if c.startswith(ATTRIBUTE_PREFIX)]


def conform_events(frame: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    """Cast a frame to the event schema: model fields first, attributes after.

    Missing optional fields are added as nulls; ``case_id`` defaults to the
    person; ``kind``, ``demand_class`` and ``preventable`` default as the
    model says (``other``, ``unknown``, ``unknown``). Columns that are neither
    model fields, provenance nor attributes are an error: name them
    ``attr_...`` to keep them.

    >>> import polars as pl, datetime as dt
    >>> f = pl.DataFrame({"person_id": ["p1"], "service": ["Housing"],
    ...     "activity": ["call"], "timestamp": [dt.datetime(2024, 1, 1, tzinfo=dt.UTC)]})
    >>> conform_events(f).collect()["case_id"].to_list()
    ['p1']
    """
    lf = frame.lazy()
    names = lf.collect_schema().names()
    missing = [f for f in REQUIRED_FIELDS if f not in names]
    if missing:
        raise ValueError(f"events lack required field(s) {missing}: map a source column to each")
    unknown = [c for c in names if c not in EVENT_SCHEMA and not c.startswith(ATTRIBUTE_PREFIX)]
    if unknown:
        raise ValueError(
            f"columns {unknown} are not in the event model: rename them "
            f"'{ATTRIBUTE_PREFIX}<name>' to keep them as attributes"
        )
    exprs: list[pl.Expr] = []
    for name, dtype in EVENT_SCHEMA.items():
        if name in names:
            col = pl.col(name)
            if name == "timestamp":
                exprs.append(_to_utc(col, lf.collect_schema()[name]).alias(name))
                continue
            exprs.append(col.cast(dtype).alias(name))
        elif name == "case_id":
            exprs.append(pl.col("person_id").cast(pl.String).alias(name))
        elif name == "kind":
            exprs.append(pl.lit("other", pl.String).alias(name))
        elif name in ("demand_class", "preventable"):
            exprs.append(pl.lit("unknown", pl.String).alias(name))
        else:
            exprs.append(pl.lit(None, dtype).alias(name))
    if "case_id" in names:
        exprs = [
            pl.coalesce(
                pl.col("case_id").cast(pl.String), pl.col("person_id").cast(pl.String)
            ).alias("case_id")
            if e.meta.output_name() == "case_id"
            else e
            for e in exprs
        ]
    exprs += [pl.col(c) for c in names if c.startswith(ATTRIBUTE_PREFIX)]
    return lf.select(exprs)


def _to_utc(col: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is None:
            raise ValueError(
                "timestamp is not timezone-aware: give the source's zone in the mapping "
                "(timestamp_zone = 'Europe/London')"
            )
        return col.dt.convert_time_zone("UTC").dt.cast_time_unit("us")
    raise ValueError(f"timestamp has type {dtype}, expected a timezone-aware datetime")
