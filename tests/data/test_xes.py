"""The XES reader: the real receipt log against pm4py, every feature on small files."""

from __future__ import annotations

import gzip
import textwrap
import warnings
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from systemic.data.errors import SourceError
from systemic.data.xes import XesSummary, iter_xes, read_xes

RECEIPT = "receipt_wabo.xes.gz"


def _write(tmp_path: Path, text: str, name: str = "log.xes") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def _lines_of(path: Path, needle: str) -> list[int]:
    text = path.read_text(encoding="utf-8")
    return [i for i, line in enumerate(text.splitlines(), 1) if needle in line]


# --- the real log, checked against pm4py (a dev-only reference) -------------


@pytest.fixture(scope="module")
def receipt(real_data: Path) -> tuple[pl.DataFrame, XesSummary]:
    summary = XesSummary()
    return read_xes(real_data / RECEIPT, summary=summary), summary


@pytest.fixture(scope="module")
def receipt_pm4py(real_data: Path):
    pm4py = pytest.importorskip("pm4py")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pm4py.read_xes(str(real_data / RECEIPT), return_legacy_log_object=False)


def test_receipt_counts_match_pm4py(receipt, receipt_pm4py):
    frame, summary = receipt
    assert (summary.traces, summary.events, summary.empty_traces) == (1434, 8577, 0)
    assert frame.height == 8577
    assert frame["case:concept:name"].n_unique() == 1434
    assert len(receipt_pm4py) == frame.height
    assert receipt_pm4py["case:concept:name"].nunique() == frame["case:concept:name"].n_unique()


def test_receipt_values_match_pm4py_event_by_event(receipt, receipt_pm4py):
    frame, _ = receipt
    ref = receipt_pm4py
    # pm4py keeps file order within the whole log; so do we.
    for ours, theirs in [
        ("case:concept:name", "case:concept:name"),
        ("concept:name", "concept:name"),
        ("org:resource", "org:resource"),
        ("org:group", "org:group"),
        ("case:department", "case:department"),
    ]:
        assert frame[ours].to_list() == ref[theirs].astype(str).tolist(), ours
    ours_ts = frame.select(
        pl.col("time:timestamp").str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%:z", time_zone="UTC")
    )["time:timestamp"].to_list()
    theirs_ts = [t.to_pydatetime() for t in ref["time:timestamp"]]
    assert ours_ts == theirs_ts


def test_receipt_raw_values_and_lines(receipt, real_data):
    frame, _ = receipt
    first = frame.row(0, named=True)
    # Hand-read from the file: the first trace starts at line 1798, its first
    # event at line 1807.
    assert first["__line"] == 1807
    assert first["case:concept:name"] == "case-10011"
    assert first["time:timestamp"] == "2011-10-11T13:45:40.276+02:00"
    assert first["case:channel"] == "Internet"
    assert frame["__line"].is_sorted()
    assert frame.schema["__line"] == pl.Int64
    assert all(dtype == pl.String for name, dtype in frame.schema.items() if name != "__line")


def test_receipt_trace_globals_fill_missing_group(receipt, real_data):
    frame, _ = receipt
    # The trace-scope global declares group="UNKNOWN"; 825 traces lack it.
    missing = frame.filter(pl.col("case:group") == "UNKNOWN")["case:concept:name"].n_unique()
    plain = read_xes(real_data / RECEIPT, apply_globals=False)
    assert plain["case:group"].null_count() > 0
    assert missing == plain.filter(pl.col("case:group").is_null())["case:concept:name"].n_unique()
    assert missing == 1434 - 610 + 1  # 610 <string key="group"> lines, one in the global


def test_receipt_batches_concatenate_to_the_whole(receipt, real_data):
    frame, _ = receipt
    batches = list(iter_xes(real_data / RECEIPT, batch_rows=1000))
    assert len(batches) >= 8
    assert all(b.height <= 1000 for b in batches)
    whole = pl.concat(batches, how="diagonal").select(frame.columns)
    assert whole.equals(frame)


# --- features on hand-written files ----------------------------------------

