"""Reading sources for linkage: clear errors naming file, line and field."""

from __future__ import annotations

import polars as pl
import pytest

from systemic.data import SourceError
from systemic.data.linkage import parse_link_settings
from systemic.data.linkage.records import nickname_column, read_source

SETTINGS = parse_link_settings(
    {
        "sources": {
            "default": {
                "record_id": "ref",
                "columns": {"forename": "first", "surname": "last", "date_of_birth": "dob"},
            },
            "care": {"record_id": "ref", "columns": {"surname": "last"}, "encoding": "cp1252"},
        }
    }
)


def test_reads_and_cleans(write):
    p = write("housing.csv", "ref,first,last,dob\nH1,Bob ,SMITH,03/04/1980\nH2,Ann,Lee,\n")
    t = read_source(p, SETTINGS)
    assert t.rows()[0][:3] == ("housing", "H1", "1980-04-03")
    assert t["surname"].to_list() == ["smith", "lee"]
    assert t.schema[nickname_column("forename")] == pl.List(pl.String)


def test_a_source_without_a_field_has_it_missing_with_the_same_types(write):
    p = write("care.csv", "ref,last\nC1,O'Brien\n".encode("cp1252"))
    t = read_source(p, SETTINGS)
    assert t["forename"].to_list() == [None] and t["surname"].to_list() == ["obrien"]
    assert t.schema[nickname_column("forename")] == pl.List(pl.String)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (
            "ref,first,last,dob\nH1,a,b,\n,c,d,\n",
            "line 3, field 'ref': 1 record(s) have no record id",
        ),
        (
            "ref,first,last,dob\nH1,a,b,\nH1,c,d,\n",
            "line 2, field 'ref': 2 records share a record id",
        ),
        ("ref,first,dob\nH1,a,\n", "column 'last' (settings key sources.default.columns.surname)"),
    ],
)
def test_errors_name_line_and_field(write, text, words):
    with pytest.raises(SourceError) as info:
        read_source(write("housing.csv", text), SETTINGS)
    assert words in str(info.value), str(info.value)


def test_bad_encoding_is_named_and_quotes_no_row(write):
    p = write("housing.csv", b"ref,first,last,dob\nH1,Zo\xeb,Smith,\n")
    with pytest.raises(SourceError) as info:
        read_source(p, SETTINGS)
    assert "cannot be read as CSV in utf-8" in str(info.value)
    assert "Smith" not in str(info.value)
