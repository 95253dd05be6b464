"""XES export: events -> write_xes -> iter_xes gives back the same values."""

from __future__ import annotations

import datetime as dt
import gzip
import warnings
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from systemic.data.schema import conform_events
from systemic.data.xes import XesSummary, read_xes
from systemic.data.xes_export import write_xes

UTC = dt.UTC
ISO = "%Y-%m-%dT%H:%M:%S%.f%:z"


def _events() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "person_id": ["p1", "p1", "p2", "p3"],
            "service": ["Housing", "Benefits & Advice", "Housing", "GP <surgery>"],
            "activity": ['Call "again"', "Claim\nform", "Visit\tnow", "Appointment"],
            "timestamp": [
                dt.datetime(2024, 1, 2, 9, 30, 0, 123456, tzinfo=UTC),
                dt.datetime(2024, 1, 1, 8, 0, tzinfo=UTC),
                dt.datetime(2024, 1, 3, 17, 5, tzinfo=UTC),
                dt.datetime(2023, 12, 31, 23, 59, 59, tzinfo=UTC),
            ],
            "case_id": ["c1", "c1", "c2", None],
            "lifecycle": ["complete", "start", None, "complete"],
            "channel": ["phone", "online", "visit", None],
            "kind": ["contact", "referral", "intervention", "contact"],
            "cost": [12.5, None, 0.1, 1e-9],
            "attr_org:resource": ["Ann", "Bo", None, "Cy"],
            "attr_concept:name": ["x", "y", "z", "w"],
            "attr_visits": [1, 2, 3, None],
            "attr_urgent": [True, False, None, True],
        }
    )


def _timestamps(frame: pl.DataFrame, column: str = "time:timestamp") -> list[dt.datetime]:
    return frame[column].str.to_datetime(ISO, time_zone="UTC").to_list()


def test_every_field_round_trips_with_documented_keys(tmp_path):
    events = conform_events(_events()).collect()
    summary = write_xes(events, tmp_path / "out.xes")
    assert (summary.traces, summary.events, summary.replaced_characters) == (3, 4, 0)
    back = read_xes(summary.path)
    expected = events.sort(["case_id", "timestamp"])
    assert back["case:concept:name"].to_list() == expected["case_id"].to_list()
    assert back["concept:name"].to_list() == expected["activity"].to_list()
    assert _timestamps(back) == expected["timestamp"].to_list()
    assert back["lifecycle:transition"].to_list() == expected["lifecycle"].to_list()
    assert back["org:group"].to_list() == expected["service"].to_list()
    assert back["systemic:person_id"].to_list() == expected["person_id"].to_list()
    assert back["systemic:channel"].to_list() == expected["channel"].to_list()
    assert back["systemic:kind"].to_list() == expected["kind"].to_list()
    assert back["systemic:demand_class"].to_list() == ["unknown"] * 4
    assert [None if v is None else float(v) for v in back["systemic:cost"]] == expected[
        "cost"
    ].to_list()
    assert back["org:resource"].to_list() == expected["attr_org:resource"].to_list()
    # An attribute named like a key the writer uses is prefixed "attr:".
    assert back["attr:concept:name"].to_list() == expected["attr_concept:name"].to_list()
    assert back["visits"].to_list() == expected["attr_visits"].cast(pl.String).to_list()
    assert back["urgent"].to_list() == ["false", "true", None, "true"]
    assert expected["attr_urgent"].to_list() == [False, True, None, True]


def test_case_id_defaults_to_person_and_lazy_input_writes_the_same_bytes(tmp_path):
    events = _events().drop("case_id")
    eager = write_xes(events, tmp_path / "eager.xes", log_name="town")
    lazy = write_xes(events.lazy(), tmp_path / "lazy.xes", log_name="town")
    assert eager.path.read_bytes() == lazy.path.read_bytes()
    back = read_xes(eager.path)
    assert back["case:concept:name"].to_list() == ["p1", "p1", "p2", "p3"]
    assert eager.traces == 3


def test_gzip_follows_the_name_unless_told(tmp_path):
    events = _events()
    assert write_xes(events, tmp_path / "a.xes.gz").path.read_bytes()[:2] == b"\x1f\x8b"
    assert write_xes(events, tmp_path / "b.xes").path.read_bytes()[:5] == b"<?xml"
    forced = write_xes(events, tmp_path / "c.xes", gzip=True)
    assert gzip.decompress(forced.path.read_bytes()).startswith(b"<?xml")
    assert read_xes(forced.path).equals(read_xes(tmp_path / "b.xes"))


