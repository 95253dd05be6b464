"""The three published logs import with the shipped mappings, every reject explained."""

from __future__ import annotations

import gzip
from pathlib import Path

import polars as pl
import pytest

from systemic.data import import_sources, inspect_dataset, load_mapping, open_dataset, parse_mapping

MAPPINGS = Path(__file__).resolve().parents[2] / "examples" / "mappings"


def test_sepsis(real_data, tmp_path):
    entry = import_sources([real_data / "sepsis.csv.gz"], MAPPINGS / "sepsis.toml", tmp_path / "d")[
        0
    ]
    raw = pl.read_csv(real_data / "sepsis.csv.gz", infer_schema=False)
    assert entry.read == raw.height == 15214
    # the only rejects: rows without a case id (explained in the mapping file)
    no_id = raw.with_row_index("line", offset=2).filter(pl.col("case_id").is_null())
    ds = open_dataset(tmp_path / "d")
    rej = ds.rejects().collect()
    assert entry.rejected == no_id.height == 24
    assert set(rej["field"]) == {"person_id"}
    assert rej["line"].sort().to_list() == no_id["line"].cast(pl.Int64).to_list()
    ev = ds.events().collect()
    assert ev["person_id"].n_unique() == raw["case_id"].drop_nulls().n_unique()
    # "Return ER" is failure demand by the mapping's rule
    ret = ev.filter(pl.col("activity") == "Return ER")
    assert ret.height == raw.filter(pl.col("activity") == "Return ER").height > 0
    assert set(ret["demand_class"]) == {"failure"}


def test_hospital_departments_form_one_journey(real_data, tmp_path):
    src = real_data / "hospital_bpic2011.csv.gz"
    entry = import_sources([src], MAPPINGS / "hospital_bpic2011.toml", tmp_path / "d")[0]
    assert (entry.read, entry.accepted, entry.rejected) == (150291, 150291, 0)
    raw = pl.read_csv(src, infer_schema=False)
    ev = open_dataset(tmp_path / "d").events().collect()
    assert ev["service"].n_unique() == raw["group"].n_unique() == 43  # 42 + empty
    assert ev.filter(pl.col("service") == "Unknown department").height == raw["group"].null_count()
    assert ev["person_id"].n_unique() == 1143
    # journeys cross silos: most patients meet more than one department
    per_person = ev.group_by("person_id").agg(pl.col("service").n_unique().alias("n"))
    assert per_person["n"].max() > 10
    # dates without a time and with 00:00:00 are the same calendar day
    assert ev["timestamp"].dt.minute().unique().to_list() == [0]
    assert str(ev["timestamp"].min().date()) == raw["timestamp"].min()[:10]
    # every source column is kept: 98 columns = 6 mapped + 92 attributes
    assert len([c for c in ev.columns if c.startswith("attr_")]) == 98 - 6


def test_receipt_xes(real_data, tmp_path):
    pytest.importorskip("systemic.data.xes")
    src = real_data / "receipt_wabo.xes.gz"
    entry = import_sources([src], MAPPINGS / "receipt_wabo.toml", tmp_path / "d")[0]
    assert (entry.read, entry.accepted, entry.rejected) == (8577, 8577, 0)
    s = inspect_dataset(tmp_path / "d")
    assert s.people == 1434
    assert s.activity_count == 27
    assert str(s.first.date()) == "2010-10-02" and str(s.last.date()) == "2012-01-23"
    # independent check: count events in the XML text
    with gzip.open(src, "rt", encoding="utf-8") as fh:
        assert sum(line.count("<event>") for line in fh) == 8577
    ev = open_dataset(tmp_path / "d").events().collect()
    assert set(ev["channel"]) >= {"Internet", "Desk", "Post"}
    assert "attr_case:department" in ev.columns


def test_receipt_xes_in_many_batches_imports_the_same(real_data, tmp_path, monkeypatch):
    """Batches of 1,000 events (the import holds several at once): same events, same order."""
    from systemic.data import readers

    src = real_data / "receipt_wabo.xes.gz"
    import_sources([src], MAPPINGS / "receipt_wabo.toml", tmp_path / "one")
    monkeypatch.setattr(readers, "XES_BATCH_ROWS", 1000)
    (entry,) = import_sources([src], MAPPINGS / "receipt_wabo.toml", tmp_path / "many")
    assert (entry.read, entry.accepted, entry.rejected) == (8577, 8577, 0)
    one = open_dataset(tmp_path / "one").events().collect()
    many = open_dataset(tmp_path / "many").events().collect()
    assert len(open_dataset(tmp_path / "many").event_files()) > 1
    assert many.drop("source").equals(one.drop("source"))


def test_mappings_record_in_manifest(real_data, tmp_path):
    m = load_mapping(MAPPINGS / "sepsis.toml")
    entry = import_sources([real_data / "sepsis.csv.gz"], m, tmp_path / "d")[0]
    assert entry.mapping_sha256 == m.digest()
    assert entry.notes["timestamp_zone"] == "Europe/Amsterdam"


def test_malformed_xes_stops_with_line_and_column(tmp_path):
    pytest.importorskip("systemic.data.xes")
    from systemic.data import SourceError

    bad = tmp_path / "bad.xes"
    bad.write_text(
        '<?xml version="1.0" encoding="UTF-8" ?>\n<log>\n<trace>\n'
        '<string key="concept:name" value="NHS9434765919"/>\n<event>\n'
        '<string key="concept:name" value="call"/>\n</trace>\n</log>\n'
    )
    with pytest.raises(SourceError) as info:
        import_sources([bad], MAPPINGS / "receipt_wabo.toml", tmp_path / "d")
    assert "line 7" in str(info.value) and "column" in str(info.value)
    assert "NHS9434765919" not in str(info.value)
    assert open_dataset(tmp_path / "d").manifest.sources == []


