"""Cleaning of identifying fields, checked against hand-worked values."""

from __future__ import annotations

import polars as pl
import pytest

from systemic.data.linkage import cleaning


def _one(expr: pl.Expr):
    return pl.select(expr.alias("x")).item()


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("25/12/1980", "1980-12-25"),
        ("12/25/1980", "1980-12-25"),  # impossible as day-first: read month-first
        ("03/04/1980", "1980-04-03"),  # valid as written: read as written (day first)
        ("1980-12-25", "1980-12-25"),
        ("19801225", "1980-12-25"),
        ("31/02/1980", None),
        ("25/12/2999", None),  # in the future
        ("01/01/1850", None),  # before 1880
        ("", None),
    ],
)
def test_dates_in_several_formats(text, iso):
    fmts = ["dd/mm/yyyy", "yyyy-mm-dd", "yyyymmdd"]
    assert _one(cleaning.clean_date(pl.lit(text), fmts)) == iso


@pytest.mark.parametrize(
    ("text", "clean"),
    [
        ("sw1a1aa", "SW1A 1AA"),
        (" M1  1AE ", "M1 1AE"),
        ("B33 8TH", "B33 8TH"),
        ("CR2 6XH", "CR2 6XH"),
        ("DN55 1PT", "DN55 1PT"),
        ("12345", None),
        ("SW1A", None),
    ],
)
def test_uk_postcodes(text, clean):
    assert _one(cleaning.clean_postcode(pl.lit(text))) == clean


def test_nhs_number_check_digit():
    # 943 476 5919 is the NHS's published example of a valid number.
    assert _one(cleaning.clean_nhs_number(pl.lit("943-476-5919"))) == "9434765919"
    assert _one(cleaning.clean_nhs_number(pl.lit("9434765910"))) is None
    assert _one(cleaning.clean_nhs_number(pl.lit("94347659"))) is None


def test_ni_number_and_phone_and_email():
    assert _one(cleaning.clean_ni_number(pl.lit("qq 12 34 56 c"))) is None  # QQ is not issued
    assert _one(cleaning.clean_ni_number(pl.lit("AB123456"))) == "AB123456"
    assert _one(cleaning.clean_phone(pl.lit("0044 7700 900 123"))) == "07700900123"
    assert _one(cleaning.clean_email(pl.lit(" Jo.Bloggs@Example.ORG"))) == "jo.bloggs@example.org"
    assert _one(cleaning.clean_email(pl.lit("not an address"))) is None


def test_names_and_nicknames():
    assert _one(cleaning.clean_name(pl.lit("  Zoë  O'Neill-Jones "))) == "zoe oneill jones"
    names = ["bob", "robert", "bill", "william", "peggy", "margaret", "zebedee", "alice"]
    sets = pl.select(cleaning.nickname_key(pl.Series(names))).to_series().to_list()
    key = {n: set(s) for n, s in zip(names, sets, strict=True)}

    def agree(a, b):
        return bool(key[a] & key[b])

    assert agree("bob", "robert") and agree("bill", "william") and agree("peggy", "margaret")
    assert not agree("zebedee", "alice") and not agree("bob", "margaret")
    assert key["zebedee"] == {"zebedee"}  # not in the list: itself only