TYPES = """
<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1849-2016" xmlns="http://www.xes-standard.org/">
  <extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>
  <classifier name="Activity" keys="concept:name"/>
  <string key="concept:name" value="the log"/>
  <trace>
    <string key="concept:name" value="c1"/>
    <int key="age" value="42"/>
    <event>
      <string key="concept:name" value="Call &amp; &lt;triage&gt; caf&#233;"/>
      <date key="time:timestamp" value="2024-01-02T09:00:00.000+01:00"/>
      <int key="count" value="-3"/>
      <float key="cost" value="1.5E3"/>
      <boolean key="urgent" value="true"/>
      <id key="ref" value="9f0c1b2e-0000-4000-8000-000000000000"/>
    </event>
    <event>
      <string key="concept:name" value="Visit"/>
    </event>
  </trace>
</log>
"""


def test_every_attribute_type_is_kept_as_written(tmp_path):
    path = _write(tmp_path, TYPES)
    summary = XesSummary()
    frame = read_xes(path, summary=summary)
    assert frame.columns == [
        "__line",
        "case:concept:name",
        "case:age",
        "concept:name",
        "time:timestamp",
        "count",
        "cost",
        "urgent",
        "ref",
    ]
    row = frame.row(0, named=True)
    assert row == {
        "__line": _lines_of(path, "<event>")[0],
        "case:concept:name": "c1",
        "case:age": "42",
        "concept:name": "Call & <triage> café",
        "time:timestamp": "2024-01-02T09:00:00.000+01:00",
        "count": "-3",
        "cost": "1.5E3",
        "urgent": "true",
        "ref": "9f0c1b2e-0000-4000-8000-000000000000",
    }
    # Trace attributes flow to every event; missing event attributes are null.
    assert frame["case:age"].to_list() == ["42", "42"]
    assert frame["cost"].to_list() == ["1.5E3", None]
    assert frame["__line"].to_list() == _lines_of(path, "<event>")
    # Extensions and classifiers give no columns; log attributes go to the summary.
    assert summary.log_attributes == {"concept:name": "the log"}
    assert summary.xes_version == "1849-2016"


NESTED = """
<log>
  <trace>
    <string key="concept:name" value="c1"/>
    <string key="address" value="home">
      <string key="postcode" value="AB1 2CD"/>
      <container key="geo">
        <float key="lat" value="51.5"/>
        <float key="lon" value="-0.1"/>
      </container>
    </string>
    <event>
      <string key="concept:name" value="Call"/>
      <list key="tags">
        <values>
          <string key="tag" value="housing"/>
          <string key="tag" value="repeat"/>
          <string key="tag" value="urgent"/>
        </values>
      </list>
      <string key="concept:name" value="Call again"/>
    </event>
  </trace>
</log>
"""


def test_nested_attributes_are_flattened_with_colons_and_repeats_numbered(tmp_path):
    frame = read_xes(_write(tmp_path, NESTED))
    row = frame.row(0, named=True)
    assert row["case:address"] == "home"
    assert row["case:address:postcode"] == "AB1 2CD"
    assert row["case:address:geo:lat"] == "51.5"
    assert row["case:address:geo:lon"] == "-0.1"
    assert "case:address:geo" not in row  # a container has no value of its own
    assert [row["tags:tag"], row["tags:tag#2"], row["tags:tag#3"]] == [
        "housing",
        "repeat",
        "urgent",
    ]
    assert "tags" not in row
    # A repeated key within one event is kept, not overwritten.
    assert (row["concept:name"], row["concept:name#2"]) == ("Call", "Call again")


GLOBALS = """
<log>
  <global scope="trace">
    <string key="department" value="UNKNOWN"/>
  </global>
  <global>
    <string key="org:resource" value="nobody"/>
    <string key="lifecycle:transition" value="complete"/>
  </global>
  <trace>
    <string key="concept:name" value="c1"/>
    <event>
      <string key="concept:name" value="a"/>
      <string key="org:resource" value="Ann"/>
    </event>
    <event>
      <string key="concept:name" value="b"/>
      <string key="lifecycle:transition" value="start"/>
    </event>
  </trace>
  <trace>
    <string key="concept:name" value="c2"/>
    <string key="department" value="Housing"/>
    <event><string key="concept:name" value="c"/></event>
  </trace>
</log>
"""