def _lifecycles_in_xml(path: Path) -> list[tuple[str, str]]:
    """(status, sub-status) of every event, read from the XML with the standard library.

    An event without a key takes the log's global default, as XES says.
    """
    import xml.etree.ElementTree as ET

    ns = "{http://www.xes-standard.org/}"
    defaults: dict[str, str] = {}
    found: list[tuple[str, str]] = []
    with gzip.open(path, "rb") as fh:
        for _, element in ET.iterparse(fh, events=("end",)):
            if element.tag == f"{ns}global" and element.get("scope") == "event":
                defaults = {a.get("key", ""): a.get("value", "") for a in element}
            elif element.tag == f"{ns}event":
                values = {**defaults, **{a.get("key", ""): a.get("value", "") for a in element}}
                found.append((values["concept:name"], values["lifecycle:transition"]))
                element.clear()
    return found


def test_bpic2013_filters_count_what_the_xml_holds(real_data, tmp_path):
    src = real_data / "bpic2013_incidents.xes.gz"
    events = _lifecycles_in_xml(src)
    unmatched = sum(1 for status, _ in events if status == "Unmatched")
    (entry,) = import_sources([src], MAPPINGS / "bpic2013_incidents.toml", tmp_path / "d")
    assert (entry.read, entry.rejected, entry.filtered) == (len(events), 0, unmatched)
    assert entry.accepted == len(events) - unmatched == 65533 - 5
    assert entry.filters[0]["rows"] == 5 and entry.filters[0]["activities"] == {"Unmatched": 5}
    ev = open_dataset(tmp_path / "d").events().collect()
    # the lifecycle rules, against the XML's own sub-statuses
    queued = sum(1 for _, sub in events if sub == "Awaiting Assignment")
    assert ev.filter(pl.col("kind") == "referral").height == queued
    closed = sum(
        1
        for status, sub in events
        if sub in ("Resolved", "Closed", "Cancelled") or (status, sub) == ("Completed", "In Call")
    )
    assert ev.filter(pl.col("kind") == "closure").height == closed

    # a lifecycle filter: keep only resolved and closed incidents' events
    m = load_mapping(MAPPINGS / "bpic2013_incidents.toml").model_dump()
    m["filters"] = [{"action": "keep", "lifecycle": ["resolved", "closed"]}]
    (kept,) = import_sources([src], parse_mapping(m), tmp_path / "k")
    others = sum(1 for _, sub in events if sub not in ("Resolved", "Closed"))
    assert (kept.filtered, kept.accepted) == (others, len(events) - others)
    assert kept.read == kept.accepted + kept.rejected + kept.filtered


def test_hospital_consults_are_classified_by_the_shipped_rules(real_data, tmp_path):
    src = real_data / "hospital_bpic2011.csv.gz"
    import_sources([src], MAPPINGS / "hospital_bpic2011.toml", tmp_path / "d")
    ev = open_dataset(tmp_path / "d").events().collect()
    raw = pl.read_csv(src, infer_schema=False, columns=["activity"])["activity"]
    # counted from the CSV: an intercollegial consult is a referral between departments,
    # every other consult a contact
    intercollegial = raw.str.starts_with("interc.consult")
    consult = raw.str.to_lowercase().str.contains("consult") & ~intercollegial
    assert ev.filter(pl.col("demand_type") == "intercollegial consult").height == 117
    assert intercollegial.sum() == 117
    assert ev.filter(pl.col("kind") == "contact").height == consult.sum() == 7978 - 117
    types = dict(ev.filter(pl.col("kind") == "contact")["demand_type"].value_counts().iter_rows())
    assert types["first consultation"] == raw.str.starts_with("1e consult").sum()
    assert types["follow-up consultation"] == (raw == "vervolgconsult poliklinisch").sum()
    assert types["telephone consultation"] == (raw == "telefonisch consult").sum()


def test_receipt_rules_name_every_activity(real_data, tmp_path):
    """Each of the 27 activities gets the kind its name says; counts from the XML."""
    src = real_data / "receipt_wabo.xes.gz"
    names = [name for name, _ in _lifecycles_in_xml(src)]
    assert len(names) == 8577
    expected = {"contact": 0, "referral": 0, "assessment": 0, "other": 0}
    for name in names:
        if name == "Confirmation of receipt":
            expected["contact"] += 1
        elif name.startswith(("T07", "T08", "T09")):
            expected["referral"] += 1
        elif name.split(" ")[1] in ("Check", "Determine"):
            expected["assessment"] += 1
        else:  # adjust, print, create, report
            expected["other"] += 1
    import_sources([src], MAPPINGS / "receipt_wabo.toml", tmp_path / "d")
    ev = open_dataset(tmp_path / "d").events().collect()
    assert dict(ev["kind"].value_counts().iter_rows()) == expected
    failure = ev.filter(pl.col("demand_class") == "failure")
    assert failure.height == sum(1 for n in names if " Adjust " in n) == 63
    assert ev.filter(pl.col("demand_class") == "value").height == expected["contact"] == 1434
