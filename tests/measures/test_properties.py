"""Invariants of the SPC engine, checked with hypothesis."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from systemic.measures import POINT_TYPES, xmr_chart

values = st.lists(st.one_of(st.none(), st.integers(-50, 50).map(float)), min_size=1, max_size=40)


def frame(ys: list[float | None]) -> pl.DataFrame:
    return pl.DataFrame(
        {"date": [date(2024, 1, 1) + timedelta(days=i) for i in range(len(ys))], "value": ys},
        schema={"date": pl.Date, "value": pl.Float64},
    )


@settings(max_examples=60, deadline=None)
@given(values, st.booleans(), st.sampled_from(["mdc", "mdc-excel-2023"]))
def test_one_row_per_point_and_types_only_for_values(
    ys: list[float | None], screen: bool, rules: str
) -> None:
    result = xmr_chart(frame(ys), screen_outliers=screen, rules=rules)  # type: ignore[arg-type]
    points = result.points
    assert points.height == len(ys)
    assert (points["point_type"].is_null() == points["value"].is_null()).all()
    assert set(points["point_type"].drop_nulls()) <= set(POINT_TYPES)
    with_limits = points.filter(pl.col("upl").is_not_null())
    assert (with_limits["lpl"] <= with_limits["mean"]).all()
    assert (with_limits["mean"] <= with_limits["upl"]).all()


@settings(max_examples=60, deadline=None)
@given(values, st.booleans())
def test_mirroring_the_series_and_the_direction_keeps_every_point_type(
    ys: list[float | None], screen: bool
) -> None:
    """Negating every value and swapping increase/decrease is the same chart upside down."""
    up = xmr_chart(frame(ys), improvement="increase", screen_outliers=screen)
    mirrored = [None if y is None else -y for y in ys]
    down = xmr_chart(frame(mirrored), improvement="decrease", screen_outliers=screen)
    assert up.points["point_type"].to_list() == down.points["point_type"].to_list()
    assert up.points["special_cause_rule"].to_list() == down.points["special_cause_rule"].to_list()
    upl = up.points["upl"].drop_nulls().to_list()
    assert upl == [-x for x in down.points["lpl"].drop_nulls().to_list()]
