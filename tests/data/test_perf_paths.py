"""Behaviour of the import's fast paths (no timing here: see benchmarks/).

The fast CSV import skips work when a batch shows no sign of trouble: it
hashes only identifiers new to the import, evaluates rules once per distinct
activity, counts delimiters only when the last column has a gap, and works out
which check failed only for the rows that failed one. These tests feed inputs
that sit right at those shortcuts and check the results against independent
references (the standard library's ``hmac``, hand-worked expectations).
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import hmac

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from systemic.data import import_sources, open_dataset, readers
from systemic.data.importer import Pseudonymiser
from systemic.data.pseudonymise import PseudonymKey

from .conftest import mapping

UTC = dt.UTC


def _reference(secret: bytes, identifier: str) -> str:
    return hmac.new(secret, identifier.strip().encode("utf-8"), hashlib.sha256).hexdigest()[:32]


@pytest.mark.parametrize("secret", [b"0123456789abcdef", b"k" * 64, b"long key " * 20])
def test_batch_pseudonyms_equal_the_standard_hmac(secret):
    key = PseudonymKey(secret)
    ids = ["A1", " B2 ", "Zoë Ünal", "NHS 943 476 5919", "x" * 300]
    assert key.pseudonyms(ids) == [_reference(secret, i) for i in ids]
    assert key.pseudonym("A1") == _reference(secret, "A1")


def test_pseudonymiser_links_batches_and_nulls_blanks():
    secret = b"0123456789abcdef0123456789abcdef"
    ps = Pseudonymiser(PseudonymKey(secret))
    first = ps.series(pl.Series("who", [" A1", "A1", "", None, "   ", "B2"]))
    second = ps.series(pl.Series("who", ["B2", "C3", None, "A1 "]))
    a1, b2, c3 = (_reference(secret, i) for i in ("A1", "B2", "C3"))
    assert first.to_list() == [a1, a1, None, None, None, b2]
    assert second.to_list() == [b2, c3, None, a1]
    assert first.name == "who"
    # identifiers are remembered (in memory only) to clean malformed records
    assert [ps.get(i) for i in ("A1", " B2", "C3", "D4", "")] == [a1, b2, c3, None, None]
    assert ps.remember(" D4") == _reference(secret, "D4")
    assert ps.series(pl.Series("who", ["D4"])).to_list() == [_reference(secret, "D4")]


@settings(max_examples=60, deadline=None)
@given(
    batches=st.lists(
        st.lists(
            st.one_of(
                st.none(),
                st.sampled_from(["", " ", "A", "B ", " C", "Zoë"]),
                st.text(st.characters(categories=["L", "N", "Zs"]), max_size=6),
            )
        ),
        max_size=6,
    )
)
def test_pseudonymiser_matches_the_hmac_over_many_batches(batches):
    """Codes carry on across batches (the dictionary outlives each batch)."""
    secret = b"0123456789abcdef0123456789abcdef"
    ps = Pseudonymiser(PseudonymKey(secret))
    for batch in batches:
        got = ps.series(pl.Series("who", batch, dtype=pl.String)).to_list()
        gc.collect()
        expected = [_reference(secret, v) if v is not None and v.strip() else None for v in batch]
        assert got == expected


def test_rules_defaults_and_blank_values_on_the_per_activity_path(write, tmp_path):
    text = (
        "who,what,when,k,ward\n"
        "A1,Chase repair,2024-01-02 09:00,,North\n"  # rule: contact/failure
        "A1,Report repair,2024-01-02 10:00,Referral,   \n"  # mapped kind wins; blank ward
        "B2,visit,2024-01-02 11:00,,South\n"  # no rule: defaults
        "B2,  Chase repair  ,2024-01-02 12:00,,\n"  # stripped activity still matches
    )
    m = mapping(
        fields={"kind": "k", "locality": "ward"},
        defaults={"locality": "unknown"},
        rules=[
            {"activity": "Chase repair", "kind": "contact", "demand_class": "failure"},
            {"pattern": "(?i)repair", "kind": "contact", "demand_class": "value"},
        ],
    )
    (entry,) = import_sources([write("r.csv", text)], m, tmp_path / "ds")
    assert (entry.read, entry.accepted, entry.rejected) == (4, 4, 0)
    ev = open_dataset(tmp_path / "ds").events().collect().sort("source_row")
    assert ev["activity"].to_list() == ["Chase repair", "Report repair", "visit", "Chase repair"]
    assert ev["kind"].to_list() == ["contact", "referral", "other", "contact"]
    assert ev["demand_class"].to_list() == ["failure", "value", "unknown", "failure"]
    assert ev["preventable"].to_list() == ["unknown"] * 4
    assert ev["locality"].to_list() == ["North", "unknown", "South", "unknown"]


def test_first_failing_check_wins_when_a_row_fails_several(write, tmp_path):
    text = (
        "who,what,when,k\n"
        "A1,call,2024-01-02 09:00,contact\n"  # 2 ok
        ",,not a date,nonsense\n"  # 3 person, activity, timestamp and kind fail
        "A1,,not a date,contact\n"  # 4 activity before timestamp
        "A1,call,,nonsense\n"  # 5 missing timestamp before kind
        "A1,call,2024-03-31 01:30,contact\n"  # 6 skipped hour in London
        "A1,call,2024-01-02 09:00,nonsense\n"  # 7 kind only
    )
    (entry,) = import_sources([write("c.csv", text)], mapping(fields={"kind": "k"}), tmp_path / "d")
    assert (entry.read, entry.accepted, entry.rejected) == (6, 1, 5)
    rej = open_dataset(tmp_path / "d").rejects().collect().sort("line")
    assert rej["line"].to_list() == [3, 4, 5, 6, 7]
    assert rej["field"].to_list() == ["person_id", "activity", "timestamp", "timestamp", "kind"]
    reasons = rej["reason"].to_list()
    assert reasons[2].startswith("missing timestamp")
    assert "does not exist in zone Europe/London" in reasons[3]
    assert reasons[4] == "kind (withheld: 8 letters) is not one of " + ", ".join(
        ("contact", "assessment", "referral", "intervention", "closure", "other")
    )


@pytest.mark.parametrize("chunk", [None, 64])
def test_short_records_are_found_with_and_without_quotes(write, tmp_path, monkeypatch, chunk):
    """A record with too few fields leaves the last column empty: never padded."""
    if chunk:
        monkeypatch.setattr(readers, "CHUNK_BYTES", chunk)
    text = (
        "who,what,when,note\n"
        'A1,call,2024-01-02 09:00,"a, b"\n'  # 2 ok, delimiter inside quotes
        "A1,call,2024-01-02 09:00\n"  # 3 too few fields
        'A1,call,2024-01-02 09:00,""\n'  # 4 ok, empty quoted last field
        "A1,call,2024-01-02 10:00,plain\n"  # 5 ok
        'A1,"call, again",2024-01-02 11:00\n'  # 6 too few, a delimiter in quotes
    )
    (entry,) = import_sources([write("q.csv", text)], mapping(), tmp_path / "ds")
    assert (entry.read, entry.accepted, entry.rejected) == (5, 3, 2)
    ds = open_dataset(tmp_path / "ds")
    assert sorted(ds.events().collect()["source_row"].to_list()) == [2, 4, 5]
    rej = ds.rejects().collect().sort("line")
    assert rej["line"].to_list() == [3, 6]
    assert set(rej["field"]) == {"(record)"}


def test_a_file_without_final_newline_keeps_its_last_record(write, tmp_path):
    text = 'who,what,when\nA1,"two\nlines",2024-01-02 09:00\nB2,call,2024-01-02 10:00'
    (entry,) = import_sources([write("n.csv", text)], mapping(), tmp_path / "ds")
    assert (entry.read, entry.accepted, entry.rejected) == (2, 2, 0)
    ev = open_dataset(tmp_path / "ds").events().collect().sort("source_row")
    assert ev["source_row"].to_list() == [2, 4]
    assert ev["activity"].to_list() == ["two\nlines", "call"]


def test_column_parse_tries_later_formats_only_where_needed_and_agrees():
    from systemic.data.timestamps import parse_timestamp_column, parse_timestamps

    values = [
        "2024-03-01T09:30:00+01:00",  # iso, offset
        "2024-03-01 09:30",  # iso, naive, London winter = UTC
        "2024-07-01 09:30:15.5",  # iso, fractions, London summer = UTC+1
        "01/03/2024 09:30",  # second format only
        "2024-03-31 01:30",  # does not exist in London
        "yesterday",
        None,
        "   ",
    ]
    formats, zone = ["iso", "dd/mm/yyyy HH:MM"], "Europe/London"
    column = parse_timestamp_column(pl.Series("when", values), formats, zone)
    expr = pl.select(parse_timestamps(pl.lit(pl.Series(values)), formats, zone)).to_series()
    assert column.to_list() == expr.to_list()
    assert column.to_list() == [
        dt.datetime(2024, 3, 1, 8, 30, tzinfo=UTC),
        dt.datetime(2024, 3, 1, 9, 30, tzinfo=UTC),
        dt.datetime(2024, 7, 1, 8, 30, 15, 500000, tzinfo=UTC),
        dt.datetime(2024, 3, 1, 9, 30, tzinfo=UTC),
        None,
        None,
        None,
        None,
    ]
    assert column.name == "when"
