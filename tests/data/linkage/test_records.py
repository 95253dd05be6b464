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


def test_a_parquet_source_reads_as_its_csv_does(write, tmp_path):
    csv = write("housing.csv", "ref,first,last,dob\n1,Bob ,SMITH,03/04/1980\n2,Ann,Lee,\n")
    folder = tmp_path / "parquet"
    folder.mkdir()
    # Parquet keeps types: an integer record id is read as the text the CSV holds.
    pl.DataFrame(
        {
            "ref": [1, 2],
            "first": ["Bob ", "Ann"],
            "last": ["SMITH", "Lee"],
            "dob": ["03/04/1980", None],
        }
    ).write_parquet(folder / "housing.parquet")
    assert read_source(folder / "housing.parquet", SETTINGS).equals(read_source(csv, SETTINGS))


def test_a_byte_order_mark_is_not_part_of_the_first_column(write):
    p = write("housing.csv", "\ufeffref,first,last,dob\r\nH1,Bob,Smith,\r\n")
    assert read_source(p, SETTINGS)["unique_id"].to_list() == ["H1"]


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("housing.csv", "", "housing.csv: is empty"),
        ("housing.csv", "ref,first,last,dob\n", "housing.csv, line 2: holds no records"),
        ("housing.parquet", b"ref,first\nH1,Smith\n", "housing.parquet: cannot be read as Parquet"),
        ("housing.xlsx", b"PK\x03\x04ref,Smith", "housing.xlsx: is not a file to link"),
    ],
)
def test_empty_unreadable_and_unknown_files_are_named_without_their_content(
    write, name, content, words
):
    with pytest.raises(SourceError) as info:
        read_source(write(name, content), SETTINGS)
    assert words in str(info.value) and "What to do" in str(info.value), str(info.value)
    assert "Smith" not in str(info.value)
