"""XmR limits, screening, rebase, fix-after, missing values and assurance, hand-worked."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from systemic.measures import (
    SeriesError,
    SPCOptionError,
    assurance_icon,
    summarise,
    variation_icon,
    xmr_chart,
)


def series(values: list[float | None], start: date = date(2024, 1, 1)) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "date": [start + timedelta(weeks=i) for i in range(len(values))],
            "value": values,
        },
        schema={"date": pl.Date, "value": pl.Float64},
    )


def day(i: int) -> date:
    return date(2024, 1, 1) + timedelta(weeks=i)


def test_limits_by_hand() -> None:
    # mean = 30/5 = 6; moving ranges 2, 1, 2, 4 -> AMR 2.25
    result = xmr_chart(series([5, 7, 6, 8, 4]))
    row = result.points.row(0, named=True)
    assert row["mean"] == pytest.approx(6.0)
    assert row["upl"] == pytest.approx(6 + 2.66 * 2.25)
    assert row["lpl"] == pytest.approx(6 - 2.66 * 2.25)
    assert row["upper_two_sigma"] == pytest.approx(6 + 2 / 3 * 2.66 * 2.25)
    assert row["lower_two_sigma"] == pytest.approx(6 - 2 / 3 * 2.66 * 2.25)
    assert result.groups["amr"][0] == pytest.approx(2.25)
    assert result.points["point_type"].to_list() == ["common_cause"] * 5
    assert any("fewer than 13" in w for w in result.warnings)


SPIKE = [10, 11, 10, 11, 10, 30, 10, 11, 10, 11]


def test_screening_drops_large_moving_ranges_once() -> None:
    # ranges 1,1,1,1,20,20,1,1,1: AMR 47/9; 3.267 x 47/9 = 17.06, so both 20s go;
    # the recomputed AMR is 7/7 = 1. Mean = 124/10 = 12.4.
    result = xmr_chart(series(SPIKE))
    row = result.points.row(0, named=True)
    assert row["mean"] == pytest.approx(12.4)
    assert row["upl"] == pytest.approx(12.4 + 2.66)
    assert row["lpl"] == pytest.approx(12.4 - 2.66)
    # 2-sigma low line = 12.4 - 1.7733 = 10.627: every 10 is in the band, and each
    # sits in a window of three below the mean with another 10
    expected = ["special_cause_concern" if v == 10 else "common_cause" for v in SPIKE]
    expected[5] = "special_cause_improvement"
    assert result.points["point_type"].to_list() == expected
    assert result.points["special_cause_rule"][5] == "outside_limits"
    assert result.points["special_cause_rule"][0] == "two_in_three"
    assert any("screened 2 moving range" in w for w in result.warnings)


def test_screening_off_gives_the_excel_limits() -> None:
    result = xmr_chart(series(SPIKE), screen_outliers=False)
    amr = 47 / 9
    assert result.points["upl"][0] == pytest.approx(12.4 + 2.66 * amr)
    assert result.points["lpl"][0] == pytest.approx(12.4 - 2.66 * amr)
    # upper limit 26.29: 30 is still outside, the 10s are no longer in the band
    types = result.points["point_type"].to_list()
    assert types[5] == "special_cause_improvement"
    assert types[:5] + types[6:] == ["common_cause"] * 9


def test_rebase_starts_new_limits_and_rules_do_not_cross() -> None:
    values = [5, 1, 2, 3, 4, 5, 6, 7, 3, 4]
    plain = xmr_chart(series(values))
    # without a rebase, 1..7 is a trend of seven
    assert plain.points["special_cause_rule"].to_list()[1:8] == ["trend"] * 7
    rebased = xmr_chart(series(values), rebase=[day(5)])
    pts = rebased.points
    assert pts["group"].to_list() == [1] * 5 + [2] * 5
    # group 1: mean 15/5 = 3, ranges 4,1,1,1 -> AMR 7/4; group 2: mean 25/5 = 5,
    # ranges 1,1,4,1 -> AMR 7/4 (the range 4 -> 5 across the rebase is not used)
    assert pts["mean"].to_list() == pytest.approx([3.0] * 5 + [5.0] * 5)
    assert pts["upl"][0] == pytest.approx(3 + 2.66 * 7 / 4)
    assert pts["upl"][9] == pytest.approx(5 + 2.66 * 7 / 4)
    assert "trend" not in pts["special_cause_rule"].to_list()
    assert rebased.groups["mean"].to_list() == pytest.approx([3.0, 5.0])


def test_rebase_between_dates_starts_at_next_point_and_says_so() -> None:
    result = xmr_chart(series([5, 7, 6, 8, 4, 5]), rebase=[day(3) - timedelta(days=2)])
    assert result.points["group"].to_list() == [1, 1, 1, 2, 2, 2]
    assert any("not a date of the series" in w for w in result.warnings)


def test_rebase_after_the_series_is_refused() -> None:
    with pytest.raises(SPCOptionError, match="after the last point"):
        xmr_chart(series([1, 2, 3]), rebase=["2030-01-01"])


def test_fix_after_n_points_uses_only_the_first_points() -> None:
    result = xmr_chart(series([5, 7, 6, 8, 4, 100, 6]), fix_after_n_points=5)
    pts = result.points
    assert pts["mean"].to_list() == pytest.approx([6.0] * 7)
    assert pts["upl"][6] == pytest.approx(6 + 2.66 * 2.25)
    assert pts["point_type"][5] == "special_cause_improvement"
    unfixed = xmr_chart(series([5, 7, 6, 8, 4, 100, 6]))
    assert unfixed.points["mean"][0] == pytest.approx(136 / 7)


def test_missing_value_policy() -> None:
    # mean of 5,7,6,8,4 = 6; ranges 2 (5->7), none across the gap, 2 (6->8), 4 -> AMR 8/3
    result = xmr_chart(series([5, 7, None, 6, 8, 4]))
    pts = result.points
    assert pts["mean"][0] == pytest.approx(6.0)
    assert pts["upl"][0] == pytest.approx(6 + 2.66 * 8 / 3)
    assert pts["value"][2] is None and pts["point_type"][2] is None
    assert any("1 missing value" in w for w in result.warnings)
    # a gap breaks a run: 4 above, gap, 3 above is not a run of 7
    above = [9, 9, 9, 9, None, 9, 9, 9, 1, 1, 1, 1, 1, 1]
    assert "run" not in (xmr_chart(series(above)).points["special_cause_rule"].to_list())
    # nan counts as missing too
    nan_result = xmr_chart(series([5, 7, float("nan"), 6, 8, 4]))
    assert nan_result.points["mean"][0] == pytest.approx(6.0)


def test_constant_series_does_not_crash() -> None:
    result = xmr_chart(series([5.0] * 15))
    pts = result.points
    assert pts["upl"].to_list() == [5.0] * 15 and pts["lpl"].to_list() == [5.0] * 15
    assert pts["point_type"].to_list() == ["common_cause"] * 15
    assert any("collapse" in w for w in result.warnings)
    assert variation_icon(result) == "common_cause"


def test_one_point_group_does_not_crash() -> None:
    values = [5, 7, 6, 8, 4, 20]
    result = xmr_chart(series(values), rebase=[day(5)], target=3)
    last = result.points.row(5, named=True)
    assert last["mean"] == 20 and last["upl"] is None
    assert last["point_type"] == "common_cause"
    assert assurance_icon(result) is None
    assert any("one point only" in w for w in result.warnings)
    assert summarise(result)["groups"][1]["n_points"] == 1


@pytest.mark.parametrize(
    ("target", "improvement", "expected"),
    [
        (12.0, "increase", "consistent_fail"),  # above upl 11.985
        (12.0, "decrease", "consistent_pass"),
        (0.0, "increase", "consistent_pass"),  # below lpl 0.015
        (0.0, "decrease", "consistent_fail"),
        (6.0, "increase", "inconsistent"),
        (6.0, "decrease", "inconsistent"),
        (6 + 2.66 * 2.25, "increase", "inconsistent"),  # on the limit: not beyond it
        (12.0, "neutral", None),
        (None, "increase", None),
    ],
)
def test_assurance_table(target: float | None, improvement: str, expected: str | None) -> None:
    result = xmr_chart(series([5, 7, 6, 8, 4]), target=target, improvement=improvement)  # type: ignore[arg-type]
    assert assurance_icon(result) == expected


def test_assurance_reads_the_latest_group() -> None:
    values = [5, 7, 6, 8, 4, 20, 22, 21, 23, 19]
    # group 2: mean 21, AMR 2.25 -> limits 15.015 .. 26.985; target 12 is below
    result = xmr_chart(series(values), rebase=[day(5)], target=12)
    assert assurance_icon(result) == "consistent_pass"
    assert xmr_chart(series(values), target=12).points["mean"][0] == pytest.approx(13.5)


def test_variation_icon_is_last_point_type() -> None:
    result = xmr_chart(series([5, 7, 6, 8, 4, 5, 7, 6, 8, 4, 5, 6, 30]), improvement="decrease")
    assert variation_icon(result) == "special_cause_concern"


def test_summary_has_groups_icons_and_warnings() -> None:
    result = xmr_chart(series([5, 7, 6, 8, 4] * 3), target=20, rebase=[day(10)])
    summary = summarise(result)
    assert [g["mean"] for g in summary["groups"]] == pytest.approx([6.0, 6.0])
    assert summary["assurance_icon"] == "consistent_fail"
    assert summary["variation_icon"] == "common_cause"
    assert summary["rebase"] == [str(day(10))]
    assert summary["warnings"]


def test_bad_input_names_the_problem() -> None:
    with pytest.raises(SeriesError, match="no column 'count'"):
        xmr_chart(series([1, 2]), value="count")
    dup = pl.DataFrame({"date": ["2024-01-01", "2024-01-01"], "value": [1, 2]})
    with pytest.raises(SeriesError, match="more than once"):
        xmr_chart(dup)
    bad = pl.DataFrame({"date": ["2024-01-01", "soon"], "value": [1, 2]})
    with pytest.raises(SeriesError, match="line 3"):
        xmr_chart(bad)
    with pytest.raises(SPCOptionError, match="choose one of"):
        xmr_chart(series([1, 2]), rules="nelson")  # type: ignore[arg-type]


def test_all_missing_two_points_and_empty() -> None:
    nothing = xmr_chart(series([None, None, None]), target=2)
    assert nothing.points["point_type"].to_list() == [None] * 3
    assert variation_icon(nothing) is None and assurance_icon(nothing) is None
    # two points: one moving range of 1 -> limits 1.5 +/- 2.66
    two = xmr_chart(series([1, 2]))
    assert two.points["upl"][0] == pytest.approx(1.5 + 2.66)
    with pytest.raises(SeriesError, match="no points"):
        xmr_chart(series([]))
