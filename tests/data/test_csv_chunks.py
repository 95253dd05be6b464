"""The CSV reader cuts files into chunks of whole lines: results must not depend on where.

The same text read with tiny chunks (a few bytes, so lines straddle every
boundary and some lines are longer than a chunk) and with one big chunk must
give the same records, the same line numbers and the same malformed lines.
"""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from systemic.data.mapping import CsvSection
from systemic.data.readers import LINE, iter_csv

_value = st.text(st.sampled_from('ab c9é,"\n'), max_size=12)


def _field(v: str) -> str:
    if any(ch in v for ch in ',"\n'):
        return '"' + v.replace('"', '""') + '"'
    return v


@st.composite
def _csv_text(draw: st.DrawFn) -> str:
    rows = draw(st.lists(st.lists(_value, min_size=3, max_size=3), min_size=1, max_size=25))
    lines = ["x,y,z"] + [",".join(_field(v) for v in row) for row in rows]
    if draw(st.booleans()):  # a malformed line somewhere
        at = draw(st.integers(1, len(lines)))
        lines.insert(at, "only,two")
    text = draw(st.sampled_from(["\n", "\r\n"])).join(lines)
    return text + draw(st.sampled_from(["", "\n"]))


def _read(path, chunk: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    batches = list(iter_csv(path, CsvSection(), chunk_bytes=chunk))
    frames = [b.frame for b in batches if b.frame.height]
    bad = [b.malformed.select(LINE) for b in batches if b.malformed.height]
    good = pl.concat(frames).sort(LINE) if frames else pl.DataFrame()
    return good, (pl.concat(bad).sort(LINE) if bad else pl.DataFrame())


@settings(max_examples=80, deadline=None)
@given(text=_csv_text(), chunk=st.integers(min_value=1, max_value=40))
def test_tiny_chunks_read_the_same_as_one_chunk(tmp_path_factory, text, chunk):
    path = tmp_path_factory.mktemp("chunks") / "f.csv"
    path.write_bytes(text.encode("utf-8"))
    whole_good, whole_bad = _read(path, 1 << 20)
    small_good, small_bad = _read(path, chunk)
    assert small_good.equals(whole_good)
    assert small_bad.equals(whole_bad)


def test_long_lines_and_no_final_newline(tmp_path):
    path = tmp_path / "f.csv"
    long = "v" * 100
    path.write_text(f"x,y,z\n1,{long},3\n4,5,6\n7,8,{long}", encoding="utf-8")
    good, bad = _read(path, 16)
    assert good[LINE].to_list() == [2, 3, 4]
    assert good["y"].to_list() == [long, "5", "8"]
    assert good["z"].to_list() == ["3", "6", long]
    assert bad.height == 0


@settings(max_examples=80, deadline=None)
@given(text=_csv_text(), lines=st.integers(min_value=1, max_value=4))
def test_chunks_cut_by_line_count_read_the_same(tmp_path_factory, text, lines):
    # A chunk of many short lines is cut into pieces of CHUNK_LINES lines; a quoted
    # value spanning lines must still carry on into the careful reader exactly.
    import pytest

    from systemic.data import readers

    path = tmp_path_factory.mktemp("lines") / "f.csv"
    path.write_bytes(text.encode("utf-8"))
    whole_good, whole_bad = _read(path, 1 << 20)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(readers, "CHUNK_LINES", lines)
        cut_good, cut_bad = _read(path, 1 << 20)
    assert cut_good.equals(whole_good)
    assert cut_bad.equals(whole_bad)
