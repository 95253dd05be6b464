"""Small-number suppression: hand-worked tables and invariants."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from systemic.data.disclosure import RowTotal, is_suppressed, suppress_counts


def test_small_counts_become_less_than_five_and_zero_stays() -> None:
    t = pl.DataFrame({"locality": list("ABCD"), "n": [0, 1, 4, 5]})
    out = suppress_counts(t, ["n"])
    # 1 and 4 are primary; two hidden cells already, so nothing more is needed.
    assert out["n"].to_list() == ["0", "<5", "<5", "5"]


def test_single_hidden_cell_in_a_column_hides_the_next_smallest() -> None:
    t = pl.DataFrame({"locality": list("ABCD"), "n": [50, 2, 9, 30]})
    out = suppress_counts(t, ["n"])
    # Total 91 is published elsewhere: 2 = 91 - 50 - 9 - 30, so hide 9 too.
    assert out["n"].to_list() == ["50", "<5", "*", "30"]


def test_row_total_forces_a_second_part_hidden_and_then_columns_follow() -> None:
    t = pl.DataFrame(
        {
            "service": ["A", "B", "C"],
            "contacts": [20, 30, 40],
            "failure": [3, 10, 12],
            "value": [17, 20, 28],
        }
    )
    out = suppress_counts(
        t,
        ["contacts", "failure", "value"],
        row_totals=[RowTotal("contacts", ("failure", "value"))],
    )
    # failure A=3 is primary; row A then hides value A (17); column failure has one hidden,
    # so the next smallest failure (B=10) goes; row B then hides value B (20); the value
    # column now has two hidden cells and stays.
    assert out.rows() == [
        ("A", "20", "<5", "*"),
        ("B", "30", "*", "*"),
        ("C", "40", "12", "28"),
    ]


def test_threshold_is_configurable_and_linked_values_are_hidden() -> None:
    t = pl.DataFrame({"g": ["x", "y", "z"], "n": [8, 12, 30], "median_days": [1.5, 2.0, 3.0]})
    out = suppress_counts(t, ["n"], threshold=10, linked={"median_days": ["n"]})
    assert out["n"].to_list() == ["<10", "*", "30"]
    assert out["median_days"].to_list() == [None, None, "3.0"]


def test_groups_are_protected_separately() -> None:
    t = pl.DataFrame({"week": [1, 1, 1, 2, 2, 2], "cls": list("abcabc"), "n": [2, 10, 20, 6, 7, 8]})
    out = suppress_counts(t, ["n"], by=["week"])
    assert out["n"].to_list() == ["<5", "*", "20", "6", "7", "8"]


def test_bad_column_names_are_reported() -> None:
    with pytest.raises(ValueError, match="not count columns"):
        suppress_counts(pl.DataFrame({"n": [1]}), ["m"])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30)), min_size=2, max_size=12),
    st.integers(1, 8),
)
def test_no_small_count_is_visible_or_derivable(
    rows: list[tuple[int, int]], threshold: int
) -> None:
    t = pl.DataFrame(
        {
            "failure": [r[0] for r in rows],
            "value": [r[1] for r in rows],
            "contacts": [r[0] + r[1] for r in rows],
        }
    )
    counts = ["contacts", "failure", "value"]
    out = suppress_counts(
        t, counts, threshold=threshold, row_totals=[RowTotal("contacts", ("failure", "value"))]
    )
    for c in counts:
        hidden = [is_suppressed(v, threshold) for v in out[c]]
        for shown, raw in zip(out[c], t[c], strict=True):
            if not is_suppressed(shown, threshold):
                assert int(shown) == raw
                assert raw == 0 or raw >= threshold
        # a column total is published: one hidden cell alone could be derived
        assert sum(hidden) != 1
    for i in range(t.height):
        row_hidden = sum(is_suppressed(out[c][i], threshold) for c in counts)
        assert row_hidden != 1