def test_characters_xml_cannot_hold_are_replaced_and_counted(tmp_path):
    events = _events().with_columns(
        pl.Series("activity", ["bell\x07", "ok", "nul\x00here", "fine"])
    )
    summary = write_xes(events, tmp_path / "odd.xes")
    assert summary.replaced_characters == 2
    back = read_xes(summary.path)
    assert set(back["concept:name"].to_list()) == {"bell\ufffd", "ok", "nul\ufffdhere", "fine"}


def test_naive_timestamps_and_missing_columns_are_refused(tmp_path):
    naive = _events().with_columns(pl.col("timestamp").dt.replace_time_zone(None))
    with pytest.raises(ValueError, match="timezone-aware"):
        write_xes(naive, tmp_path / "x.xes")
    with pytest.raises(ValueError, match="activity"):
        write_xes(_events().drop("activity"), tmp_path / "x.xes")
    assert not (tmp_path / "x.xes").exists()


def test_empty_events_write_a_valid_empty_log(tmp_path):
    summary = write_xes(_events().clear(), tmp_path / "none.xes")
    assert (summary.traces, summary.events) == (0, 0)
    read = XesSummary()
    assert read_xes(summary.path, summary=read).height == 0
    assert read.traces == 0


def test_pm4py_reads_the_export(tmp_path):
    pm4py = pytest.importorskip("pm4py")
    events = conform_events(_events()).collect()
    path = write_xes(events, tmp_path / "for-pm4py.xes").path
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = pm4py.read_xes(str(path), return_legacy_log_object=False)
    assert len(ref) == 4
    expected = events.sort(["case_id", "timestamp"])
    assert ref["case:concept:name"].tolist() == expected["case_id"].to_list()
    assert ref["concept:name"].tolist() == expected["activity"].to_list()
    assert [t.to_pydatetime() for t in ref["time:timestamp"]] == expected["timestamp"].to_list()


def test_real_receipt_log_round_trips(real_data, tmp_path):
    log = read_xes(real_data / "receipt_wabo.xes.gz")
    events = log.select(
        pl.col("case:concept:name").alias("person_id"),
        pl.col("org:group").alias("service"),
        pl.col("concept:name").alias("activity"),
        pl.col("time:timestamp").str.to_datetime(ISO, time_zone="UTC").alias("timestamp"),
        pl.col("case:concept:name").alias("case_id"),
        pl.col("lifecycle:transition").alias("lifecycle"),
        pl.col("org:resource").alias("attr_org:resource"),
        pl.col("__line").alias("source_row"),
    )
    summary = write_xes(events, tmp_path / "receipt.xes.gz")
    assert (summary.traces, summary.events) == (1434, 8577)
    back = read_xes(summary.path)
    expected = events.sort(["case_id", "timestamp", "source_row"])
    assert back["case:concept:name"].to_list() == expected["case_id"].to_list()
    assert back["concept:name"].to_list() == expected["activity"].to_list()
    assert back["org:resource"].to_list() == expected["attr_org:resource"].to_list()
    assert _timestamps(back) == expected["timestamp"].to_list()


# --- property: arbitrary traces round-trip ------------------------------------

_XML_TEXT = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs",),
        blacklist_characters=[chr(c) for c in range(32) if c not in (9, 10, 13)]
        + ["\ufffe", "\uffff"],
    ),
    max_size=12,
)
_MOMENT = st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 1, 1))


@st.composite
def _traces(draw) -> pl.DataFrame:
    cases = draw(st.lists(_XML_TEXT, min_size=1, max_size=4, unique=True))
    rows = []
    for case in cases:
        for _ in range(draw(st.integers(1, 4))):
            rows.append(
                {
                    "person_id": draw(_XML_TEXT),
                    "service": draw(_XML_TEXT),
                    "activity": draw(_XML_TEXT),
                    "timestamp": draw(_MOMENT),
                    "case_id": case,
                    "lifecycle": draw(st.none() | _XML_TEXT),
                    "attr_note": draw(st.none() | _XML_TEXT),
                }
            )
    frame = pl.DataFrame(
        rows,
        schema={
            "person_id": pl.String,
            "service": pl.String,
            "activity": pl.String,
            "timestamp": pl.Datetime("us"),
            "case_id": pl.String,
            "lifecycle": pl.String,
            "attr_note": pl.String,
        },
    )
    return frame.with_columns(pl.col("timestamp").dt.replace_time_zone("UTC"))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(events=_traces(), compress=st.booleans())
