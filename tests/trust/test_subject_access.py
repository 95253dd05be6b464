"""Subject access (export) and erasure of one pseudonymised person across datasets."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from systemic.data import open_dataset, write_dataset
from systemic.data.pseudonymise import load_key
from systemic.store.subject_access import (
    erase_person,
    erasure_notes,
    export_person,
    person_digest,
    pseudonym_for,
)


def _dataset(folder: Path, people: list[str], source: str) -> Path:
    events = pl.DataFrame(
        {
            "person_id": people,
            "service": ["Adult social care"] * len(people),
            "activity": [f"step {i}" for i in range(len(people))],
            "timestamp": [datetime(2026, 1, 1 + i, tzinfo=UTC) for i in range(len(people))],
        }
    )
    people_table = pl.DataFrame({"person_id": sorted(set(people)), "locality": "Northgate"})
    write_dataset(events, folder, source_name=source, people=people_table)
    return folder


def test_export_then_erase_across_two_datasets(tmp_path: Path) -> None:
    key = load_key()
    clear = "NHS 943 476 5919"
    target = key.pseudonym(clear)
    assert pseudonym_for(clear) == target
    others = [key.pseudonym(f"someone {i}") for i in range(3)]
    a = _dataset(tmp_path / "a", [target, others[0], target, others[1], target], "repairs")
    b = _dataset(tmp_path / "b", [others[2], target], "care")

    record = export_person(target, [a, b])
    assert record.events.height == 4 and set(record.events["person_id"]) == {target}
    assert sorted(record.events["dataset"].to_list()) == [str(a)] * 3 + [str(b)]
    assert record.people.height == 2
    written = record.write(tmp_path / "request")
    assert all(p.exists() for p in written)

    report = erase_person(target, a)
    assert (report.events_removed, report.people_removed) == (3, 1)
    erase_person(target, b)
    assert export_person(target, [a, b]).events.height == 0
    for folder, left in ((a, 2), (b, 1)):
        dataset = open_dataset(folder)
        events = dataset.events().collect()
        assert events.height == left and target not in set(events["person_id"])
        (source,) = dataset.manifest.sources
        assert source.accepted == left and source.read == source.accepted + source.rejected
        (note,) = erasure_notes(folder)
        assert note["person"] == person_digest(target)
    # Other people's rows are untouched, in order.
    remaining = set(open_dataset(a).events().collect()["person_id"])
    assert remaining == {others[0], others[1]}
    # Neither the clear id nor the pseudonym is written anywhere in the datasets.
    for folder in (a, b):
        for path in folder.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                assert clear.encode() not in data and target.encode() not in data, path
    # Erasing again changes nothing.
    assert erase_person(target, a).events_removed == 0
    assert len(erasure_notes(a)) == 1


def test_rejected_rows_of_the_person_are_exported_and_erased(tmp_path: Path) -> None:
    from systemic.data import import_sources

    key = load_key()
    csv = tmp_path / "contacts.csv"
    csv.write_text(
        "who,what,when\n"
        "NHS 111,call,2026-01-02 09:00\n"
        "NHS 111,call,not a date\n"  # rejected: names the person (pseudonymised)
        "NHS 222,call,2026-01-03 09:00\n"
        "NHS 222,visit,32/13/2026\n"  # rejected: someone else
        "NHS 111,visit,2026-01-04 09:00\n",
        encoding="utf-8",
    )
    mapping = tmp_path / "m.toml"
    mapping.write_text(
        '[fields]\nperson_id = "who"\nactivity = "what"\ntimestamp = "when"\n'
        '[constants]\nservice = "Housing"\n'
        '[timestamp]\nformats = ["%Y-%m-%d %H:%M"]\nzone = "UTC"\n'
        '[privacy]\nidentifiers = ["who"]\n',
        encoding="utf-8",
    )
    folder = tmp_path / "ds"
    (entry,) = import_sources([csv], mapping, folder)
    assert (entry.read, entry.accepted, entry.rejected) == (5, 3, 2)
    target, other = key.pseudonym("NHS 111"), key.pseudonym("NHS 222")

    record = export_person(target, [folder])
    assert record.events.height == 2
    assert record.rejects["line"].to_list() == [3]
    assert target in record.rejects["row"][0]
    paths = record.write(tmp_path / "request")
    assert paths[2].name == "rejects.csv" and target in paths[2].read_text()

    report = erase_person(target, folder)
    assert (report.events_removed, report.rejects_removed) == (2, 1)
    dataset = open_dataset(folder)
    (source,) = dataset.manifest.sources
    assert (source.read, source.accepted, source.rejected) == (2, 1, 1)
    rejects = dataset.rejects().collect()
    assert rejects["line"].to_list() == [5] and other in rejects["row"][0]
    for path in folder.rglob("*"):
        if path.is_file():
            assert target.encode() not in path.read_bytes(), path
    (note,) = erasure_notes(folder)
    assert (note["events_removed"], note["rejects_removed"]) == (2, 1)
