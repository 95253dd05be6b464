"""No clear identifier from the input is written anywhere in the dataset."""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl
import pytest

from systemic.data import SourceError, import_sources, load_key, open_dataset

from .conftest import mapping

# Distinctive identifiers that cannot occur by chance in a pseudonym or a path.
IDS = ["NHS9434765919", "NHS4010232137", "TENANT-77-QX", "ZZ123456C"]


def _source() -> str:
    a, b, c, d = IDS
    return (
        "who,what,when,nino,note\n"
        f"{a},call,2024-01-02 09:00,{d},fine\n"
        f"{a},visit,not a time,{d},bad time\n"  # rejected: row keeps pseudonyms
        f"{b},call,2024-01-02 09:00,{d}\n"  # too few fields: malformed record
        f"{c},call,2024-01-02 09:00,{d},x,y\n"  # too many fields
        f"x,{c},call,2024-01-02 09:00,{a}\n"  # ids shifted out of their position
        f"{b},call,1800-01-01 00:00,{d},old\n"
    )


def _all_text_in(folder: Path) -> list[tuple[Path, str]]:
    """Every file's bytes as text, and every Parquet cell rendered as text."""
    out = []
    for f in sorted(p for p in folder.rglob("*") if p.is_file()):
        out.append((f, f.read_bytes().decode("latin-1")))
        if f.suffix == ".parquet":
            frame = pl.read_parquet(f)
            buf = io.StringIO()
            frame.select(pl.all().cast(pl.String)).write_csv(buf)
            out.append((f, buf.getvalue()))
    return out


def test_no_clear_identifier_in_any_file(write, tmp_path):
    src = write("people.csv", _source())
    m = mapping(privacy={"identifiers": ["nino"]})
    entry = import_sources([src], m, tmp_path / "ds")[0]
    assert entry.rejected == 5 and entry.accepted == 1
    texts = _all_text_in(tmp_path / "ds")
    assert len({f for f, _ in texts}) >= 3  # manifest, events, rejects
    for f, text in texts:
        for clear in IDS:
            assert clear not in text, f"{clear} found in {f}"
    # positive control: the pseudonyms are there, in events and in rejects
    key = load_key()
    ds = open_dataset(tmp_path / "ds")
    rows = "\n".join(ds.rejects().collect()["row"].to_list())
    assert key.pseudonym(IDS[1]) in rows and key.pseudonym(IDS[2]) in rows
    ev = ds.events().collect()
    assert ev["person_id"].to_list() == [key.pseudonym(IDS[0])]
    assert ev["attr_nino"].to_list() == [key.pseudonym(IDS[3])]


def test_error_messages_hold_no_identifier(write, tmp_path):
    src = write("people.csv", _source())
    bad_mapping = mapping(fields={"activity": "wot"})
    with pytest.raises(SourceError) as info:
        import_sources([src], bad_mapping, tmp_path / "ds")
    broken = write("broken.csv", _source().encode("utf-8") + b"\xff\xfe broken\n")
    with pytest.raises(SourceError) as info2:
        import_sources([broken], mapping(), tmp_path / "ds2")
    for msg in (str(info.value), str(info2.value)):
        for clear in IDS:
            assert clear not in msg
