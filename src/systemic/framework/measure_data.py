"""A measure's data, as its chart and an experiment's evidence read it.

One object carries what a measure's series is, wherever it comes from (an
uploaded series, or a learn result brought into the workspace): the measure's
own series, the same series for the other localities (the comparison an
experiment's difference in differences needs), and which version of the source
the values came from, so that stored evidence can say what it was computed on.

A suppressed cell of a published table is a gap (``value`` is null), never a
number: charts leave it out and say so.

``value`` is always the figure the measure names (a share is the share); a
share also carries ``numerator`` and ``denominator`` columns, for a p-chart.

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

from systemic.measures.experiment import Scale, default_scale

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
    #: What was suppressed or left out, and why, in words for the chart and page.
    notes: tuple[str, ...] = ()
    #: ``"week"`` or ``"month"`` for a learn result's series; ``""`` for an upload.
    period: str = ""
    #: Why there are no values (a source not yet named, a locality not in the result).
    problem: str = ""
    #: True for a learn result's count of whole periods (contacts, failure contacts or
    #: needs ended a week or month); False for shares, medians and uploads.
    whole_periods: bool = False

    @property
    def gaps(self) -> int:
        """How many periods have no value (suppressed or missing)."""
        return int(self.series["value"].is_null().sum())

    @property
    def scale(self) -> Scale:
        """How an experiment compares this series with the other localities' (as the CLI does).

        ``relative`` for a learnt count of whole periods, ``difference`` otherwise:
        :func:`systemic.measures.experiment.default_scale`, the rule ``systemic
        experiment --from`` follows.

        >>> MeasureData("m", empty_series(), whole_periods=True).scale
        'relative'
        >>> MeasureData("m", empty_series()).scale
        'difference'
        """
        return default_scale(whole_periods=self.whole_periods)


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


def _figure(frame: pl.DataFrame) -> pl.DataFrame:
    """``date, value`` (the figure itself), plus ``numerator, denominator`` for a share."""
    if "denominator" not in frame.columns:
        return frame.select("date", pl.col("value").cast(pl.Float64))
    return frame.select(
        "date",
        (pl.col("value") / pl.col("denominator")).alias("value"),
        pl.col("value").cast(pl.Float64).alias("numerator"),
        pl.col("denominator").cast(pl.Float64),
    )


def learnt_measure_data(
    measure: Any, table: pl.DataFrame, *, source: str, source_version: str
) -> MeasureData:
    """The data of a measure drawing on a learn result's published series table.

    ``table`` is the published ``series_weekly`` (or monthly) table of the version
    ``source_version`` of the learn result ``source``. The measure's own series is
    its locality's (or the whole area's when it names none); ``others`` holds every
    other locality's, for an experiment's comparison. A suppressed cell is a gap.

    >>> import polars as pl
    >>> from types import SimpleNamespace
    >>> table = pl.DataFrame({"locality": ["North", "South", "all localities"] * 2,
    ...     "period": ["2025-01-06"] * 3 + ["2025-01-13"] * 3,
    ...     "contacts": ["<5", "12", "*", "20", "30", "50"], "partial": ["false"] * 6})
    >>> m = SimpleNamespace(id="m1", series_name="contacts", locality="North",
    ...     period="week", improvement="neutral")
    >>> data = learnt_measure_data(m, table, source="town", source_version="2")
    >>> data.series["value"].to_list(), sorted(data.others), data.notes[0][:25]
    ([None, 20.0], ['South'], '1 week suppressed to prot')
    >>> data.whole_periods, data.scale  # contacts a week: compared as relative changes
    (True, 'relative')
    """
    from systemic.learn.series import ALL_LOCALITIES, SERIES
    from systemic.measures import MeasuresError
    from systemic.measures.learnt import learnt_series

    improvement = getattr(measure, "improvement", "neutral") or "neutral"
    definition = SERIES.get(measure.series_name or "")
    base = {
        "measure_id": measure.id,
        "source": source,
        "source_version": source_version,
        "improvement": improvement,
        "period": measure.period,
        "locality": measure.locality or None,
        "whole_periods": definition is not None and definition.whole_periods,
    }
    if not measure.series_name:
        return MeasureData(series=empty_series(), problem="no series is chosen yet", **base)
    try:
        own = learnt_series(
            table, measure.series_name, locality=measure.locality or None, period=measure.period
        )
        every = learnt_series(
            table, measure.series_name, period=measure.period, every_locality=True
        )
    except MeasuresError as error:
        return MeasureData(series=empty_series(), problem=str(error), **base)
    others = {
        str(name): _figure(rows.drop("locality"))
        for (name,), rows in every.frame.partition_by("locality", as_dict=True).items()
        if name != (measure.locality or ALL_LOCALITIES)
    }
    return MeasureData(
        series=_figure(own.frame),
        others=dict(sorted(others.items())),
        notes=own.notes,
        **base,
    )


__all__ = [
    "SERIES_SCHEMA",
    "Improvement",
    "MeasureData",
    "empty_series",
    "learnt_measure_data",
    "uploaded_measure_data",
]