def test_arbitrary_traces_round_trip(tmp_path, events, compress):
    path = tmp_path / ("p.xes.gz" if compress else "p.xes")
    summary = write_xes(events, path)
    assert summary.traces == events["case_id"].n_unique()
    back = read_xes(path)
    expected = events.sort(["case_id", "timestamp"], maintain_order=True)
    assert back.height == events.height
    assert back["case:concept:name"].to_list() == expected["case_id"].to_list()
    assert back["concept:name"].to_list() == expected["activity"].to_list()
    assert back["org:group"].to_list() == expected["service"].to_list()
    assert back["systemic:person_id"].to_list() == expected["person_id"].to_list()
    assert _timestamps(back) == expected["timestamp"].to_list()
    for ours, theirs in [("lifecycle:transition", "lifecycle"), ("note", "attr_note")]:
        got = back[ours].to_list() if ours in back.columns else [None] * back.height
        assert got == expected[theirs].to_list()


@pytest.mark.parametrize("lazy", [False, True])
def test_traces_spanning_write_batches_stay_whole(tmp_path, monkeypatch, lazy):
    events = _events()  # case_id c1, c1, c2 and one null (a trace without a name)
    whole = write_xes(events, tmp_path / "whole.xes", log_name="t")
    monkeypatch.setattr("systemic.data.xes_export.BATCH_ROWS", 1)
    split = write_xes(events.lazy() if lazy else events, tmp_path / "split.xes", log_name="t")
    assert split.path.read_bytes() == whole.path.read_bytes()
    assert (split.traces, split.events) == (3, 4)
    summary = XesSummary()
    back = read_xes(split.path, summary=summary)
    assert summary.traces == 3
    assert back["case:concept:name"].to_list() == ["c1", "c1", "c2", None]


# --- import -> export -> import, through the importer ----------------------------

_REIMPORT = """
[source]
name = "systemic XES export"
format = "xes"

[fields]
person_id = "systemic:person_id"
case_id = "case:concept:name"
service = "org:group"
activity = "concept:name"
timestamp = "time:timestamp"
lifecycle = "lifecycle:transition"
channel = "systemic:channel"
event_id = "systemic:event_id"
kind = "systemic:kind"
demand_type = "systemic:demand_type"
demand_class = "systemic:demand_class"
preventable = "systemic:preventable"

[timestamp]
formats = ["iso"]
zone = "UTC"

[privacy]
already_pseudonymised = true
"""

_COMPARED = [
    "person_id",
    "case_id",
    "service",
    "activity",
    "timestamp",
    "lifecycle",
    "channel",
    "event_id",
    "kind",
    "demand_type",
    "demand_class",
    "preventable",
]


def test_receipt_import_export_import_round_trips(real_data, tmp_path):
    importer = pytest.importorskip("systemic.data.importer")
    from systemic.data import open_dataset

    mapping = Path(__file__).resolve().parents[2] / "examples" / "mappings" / "receipt_wabo.toml"
    first = importer.import_sources(real_data / "receipt_wabo.xes.gz", mapping, tmp_path / "one")
    assert sum(e.rejected for e in first) == 0
    events = open_dataset(tmp_path / "one").events()
    written = write_xes(events, tmp_path / "export.xes.gz")
    assert (written.traces, written.events) == (1434, 8577)

    (tmp_path / "again.toml").write_text(_REIMPORT)
    second = importer.import_sources(written.path, tmp_path / "again.toml", tmp_path / "two")
    assert [(e.read, e.rejected) for e in second] == [(8577, 0)]
    order = ["case_id", "timestamp", "event_id"]
    before = events.select(_COMPARED).collect().sort(order)
    after = open_dataset(tmp_path / "two").events().select(_COMPARED).collect().sort(order)
    assert after.equals(before)
    # Attributes come back under their own names: attr_<key> -> <key> -> attr_<key>.
    one = events.select("event_id", "attr_org:resource").collect().sort("event_id")
    two = (
        open_dataset(tmp_path / "two")
        .events()
        .select("event_id", "attr_org:resource")
        .collect()
        .sort("event_id")
    )
    assert two.equals(one)
