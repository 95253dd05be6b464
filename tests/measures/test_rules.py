"""Special-cause rules against hand-worked series.

Every case uses centre 0, two-sigma lines at ±2 and limits at ±3, so each
expected label can be read straight off the numbers.
"""

from __future__ import annotations

import numpy as np
import pytest

from systemic.measures.rules import detect_special_causes, point_types


def label(y: list[float], rules: str = "mdc") -> tuple[list[str | None], list[int]]:
    values = np.array(y, dtype=float)
    ones = np.ones(values.size)
    names, side = detect_special_causes(
        values,
        0 * ones,
        -3 * ones,
        3 * ones,
        -2 * ones,
        2 * ones,
        rules,  # type: ignore[arg-type]
    )
    return names, side.tolist()


def test_outside_limits_is_strict() -> None:
    names, side = label([0.5, 3.5, -3.1, 3.0, -3.0])
    # 3.0 and -3.0 sit on the limits: not outside; alone in the band they are common cause
    assert names == [None, "outside_limits", "outside_limits", None, None]
    assert side == [0, 1, -1, 0, 0]


def test_trend_of_seven_rising() -> None:
    names, side = label([-1.5, -1, -0.5, 0.1, 0.5, 1, 1.5])
    assert names == ["trend"] * 7
    assert side == [1] * 7


def test_six_rising_is_not_a_trend() -> None:
    names, _ = label([-1.5, -1, -0.5, 0.1, 0.5, 1, 0.2])
    assert names == [None] * 7


def test_a_tie_inside_a_trend_breaks_it() -> None:
    # -0.5 repeats: the longest strictly rising stretch has 5 points
    names, _ = label([-1.5, -1, -0.5, -0.5, 0.5, 1, 1.5, 1.8])
    assert names == [None] * 8


def test_eight_falling_are_all_flagged_and_point_down() -> None:
    names, side = label([1.8, 1.5, 1, 0.5, -0.1, -0.5, -1, -1.5, 0.2])
    assert names == ["trend"] * 8 + [None]
    assert side == [-1] * 8 + [0]


def test_peak_shared_by_two_trends_takes_the_later_direction() -> None:
    up = [-1.5, -1, -0.5, 0.1, 0.5, 1, 1.5]
    down = [1.0, 0.5, 0.1, -0.5, -1, -1.5]
    names, side = label(up + down)
    assert names == ["trend"] * 13
    assert side == [1] * 6 + [-1] * 7


def test_two_in_three_flags_only_points_in_the_band() -> None:
    names, side = label([0.5, 2.5, 1.0, 2.2, -0.3])
    assert names == [None, "two_in_three", None, "two_in_three", None]
    assert side == [0, 1, 0, 1, 0]


def test_two_in_three_needs_all_three_on_one_side() -> None:
    names, _ = label([2.5, -1.0, 2.2])
    assert names == [None, None, None]


def test_two_in_three_below() -> None:
    names, side = label([-2.5, -2.1, -0.2])
    assert names == ["two_in_three", "two_in_three", None]
    assert side == [-1, -1, 0]


def test_beyond_three_sigma_does_not_count_under_mdc() -> None:
    names, _ = label([2.5, 3.5, 0.4])
    assert names == [None, "outside_limits", None]


def test_beyond_three_sigma_counts_under_excel_2023() -> None:
    names, side = label([2.5, 3.5, 0.4], rules="mdc-excel-2023")
    # 3.5 still reads as outside (higher precedence); 2.5 now completes the pair
    assert names == ["two_in_three", "outside_limits", None]
    assert side == [1, 1, 0]


def test_run_of_seven_on_one_side() -> None:
    names, side = label([0.5, 1.0, 0.5, 1.0, 0.5, 1.0, 0.5, -0.5])
    assert names == ["run"] * 7 + [None]
    assert side == [1] * 7 + [0]


def test_six_on_one_side_is_not_a_run() -> None:
    names, _ = label([-0.5, -1.0, -0.5, -1.0, -0.5, -1.0, 0.5])
    assert names == [None] * 7


def test_a_point_on_the_mean_breaks_a_run() -> None:
    names, _ = label([0.5, 1.0, 0.5, 0.0, 1.0, 0.5, 1.0, 0.5])
    assert names == [None] * 8
    # ...and seven after it make a run that does not include it
    names, _ = label([0.5, 0.0, 1.0, 0.5, 1.0, 0.5, 1.0, 0.5, 1.0])
    assert names == [None, None] + ["run"] * 7


