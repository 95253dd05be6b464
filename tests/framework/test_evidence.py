"""A measure's uploaded series read as an XmR chart (checked by hand)."""

from __future__ import annotations

from systemic.framework import WorkspaceSnapshot
from systemic.framework.evidence import measure_series, measure_spc


def test_series_is_sorted_and_charted_with_hand_worked_limits() -> None:
    snap = WorkspaceSnapshot.empty()
    values = {"2026-01-03": 12.0, "2026-01-01": 10.0, "2026-01-02": 14.0, "2026-01-04": 12.0}
    measure = snap.add(
        "measure",
        {
            "name": "Days at home",
            "target": 13.0,
            "series": [{"period": p, "value": v} for p, v in values.items()],
        },
        "m",
    )
    frame = measure_series(measure)
    assert frame["value"].to_list() == [10.0, 14.0, 12.0, 12.0]
    result = measure_spc(measure)
    assert result is not None
    # mean 12; moving ranges 4, 2, 0 -> average 2; limits 12 +/- 2.66 * 2.
    mean, upper, lower = result.points.select("mean", "upl", "lpl").row(0)
    assert abs(mean - 12.0) < 1e-9
    assert abs(upper - (12 + 2.66 * 2)) < 1e-9 and abs(lower - (12 - 2.66 * 2)) < 1e-9


def test_too_short_series_gives_no_chart() -> None:
    snap = WorkspaceSnapshot.empty()
    measure = snap.add(
        "measure", {"name": "New", "series": [{"period": "2026-01-01", "value": 1.0}]}, "m"
    )
    assert measure_spc(measure) is None
