"""Rules and filters: each matcher, precedence, each filter kind, and the counts they keep.

Every expected value here is worked out by hand from the five rows of
``REPAIRS`` (or counted independently from the source file).
"""

from __future__ import annotations

import json

import polars as pl
import pytest

from systemic.data import DatasetError, SourceError, import_sources, open_dataset, readers
from systemic.data.dataset import SourceEntry, create_dataset
from systemic.data.mapping import parse_mapping

# Lines 2-6 of the file. Ward is empty on line 5.
REPAIRS = (
    "who,what,when,life,staff,dept,how,ward\n"
    "T-1001,Report repair,2024-01-02 09:00,start,Ann,Housing,phone,North\n"
    "T-1001,Report repair,2024-01-02 09:30,complete,Bob,Housing,phone,North\n"
    "T-1002,Chase repair,2024-01-03 10:00,COMPLETE,Ann,Repairs,web,South\n"
    "T-1002,Visit,2024-01-04 11:00,complete,Cat,Repairs,face to face,\n"
    "T-1003,Chase repair,2024-01-05 12:00,complete,Bob,Housing,letter,East\n"
)

FIELDS = {
    "person_id": "who",
    "activity": "what",
    "timestamp": "when",
    "lifecycle": "life",
    "service": "dept",
    "channel": "how",
}


def _mapping(**sections):
    data = {
        "source": {"resource_column": "staff"},
        "fields": dict(FIELDS),
        "timestamp": {"formats": ["iso"], "zone": "Europe/London"},
        **sections,
    }
    return parse_mapping(data)


