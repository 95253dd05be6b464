"""CSV import: fields, constants, rules, attributes, rejects with reasons."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from systemic.data import SourceError, import_sources, open_dataset, readers

from .conftest import mapping

UTC = dt.UTC

CALLS = (
    "who,what,when,ward,channel\n"
    "A1,Report repair,2024-01-02 09:00,North,phone\n"
    "A1,Chase repair,02/01/2024 10:30,North,phone\n"
    "B2,Report repair,2024-06-01T08:00:00+01:00,South,web\n"
)


def _import(path, m, tmp_path, name="ds"):
    entries = import_sources([path], m, tmp_path / name)
    ds = open_dataset(tmp_path / name)
    return entries[0], ds


def test_fields_constants_rules_and_attributes(write, tmp_path):
    m = mapping(
        rules=[
            {
                "activity": "Chase repair",
                "kind": "contact",
                "demand_class": "failure",
                "preventable": "yes",
            },
            {"pattern": "(?i)repair", "kind": "contact", "demand_class": "value"},
            {"pattern": ".*", "demand_type": "repairs"},
        ]
    )
    entry, ds = _import(write("calls.csv", CALLS), m, tmp_path)
    assert (entry.read, entry.accepted, entry.rejected) == (3, 3, 0)
    ev = ds.events().collect().sort("source_row")
    assert ev["service"].to_list() == ["Housing"] * 3
    # London winter time is UTC; the offset of the third row is respected.
    assert ev["timestamp"].to_list() == [
        dt.datetime(2024, 1, 2, 9, 0, tzinfo=UTC),
        dt.datetime(2024, 1, 2, 10, 30, tzinfo=UTC),
        dt.datetime(2024, 6, 1, 7, 0, tzinfo=UTC),
    ]
    # first match wins per field: Chase repair -> failure, the others -> value
    assert ev["demand_class"].to_list() == ["value", "failure", "value"]
    assert ev["preventable"].to_list() == ["unknown", "yes", "unknown"]
    assert ev["demand_type"].to_list() == ["repairs"] * 3
    # unmapped columns are attributes, values verbatim; lines are source rows
    assert ev["attr_ward"].to_list() == ["North", "North", "South"]
    assert ev["attr_channel"].to_list() == ["phone", "phone", "web"]
    assert ev["source_row"].to_list() == [2, 3, 4]
    # the same identifier gives the same pseudonym: A1's two events link
    assert ev["person_id"].n_unique() == 2
    assert ev["case_id"].to_list() == ev["person_id"].to_list()
    assert "A1" not in ev["person_id"].to_list()


def test_mapped_category_column_wins_over_rules_and_bad_values_are_rejected(write, tmp_path):
    text = (
        "who,what,when,k\n"
        "A1,call,2024-01-02 09:00,Contact\n"
        "A1,call,2024-01-02 09:00,\n"
        "A1,call,2024-01-02 09:00,chat\n"
    )
    m = mapping(fields={"kind": "k"}, rules=[{"activity": "call", "kind": "assessment"}])
    _, ds = _import(write("k.csv", text), m, tmp_path)
    ev = ds.events().collect().sort("source_row")
    assert ev["kind"].to_list() == ["contact", "assessment"]
    rej = ds.rejects().collect()
    assert rej["line"].to_list() == [4]
    assert rej["field"].to_list() == ["kind"]
    # A value not in the list is withheld (it may be part of a shifted name): its
    # shape and the closest allowed value say what to fix.
    assert rej["reason"][0].startswith("kind (withheld: 4 letters) is not one of contact")


def test_row_problems_become_rejects_and_the_import_goes_on(write, tmp_path):
    future = (dt.datetime.now(UTC) + dt.timedelta(days=30)).strftime("%Y-%m-%d %H:%M")
    soon = (dt.datetime.now(UTC) + dt.timedelta(hours=2)).strftime("%Y-%m-%d %H:%M")
    text = (
        "who,what,when,id\n"
        "A1,call,2024-01-02 09:00,e1\n"  # 2 ok
        "A1,call,yesterday,e2\n"  # 3 unparseable
        "A1,call,1899-12-31 23:59,e3\n"  # 4 before 1900
        f"A1,call,{future},e4\n"  # 5 future beyond tolerance
        f"A1,call,{soon},e5\n"  # 6 within the 1 day tolerance: ok
        ",call,2024-01-02 09:00,e6\n"  # 7 missing person
        "A1,,2024-01-02 09:00,e7\n"  # 8 missing activity
        "A1,call,,e8\n"  # 9 missing timestamp
        "A1,call,2024-01-02 09:00,e1\n"  # 10 duplicate event id
        "A1,call,2024-01-02 09:00\n"  # 11 too few fields
        "A1,call,2024-01-02 09:00,e9,extra\n"  # 12 too many fields
        "\n"  # 13 blank: not a record
        "A1,call,2024-01-03 09:00,e10\n"  # 14 ok
    )
    entry, ds = _import(write("bad.csv", text), mapping(fields={"event_id": "id"}), tmp_path)
    assert (entry.read, entry.accepted, entry.rejected) == (12, 3, 9)
    rej = ds.rejects().collect().sort("line")
    assert rej["line"].to_list() == [3, 4, 5, 7, 8, 9, 10, 11, 12]
    assert rej["field"].to_list() == [
        "timestamp",
        "timestamp",
        "timestamp",
        "person_id",
        "activity",
        "timestamp",
        "event_id",
        "(record)",
        "(record)",
    ]
    reasons = rej["reason"].to_list()
    assert "timestamp (withheld: 9 letters) does not match" in reasons[0]
    assert "before 1900" in reasons[1]
    assert "in the future beyond the tolerance of 1d" in reasons[2]
    assert reasons[3].startswith("missing person_id")
    assert reasons[5].startswith("missing timestamp")
    assert reasons[6].startswith("duplicate event_id")
    assert reasons[7].startswith("3 fields where the header has 4")
    assert reasons[8].startswith("5 fields where the header has 4")
    assert set(rej["file"]) == {str(tmp_path / "bad.csv")}
    ev = ds.events().collect()
    assert sorted(ev["source_row"].to_list()) == [2, 6, 14]


def test_future_tolerance_is_configurable(write, tmp_path):
    soon = (dt.datetime.now(UTC) + dt.timedelta(hours=2)).strftime("%Y-%m-%d %H:%M")
    m = mapping(timestamp={"future_tolerance": "1h", "zone": "UTC"})
    entry, _ = _import(write("f.csv", f"who,what,when\nA,b,{soon}\n"), m, tmp_path)
    assert entry.rejected == 1


def test_reject_row_shows_pseudonyms_and_the_values_accepted_rows_hold(write, tmp_path):
    text = "who,what,when\nA1,call,2024-01-02 09:00\nNHS9434765919,call,never\n"
    _, ds = _import(write("r.csv", text), mapping(), tmp_path)
    row = json.loads(ds.rejects().collect()["row"][0])
    # "call" is an activity of an accepted row; "never" is no date (and the
    # timestamps of accepted rows are not kept as text): withheld, with its shape.
    assert row["what"] == "call" and row["when"] == "(withheld, not a date or time: 5 letters)"
    assert row["who"] != "NHS9434765919" and len(row["who"]) == 32


@pytest.mark.parametrize("chunk", [None, 40])
def test_quoted_fields_and_multiline_values_keep_line_numbers(write, tmp_path, monkeypatch, chunk):
    if chunk:
        monkeypatch.setattr(readers, "CHUNK_BYTES", chunk)
    text = (
        "who,what,when,note\n"
        'A1,"call, then visit",2024-01-02 09:00,"said ""hi"""\n'
        'A2,call,2024-01-02 09:00,"two\nlines"\n'
        "A3,call,2024-01-02 09:00,x,y\n"
        'A4,call,2024-01-02 09:00,"end"\n'
    )
    entry, ds = _import(write("q.csv", text), mapping(), tmp_path)
    assert (entry.read, entry.accepted, entry.rejected) == (4, 3, 1)
    ev = ds.events().collect().sort("source_row")
    assert ev["activity"].to_list() == ["call, then visit", "call", "call"]
    assert ev["attr_note"].to_list() == ['said "hi"', "two\nlines", "end"]
    assert ev["source_row"].to_list() == [2, 3, 6]
    assert ds.rejects().collect()["line"].to_list() == [5]


