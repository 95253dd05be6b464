"""The dataset folder: append sources atomically, keep counts, read back."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from systemic.data import DatasetError, SourceEntry, create_dataset, open_dataset, write_dataset


def _events(n: int, person: str = "p1") -> pl.DataFrame:
    return pl.DataFrame(
        {
            "person_id": [person] * n,
            "service": ["Housing"] * n,
            "activity": [f"a{i}" for i in range(n)],
            "timestamp": [dt.datetime(2024, 1, 1, i, tzinfo=dt.UTC) for i in range(n)],
        }
    )


def test_write_and_read_defaults(tmp_path):
    ds = write_dataset(_events(3), tmp_path / "d", source_name="x")
    got = open_dataset(ds.path).events().collect()
    assert got.height == 3
    assert got["case_id"].to_list() == ["p1"] * 3
    assert got["kind"].unique().to_list() == ["other"]
    assert got["demand_class"].unique().to_list() == ["unknown"]
    assert got["source_row"].to_list() == [1, 2, 3]
    assert str(got.schema["timestamp"]) == "Datetime(time_unit='us', time_zone='UTC')"


def test_sources_append_with_attributes_of_different_shapes(tmp_path):
    a = _events(2).with_columns(pl.lit("x").alias("attr_colour"))
    b = _events(1, "p2").with_columns(pl.lit(7).alias("attr_size"))
    write_dataset(a, tmp_path / "d", source_name="a")
    ds = write_dataset(b, tmp_path / "d", source_name="b")
    assert [s.id for s in ds.manifest.sources] == ["s0001", "s0002"]
    got = ds.events().collect()
    assert got.height == 3
    assert got["attr_colour"].to_list() == ["x", "x", None]
    assert got["attr_size"].to_list() == [None, None, 7]
    assert ds.manifest.read == ds.manifest.accepted + ds.manifest.rejected == 3


def test_local_timestamps_are_normalised_to_utc(tmp_path):
    local = _events(1).with_columns(
        pl.col("timestamp").dt.replace_time_zone(None).dt.replace_time_zone("Europe/London")
    )
    # 2024-01-01 00:00 London is 00:00 UTC in winter; use summer to see the shift.
    local = local.with_columns(pl.col("timestamp").dt.offset_by("182d"))
    got = write_dataset(local, tmp_path / "d", source_name="x").events().collect()
    assert got["timestamp"][0] == dt.datetime(2024, 6, 30, 23, 0, tzinfo=dt.UTC)


def test_naive_timestamps_are_refused(tmp_path):
    naive = _events(1).with_columns(pl.col("timestamp").dt.replace_time_zone(None))
    with pytest.raises(ValueError, match="timezone-aware"):
        write_dataset(naive, tmp_path / "d", source_name="x")
    # nothing half-written: the folder holds an empty dataset
    assert open_dataset(tmp_path / "d").manifest.sources == []


def test_lost_rows_abort_the_source(tmp_path):
    ds = create_dataset(tmp_path / "d")
    entry = SourceEntry(id=ds.next_source_id(), name="x", format="csv", read=5)
    with pytest.raises(DatasetError, match="would be lost"), ds.append_source(entry) as w:
        w.write_events(_events(3))
    assert open_dataset(ds.path).manifest.sources == []
    assert not list((ds.path).glob(".staging-*"))


def test_not_a_dataset(tmp_path):
    with pytest.raises(DatasetError, match="not a dataset"):
        open_dataset(tmp_path)
