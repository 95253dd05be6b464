"""A measure's data, as its chart and an experiment's evidence read it.

One object carries what a measure's series is, wherever it comes from (an
uploaded series, or a learn result brought into the workspace): the measure's
own series, the same series for the other localities (the comparison an
experiment's difference in differences needs), and which version of the source
the values came from, so that stored evidence can say what it was computed on.

A suppressed cell of a published table is a gap (``value`` is null), never a
number: charts leave it out and say so.

>>> from systemic.framework.snapshot import WorkspaceSnapshot
>>> snap = WorkspaceSnapshot.empty()
>>> m = snap.add("measure", {"name": "Days at home", "series": [
...     {"period": "2026-01-05", "value": 3}, {"period": "2026-01-12", "value": 4}]}, "m1")
>>> data = uploaded_measure_data(m)
>>> data.series["value"].to_list(), data.others, data.source
([3.0, 4.0], {}, 'upload')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import polars as pl

#: Which way is better for a measure: up, down, or neither.
Improvement = Literal["increase", "decrease", "neutral"]

#: The shape of every series: a date per period and its value (null: suppressed, a gap).
SERIES_SCHEMA = {"date": pl.Date, "value": pl.Float64}


@dataclass(frozen=True)
class MeasureData:
    """What a measure's chart and evidence are computed from.

    ``series`` is the measure's own series (its locality's, or the whole area's),
    ``others`` the same series for each other locality (empty for an upload),
    ``source`` where it came from (``"upload"`` or a learn result's name) and
    ``source_version`` which version of it (stored evidence records this).
    """

    measure_id: str
    series: pl.DataFrame
    locality: str | None = None
    others: Mapping[str, pl.DataFrame] = field(default_factory=dict)
    source: str = "upload"
    source_version: str = ""
    improvement: Improvement = "neutral"


def empty_series() -> pl.DataFrame:
    """A series with no periods."""
    return pl.DataFrame(schema=SERIES_SCHEMA)


def uploaded_measure_data(measure: Any) -> MeasureData:
    """The data of a measure whose values were uploaded into the workspace.

    The version is the time the measure was last changed (a new upload changes it).
    """
    series = pl.DataFrame(
        {
            "date": [p.period for p in measure.series],
            "value": [float(p.value) for p in measure.series],
        },
        schema=SERIES_SCHEMA,
    ).sort("date")
    updated = getattr(measure, "updated_at", None)
    return MeasureData(
        measure_id=measure.id,
        series=series,
        source="upload",
        source_version=updated.isoformat() if updated is not None else "",
        improvement=getattr(measure, "improvement", "neutral") or "neutral",
    )


__all__ = ["SERIES_SCHEMA", "Improvement", "MeasureData", "empty_series", "uploaded_measure_data"]
