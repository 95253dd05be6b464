"""Journey order without a full sort: the shortcuts must give the sorted answer.

``in_journey_order`` skips sorting a frame already in journey order and
gathers only the people split across runs (a person straddling two Parquet
files). Each shortcut is checked against a plain sort by the journey order.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
from polars.testing import assert_frame_equal

from systemic.learn.journeys import ORDER, in_journey_order


def _t(day: int, hour: int = 0) -> dt.datetime:
    return dt.datetime(2024, 1, day, hour, tzinfo=dt.UTC)


def _frame(rows: list[tuple[str, dt.datetime, str, int]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "person_id": pl.String,
            "timestamp": pl.Datetime("us", "UTC"),
            "source": pl.String,
            "source_row": pl.Int64,
        },
        orient="row",
    )


def _by_person(frame: pl.DataFrame) -> dict[str, list[tuple]]:
    # journey order only needs each person's events together and in order
    return {
        p: g.drop("person_id").rows()
        for (p,), g in frame.group_by("person_id", maintain_order=True)
    }


def test_a_frame_already_in_journey_order_is_returned_as_it_is() -> None:
    frame = _frame([("b", _t(1), "s", 1), ("b", _t(2), "s", 2), ("a", _t(1), "s", 3)])
    assert in_journey_order(frame) is frame


def test_people_split_into_runs_are_gathered_in_time_order() -> None:
    frame = _frame(
        [
            ("a", _t(1), "s", 1),
            ("a", _t(2), "s", 2),
            ("b", _t(1), "s", 3),
            ("a", _t(2), "s", 0),  # same time as a's second event: source order first
            ("b", _t(5), "s", 4),
            ("c", _t(1), "s", 5),
        ]
    )
    ordered = in_journey_order(frame)
    expected = frame.sort(list(ORDER))
    # every person's events form one run, in (time, source, row) order
    runs = ordered.select((pl.col("person_id") != pl.col("person_id").shift(1)).sum()).item()
    assert runs == 2  # 3 runs, the first row has no predecessor
    assert _by_person(ordered) == _by_person(expected)
    assert _by_person(ordered)["a"] == [(_t(1), "s", 1), (_t(2), "s", 0), (_t(2), "s", 2)]


def test_events_out_of_order_within_a_person_are_sorted() -> None:
    frame = _frame([("a", _t(3), "s", 1), ("a", _t(1), "s", 2), ("b", _t(2), "s", 3)])
    assert_frame_equal(in_journey_order(frame), frame.sort(list(ORDER)))