def _run(tmp_path, m, text=REPAIRS, name="r.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    (entry,) = import_sources([path], m, tmp_path / f"ds-{name}")
    events = open_dataset(tmp_path / f"ds-{name}").events().collect().sort("source_row")
    return entry, events


X = "matched"


@pytest.mark.parametrize(
    ("match", "expected"),
    [
        ({"activity": "Visit"}, [None, None, None, X, None]),
        ({"activity": ["Visit", "Chase repair"]}, [None, None, X, X, X]),
        ({"pattern": "^Re"}, [X, X, None, None, None]),
        ({"lifecycle": "complete"}, [None, X, X, X, X]),  # case-insensitive: COMPLETE
        ({"lifecycle": ["START"]}, [X, None, None, None, None]),
        ({"resource": "Ann"}, [X, None, X, None, None]),
        ({"service": "Repairs"}, [None, None, X, X, None]),
        ({"channel": ["phone", "letter"]}, [X, X, None, None, X]),
        ({"where": {"ward": "North"}}, [X, X, None, None, None]),
        ({"where": {"ward": ["South", "East"]}}, [None, None, X, None, X]),
        ({"where": {"ward": ""}}, [None, None, None, X, None]),  # "" is an empty cell
        ({"where": {"staff": "Bob", "ward": "East"}}, [None, None, None, None, X]),
        # every matcher of a rule must match
        (
            {"pattern": "repair$", "lifecycle": "complete", "where": {"ward": "South"}},
            [None, None, X, None, None],
        ),
    ],
)
def test_each_rule_matcher(tmp_path, match, expected):
    m = _mapping(rules=[{**match, "demand_type": X}])
    entry, events = _run(tmp_path, m)
    assert (entry.read, entry.accepted, entry.rejected, entry.filtered) == (5, 5, 0, 0)
    assert events["demand_type"].to_list() == expected


def test_resource_column_defaults_to_a_column_named_resource(tmp_path):
    text = REPAIRS.replace(",staff,", ",resource,")
    data = _mapping().model_dump()
    data["source"]["resource_column"] = None
    data["rules"] = [{"resource": "Cat", "kind": "assessment"}]
    _, events = _run(tmp_path, parse_mapping(data), text)
    assert events["kind"].to_list() == ["other", "other", "other", "assessment", "other"]


def test_rule_precedence(tmp_path):
    m = _mapping(
        fields={**FIELDS, "demand_class": "class"},
        rules=[
            # the first rule that matches and sets a field wins that field ...
            {"activity": "Chase repair", "kind": "contact", "demand_class": "failure"},
            {"pattern": "repair", "kind": "closure", "demand_type": "repairs"},
            # ... a later rule still sets the fields earlier ones left alone
            {"lifecycle": "complete", "preventable": "no", "demand_class": "value"},
        ],
    )
    text = "\n".join(
        line + ("," + c if i else ",class")
        for i, (line, c) in enumerate(
            zip(REPAIRS.strip().split("\n"), ["", "", "", "", "Value", ""], strict=True)
        )
    )
    _, events = _run(tmp_path, m, text + "\n")
    assert events["kind"].to_list() == ["closure", "closure", "contact", "other", "contact"]
    assert events["demand_type"].to_list() == ["repairs", "repairs", "repairs", None, "repairs"]
    # a mapped column wins where it has a value (line 5: Value), then the rules, then unknown
    assert events["demand_class"].to_list() == ["unknown", "value", "failure", "value", "failure"]
    assert events["preventable"].to_list() == ["unknown", "no", "no", "no", "no"]


@pytest.mark.parametrize(
    ("filters", "kept_lines", "per_filter"),
    [
        ([{"action": "keep", "lifecycle": "complete"}], [3, 4, 5, 6], [1]),
        ([{"action": "drop", "activity": ["Visit", "Chase repair"]}], [2, 3], [3]),
        ([{"action": "drop", "pattern": "(?i)chase"}], [2, 3, 5], [2]),
        ([{"action": "drop", "where": {"ward": "North"}}], [4, 5, 6], [2]),
        ([{"action": "drop", "resource": ["Ann", "Cat"]}], [3, 6], [3]),
        ([{"action": "keep", "service": "Housing"}], [2, 3, 6], [2]),
        ([{"action": "drop", "channel": "face to face"}], [2, 3, 4, 6], [1]),
        # in order: a row goes to the first filter that removes it
        (
            [
                {"action": "drop", "where": {"ward": ""}},
                {"action": "keep", "channel": ["phone", "web"]},
                {"action": "drop", "activity": "Visit"},
            ],
            [2, 3, 4],
            [1, 1, 0],
        ),
    ],
)
def test_each_filter_kind_is_counted(tmp_path, filters, kept_lines, per_filter):
    entry, events = _run(tmp_path, _mapping(filters=filters))
    assert events["source_row"].to_list() == kept_lines
    assert entry.accepted == len(kept_lines) and entry.rejected == 0
    assert entry.filtered == 5 - len(kept_lines) == sum(per_filter)
    assert [f["rows"] for f in entry.filters] == per_filter
    assert entry.read == entry.accepted + entry.rejected + entry.filtered == 5


def test_filtered_rows_are_not_rejected_and_the_manifest_says_which_filter(tmp_path):
    text = (
        REPAIRS
        + "T-1004,Report repair,not a time,start,Ann,Housing,phone,North\n"  # filtered
        + "T-1004,Report repair,not a time,complete,Ann,Housing,phone,North\n"  # rejected
    )
    m = _mapping(
        filters=[
            {"action": "keep", "lifecycle": "complete", "name": "complete events only"},
            {"action": "drop", "activity": "Visit"},
        ]
    )
    entry, _ = _run(tmp_path, m, text)
    assert (entry.read, entry.accepted, entry.rejected, entry.filtered) == (7, 3, 1, 3)
    ds = open_dataset(tmp_path / "ds-r.csv")
    assert ds.rejects().collect()["line"].to_list() == [8]
    first, second = entry.filters
    assert first == {
        "filter": "complete events only",
        "action": "keep",
        "rows": 2,
        "first_lines": [2, 7],
        "activities": {"Report repair": 2},
        "distinct_activities": 1,
        "lifecycles": {"start": 2},
    }
    assert second["filter"] == "drop activity = 'Visit'"
    assert (second["rows"], second["first_lines"], second["activities"]) == (1, [5], {"Visit": 1})
    # the manifest on disk says the same, and holds no clear identifier
    manifest = (tmp_path / "ds-r.csv" / "manifest.json").read_text()
    body = json.loads(manifest)
    assert body["counts"] == {"read": 7, "accepted": 3, "rejected": 1, "filtered": 3}
    assert body["sources"][0]["filters"] == entry.filters
    assert "T-100" not in manifest
    assert open_dataset(tmp_path / "ds-r.csv").manifest.sources[0].filtered == 3


def _xes(rows: list[list[str]]) -> str:
    """One trace per person; each row: who, what, when (ISO), life, staff, dept, how, ward."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n<log>\n']
    by_person: dict[str, list[list[str]]] = {}
    for row in rows:
        by_person.setdefault(row[0], []).append(row)
    for who, events in by_person.items():
        out.append(f'<trace>\n<string key="concept:name" value="{who}"/>\n')
        for _, what, when, life, staff, dept, how, ward in events:
            out.append(
                f'<event><string key="concept:name" value="{what}"/>'
                f'<date key="time:timestamp" value="{when.replace(" ", "T")}:00+00:00"/>'
                f'<string key="lifecycle:transition" value="{life}"/>'
                f'<string key="org:resource" value="{staff}"/>'
                f'<string key="dept" value="{dept}"/><string key="how" value="{how}"/>'
                + (f'<string key="ward" value="{ward}"/>' if ward else "")
                + "</event>\n"
            )
        out.append("</trace>\n")
    out.append("</log>\n")
    return "".join(out)


def test_read_equals_accepted_rejected_filtered_for_csv_parquet_and_xes(tmp_path):
    """The same rows as CSV, Parquet and XES: the same counts, per filter."""
    text = REPAIRS + "T-1004,Visit,2024-01-06 25:00,complete,Ann,Housing,phone,North\n"
    rows = [line.split(",") for line in text.strip().split("\n")[1:]]
    csv = tmp_path / "r.csv"
    csv.write_text(text, encoding="utf-8")
    parquet = tmp_path / "r.parquet"
    pl.read_csv(csv, infer_schema=False).write_parquet(parquet)
    xes = tmp_path / "r.xes"
    xes.write_text(_xes(rows), encoding="utf-8")
    filters = [
        {"action": "keep", "lifecycle": "complete"},
        {"action": "drop", "where": {"ward": ""}},
        {"action": "drop", "resource": "Bob", "service": "Housing"},
    ]
    counts = {}
    for path in (csv, parquet, xes):
        fields = dict(FIELDS)
        source = {"resource_column": "staff"}
        if path is xes:
            fields.update(person_id="case:concept:name", activity="concept:name")
            fields.update(timestamp="time:timestamp", lifecycle="lifecycle:transition")
            source = {}  # org:resource, found by default
        m = parse_mapping(
            {
                "source": source,
                "fields": fields,
                "timestamp": {"formats": ["iso"]},
                "filters": filters,
                "rules": [{"lifecycle": "complete", "channel": "web", "kind": "contact"}],
            }
        )
        (entry,) = import_sources([path], m, tmp_path / f"ds-{path.suffix}")
        ev = open_dataset(tmp_path / f"ds-{path.suffix}").events().collect()
        assert entry.read == entry.accepted + entry.rejected + entry.filtered
        counts[path.suffix] = (
            entry.read,
            entry.accepted,
            entry.rejected,
            [f["rows"] for f in entry.filters],
            sorted(ev["kind"].to_list()),
        )
    # line 2 is a start (filter 1), line 5 has no ward (2), line 3 is Bob's Housing work and
    # line 6 too (3); line 7's time does not exist (rejected); line 4 remains, a web contact.
    assert counts[".csv"] == (6, 1, 1, [1, 1, 2], ["contact"])
    assert counts[".parquet"] == counts[".csv"] == counts[".xes"]


@pytest.mark.parametrize("chunk", [60, 400])
def test_filter_counts_add_up_across_batches(tmp_path, monkeypatch, chunk):
    """Many small batches: each filter's count and first lines as counted here."""
    monkeypatch.setattr(readers, "CHUNK_BYTES", chunk)
    lines = ["who,what,when,life"]
    for i in range(300):
        life = ("start", "complete", "suspend")[i % 3] if i % 7 else "COMPLETE"
        what = "call" if i % 5 else "test"
        lines.append(f"P{i % 17},{what},2024-01-02 09:{i % 60:02d},{life}")
    path = tmp_path / "many.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    m = parse_mapping(
        {
            "fields": {"person_id": "who", "activity": "what", "timestamp": "when"}
            | {"lifecycle": "life"},
            "constants": {"service": "Housing"},
            "filters": [
                {"action": "drop", "activity": "test"},
                {"action": "keep", "lifecycle": "complete"},
            ],
        }
    )
    (entry,) = import_sources([path], m, tmp_path / "ds")
    raw = pl.read_csv(path, infer_schema=False).with_row_index("line", offset=2)
    tests = raw.filter(pl.col("what") == "test")
    not_complete = raw.filter(
        (pl.col("what") != "test") & (pl.col("life").str.to_lowercase() != "complete")
    )
    first, second = entry.filters
    assert first["rows"] == tests.height and second["rows"] == not_complete.height
    assert first["first_lines"] == tests["line"].head(10).to_list()
    assert second["first_lines"] == not_complete["line"].head(10).to_list()
    # by hand: of the 100 i with i % 3 == 0, drop multiples of 7 (15) and of 5 (20), add back
    # those of 105 (3): 68 starts; of i % 3 == 2: 100 - 14 - 20 + 3 = 69 suspends
    assert second["lifecycles"] == {"suspend": 69, "start": 68}
    assert second["lifecycles"] == dict(not_complete["life"].value_counts().iter_rows())
    assert entry.accepted == raw.height - tests.height - not_complete.height
    assert entry.read == 300 == entry.accepted + entry.filtered