def test_a_trend_that_is_also_a_run_reads_as_trend() -> None:
    rising = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]
    names, side = label([*rising, 0.65])
    assert names == ["trend"] * 7 + ["run"]
    assert side == [1] * 8


def test_trend_into_the_limit_reads_outside_for_that_point() -> None:
    names, _ = label([-1.5, -1, -0.5, 0.1, 0.5, 1, 3.2])
    assert names == ["trend"] * 6 + ["outside_limits"]


def test_two_in_three_beats_run() -> None:
    names, _ = label([0.5, 1.0, 2.5, 1.0, 2.2, 0.5, 1.0])
    assert names == ["run", "run", "two_in_three", "run", "two_in_three", "run", "run"]


def test_falling_trend_above_the_mean_is_low_signal() -> None:
    names, side = label([2.9, 2.5, 2.2, 1.9, 1.5, 1.2, 0.9])
    # trend beats two-in-three and run; direction is down
    assert names == ["trend"] * 7
    assert side == [-1] * 7


@pytest.mark.parametrize(
    ("improvement", "expected"),
    [
        ("increase", ["special_cause_improvement", "special_cause_concern", "common_cause"]),
        ("decrease", ["special_cause_concern", "special_cause_improvement", "common_cause"]),
        ("neutral", ["special_cause_neutral_high", "special_cause_neutral_low", "common_cause"]),
    ],
)
def test_point_types_follow_improvement_direction(improvement: str, expected: list[str]) -> None:
    assert point_types(np.array([1, -1, 0]), improvement) == expected  # type: ignore[arg-type]


def test_unknown_rule_set_is_refused() -> None:
    with pytest.raises(ValueError, match="mdc-excel-2023"):
        label([1.0], rules="western-electric")


# Cases from NHSRplotthedots' own unit tests (tests/testthat/test-ptd_calculate_point_type.R),
# written as values: 2.5 is "close to the limits" above, 1.0 plain above, -1.0 plain below.
def band_series(close: list[int], side: list[int]) -> list[float]:
    return [s * (2.5 if c else 1.0) for c, s in zip(close, side, strict=True)]


@pytest.mark.parametrize(
    ("close", "side", "flagged"),
    [
        ([1, 0, 1], [1, 1, 1], [0, 2]),
        ([0, 1, 1], [1, 1, 1], [1, 2]),
        ([1, 1, 0], [1, 1, 1], [0, 1]),
        ([0, 0, 1, 0, 1, 0, 0], [1] * 7, [2, 4]),
        ([0, 0, 1, 1, 0, 0, 0], [1] * 7, [2, 3]),
        ([1, 0, 0, 1], [1] * 4, []),
        ([1, 0, 0, 1, 1], [1] * 5, [3, 4]),
        ([1, 0, 1], [1, -1, 1], []),
        ([0, 0, 1, 0, 1, 0, 0], [1, -1, 1, -1, 1, -1, 1], []),
        ([0, 0, 1, 1, 0, 0, 0], [-1, 1, -1, 1, -1, 1, -1], []),
    ],
)
def test_two_in_three_matches_nhsrplotthedots_cases(
    close: list[int], side: list[int], flagged: list[int]
) -> None:
    names, _ = label(band_series(close, side))
    assert [i for i, name in enumerate(names) if name == "two_in_three"] == flagged


def test_trend_matches_nhsrplotthedots_cases() -> None:
    def trend_points(y: list[float]) -> list[int]:
        values = np.array(y, dtype=float)
        ones = np.ones(values.size)
        names, _ = detect_special_causes(values, 4 * ones, -99 * ones, 99 * ones,
                                         -98 * ones, 98 * ones)  # fmt: skip
        return [i for i, name in enumerate(names) if name == "trend"]

    assert trend_points([1, 2, 3, 4, 5, 6]) == []
    assert trend_points([1, 2, 3, 3, 4, 5, 6]) == []
    assert trend_points([1, 2, 3, 4, 5, 6, 7]) == list(range(7))
    assert trend_points([2, 1, 2, 3, 4, 5, 6, 7, 3]) == list(range(1, 8))
    assert trend_points([2, 7, 6, 5, 4, 3, 2, 1, 3]) == list(range(1, 8))


def test_run_matches_nhsrplotthedots_cases() -> None:
    assert label([1.0] * 6)[0] == [None] * 6
    assert label([1.0] * 6 + [-1.0])[0] == [None] * 7
    assert label([1.0] * 8 + [-1.0])[0] == ["run"] * 8 + [None]
    assert label([-1.0] * 8 + [1.0])[0] == ["run"] * 8 + [None]
