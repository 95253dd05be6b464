"""Mapping files: validation errors name the key and the fix."""

from __future__ import annotations

import pytest

from systemic.data import MappingError, load_mapping, parse_mapping
from systemic.data.mapping import duration_seconds, strftime_format

BASE = {
    "fields": {"person_id": "who", "activity": "what", "timestamp": "when"},
    "constants": {"service": "Housing"},
}


def _with(**sections):
    data = {k: dict(v) if isinstance(v, dict) else v for k, v in BASE.items()}
    for k, v in sections.items():
        data[k] = {**data.get(k, {}), **v} if isinstance(v, dict) else v
    return data


def test_minimal_mapping_defaults():
    m = parse_mapping(BASE)
    assert m.timestamp.formats == ["iso"]
    assert m.timestamp.zone == "UTC"
    assert m.privacy.keep_text is False
    assert m.identifier_columns() == ["who"]
    assert m.future_tolerance_seconds() == 86400


@pytest.mark.parametrize(
    ("data", "key", "fix"),
    [
        (_with(fields={"person": "x"}), "fields", "not a field of the event model"),
        (_with(timestamp={"zone": "Mars/Olympus"}), "timestamp.zone", "IANA name"),
        (_with(timestamp={"future_tolerance": "soon"}), "timestamp.future_tolerance", "'1d'"),
        (_with(csv={"delimiter": ";;"}), "csv.delimiter", "single character"),
        (_with(csv={"header": False}), "csv", "csv.columns"),
        (_with(rules=[{"activity": "call"}]), "rules #1", "at least one of"),
        (_with(rules=[{"activity": "a", "kind": "chat"}]), "rules #1", "not one of"),
        (_with(rules=[{"pattern": "(", "kind": "contact"}]), "rules #1", "not a valid regex"),
        (_with(rules=[{"kind": "contact"}]), "rules #1", "needs at least one of activity"),
        (_with(privacy={"keep_txt": True}), "privacy.keep_txt", "unknown key"),
        # rules and filters
        (_with(rules=[{"activity": "a", "pattern": "b", "kind": "other"}]), "rules #1", "at most"),
        (_with(rules=[{"activity": [], "kind": "other"}]), "rules #1.activity", "non-empty list"),
        (_with(rules=[{"lifecycle": 3, "kind": "other"}]), "rules #1.lifecycle", "one value"),
        (
            _with(rules=[{"lifecycle": "complete", "kind": "other"}]),
            "rules #1.lifecycle",
            "lifecycle is not mapped, so it can never match: add [fields] lifecycle",
        ),
        (
            _with(rules=[{"channel": "web", "kind": "other"}]),
            "rules #1.channel",
            "[fields] channel = '<source column>'",
        ),
        (
            _with(rules=[{"where": {"who": "A1"}, "kind": "other"}]),
            "rules #1.where.who",
            "identifies people",
        ),
        (_with(filters=[{"lifecycle": "complete"}]), "filters #1.action", "action = 'keep'"),
        (_with(filters=[{"action": "remove", "activity": "a"}]), "filters #1.action", "'drop'"),
        (_with(filters=[{"action": "keep"}]), "filters #1", "needs at least one of activity"),
        (_with(filters=[{"action": "drop", "pattern": "("}]), "filters #1.pattern", "regex"),
        (
            _with(rules=[{"pattern": "^(?!Chase)", "kind": "other"}]),
            "rules #1.pattern",
            "look-around, including look-ahead and look-behind, is not supported): rewrite",
        ),
        (_with(filters=[{"action": "drop", "where": {}}]), "filters #1.where", "source column"),
        (
            _with(filters=[{"action": "drop", "where": {"ward": 1.5}}]),
            "filters #1.where.ward",
            "'' matches an empty cell",
        ),
        (_with(filters=[{"action": "drop", "chanel": "x"}]), "filters #1.chanel", "unknown key"),
        (
            _with(filters=[{"action": "drop", "activity": "a"}, {"action": "drop", "service": 1}]),
            "filters #2.service",
            "one value or a non-empty list",
        ),
        ({"fields": {"person_id": "who", "timestamp": "t"}}, "(top level)", "add e.g."),
        (_with(constants={"kind": "chat"}), "(top level)", "not one of"),
    ],
)
def test_errors_name_the_key_and_the_fix(data, key, fix):
    with pytest.raises(MappingError) as info:
        parse_mapping(data, origin="m.toml")
    text = str(info.value)
    assert f"m.toml: key {key}" in text
    assert fix in text


def test_load_mapping_reports_toml_syntax_and_missing_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[fields\nperson_id = 'x'\n")
    with pytest.raises(MappingError, match=r"bad\.toml: not valid TOML"):
        load_mapping(bad)
    with pytest.raises(MappingError, match="not found"):
        load_mapping(tmp_path / "none.toml")


def test_readable_formats_become_strftime():
    assert strftime_format("dd/mm/yyyy HH:MM") == "%d/%m/%Y %H:%M"
    assert strftime_format("yyyy-mm-dd HH:MM:SS") == "%Y-%m-%d %H:%M:%S"
    assert strftime_format("%d.%m.%Y") == "%d.%m.%Y"
    with pytest.raises(ValueError):
        strftime_format("whenever")


def test_durations():
    assert [duration_seconds(x) for x in ("30s", "15m", "2h", "1d", "1w")] == [
        30,
        900,
        7200,
        86400,
        604800,
    ]


def test_shipped_mappings_load(real_data):
    from pathlib import Path

    for p in sorted((Path(__file__).parents[2] / "examples" / "mappings").glob("*.toml")):
        m = load_mapping(p)
        assert m.fields["person_id"] in m.identifier_columns()