def test_the_commit_checks_read_against_accepted_rejected_and_filtered(tmp_path):
    import datetime as dt

    ds = create_dataset(tmp_path / "ds")
    events = pl.DataFrame(
        {
            "person_id": ["p"],
            "service": ["S"],
            "activity": ["a"],
            "timestamp": [dt.datetime(2024, 1, 1, tzinfo=dt.UTC)],
        }
    )
    entry = SourceEntry(id="s0001", name="lost rows", format="frame", read=3, filtered=1)
    refused = pytest.raises(DatasetError, match=r"filtered 1 .*nothing was written")
    with refused, ds.append_source(entry) as writer:
        writer.write_events(events)
    # per-filter counts that do not add up to the filtered count are refused too
    entry = SourceEntry(id="s0001", name="x", format="frame", read=3, filtered=2)
    entry.filters = [{"filter": "drop a", "rows": 1}]
    refused = pytest.raises(DatasetError, match=r"the filters count 1")
    with refused, ds.append_source(entry) as writer:
        writer.write_events(events)
    assert ds.manifest.sources == []
    entry = SourceEntry(id="s0001", name="ok", format="frame", read=3, filtered=2)
    entry.filters = [{"filter": "drop a", "rows": 2}]
    with ds.append_source(entry) as writer:
        writer.write_events(events)
    assert open_dataset(tmp_path / "ds").manifest.filtered == 2


