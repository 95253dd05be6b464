"""A rejected record's row shows no part of a name: hand-worked examples.

An unquoted comma in a name ("Lee, Ann") shifts every value after it, and when
a value is missing at the end the record still has the right number of fields:
the header cannot say where the name's parts went. The rule (docs/security.md,
systemic.data.withholding): a value is shown only if it is a pseudonym, a date
or time, a small number, or a value its column holds in the source's accepted
records; anything else becomes a marker with its shape, and the reason naming
the failing value follows the same rule.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from systemic.cli import app
from systemic.data import import_sources, load_key, open_dataset, parse_mapping

from .conftest import mapping

NAME_PARTS = ("Lee", "Ann", "Mary", "Neil", "Jo")


def _rejects(ds: Path) -> list[dict[str, object]]:
    return open_dataset(ds).rejects().collect().sort("line").to_dicts()


def _assert_no_name_part(rejects: list[dict[str, object]]) -> None:
    for r in rejects:
        for part in NAME_PARTS:
            assert part not in str(r["row"]), (part, r)
            assert part not in str(r["reason"]), (part, r)


def test_a_shifted_name_in_a_record_with_the_right_field_count_is_withheld(
    tmp_path: Path,
) -> None:
    # Line 4 was "P3","Lee, Ann",visit,2024-01-04 11:00,<no locality>: unquoted, it
    # still has five fields, and "Lee" lands in name, " Ann" in activity, "visit" in
    # date and the date in locality. The date check rejects it.
    path = tmp_path / "visits.csv"
    path.write_text(
        "person_id,name,activity,date,locality\n"
        "P1,Ann Lee,visit,2024-01-02 09:00,North\n"
        "P2,Bob Ray,call,2024-01-03 10:00,South\n"
        "P3,Lee, Ann,visit,2024-01-04 11:00\n"
    )
    m = parse_mapping(
        {
            "fields": {"person_id": "person_id", "activity": "activity", "timestamp": "date"},
            "constants": {"service": "Housing"},
            "privacy": {"identifiers": ["name"]},
        }
    )
    (entry,) = import_sources([path], m, tmp_path / "ds")
    assert (entry.read, entry.accepted, entry.rejected) == (3, 2, 1)
    (reject,) = _rejects(tmp_path / "ds")
    _assert_no_name_part([reject])
    key = load_key()
    assert reject["line"] == 4 and reject["field"] == "timestamp"
    # The reason says what to fix without the value: five letters are no date.
    assert reject["reason"] == "timestamp (withheld: 5 letters) does not match the format(s) iso"
    assert json.loads(str(reject["row"])) == {
        "person_id": key.pseudonym("P3"),
        "name": key.pseudonym("Lee"),
        "activity": "(withheld, not a value this column holds in accepted records: "
        "a space, 3 letters)",
        "date": "(withheld, not a date or time: 5 letters)",
        "locality": "2024-01-04 11:00",  # a date and time: shown, it says which record
    }


def test_a_record_rejected_for_a_bad_number_shows_only_what_cannot_be_a_name(
    tmp_path: Path,
) -> None:
    # Line 3 was P4,2024-01-05 09:00,"O'Neil, Mary",call,4.50 with no locality:
    # unquoted, " Mary" lands in activity, "call" in cost (no number) and the cost
    # in locality. The cost check rejects it.
    path = tmp_path / "costs.csv"
    path.write_text(
        "person_id,when,name,activity,cost,locality\n"
        "P1,2024-01-02 09:00,Jo Smith,call,12.50,North\n"
        "P4,2024-01-05 09:00,O'Neil, Mary,call,4.50\n"
    )
    m = mapping(
        fields={"person_id": "person_id", "activity": "activity", "cost": "cost"},
        privacy={"identifiers": ["name"]},
        timestamp={"zone": "UTC"},
    )
    (entry,) = import_sources([path], m, tmp_path / "ds")
    assert (entry.accepted, entry.rejected) == (1, 1)
    (reject,) = _rejects(tmp_path / "ds")
    _assert_no_name_part([reject])
    assert reject["field"] == "cost"
    assert reject["reason"] == "cost (withheld: 4 letters) is not a number"
    key = load_key()
    assert json.loads(str(reject["row"])) == {
        "person_id": key.pseudonym("P4"),
        "when": "2024-01-05 09:00",
        "name": key.pseudonym("O'Neil"),
        "activity": "(withheld, not a value this column holds in accepted records: "
        "a space, 4 letters)",
        "cost": "(withheld, not a number: 4 letters)",
        "locality": "4.50",  # a number with a decimal point: no identifier looks like it
    }


def test_values_are_shown_when_their_column_holds_them_in_accepted_records(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ok.csv"
    path.write_text(
        "who,what,when,locality,team,age,ref\n"
        "A1,Chase repair,2024-01-02 09:00,North,Repairs,42,CR-1\n"
        "A2,Chase repair,31/02/2024 11:00,North,Lettings,7,9434765919\n"
        "A3,Report repair,not known,Neilston,Repairs,103.5,X\n"
    )
    (entry,) = import_sources([path], mapping(), tmp_path / "ds")
    assert (entry.accepted, entry.rejected) == (1, 2)
    first, second = _rejects(tmp_path / "ds")
    # A date that does not exist is a date: the reason shows it.
    assert first["reason"] == (
        "timestamp '31/02/2024 11:00' does not match the format(s) iso, %d/%m/%Y %H:%M"
    )
    row = json.loads(str(first["row"]))
    assert row["what"] == "Chase repair" and row["locality"] == "North"  # held by line 2
    assert row["when"] == "31/02/2024 11:00" and row["age"] == "7"
    assert row["team"] == (
        "(withheld, not a value this column holds in accepted records: 8 letters)"
    )
    assert row["ref"] == (
        "(withheld, not a value this column holds in accepted records: 10 digits)"
    )
    row = json.loads(str(second["row"]))
    assert second["reason"] == (
        "timestamp (withheld: 3 letters, a space, 5 letters) does not match the format(s) "
        "iso, %d/%m/%Y %H:%M"
    )
    assert row["team"] == "Repairs" and row["age"] == "103.5"  # held; a decimal
    assert row["what"].startswith("(withheld") and row["locality"].startswith("(withheld")
    assert row["ref"] == "(withheld, not a value this column holds in accepted records: a letter)"
    _assert_no_name_part([first, second])


def test_a_value_is_looked_for_only_in_the_first_accepted_events(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The vocabulary check reads at most VOCABULARY_EVENTS accepted events (so that it
    # costs the same on five million rows as on one million): a value held only by a
    # later event is withheld, the safe way to err. Here the limit is two events.
    import systemic.data.importer as importer

    path = tmp_path / "late.csv"
    path.write_text(
        "who,what,when,locality\n"
        "A1,Chase repair,2024-01-02 09:00,North\n"
        "A2,Chase repair,2024-01-03 09:00,North\n"
        "A3,Chase repair,2024-01-04 09:00,Eastfield\n"
        "A4,Chase repair,not known,Eastfield\n"
    )
    monkeypatch.setattr(importer, "VOCABULARY_EVENTS", 2)
    import_sources([path], mapping(), tmp_path / "capped")
    (row,) = [json.loads(str(r["row"])) for r in _rejects(tmp_path / "capped")]
    assert row["what"] == "Chase repair"  # held by the first two
    assert row["locality"].startswith("(withheld, not a value this column holds")
    monkeypatch.setattr(importer, "VOCABULARY_EVENTS", 3)
    import_sources([path], mapping(), tmp_path / "all")
    (row,) = [json.loads(str(r["row"])) for r in _rejects(tmp_path / "all")]
    assert row["locality"] == "Eastfield"


def test_a_category_value_not_in_its_list_is_withheld_with_the_closest_allowed(
    tmp_path: Path,
) -> None:
    path = tmp_path / "k.csv"
    path.write_text(
        "who,what,when,k\n"
        "A1,call,2024-01-02 09:00,contact\n"
        "A1,call,2024-01-03 09:00,contakt\n"
        "A2,call,2024-01-04 09:00,Jo\n"
    )
    (entry,) = import_sources([path], mapping(fields={"kind": "k"}), tmp_path / "ds")
    assert entry.rejected == 2
    typo, name = _rejects(tmp_path / "ds")
    assert typo["reason"].startswith(
        "kind (withheld: 7 letters; closest allowed: 'contact') is not one of contact, "
    )
    assert name["reason"].startswith("kind (withheld: 2 letters) is not one of contact, ")
    assert json.loads(str(typo["row"]))["what"] == "call"
    _assert_no_name_part([typo, name])


def test_records_with_the_wrong_field_count_follow_the_same_rule(tmp_path: Path) -> None:
    path = tmp_path / "short.csv"
    path.write_text(
        "who,what,when,locality\n"
        "A1,visit,2024-01-02 09:00,North\n"
        "A2,visit,2024-01-03 09:00,Lee, Ann\n"  # one field too many
        "A3,visit,2024-01-04 09:00,North,Mary Jo,12\n"  # two too many
        "A4,Neil\n"  # cut short
    )
    (entry,) = import_sources([path], mapping(timestamp={"zone": "UTC"}), tmp_path / "ds")
    assert (entry.accepted, entry.rejected) == (1, 3)
    rejects = _rejects(tmp_path / "ds")
    _assert_no_name_part(rejects)
    key = load_key()
    rows = [r["row"] for r in rejects]
    held = "not a value this column holds in accepted records"
    assert rows[0] == (
        f"{key.pseudonym('A2')},visit,2024-01-03 09:00,(withheld, {held}: 3 letters),"
        "(withheld, beyond the header's columns: a space, 3 letters)"
    )
    assert rows[1] == (
        f"{key.pseudonym('A3')},visit,2024-01-04 09:00,North,"
        "(withheld, beyond the header's columns: 4 letters, a space, 2 letters),12"
    )
    assert rows[2] == f"{key.pseudonym('A4')},(withheld, {held}: 4 letters)"


def test_the_command_line_import_keeps_no_name_part(tmp_path: Path) -> None:
    path = tmp_path / "visits.csv"
    path.write_text(
        "who,name,what,when\n"
        "A1,Ray,visit,2024-01-02 09:00\n"
        "A2,O'Neil, Mary,visit\n"  # right count: " Mary" in what, "visit" in when
    )
    mapping_file = tmp_path / "m.toml"
    mapping_file.write_text(
        '[fields]\nperson_id = "who"\nactivity = "what"\ntimestamp = "when"\n'
        '[constants]\nservice = "Housing"\n[privacy]\nidentifiers = ["name"]\n'
    )
    ds = tmp_path / "ds"
    result = CliRunner().invoke(
        app, ["import", str(path), "--mapping", str(mapping_file), "--into", str(ds)]
    )
    assert result.exit_code == 0, result.output
    assert "rejected 1" in result.output
    rejects = _rejects(ds)
    _assert_no_name_part(rejects)
    assert json.loads(str(rejects[0]["row"]))["what"] == (
        "(withheld, not a value this column holds in accepted records: a space, 4 letters)"
    )
    result = CliRunner().invoke(app, ["inspect", str(ds)])
    assert result.exit_code == 0 and "Mary" not in result.output


def test_parquet_rejects_withhold_long_numbers_and_unheld_text(tmp_path: Path) -> None:
    path = tmp_path / "events.parquet"
    pl.DataFrame(
        {
            "who": ["A1", "A2"],
            "what": ["call", "call"],
            "when": [dt.datetime(2024, 1, 2, 9), None],  # the second is rejected
            "nhs": [9434765919, 4010232137],
            "ward": ["North", "Lee Ann"],
            "minutes": [12.5, 30.25],
        }
    ).write_parquet(path)
    (entry,) = import_sources([path], mapping(), tmp_path / "ds")
    assert (entry.accepted, entry.rejected) == (1, 1)
    (reject,) = _rejects(tmp_path / "ds")
    row = json.loads(str(reject["row"]))
    assert row["what"] == "call" and row["minutes"] == "30.25"
    assert row["nhs"] == "(withheld, not a value this column holds in accepted records: 10 digits)"
    assert row["ward"].startswith("(withheld") and "4010232137" not in str(reject["row"])
    _assert_no_name_part([reject])


def test_a_declared_pseudonymised_source_shows_its_own_pseudonyms(tmp_path: Path) -> None:
    path = tmp_path / "pseudo.csv"
    path.write_text("who,what,when\np-7f3a,call,2024-01-02 09:00\np-9b1c,call,soon\n")
    m = mapping(privacy={"already_pseudonymised": True})
    import_sources([path], m, tmp_path / "ds")
    (reject,) = _rejects(tmp_path / "ds")
    row = json.loads(str(reject["row"]))
    assert row == {
        "who": "p-9b1c",
        "what": "call",
        "when": "(withheld, not a date or time: 4 letters)",
    }


def test_xes_rejects_follow_the_same_rule(tmp_path: Path) -> None:
    path = tmp_path / "log.xes"
    event = (
        '<event><string key="concept:name" value="{a}"/><string key="org:resource" '
        'value="{r}"/><date key="time:timestamp" value="{t}"/></event>\n'
    )
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<log>\n<trace>\n'
        '<string key="concept:name" value="case-1"/>\n'
        + event.format(a="Register", r="Desk 2", t="2024-01-02T09:00:00+00:00")
        + '<event><string key="concept:name" value="Register"/>'
        '<string key="org:resource" value="Jo Lee"/></event>\n'  # no timestamp
        "</trace>\n</log>\n"
    )
    m = parse_mapping(
        {
            "source": {"format": "xes"},
            "fields": {
                "person_id": "case:concept:name",
                "activity": "concept:name",
                "timestamp": "time:timestamp",
            },
            "constants": {"service": "Permits"},
        }
    )
    (entry,) = import_sources([path], m, tmp_path / "ds")
    assert (entry.accepted, entry.rejected) == (1, 1)
    (reject,) = _rejects(tmp_path / "ds")
    row = json.loads(str(reject["row"]))
    assert row["concept:name"] == "Register"
    assert row["org:resource"] == (
        "(withheld, not a value this column holds in accepted records: 2 letters, a space, "
        "3 letters)"
    )
    _assert_no_name_part([reject])
