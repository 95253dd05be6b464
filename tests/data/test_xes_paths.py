"""The XES reader's two paths give the same rows.

``iter_xes`` reads files written one element per line (nearly all XES) with a
line-oriented fast path and falls back to the general expat reader for any
other layout. The expat reader is the reference here: every generated file
must give identical rows and summaries through both.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from systemic.data import xes
from systemic.data.xes import XesSummary, iter_xes


def _reference(path: Path, apply_globals: bool = True) -> tuple[pl.DataFrame | None, dict]:
    summary = XesSummary()
    reader = xes._XesReader(path, 10**9, summary, apply_globals)
    batches = list(reader.batches())
    found = asdict(summary)
    found.pop("batches")
    return (pl.concat(batches, how="diagonal") if batches else None), found


def _ours(path: Path, batch_rows: int, apply_globals: bool = True):
    summary = XesSummary()
    batches = list(iter_xes(path, batch_rows, summary=summary, apply_globals=apply_globals))
    assert all(b.height <= batch_rows for b in batches if b.height > 1)
    found = asdict(summary)
    assert found.pop("batches") == len(batches)
    return (pl.concat(batches, how="diagonal") if batches else None), found


def _same(a: pl.DataFrame | None, b: pl.DataFrame | None, exact_order: bool) -> None:
    if a is None or b is None:
        assert a is None and b is None
        return
    if not exact_order:
        a, b = a.select(sorted(a.columns)), b.select(sorted(b.columns))
    assert a.columns == b.columns
    assert a.schema == b.schema
    assert a.equals(b)


def test_receipt_log_takes_the_fast_path_and_agrees(real_data):
    path = real_data / "receipt_wabo.xes.gz"
    summary = XesSummary()
    fast = list(xes._line_batches(path, 10**9, summary, True))  # raises if it cannot
    reference, expected = _reference(path)
    found = asdict(summary)
    found.pop("batches")
    assert found == expected
    _same(pl.concat(fast, how="diagonal"), reference, exact_order=True)


def test_fallback_after_batches_were_given_skips_them(tmp_path):
    simple = "".join(
        f'<trace>\n<string key="concept:name" value="c{i}"/>\n'
        f'<event>\n<string key="concept:name" value="a{i}"/>\n</event>\n</trace>\n'
        for i in range(6)
    )
    nested = (
        '<trace>\n<string key="concept:name" value="odd"/>\n<event>\n'
        '<string key="x" value="1"><string key="y" value="2"/></string>\n</event>\n</trace>\n'
    )
    path = tmp_path / "mixed.xes"
    path.write_text(f"<log>\n{simple * 400}{nested}</log>\n")
    reference, expected = _reference(path)
    ours, found = _ours(path, batch_rows=500)
    assert found == expected
    _same(ours, reference, exact_order=False)
    assert ours["x:y"].drop_nulls().to_list() == ["2"]


# --- generated files -----------------------------------------------------------

_KEYS = ["concept:name", "org:resource", "time:timestamp", "k", "k#2", "a b", "é"]
_TEXT = st.text(alphabet=st.sampled_from([*"ab zé&<>\"'\t;#", "\u2603"]), min_size=0, max_size=6)


def _escape(value: str, numeric: bool) -> str:
    out = []
    for ch in value:
        if ch == "&":
            out.append("&amp;")
        elif ch == "<":
            out.append("&lt;")
        elif ch == '"':
            out.append("&quot;" if not numeric else "&#34;")
        elif ch == ">" and numeric:
            out.append("&#x3E;")
        elif ch == "\t" and numeric:
            out.append("&#9;")
        else:
            out.append(ch)
    return "".join(out)


@st.composite
def _attribute(draw, indent: str) -> str:
    kind = draw(st.sampled_from(["string", "date", "int", "float", "boolean", "id"]))
    key = _escape(draw(st.sampled_from(_KEYS)), draw(st.booleans()))
    value = _escape(draw(_TEXT), draw(st.booleans()))
    space = draw(st.sampled_from(["", " "]))
    return f'{indent}<{kind} key="{key}" value="{value}"{space}/>'


@st.composite
def _xes_text(draw) -> str:
    out: list[str] = []
    if draw(st.booleans()):
        out.append('<?xml version="1.0" encoding="UTF-8"?>')
    if draw(st.booleans()):
        out.append("<!-- made for a test -->")
    out.append('<log xes.version="1.0">')
    for scope in draw(st.lists(st.sampled_from(["event", "trace"]), max_size=2, unique=True)):
        out.append(f'  <global scope="{scope}">')
        out.extend(draw(st.lists(_attribute("    "), max_size=3)))
        out.append("  </global>")
    if draw(st.booleans()):
        out.append('  <string key="concept:name" value="log"/>')
    odd = draw(st.sampled_from(["none", "none", "nested", "one-line", "loose-event"]))
    n_traces = draw(st.integers(0, 5))
    for t in range(n_traces):
        trace_attrs = draw(st.lists(_attribute("    "), max_size=3))
        events = draw(st.lists(st.lists(_attribute("      "), max_size=4), max_size=4))
        if not trace_attrs and not events and draw(st.booleans()):
            out.append("  <trace/>")
            continue
        out.append("  <trace>")
        out.extend(trace_attrs)
        for attrs in events:
            if not attrs and draw(st.booleans()):
                out.append("    <event/>")
                continue
            out.append("    <event>")
            out.extend(attrs)
            if draw(st.booleans()):
                out.append("")  # a blank line
            if t == 0 and odd == "nested":
                out.append('      <string key="p" value="1"><int key="q" value="2"/></string>')
            out.append("    </event>")
        if draw(st.booleans()):
            out.append("    <!-- a comment -->")
        if t == n_traces - 1 and odd == "one-line":
            out.append('    <event><string key="k" value="one line"/></event>')
        out.append("  </trace>")
        if t == 0 and odd == "loose-event":
            out.append('  <event><string key="k" value="loose"/></event>')
    out.append("</log>")
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    return newline.join(out) + newline


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=_xes_text(), batch_rows=st.integers(1, 6), apply_globals=st.booleans())
def test_generated_logs_read_the_same_on_both_paths(tmp_path, text, batch_rows, apply_globals):
    path = tmp_path / "gen.xes"
    path.write_bytes(text.encode("utf-8"))
    reference, expected = _reference(path, apply_globals)
    whole, found_whole = _ours(path, 10**9, apply_globals)
    assert found_whole == expected
    _same(whole, reference, exact_order=True)
    ours, found = _ours(path, batch_rows, apply_globals)
    assert found == expected
    _same(ours, reference, exact_order=False)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=_xes_text(), chunk=st.integers(1, 400), batch_rows=st.integers(1, 6))
def test_many_small_regions_read_the_same(tmp_path, text, chunk, batch_rows):
    """Reads of a few bytes cut the traces into many regions, processed two at a time."""
    path = tmp_path / "gen.xes"
    path.write_bytes(text.encode("utf-8"))
    reference, expected = _reference(path)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(xes, "LINE_CHUNK_BYTES", chunk)
        ours, found = _ours(path, batch_rows)
    assert found == expected
    _same(ours, reference, exact_order=False)


@pytest.mark.parametrize("layout", ["crlf", "blank-lines", "comments"])
def test_layout_variants_take_the_fast_path(tmp_path, layout):
    lines = [
        "<log>",
        "<trace>",
        '<string key="concept:name" value="c1"/>',
        "<event>",
        '<string key="concept:name" value="a &amp; b"/>',
        "</event>",
        "</trace>",
        "</log>",
    ]
    if layout == "blank-lines":
        lines = [x for line in lines for x in (line, "")]
    if layout == "comments":
        lines = [x for line in lines for x in (line, "<!-- note -->")]
    newline = "\r\n" if layout == "crlf" else "\n"
    path = tmp_path / "v.xes"
    path.write_bytes(newline.join(lines).encode())
    fast = pl.concat(list(xes._line_batches(path, 100, XesSummary(), True)))
    reference, _ = _reference(path)
    _same(fast, reference, exact_order=True)
    assert fast["concept:name"].to_list() == ["a & b"]


def test_trace_tags_inside_comments_do_not_confuse_the_fast_path(tmp_path):
    path = tmp_path / "commented.xes"
    path.write_text(
        "<log>\n<!--\n<trace>\n</trace>\n-->\n<trace>\n"
        '<string key="concept:name" value="c1"/>\n<event>\n'
        '<string key="concept:name" value="a"/>\n</event>\n</trace>\n<!-- </trace>\n-->\n</log>\n'
    )
    reference, expected = _reference(path)
    ours, found = _ours(path, 10)
    assert found == expected
    _same(ours, reference, exact_order=True)
    assert ours["case:concept:name"].to_list() == ["c1"]


# --- malformed input: the fast path must never accept what expat refuses --------

_ONE_PER_LINE = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<log xes.version="1.0">\n'
    b'  <global scope="event">\n    <string key="org:resource" value="nobody"/>\n  </global>\n'
    b"  <trace>\n"
    b'    <string key="concept:name" value="c1 &amp; &#233;"/>\n'
    b"    <event>\n"
    b'      <string key="concept:name" value="Call &lt;urgent&gt;"/>\n'
    b'      <date key="time:timestamp" value="2024-01-02T09:00:00+01:00"/>\n'
    b"    </event>\n"
    b"    <!-- a comment -->\n"
    b"    <event/>\n"
    b"  </trace>\n"
    b"  <trace/>\n"
    b"</log>\n"
)


def _outcome(read):
    try:
        frame, found = read()
    except xes.SourceError as err:
        return ("error", err.line, err.column, str(err))
    return ("rows", frame, found)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    edits=st.lists(
        st.tuples(
            st.integers(0, len(_ONE_PER_LINE)),
            st.sampled_from([*b"<>&\"'/-;#x\x00\x01\t\r\n a", 0xC3, 0xFF]),
            st.sampled_from("xdi"),
        ),
        min_size=1,
        max_size=3,
    )
)
def test_mutated_files_give_what_expat_gives(tmp_path, edits):
    data = bytearray(_ONE_PER_LINE)
    for position, byte, how in edits:
        i = min(position, len(data))
        if how == "x" and i < len(data):
            data[i] = byte
        elif how == "d" and i < len(data):
            del data[i]
        else:
            data[i:i] = bytes([byte])
    path = tmp_path / "m.xes"
    path.write_bytes(bytes(data))
    expected = _outcome(lambda: _reference(path))
    ours = _outcome(lambda: _ours(path, 10**9))
    assert ours[0] == expected[0]
    if ours[0] == "error":
        assert ours[1:] == expected[1:]
    else:
        assert ours[2] == expected[2]
        _same(ours[1], expected[1], exact_order=True)