@pytest.mark.parametrize(
    ("sections", "key", "fix"),
    [
        (
            {"rules": [{"where": {"nope": "x"}, "kind": "contact"}]},
            "rules #1.where",
            "'nope'",
        ),
        (
            {"filters": [{"action": "drop", "where": {"wrd": "x"}}]},
            "filters #1.where",
            "did you mean 'ward'",
        ),
        (
            {"source": {"resource_column": "staf"}, "rules": [{"resource": "x", "kind": "other"}]},
            "source.resource_column",
            "did you mean 'staff'",
        ),
        (
            {"source": {}, "filters": [{"action": "drop", "resource": "Ann"}]},
            "filters #1.resource",
            "resource_column",
        ),
    ],
)
def test_columns_rules_and_filters_name_must_exist(tmp_path, sections, key, fix):
    data = _mapping().model_dump()
    data.update(sections)
    path = tmp_path / "r.csv"
    path.write_text(REPAIRS, encoding="utf-8")
    with pytest.raises(SourceError) as info:
        import_sources([path], parse_mapping(data), tmp_path / "ds")
    assert info.value.field == key
    assert fix in str(info.value)
    assert open_dataset(tmp_path / "ds").manifest.sources == []


def test_inspect_and_the_cli_show_what_was_filtered(tmp_path):
    from typer.testing import CliRunner

    from systemic.cli import app
    from systemic.data import inspect_dataset

    (tmp_path / "r.csv").write_text(REPAIRS, encoding="utf-8")
    (tmp_path / "m.toml").write_text(
        "[source]\nresource_column = 'staff'\n"
        "[fields]\nperson_id = 'who'\nactivity = 'what'\ntimestamp = 'when'\n"
        "lifecycle = 'life'\nservice = 'dept'\nchannel = 'how'\n"
        "[[filters]]\naction = 'keep'\nlifecycle = 'complete'\n"
        "[[filters]]\naction = 'drop'\nactivity = ['Visit', 'Unknown']\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    args = ["import", str(tmp_path / "r.csv"), "-m", str(tmp_path / "m.toml")]
    result = runner.invoke(app, [*args, "--into", str(tmp_path / "ds")])
    assert result.exit_code == 0, result.output
    assert "r.csv: read 5, accepted 3, rejected 0, filtered 2 (source s0001)" in result.output

    summary = inspect_dataset(tmp_path / "ds")
    assert (summary.read, summary.rejected, summary.filtered, summary.events) == (5, 0, 2, 3)
    assert summary.sources.select("read", "accepted", "rejected", "filtered").row(0) == (
        5,
        3,
        0,
        2,
    )
    assert summary.filters.rows() == [
        ("s0001", "keep only lifecycle = 'complete'", 1),
        ("s0001", "drop activity in ['Visit', 'Unknown']", 1),
    ]
    result = runner.invoke(app, ["inspect", str(tmp_path / "ds")], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "5 / 0 / 2" in result.output
    assert "Filtered rows" in result.output
    assert "keep only lifecycle = 'complete'" in result.output
    assert "drop activity in ['Visit', 'Unknown']" in result.output

    # a filter that leaves nothing is said plainly
    (tmp_path / "none.toml").write_text(
        (tmp_path / "m.toml").read_text().replace("'complete'", "'completed'"), encoding="utf-8"
    )
    args = ["import", str(tmp_path / "r.csv"), "-m", str(tmp_path / "none.toml")]
    result = runner.invoke(app, [*args, "--into", str(tmp_path / "none")], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "read 5, accepted 0, rejected 0, filtered 5" in result.output
    assert "Every row of r.csv was filtered or rejected" in result.output


@pytest.mark.parametrize(
    "name", ["systemic.data.mapping", "systemic.data.matching", "systemic.data.importer"]
)
def test_docstring_examples_run(name):
    import doctest
    import importlib

    failures, attempted = doctest.testmod(importlib.import_module(name))
    assert attempted > 0 and failures == 0


def test_where_matches_typed_parquet_columns_by_their_text(tmp_path):
    import datetime as dt

    path = tmp_path / "typed.parquet"
    pl.DataFrame(
        {
            "who": ["A", "B", "C", "D"],
            "what": ["call"] * 4,
            "when": [dt.datetime(2024, 1, d, tzinfo=dt.UTC) for d in (1, 2, 3, 4)],
            "priority": [1, 2, 3, None],
        }
    ).write_parquet(path)
    m = parse_mapping(
        {
            "fields": {"person_id": "who", "activity": "what", "timestamp": "when"},
            "constants": {"service": "Housing"},
            "rules": [{"where": {"priority": [1, "2"]}, "demand_type": "urgent"}],
            "filters": [{"action": "drop", "where": {"priority": ""}}],
        }
    )
    (entry,) = import_sources([path], m, tmp_path / "ds")
    assert (entry.read, entry.accepted, entry.filtered) == (4, 3, 1)
    assert entry.filters[0]["first_lines"] == [4]
    events = open_dataset(tmp_path / "ds").events().collect().sort("source_row")
    assert events["demand_type"].to_list() == ["urgent", "urgent", None]