def test_delimiter_bom_gzip_rename_and_latin1(write, tmp_path):
    body = "Tenant Ref;what;when\nA1;Réparation;2024-01-02 09:00\n"
    m = mapping(csv={"delimiter": ";", "rename": {"Tenant Ref": "who"}})
    bom = write("bom.csv", b"\xef\xbb\xbf" + body.encode())
    gz = write("g.csv.gz", gzip.compress(body.encode()))
    for p in (bom, gz):
        entry, ds = _import(p, m, tmp_path, name=p.stem)
        assert (entry.read, entry.accepted) == (1, 1)
        assert ds.events().collect()["activity"].to_list() == ["Réparation"]
    latin = write("l.csv", body.encode("latin-1"))
    m1 = mapping(csv={"delimiter": ";", "rename": {"Tenant Ref": "who"}, "encoding": "latin-1"})
    entry, ds = _import(latin, m1, tmp_path, name="latin")
    assert ds.events().collect()["activity"].to_list() == ["Réparation"]
    # the same bytes read as UTF-8 stop with the line and what to do
    with pytest.raises(SourceError, match=r"line 2.*csv.encoding.*What to do"):
        import_sources([latin], m, tmp_path / "latin-as-utf8")


def test_no_header_with_named_columns(write, tmp_path):
    m = mapping(csv={"header": False, "columns": ["who", "what", "when"]})
    entry, ds = _import(write("n.csv", "A1,call,2024-01-02 09:00\n"), m, tmp_path)
    assert entry.accepted == 1
    assert ds.events().collect()["source_row"].to_list() == [1]


