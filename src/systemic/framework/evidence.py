"""Evidence for the workspace from the other capabilities, when they are there.

A measure's uploaded series is read as variation with ``systemic.measures``
(an XmR chart with the Making Data Count rules), so pages can show whether a
measure is stable or changing rather than whether it hit a number.

>>> from systemic.framework.snapshot import WorkspaceSnapshot
>>> snap = WorkspaceSnapshot.empty()
>>> m = snap.add("measure", {"name": "Days at home", "series": [
...     {"period": f"2026-01-0{d}", "value": v} for d, v in zip(range(1, 6), [1, 2, 3, 2, 1])]},
...     "m1")
>>> measure_spc(m).points.select("mean", "upl").row(0)
(1.8, 4.46)
"""

from __future__ import annotations

from typing import Any, Literal

import polars as pl

from systemic.measures import SPCResult, xmr_chart

#: Fewest points for which an XmR chart is drawn (one moving range needs two).
MIN_POINTS = 2


def measure_series(measure: Any) -> pl.DataFrame:
    """A measure's uploaded series as a table of ``date`` and ``value``, in date order."""
    return pl.DataFrame(
        {
            "date": [p.period for p in measure.series],
            "value": [float(p.value) for p in measure.series],
        },
        schema={"date": pl.Date, "value": pl.Float64},
    ).sort("date")


def measure_spc(
    measure: Any, improvement: Literal["increase", "decrease", "neutral"] = "increase"
) -> SPCResult | None:
    """The XmR chart of a measure's series (with its target, if any), or None when too short."""
    if len(measure.series) < MIN_POINTS:
        return None
    return xmr_chart(measure_series(measure), improvement=improvement, target=measure.target)
