"""Timestamp parsing against hand-worked instants."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from systemic.data.timestamps import parse_timestamps

UTC = dt.UTC


def _parse(values, formats, zone="Europe/London"):
    return (
        pl.select(parse_timestamps(pl.lit(pl.Series(values, dtype=pl.String)), formats, zone))
        .to_series()
        .to_list()
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "2011-10-11T13:45:40.276+02:00",
            dt.datetime(2011, 10, 11, 11, 45, 40, 276000, tzinfo=UTC),
        ),
        ("2011-10-11T13:45:40+0100", dt.datetime(2011, 10, 11, 12, 45, 40, tzinfo=UTC)),
        ("2011-10-11T13:45:40Z", dt.datetime(2011, 10, 11, 13, 45, 40, tzinfo=UTC)),
        # no offset: read in the zone (London is on summer time, UTC+1, in October)
        ("2011-10-11 13:45:40", dt.datetime(2011, 10, 11, 12, 45, 40, tzinfo=UTC)),
        ("2011-12-11 13:45", dt.datetime(2011, 12, 11, 13, 45, tzinfo=UTC)),
        ("2011-10-11", dt.datetime(2011, 10, 10, 23, 0, tzinfo=UTC)),
        ("not a date", None),
        ("2011-13-01", None),
        # 01:30 on the morning the clocks go forward does not exist in London
        ("2024-03-31 01:30:00", None),
    ],
)
def test_iso(text, expected):
    assert _parse([text], ["iso"]) == [expected]


def test_formats_in_order_and_day_first():
    got = _parse(
        ["03/04/2024 09:30", "2024-04-03T09:30:00Z", "3.4.2024"],
        ["dd/mm/yyyy HH:MM", "iso", "%d.%m.%Y"],
        "UTC",
    )
    assert got == [
        dt.datetime(2024, 4, 3, 9, 30, tzinfo=UTC),
        dt.datetime(2024, 4, 3, 9, 30, tzinfo=UTC),
        dt.datetime(2024, 4, 3, tzinfo=UTC),
    ]


def test_ambiguous_autumn_hour_takes_the_earlier_instant():
    # 01:30 on 2024-10-27 happens twice in London; the first is 00:30 UTC.
    assert _parse(["2024-10-27 01:30"], ["iso"]) == [dt.datetime(2024, 10, 27, 0, 30, tzinfo=UTC)]
