"""Linkage settings: defaults for UK people data, and errors that name the key."""

from __future__ import annotations

import pytest

from systemic.data.linkage import LinkSettingsError, load_link_settings, parse_link_settings

from .conftest import FEBRL_SETTINGS

UK = {
    "sources": {
        "housing": {
            "record_id": "ref",
            "columns": {
                "forename": "First",
                "surname": "Last",
                "date_of_birth": "DOB",
                "postcode": "PC",
                "nhs_number": "NHS",
            },
        },
        "default": {"record_id": "id", "columns": {"surname": "sn", "postcode": "pc"}},
    }
}


def test_uk_defaults_follow_the_fields_present():
    s = parse_link_settings(UK)
    assert s.fields["postcode"].kind == "postcode" and s.fields["postcode"].uk_postcode
    assert s.blocking_rules() == [
        ["nhs_number"],
        ["forename", "surname"],
        ["surname", "date_of_birth"],
        ["forename", "date_of_birth"],
        ["date_of_birth", "postcode"],
        ["surname", "postcode"],
        ["forename", "postcode"],
    ]
    # not on postcode: household members share it (see docs/linkage.md)
    assert s.training_rules() == [["forename", "surname"], ["date_of_birth"]]
    assert s.address_parts() == []  # a postcode but no address: nothing to compare together
    assert s.source_for("housing").record_id == "ref"
    assert s.source_for("anything_else").record_id == "id"
    assert s.reliable_key() is None


def test_a_field_named_otherwise_uses_its_kind_in_default_rules():
    s = parse_link_settings(
        {
            "fields": {"given": {"kind": "forename"}, "family": {"kind": "surname"}},
            "sources": {"default": {"record_id": "id", "columns": {"given": "g", "family": "f"}}},
        }
    )
    assert s.blocking_rules() == [["given", "family"]]


def test_febrl_example_loads():
    s = load_link_settings(FEBRL_SETTINGS)
    assert s.source_for("febrl4a").record_id == "rec_id"
    assert s.fields["soc_sec_id"].kind == "identifier"


@pytest.mark.parametrize(
    ("data", "key", "words"),
    [
        (
            {"sources": {"default": {"record_id": "id", "columns": {"shoe": "s"}}}},
            "(top level)",
            "field 'shoe' has no kind",
        ),
        (
            {"sources": {"default": {"columns": {"surname": "s"}}}},
            "sources.default.record_id",
            "required key is missing",
        ),
        (
            {
                "sources": {"default": {"record_id": "id", "columns": {"surname": "s"}}},
                "linkage": {"threshold": 1.5},
            },
            "linkage.threshold",
            "between 0 and 1",
        ),
        (
            {
                "sources": {"default": {"record_id": "id", "columns": {"surname": "s"}}},
                "linkage": {"blocking": [["surname", "dob"]]},
            },
            "(top level)",
            "names ['dob']",
        ),
        (
            {
                "sources": {"default": {"record_id": "id", "columns": {"surname": "s"}}},
                "linkage": {"review_band": [0.9, 0.5]},
            },
            "linkage",
            "low < high",
        ),
        (
            {
                "sources": {"default": {"record_id": "id", "columns": {"surname": "s"}}},
                "fields": {"surname": {"compare": "soundex"}},
            },
            "fields.surname.compare",
            "'exact'",
        ),
        (
            {
                "sources": {"default": {"record_id": "id", "columns": {"surname": "s"}}},
                "fields": {"date_of_birth": {}},
            },
            "(top level)",
            "no source names a column",
        ),
        (
            {
                "sources": {"default": {"record_id": "id", "columns": {"surname": "s"}}},
                "linkage": {"thresold": 0.9},
            },
            "linkage.thresold",
            "unknown key",
        ),
    ],
)
def test_errors_name_the_key(data, key, words):
    with pytest.raises(LinkSettingsError) as info:
        parse_link_settings(data, origin="link.toml")
    message = str(info.value)
    assert f"link.toml: key {key}:" in message and words in message, message


def test_file_errors_name_the_file(tmp_path):
    with pytest.raises(LinkSettingsError, match="settings file not found"):
        load_link_settings(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[linkage\n")
    with pytest.raises(LinkSettingsError, match=r"bad\.toml: not valid TOML"):
        load_link_settings(bad)
    with pytest.raises(LinkSettingsError, match=r"no \[sources.waste\] section"):
        parse_link_settings({"sources": {"housing": UK["sources"]["housing"]}}).source_for("waste")


def _with(columns: dict, linkage: dict | None = None, fields: dict | None = None):
    data: dict = {"sources": {"default": {"record_id": "id", "columns": columns}}}
    if linkage is not None:
        data["linkage"] = linkage
    if fields is not None:
        data["fields"] = fields
    return parse_link_settings(data)


def test_the_address_and_postcode_are_compared_together_by_default():
    cols = {"forename": "f", "surname": "s", "address": ["a1", "a2"], "postcode": "pc"}
    assert _with(cols).address_parts() == ["address", "postcode"]
    listed = _with(
        {**cols, "town": "t"},
        linkage={"address_fields": ["address", "town", "postcode"]},
        fields={"town": {"kind": "text"}},
    )
    assert listed.address_parts() == ["address", "town", "postcode"]
    assert _with(cols, linkage={"address_fields": []}).address_parts() == []


def test_address_fields_must_name_parts_of_an_address():
    cols = {"forename": "f", "surname": "s", "address": "a", "postcode": "pc"}
    with pytest.raises(LinkSettingsError, match="address_fields names \\['town'\\]"):
        _with(cols, linkage={"address_fields": ["address", "town"]})
    with pytest.raises(LinkSettingsError, match="not parts of an address"):
        _with(cols, linkage={"address_fields": ["address", "surname"]})


def test_training_falls_back_to_postcode_when_a_field_would_stay_untrained():
    # No date of birth: the one default session blocks on both names, so nothing
    # would train them; the postcode session does.
    s = _with({"forename": "f", "surname": "s", "postcode": "pc"})
    assert s.training_rules() == [["forename", "surname"], ["postcode"]]