def test_structural_problems_stop_with_a_clear_message(write, tmp_path):
    with pytest.raises(SourceError, match=r"empty\.csv: the file is empty"):
        import_sources([write("empty.csv", "")], mapping(), tmp_path / "a")
    with pytest.raises(SourceError, match=r"unknown encoding 'klingon'.*What to do"):
        import_sources(
            [write("e.csv", CALLS)], mapping(csv={"encoding": "klingon"}), tmp_path / "b"
        )
    with pytest.raises(SourceError) as info:
        import_sources(
            [write("c.csv", "who,wat,when\nA1,call,2024-01-02 09:00\n")], mapping(), tmp_path / "c"
        )
    msg = str(info.value)
    assert "field 'fields.activity'" in msg and "'what'" in msg and "did you mean 'wat'" in msg
    assert "A1" not in msg
    # nothing was half-written
    assert open_dataset(tmp_path / "c").manifest.sources == []


def test_several_sources_append_with_their_own_manifest_entries(write, tmp_path):
    a = write("a.csv", CALLS)
    b = write("b.csv", "who,what,when\nA1,claim,2024-02-01 09:00\n")
    import_sources([a], mapping(), tmp_path / "ds")
    m2 = mapping(constants={"service": "Benefits"})
    import_sources([b], m2, tmp_path / "ds")
    ds = open_dataset(tmp_path / "ds")
    s1, s2 = ds.manifest.sources
    assert (s1.id, s2.id) == ("s0001", "s0002")
    assert s1.sha256 == hashlib.sha256(a.read_bytes()).hexdigest()
    assert s2.mapping["constants"] == {"service": "Benefits"}
    assert s1.mapping_sha256 != s2.mapping_sha256
    assert (s1.read, s2.read) == (3, 1)
    ev = ds.events().collect()
    # A1 in housing and in benefits is one person: the journey crosses the silo
    a1 = ev.filter(pl.col("activity") == "claim")["person_id"][0]
    assert set(ev.filter(pl.col("person_id") == a1)["service"]) == {"Housing", "Benefits"}


def test_text_is_kept_only_when_the_mapping_opts_in(write, tmp_path):
    text = (
        "who,what,when,said\n"
        "A1,call,2024-01-02 09:00,my boiler is broken again\n"
        "A1,call,never,again\n"
    )
    p = write("t.csv", text)
    _, ds = _import(p, mapping(fields={"text": "said"}), tmp_path, name="dropped")
    ev = ds.events().collect()
    assert ev["text"].to_list() == [None]
    assert "attr_said" not in ev.columns
    assert "again" not in ds.rejects().collect()["row"][0]
    _, ds = _import(
        p, mapping(fields={"text": "said"}, privacy={"keep_text": True}), tmp_path, name="kept"
    )
    assert ds.events().collect()["text"].to_list() == ["my boiler is broken again"]


