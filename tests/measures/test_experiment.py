"""Experiment evidence on series with a real local shift, no shift, and a shift everywhere."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from systemic.measures import difference_in_differences, experiment_evidence
from systemic.measures.errors import SPCOptionError

START = date(2024, 7, 1)
WEEKS = [date(2024, 1, 1) + timedelta(weeks=i) for i in range(52)]
PLACES = ["North", "South", "East", "West"]


def localities(shift_north: float, shift_all: float, seed: int = 11) -> pl.DataFrame:
    """Weekly failure demand per locality; noise sd 3 around 50, shifts from START."""
    rng = np.random.default_rng(seed)
    rows = []
    for week in WEEKS:
        common = rng.normal(0, 1)  # a shock every locality feels that week
        for place in PLACES:
            value = 50 + common + rng.normal(0, 3)
            if week >= START:
                value += shift_all + (shift_north if place == "North" else 0)
            rows.append({"week": week, "place": place, "failure": value})
    return pl.DataFrame(rows)


def evidence(frame: pl.DataFrame, **kw: object):  # type: ignore[no-untyped-def]
    return experiment_evidence(
        frame,
        locality="North",
        start=START,
        date="week",
        value="failure",
        locality_column="place",
        improvement="decrease",
        seed=5,
        **kw,  # type: ignore[arg-type]
    )


def test_real_local_shift_is_credited() -> None:
    result = evidence(localities(shift_north=-10, shift_all=0))
    assert result.signal == "improvement"
    assert "run" in result.signal_rules or "outside_limits" in result.signal_rules
    did = result.did
    assert did is not None and did.upper < 0  # lower failure demand, beyond the others
    assert did.estimate == pytest.approx(-10, abs=2.0)
    assert result.conclusion == "improvement"
    assert "evidence that the system in North improved" in result.verdict
    assert "does not show that the experiment caused" in result.verdict
    # the rebased chart gives the new period its own mean, about 10 lower
    means = result.rebased_chart.groups["mean"].to_list()
    assert means[0] - means[1] == pytest.approx(10, abs=2.0)


def test_no_shift_gives_no_evidence() -> None:
    result = evidence(localities(shift_north=0, shift_all=0))
    assert result.signal == "none"
    assert result.did is not None and result.did.lower < 0 < result.did.upper
    assert result.conclusion == "no_change"
    assert "no evidence that the experiment changed" in result.verdict


def test_shift_everywhere_is_not_credited_to_the_experiment() -> None:
    result = evidence(localities(shift_north=0, shift_all=-10))
    assert result.signal == "improvement"  # North's own chart does shift...
    did = result.did
    assert did is not None and did.lower < 0 < did.upper  # ...but so did everyone's
    assert did.change_in_others == pytest.approx(-10, abs=2.0)
    assert result.conclusion == "shared_change"
    assert "cannot be credited to the experiment" in result.verdict


def test_without_other_localities_the_verdict_says_so() -> None:
    frame = localities(shift_north=-10, shift_all=0).filter(pl.col("place") == "North")
    result = evidence(frame)
    assert result.did is None and result.conclusion == "improvement"
    assert "cannot be told apart" in result.verdict


def test_difference_in_differences_by_hand_and_seeded() -> None:
    experiment = np.array([10.0, 12, 11, 5, 6, 7])
    others = np.array([9.0, 10, 11, 9, 11, 10])
    after = np.array([False, False, False, True, True, True])
    # gaps: before 1, 2, 0 (mean 1); after -4, -5, -3 (mean -4) -> DiD -5
    estimate, lower, upper = difference_in_differences(experiment, others, after, seed=3)
    assert estimate == pytest.approx(-5.0)
    # resampled means lie between the extremes: after in [-5, -3], before in [0, 2]
    assert -7 <= lower <= estimate <= upper <= -3
    again = difference_in_differences(experiment, others, after, seed=3)
    assert again == (estimate, lower, upper)


def test_experiment_needs_points_on_both_sides() -> None:
    frame = localities(shift_north=0, shift_all=0)
    with pytest.raises(ValueError, match="before and after"):
        experiment_evidence(
            frame,
            locality="North",
            start=WEEKS[0],
            date="week",
            value="failure",
            locality_column="place",
        )
    with pytest.raises(ValueError, match="no rows for locality 'Nowhere'"):
        experiment_evidence(
            frame,
            locality="Nowhere",
            start=START,
            date="week",
            value="failure",
            locality_column="place",
        )


def test_p_chart_experiment_pools_the_other_localities() -> None:
    rng = np.random.default_rng(2)
    rows = []
    for week in WEEKS[:40]:
        for place in ["A", "B", "C"]:
            n = int(rng.integers(200, 300))
            share = 0.4 - (0.1 if place == "A" and week >= WEEKS[20] else 0)
            rows.append({"date": week, "locality": place, "fd": int(rng.binomial(n, share)),
                         "contacts": n})  # fmt: skip
    frame = pl.DataFrame(rows)
    result = experiment_evidence(
        frame, locality="A", start=WEEKS[20], value="fd", denominator="contacts", chart="p",
        improvement="decrease", seed=1,
    )  # fmt: skip
    assert result.baseline_chart.options.chart == "p"
    assert result.signal == "improvement" and result.conclusion == "improvement"
    # the comparison is the pooled share of B and C per week (ratio of sums), done by hand
    others = (
        frame.filter(pl.col("locality") != "A")
        .group_by("date")
        .agg((pl.col("fd").sum() / pl.col("contacts").sum()).alias("others"))
    )
    mine = frame.filter(pl.col("locality") == "A").select(
        "date", (pl.col("fd") / pl.col("contacts")).alias("mine")
    )
    both = mine.join(others, on="date").sort("date")
    gap = (both["mine"] - both["others"]).to_numpy()
    expected = gap[20:].mean() - gap[:20].mean()
    assert result.did is not None and result.did.estimate == pytest.approx(expected)
    assert result.did.upper < 0


def neutral(frame: pl.DataFrame):  # type: ignore[no-untyped-def]
    return experiment_evidence(frame, locality="North", start=START, date="week",
                               value="failure", locality_column="place",
                               improvement="neutral", seed=5)  # fmt: skip


def test_a_measure_with_no_direction_reads_a_shift_as_a_change_not_as_both_directions() -> None:
    local = neutral(localities(shift_north=-10, shift_all=0))
    assert local.signal == "shift" and local.conclusion == "change"
    assert "special causes in both directions" not in local.verdict
    assert "a shift beyond the baseline's usual variation" in local.verdict
    assert "beyond what happened elsewhere; it has no direction of improvement" in local.verdict
    everywhere = neutral(localities(shift_north=0, shift_all=-10))
    assert everywhere.signal == "shift" and everywhere.conclusion == "shared_change"
    flat = neutral(localities(shift_north=0, shift_all=0))
    assert flat.signal == "none" and flat.conclusion == "no_change"


def test_relative_scale_compares_counts_in_places_of_different_sizes() -> None:
    """Hand-worked: North 100 a week falls to 60 (-40%), South and East (10 and 30, mean
    20) fall to 9 and 27 (-10%): relative DiD 0.6 / 0.9 - 1 = -33.3%, which the
    difference scale would read as -40 - (-2) = -38 contacts."""
    weeks = pl.date_range(pl.date(2024, 1, 1), pl.date(2024, 12, 23), "1w", eager=True)
    level = {"North": (100, 60), "South": (10, 9), "East": (30, 27)}
    rows = [
        {"week": d, "place": p, "failure": level[p][i >= 26] + (i % 3) - 1}
        for i, d in enumerate(weeks)
        for p in level
    ]
    frame = pl.DataFrame(rows)
    common = dict(locality="North", start=START, date="week", value="failure",
                  locality_column="place", improvement="decrease", seed=3)  # fmt: skip
    relative = experiment_evidence(frame, scale="relative", **common)  # type: ignore[arg-type]
    did = relative.did
    assert did is not None and did.scale == "relative"
    assert did.change_in_locality == pytest.approx(-0.40, abs=0.005)
    assert did.change_in_others == pytest.approx(-0.10, abs=0.005)
    assert did.estimate == pytest.approx(0.6 / 0.9 - 1, abs=0.005)
    assert did.lower <= did.estimate <= did.upper < 0
    assert relative.conclusion == "improvement"
    assert "North changed by -40% and the other 2 localities by -10%" in relative.verdict
    assert "North moved -33% relative to them" in relative.verdict
    absolute = experiment_evidence(frame, **common)  # type: ignore[arg-type]
    assert absolute.did is not None and absolute.did.estimate == pytest.approx(-38, abs=0.5)
    with pytest.raises(SPCOptionError, match="relative comparison needs the measure above zero"):
        experiment_evidence(frame.with_columns(pl.lit(0).alias("failure")), scale="relative",
                            **common)  # type: ignore[arg-type]  # fmt: skip


def test_a_real_difference_that_chance_could_explain_is_not_called_the_same_everywhere() -> None:
    # North falls by 1.3 a week more than the others, who barely move: North's chart
    # signals, but the interval of the difference includes zero.
    result = evidence(localities(shift_north=-1.3, shift_all=0, seed=13))
    did = result.did
    assert result.signal == "improvement" and result.conclusion == "shared_change"
    assert did is not None and did.lower < 0 < did.upper
    assert abs(did.change_in_others) < abs(did.change_in_locality) / 2
    assert "moved in the same way" not in result.verdict
    assert "the difference from the other localities could be chance" in result.verdict
    assert "cannot yet be credited to the experiment" in result.verdict


def test_relative_scale_with_sparse_counts_gives_a_finite_interval() -> None:
    """A small place: most weeks before the start have no failure demand at all, so many
    resamples have a before-mean of zero; those have no relative change and are left out."""
    weeks = pl.date_range(pl.date(2024, 1, 1), pl.date(2024, 12, 23), "1w", eager=True)
    rows = [
        {"week": d, "place": p, "failure": (1 if i in (3, 20) else 0) if p == "North" else 5}
        for i, d in enumerate(weeks)
        for p in ("North", "South")
    ]
    result = experiment_evidence(pl.DataFrame(rows), locality="North", start=START, date="week",
                                 value="failure", locality_column="place", scale="relative",
                                 improvement="decrease", seed=1)  # fmt: skip
    did = result.did
    assert did is not None
    assert all(np.isfinite([did.estimate, did.lower, did.upper]))
    assert did.change_in_locality == pytest.approx(-1.0)  # nothing at all since the start


def test_a_week_with_nothing_to_divide_is_left_out_of_the_comparison() -> None:
    """A p-chart's week with 0 of 0 contacts somewhere has no share: the comparison
    leaves it out instead of turning every figure into NaN."""
    frame = localities(shift_north=-10, shift_all=0).with_columns(pl.lit(100.0).alias("n"))
    empty = (pl.col("place") != "North") & (pl.col("week") == WEEKS[3])
    frame = frame.with_columns(
        pl.when(empty).then(0.0).otherwise(pl.col("failure")).alias("failure"),
        pl.when(empty).then(0.0).otherwise(pl.col("n")).alias("n"),
    )
    result = evidence(frame, denominator="n", chart="p")
    did = result.did
    assert did is not None and np.isfinite([did.estimate, did.lower, did.upper]).all()
    assert did.n_before == sum(w < START for w in WEEKS) - 1