def test_global_defaults_fill_only_missing_keys(tmp_path):
    path = _write(tmp_path, GLOBALS)
    frame = read_xes(path)
    assert frame["org:resource"].to_list() == ["Ann", "nobody", "nobody"]
    assert frame["lifecycle:transition"].to_list() == ["complete", "start", "complete"]
    assert frame["case:department"].to_list() == ["UNKNOWN", "UNKNOWN", "Housing"]
    plain = read_xes(path, apply_globals=False)
    assert plain["org:resource"].to_list() == ["Ann", None, None]
    assert plain["case:department"].to_list() == [None, None, "Housing"]


EMPTY_AND_LOOSE = """
<log>
  <event><string key="concept:name" value="loose"/></event>
  <trace>
    <string key="concept:name" value="empty-one"/>
  </trace>
  <trace>
    <string key="concept:name" value="c1"/>
    <event><string key="concept:name" value="a"/></event>
  </trace>
  <trace/>
</log>
"""


def test_empty_traces_are_counted_and_events_outside_traces_kept(tmp_path):
    path = _write(tmp_path, EMPTY_AND_LOOSE)
    summary = XesSummary()
    frame = read_xes(path, summary=summary)
    assert frame["concept:name"].to_list() == ["loose", "a"]
    assert frame["case:concept:name"].to_list() == [None, "c1"]
    assert summary.traces == 3
    assert summary.empty_traces == 2
    assert summary.events == 2
    assert summary.events_outside_traces == 1
    lines = _lines_of(path, "<trace")
    assert summary.empty_trace_rows == [
        {"__line": lines[0], "case:concept:name": "empty-one"},
        {"__line": lines[2]},
    ]


def test_trace_attributes_after_events_still_flow_to_all_its_events(tmp_path):
    path = _write(
        tmp_path,
        """
        <log><trace>
          <event><string key="concept:name" value="a"/></event>
          <event><string key="concept:name" value="b"/></event>
          <string key="concept:name" value="late"/>
        </trace></log>
        """,
    )
    assert read_xes(path)["case:concept:name"].to_list() == ["late", "late"]


def test_namespace_prefixes_and_bom_and_latin1(tmp_path):
    prefixed = _write(
        tmp_path,
        """
        <x:log xmlns:x="http://www.xes-standard.org/"><x:trace>
          <x:string key="concept:name" value="c1"/>
          <x:event><x:string key="concept:name" value="a"/></x:event>
        </x:trace></x:log>
        """,
    )
    assert read_xes(prefixed).row(0, named=True)["case:concept:name"] == "c1"
    bom = tmp_path / "bom.xes"
    bom.write_bytes(b"\xef\xbb\xbf" + prefixed.read_bytes())
    assert read_xes(bom)["concept:name"].to_list() == ["a"]
    latin = tmp_path / "latin.xes"
    latin.write_bytes(
        '<?xml version="1.0" encoding="ISO-8859-1"?>\n<log><trace><event>'
        '<string key="concept:name" value="Café"/></event></trace></log>'.encode("latin-1")
    )
    assert read_xes(latin)["concept:name"].to_list() == ["Café"]


def test_gzip_is_detected_by_content_not_name(tmp_path):
    plain = _write(tmp_path, TYPES)
    expected = read_xes(plain)
    disguised = tmp_path / "really-gzip.xes"
    disguised.write_bytes(gzip.compress(plain.read_bytes()))
    misnamed = tmp_path / "really-plain.xes.gz"
    misnamed.write_bytes(plain.read_bytes())
    assert read_xes(disguised).equals(expected)
    assert read_xes(misnamed).equals(expected)


def test_batches_end_at_trace_boundaries_and_may_differ_in_columns(tmp_path):
    path = _write(
        tmp_path,
        """
        <log>
          <trace><string key="concept:name" value="c1"/>
            <event><string key="concept:name" value="a"/></event>
            <event><string key="concept:name" value="b"/></event>
          </trace>
          <trace><string key="concept:name" value="c2"/>
            <event><string key="concept:name" value="c"/><int key="n" value="1"/></event>
          </trace>
        </log>
        """,
    )
    batches = list(iter_xes(path, batch_rows=1))
    # A trace longer than a batch is split; otherwise batches end at trace ends.
    assert sum(b.height for b in batches) == 3
    whole = pl.concat(batches, how="diagonal")
    assert whole["n"].to_list() == [None, None, "1"]
    assert [b["concept:name"].to_list() for b in iter_xes(path, batch_rows=2)] == [
        ["a", "b"],
        ["c"],
    ]
    with pytest.raises(ValueError):
        iter_xes(path, batch_rows=0)