def test_parquet_source_with_typed_columns(tmp_path):
    frame = pl.DataFrame(
        {
            "who": ["A1", "A2", None],
            "what": ["call", "visit", "call"],
            "when": [
                dt.datetime(2024, 1, 2, 9),
                dt.datetime(2024, 7, 2, 9),
                dt.datetime(2024, 1, 3),
            ],
            "cost": [12.5, None, 3.0],
            "size": [1, 2, 3],
        }
    )
    frame.write_parquet(tmp_path / "s.parquet")
    m = mapping(fields={"cost": "cost"})
    entry, ds = _import(tmp_path / "s.parquet", m, tmp_path)
    assert (entry.read, entry.accepted, entry.rejected) == (3, 2, 1)
    ev = ds.events().collect().sort("source_row")
    # naive datetimes are read in the mapping's zone (London: BST in July)
    assert ev["timestamp"].to_list() == [
        dt.datetime(2024, 1, 2, 9, tzinfo=UTC),
        dt.datetime(2024, 7, 2, 8, tzinfo=UTC),
    ]
    assert ev["cost"].to_list() == [12.5, None]
    assert ev["attr_size"].to_list() == [1, 2]
    assert ds.rejects().collect()["line"].to_list() == [3]


def test_bad_cost_is_rejected(write, tmp_path):
    m = mapping(fields={"cost": "c"})
    entry, ds = _import(
        write("c.csv", "who,what,when,c\nA,b,2024-01-01 00:00,12.5\nA,b,2024-01-01 00:00,lots\n"),
        m,
        tmp_path,
    )
    assert (entry.accepted, entry.rejected) == (1, 1)
    assert ds.rejects().collect()["reason"][0] == "cost (withheld: 4 letters) is not a number"


def test_the_same_file_twice_is_refused_and_nothing_is_written(write, tmp_path):
    path = write(
        "twice.csv", "who,what,when\nA1,call,2024-01-02 09:00\nB2,visit,2024-01-03 10:00\n"
    )
    m = mapping()
    (first,) = import_sources([path], m, tmp_path / "ds")
    with pytest.raises(SourceError) as err:
        import_sources([path], m, tmp_path / "ds")
    message = str(err.value)
    assert "twice.csv" in message and first.id in message and "--allow-duplicate" in message
    ds = open_dataset(tmp_path / "ds")
    assert len(ds.manifest.sources) == 1 and ds.events().collect().height == 2
    assert not list((tmp_path / "ds").glob(".staging-*"))
    # A copy under another name is the same content: refused too.
    copy = write("copy.csv", path.read_text())
    with pytest.raises(SourceError):
        import_sources([copy], m, tmp_path / "ds")
    # Asked for, it is appended as a new source.
    (again,) = import_sources([copy], m, tmp_path / "ds", allow_duplicate=True)
    assert again.id != first.id
    assert open_dataset(tmp_path / "ds").events().collect().height == 4


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.tuples(st.sampled_from(["e1", "e2", "e3", "e4", ""]), st.booleans()),
        min_size=1,
        max_size=30,
    ),
    chunk=st.integers(20, 200),
)
def test_duplicate_event_ids_across_batches(tmp_path_factory, rows, chunk):
    """Batches of a few lines: an id is a duplicate when an earlier accepted row has it.

    Rows with a bad timestamp are rejected for that and do not make a later
    row with their id a duplicate; rows without an id are never duplicates.
    """
    folder = tmp_path_factory.mktemp("dup")
    lines = ["who,what,when,id"] + [
        f"A{i},call,{'2024-01-02 09:00' if good else 'never'},{eid}"
        for i, (eid, good) in enumerate(rows)
    ]
    path = folder / "d.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    accepted, seen = [], set()
    for i, (eid, good) in enumerate(rows):
        if good and (not eid or eid not in seen):
            accepted.append(i + 2)
            if eid:
                seen.add(eid)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(readers, "CHUNK_BYTES", chunk)
        (entry,) = import_sources([path], mapping(fields={"event_id": "id"}), folder / "ds")
    assert entry.read == len(rows) and entry.accepted == len(accepted)
    ev = open_dataset(folder / "ds").events().collect()
    assert sorted(ev["source_row"].to_list()) == accepted
