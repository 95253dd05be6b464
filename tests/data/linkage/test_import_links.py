"""An import mapping can take people from a link table instead of a shared person_id."""

from __future__ import annotations

import json

import polars as pl
import pytest

from systemic.data import (
    MappingError,
    SourceError,
    import_sources,
    load_key,
    open_dataset,
    parse_mapping,
)


def _mapping(links, **person):
    return parse_mapping(
        {
            "fields": {"person_id": "rec_id", "activity": "what", "timestamp": "when"},
            "constants": {"service": "Housing"},
            "person": {"links": str(links), **person},
        }
    )


def _events(path, ids):
    rows = ["rec_id,what,when"] + [
        f"{i},call,2024-01-0{n % 9 + 1} 09:00" for n, i in enumerate(ids)
    ]
    path.write_text("\n".join(rows) + "\n")
    return path


def test_linked_records_share_one_pseudonym_across_sources(small_link, tmp_path):
    _, _, _, result = small_link
    links = result.links
    two = (
        links.group_by("person_key")
        .agg("source", "record_id")
        .filter(pl.col("source").list.len() == 2)
    )
    sample = two.head(20)
    a_ids = [r[1][r[0].index("febrl4a")] for r in sample.select("source", "record_id").rows()]
    b_ids = [r[1][r[0].index("febrl4b")] for r in sample.select("source", "record_id").rows()]
    fa = _events(tmp_path / "febrl4a.csv", [*a_ids, "rec-not-linked"])
    fb = _events(tmp_path / "benefits_extract.csv", b_ids)
    ds_path = tmp_path / "ds"
    (ea,) = import_sources([fa], _mapping(result.out / "links.csv"), ds_path)
    (eb,) = import_sources([fb], _mapping(result.out / "links.csv", source="febrl4b"), ds_path)
    assert ea.accepted == 20 and ea.rejected == 1  # the id not in the link table
    assert eb.accepted == 20
    key = load_key()
    ev = open_dataset(ds_path).events().collect()
    expected = {key.pseudonym(k) for k in sample["person_key"].to_list()}
    per_source = ev.group_by("source").agg(pl.col("person_id").unique())
    sets = [set(s) for s in per_source["person_id"].to_list()]
    assert sets[0] == sets[1] == expected
    notes = json.loads((ds_path / "manifest.json").read_text())["sources"][0]["notes"]
    assert notes["linkage"]["threshold"] == result.threshold
    assert notes["linkage"]["links_source"] == "febrl4a"
    # no record id and no person key is written in clear
    text = "".join(p.read_bytes().decode("latin-1") for p in ds_path.rglob("*") if p.is_file())
    for clear in [*a_ids, *b_ids, *sample["person_key"].to_list()]:
        assert clear not in text


def test_link_table_errors(small_link, tmp_path):
    _, _, _, result = small_link
    f = _events(tmp_path / "waste.csv", ["x"])
    with pytest.raises(SourceError, match="no records of source 'waste'"):
        import_sources([f], _mapping(result.out / "links.csv"), tmp_path / "ds")
    with pytest.raises(SourceError, match="link table not found"):
        import_sources([f], _mapping(tmp_path / "none.csv"), tmp_path / "ds2")
    with pytest.raises(MappingError, match=r"person\.links"):
        parse_mapping(
            {
                "fields": {"person_id": "rec_id", "activity": "what", "timestamp": "when"},
                "constants": {"service": "Housing"},
                "person": {"source": "x"},
            }
        )


def test_record_ids_that_look_like_formulas_are_defused_and_still_link(tmp_path):
    # Issue 16 recheck: a silo's record id such as =HYPERLINK(...) went into
    # links.csv as it was, and a spreadsheet opening it would run it. It is written
    # with a ' in front, and the link table still maps the id itself.
    from systemic.data.linkage import link_files
    from tests.data.linkage.conftest import FEBRL_SETTINGS, write_febrl4

    pa, pb, _ = write_febrl4(tmp_path / "in", n=40)
    hostile = {}
    for p in (pa, pb):
        f = pl.read_csv(p, infer_schema=False)
        first = f.columns[0]
        hostile[p.stem] = f'=HYPERLINK("http://x","{p.stem}")'
        f.with_columns(
            pl.when(pl.int_range(pl.len()) == 0)
            .then(pl.lit(hostile[p.stem]))
            .otherwise(pl.col(first))
            .alias(first)
        ).write_csv(p)
    link_files([pa, pb], FEBRL_SETTINGS, tmp_path / "out")
    written = pl.read_csv(tmp_path / "out" / "links.csv", infer_schema=False)
    ids = written["record_id"].to_list()
    assert not [i for i in ids if i[:1] in "=+-@"]
    assert "'" + hostile["febrl4a"] in ids
    from systemic.data.linkage.lookup import person_keys

    keys = person_keys(pl.Series([hostile["febrl4a"]]), tmp_path / "out" / "links.csv", "febrl4a")
    assert keys.to_list()[0] is not None