# --- bad input ---------------------------------------------------------------


def test_malformed_xml_names_line_and_column(tmp_path):
    path = _write(
        tmp_path,
        """
        <log>
          <trace>
            <event>
              <string key="concept:name" value="a">
            </event>
          </trace>
        </log>
        """,
    )
    with pytest.raises(SourceError) as info:
        read_xes(path)
    err = info.value
    # The <string> on line 4 is not closed: expat stops at </event>, line 5,
    # column 7 (1-based: four spaces of indent, then "</" before the mismatched name).
    assert (err.line, err.column) == (5, 7)
    assert err.path == str(path)
    assert "mismatched tag" in str(err)
    assert err.hint


def test_truncated_file_reports_where_it_stops(tmp_path):
    full = _write(tmp_path, TYPES).read_bytes()
    cut = tmp_path / "cut.xes.gz"
    cut.write_bytes(gzip.compress(full[: full.index(b"</trace>")]))
    with pytest.raises(SourceError) as info:
        read_xes(cut)
    assert info.value.line is not None and info.value.line > 5


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "empty"),
        (b"  \n\n ", "white space"),
        (b"case_id,activity,timestamp\n1,Call,2024-01-01\n", "not XML"),
        (b"<html><body>hello</body></html>", "not <log>"),
        (b'<?xml version="1.0"?>\n<!-- nothing -->\n', "no element found"),
    ],
)
def test_input_that_is_not_xes_gives_a_clear_hint(tmp_path, content, words):
    path = tmp_path / "source.xes"
    path.write_bytes(content)
    with pytest.raises(SourceError) as info:
        read_xes(path)
    assert words in str(info.value)
    assert info.value.hint


def test_damaged_gzip_and_missing_file(tmp_path):
    data = gzip.compress(_write(tmp_path, TYPES).read_bytes())
    truncated = tmp_path / "t.xes.gz"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(SourceError, match=r"gzip|malformed"):
        read_xes(truncated)
    corrupt = tmp_path / "c.xes.gz"
    corrupt.write_bytes(data[:20] + bytes(b ^ 0x55 for b in data[20:60]) + data[60:])
    with pytest.raises(SourceError):
        read_xes(corrupt)
    with pytest.raises(SourceError, match="not found"):
        read_xes(tmp_path / "absent.xes")


def test_unknown_encoding_is_a_source_error(tmp_path):
    path = tmp_path / "enc.xes"
    path.write_bytes(b'<?xml version="1.0" encoding="TF-8"?><log></log>')
    with pytest.raises(SourceError, match="encoding"):
        read_xes(path)


def test_event_inside_event_is_a_structural_error(tmp_path):
    path = _write(tmp_path, "<log><trace><event>\n<event></event></event></trace></log>")
    with pytest.raises(SourceError) as info:
        read_xes(path)
    assert info.value.line == 2


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    edits=st.lists(
        st.tuples(st.integers(0, 10_000), st.integers(0, 255), st.sampled_from("xdi")),
        min_size=1,
        max_size=4,
    ),
    compress=st.booleans(),
)
def test_mutated_bytes_raise_only_source_error(tmp_path, edits, compress):
    data = bytearray(TYPES.strip().encode("utf-8"))
    for position, byte, how in edits:
        i = position % (len(data) + 1)
        if how == "x" and i < len(data):
            data[i] = byte
        elif how == "d" and i < len(data):
            del data[i]
        else:
            data[i:i] = bytes([byte])
    payload = gzip.compress(bytes(data)) if compress else bytes(data)
    if compress and edits[0][2] == "x":  # also damage the compressed stream itself
        cut = edits[0][0] % len(payload)
        payload = payload[:cut] + bytes([edits[0][1]]) + payload[cut + 1 :]
    path = tmp_path / "fuzz.xes"
    path.write_bytes(payload)
    try:
        for batch in iter_xes(path, batch_rows=1):
            assert "__line" in batch.columns
    except SourceError as err:
        assert err.path == str(path)
