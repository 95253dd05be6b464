"""Property tests: nothing is lost, and import -> export -> import round-trips."""

from __future__ import annotations

import datetime as dt
import string

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from systemic.data import (
    export_events,
    export_mapping,
    import_sources,
    open_dataset,
    parse_mapping,
)
from systemic.data.schema import KINDS

from .conftest import mapping

UTC = dt.UTC
SETTINGS = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

good_time = st.datetimes(
    min_value=dt.datetime(1950, 1, 1), max_value=dt.datetime(2025, 12, 31)
).map(lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ"))
bad_time = st.sampled_from(["", "yesterday", "1066-10-14T09:00:00Z", "2024-02-30T00:00:00Z"])
word = st.text(alphabet=string.ascii_letters + string.digits + "-_", min_size=0, max_size=6)
record = st.tuples(word, word, st.one_of(good_time, bad_time), word, st.integers(-1, 1))


def _expected_ok(who: str, what: str, when: str, extra: int) -> bool:
    if extra != 0 or not who or not what:
        return False
    try:
        t = dt.datetime.strptime(when, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return False
    return t.year >= 1900


@SETTINGS
@given(records=st.lists(record, min_size=1, max_size=40))
def test_read_equals_accepted_plus_rejected(records, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("inv")
    lines = ["who,what,when,note"]
    for who, what, when, note, extra in records:
        fields = [who, what, when, note] + (["x"] if extra > 0 else [])
        lines.append(",".join(fields[:3] if extra < 0 else fields))
    src = tmp / "s.csv"
    src.write_text("\n".join(lines) + "\n")
    # a record that is only an empty string is a blank line, not a record
    blank = sum(1 for ln in lines[1:] if ln == "")
    entry = import_sources([src], mapping(timestamp={"zone": "UTC"}), tmp / "ds")[0]
    assert entry.read == len(records) - blank
    assert entry.read == entry.accepted + entry.rejected
    expected = sum(_expected_ok(w, a, t, x) for w, a, t, _, x in records)
    assert entry.accepted == expected
    ds = open_dataset(tmp / "ds")
    assert ds.events().collect().height == entry.accepted
    assert ds.rejects().collect().height == entry.rejected


text_value = st.text(
    alphabet=string.ascii_letters + string.digits + " ,;\"'é-", min_size=1, max_size=8
).filter(lambda s: s == s.strip())


@st.composite
def event_frames(draw):
    n = draw(st.integers(1, 25))
    col = lambda strat: draw(st.lists(strat, min_size=n, max_size=n))  # noqa: E731
    return pl.DataFrame(
        {
            "who": col(st.sampled_from(["P1", "P2", "P3", "NHS 123"])),
            "service": col(st.sampled_from(["Housing", "GP", "Adult social care"])),
            "activity": col(text_value),
            "when": col(
                st.datetimes(
                    min_value=dt.datetime(1990, 1, 1),
                    max_value=dt.datetime(2024, 12, 31),
                    timezones=st.just(UTC),
                )
            ),
            "kind": col(st.sampled_from(KINDS)),
            "cost": col(st.one_of(st.none(), st.floats(0, 1e6, allow_nan=False))),
            "ward": col(st.one_of(st.none(), text_value)),
            "said": col(st.one_of(st.none(), text_value, st.just("two\nlines"))),
        }
    )


@SETTINGS
@given(frame=event_frames(), fmt=st.sampled_from(["csv", "parquet"]))
def test_import_export_import_round_trips(frame, fmt, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("rt")
    frame.write_csv(tmp / "source.csv", datetime_format="%Y-%m-%dT%H:%M:%S%.6fZ")
    m = parse_mapping(
        {
            "fields": {
                "person_id": "who",
                "service": "service",
                "activity": "activity",
                "timestamp": "when",
                "kind": "kind",
                "cost": "cost",
                "text": "said",
            },
            "timestamp": {"zone": "UTC", "formats": ["iso"]},
            "privacy": {"keep_text": True},
        }
    )
    first = import_sources([tmp / "source.csv"], m, tmp / "a")[0]
    assert (first.read, first.accepted) == (frame.height, frame.height)
    out = tmp / f"export.{fmt}"
    assert export_events(open_dataset(tmp / "a"), out) == frame.height
    columns = pl.read_parquet(out).columns if fmt == "parquet" else pl.read_csv(out).columns
    again = import_sources([out], export_mapping(columns), tmp / "b")[0]
    assert again.rejected == 0

    def events(path):
        ev = open_dataset(path).events().collect().sort("source_row")
        return ev.drop("source", "source_row")

    a, b = events(tmp / "a"), events(tmp / "b")
    assert a.columns == b.columns
    assert a.to_dicts() == b.to_dicts()
    # and the first import kept the source's values
    assert a["activity"].to_list() == frame["activity"].to_list()
    assert a["timestamp"].to_list() == frame["when"].to_list()
    assert a["cost"].to_list() == frame["cost"].to_list()
    assert a["text"].to_list() == frame["said"].to_list()
    assert a["attr_ward"].to_list() == frame["ward"].to_list()


def test_round_trip_through_xes(tmp_path):
    pytest.importorskip("systemic.data.xes_export")
    from systemic.data.xes import read_xes

    src = tmp_path / "s.csv"
    src.write_text(
        "who,service,what,when,kind,ward\n"
        "P1,Housing,Report repair,2024-01-02T09:00:00Z,contact,North\n"
        "P1,GP,Visit,2024-01-03T10:15:30Z,intervention,\n"
        'P2,Housing,"Chase, again",2024-01-04T08:00:00Z,contact,South\n'
    )
    m = parse_mapping(
        {
            "fields": {
                "person_id": "who",
                "service": "service",
                "activity": "what",
                "timestamp": "when",
                "kind": "kind",
            },
        }
    )
    import_sources([src], m, tmp_path / "a")
    out = tmp_path / "e.xes.gz"
    assert export_events(open_dataset(tmp_path / "a"), out) == 3
    columns = read_xes(out).columns
    again = import_sources([out], export_mapping(columns), tmp_path / "b")[0]
    assert (again.read, again.accepted, again.rejected) == (3, 3, 0)

    def events(path):
        ev = open_dataset(path).events().collect().sort("timestamp")
        return ev.select(sorted(c for c in ev.columns if c not in ("source", "source_row")))

    assert events(tmp_path / "a").to_dicts() == events(tmp_path / "b").to_dicts()
