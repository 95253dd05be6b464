"""The rule for what a rejected record may show, and the shape that stands for the rest."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from systemic.data.withholding import shape, shape_expr, shows_itself, withheld


@pytest.mark.parametrize(
    "value",
    [
        "2024-01-02 09:00",
        "02/01/2024",
        "2024-01-02T09:00:00.123+01:00",
        "09:30",
        "12.50",
        "-3.5",
        "42",
        "7",
        "",
        "   ",
    ],
)
def test_values_that_cannot_be_a_name_or_an_identifier_show_themselves(value: str) -> None:
    assert shows_itself(value)


@pytest.mark.parametrize(
    "value",
    [
        "Ann",
        " Ann",
        "Lee Ann",
        "O'Neil",
        "9434765919",  # an NHS number
        "07700900123",  # a phone number
        "1234",  # a case number: four digits or more
        "LS1 4AP",  # a postcode
        "QQ123456C",  # a National Insurance number
        "ann@example.org",
        "2024",  # a year alone is digits: a case number could look like it
    ],
)
def test_names_and_identifiers_do_not(value: str) -> None:
    assert not shows_itself(value)


def test_shapes_by_hand() -> None:
    assert shape(" Ann") == "a space, 3 letters"
    assert shape("Lee, Ann") == "3 letters, ',', a space, 3 letters"
    assert shape("LS1 4AP") == "2 letters, a digit, a space, a digit, 2 letters"
    assert shape("ann@example.org") == "3 letters, '@', 7 letters, '.', 3 letters"
    assert shape("Zoë") == "3 letters"
    assert withheld("visit", "not a date or time") == "(withheld, not a date or time: 5 letters)"


_CLASSES = st.text(
    alphabet=st.characters(categories=["L", "Nd", "Zs", "P", "S"]), min_size=1, max_size=40
)


def _scrambled(value: str) -> str:
    """The same classes of characters with other content."""
    return "".join(
        ("x" if ch.isalpha() else "0" if ch.isdigit() else " " if ch.isspace() else ch)
        for ch in value
    )


@given(_CLASSES)
def test_a_shape_says_nothing_but_the_classes_of_characters(value: str) -> None:
    # Any two values with the same letters-digits-spaces pattern (and the same
    # punctuation) have the same shape: it cannot carry a name's letters.
    assert shape(value) == shape(_scrambled(value))


def test_shapes_over_a_column_match_one_by_one() -> None:
    values = [" Ann", "Lee", "£12.50", "x" * 40 + " y z w v u t", "", "\x01x"]
    column = pl.DataFrame({"v": values}).select(shape_expr(pl.col("v"))).to_series()
    assert column.to_list() == [shape(v) for v in values]
