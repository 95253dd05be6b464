"""Attribute charts against textbook formulas and published worked examples.

Montgomery, *Introduction to Statistical Quality Control* (6th ed.), Examples
7.1 (p-chart, orange-juice cans) and 7.3 (c-chart, circuit boards) give the
data and the limits printed in the book. t and g charts follow Provost &
Murray, *The Health Care Data Guide* (2011); the expected values are worked
here with numpy, independently of the library.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from systemic.measures import SeriesError, SPCOptionError, spc_chart


def weekly(**columns: list[float]) -> pl.DataFrame:
    n = len(next(iter(columns.values())))
    return pl.DataFrame(
        {"date": [date(2024, 1, 1) + timedelta(weeks=i) for i in range(n)], **columns}
    )


CANS = [12, 15, 8, 10, 4, 7, 16, 9, 14, 10, 5, 6, 17, 12, 22,
        8, 10, 5, 13, 11, 20, 18, 24, 15, 9, 12, 7, 13, 9, 6]  # fmt: skip


def test_p_chart_matches_montgomery_example_7_1() -> None:
    frame = weekly(bad=CANS, inspected=[50] * 30)
    result = spc_chart(frame, chart="p", value="bad", denominator="inspected")
    pts = result.points
    assert sum(CANS) == 347
    assert pts["mean"][0] == pytest.approx(0.2313, abs=1e-4)
    assert pts["upl"][0] == pytest.approx(0.4102, abs=1e-4)
    assert pts["lpl"][0] == pytest.approx(0.0524, abs=1e-4)
    # the book finds samples 15 and 23 out of control
    outside = pts.with_row_index().filter(pl.col("special_cause_rule") == "outside_limits")
    assert outside["index"].to_list() == [14, 22]
    assert pts["value"][14] == pytest.approx(22 / 50)


BOARDS = [21, 24, 16, 12, 15, 5, 28, 20, 31, 25, 20, 24, 16,
          19, 10, 17, 13, 22, 18, 39, 30, 24, 16, 19, 17, 15]  # fmt: skip


def test_c_chart_matches_montgomery_example_7_3() -> None:
    result = spc_chart(weekly(defects=BOARDS), chart="c", value="defects", improvement="decrease")
    pts = result.points
    assert pts["mean"][0] == pytest.approx(19.85, abs=0.01)
    assert pts["upl"][0] == pytest.approx(33.22, abs=0.01)
    assert pts["lpl"][0] == pytest.approx(6.48, abs=0.01)
    # samples 6 (5 defects) and 20 (39 defects) are outside
    assert pts["point_type"][5] == "special_cause_improvement"
    assert pts["point_type"][19] == "special_cause_concern"


def test_u_chart_with_varying_exposure_per_thousand() -> None:
    contacts = [30, 42, 25, 38, 51, 29, 33, 40]
    residents = [9_000, 12_000, 8_500, 10_000, 11_000, 9_500, 10_500, 12_500]
    result = spc_chart(
        weekly(contacts=contacts, residents=residents),
        chart="u",
        value="contacts",
        denominator="residents",
        per=1000,
    )
    c, n = np.array(contacts, float), np.array(residents, float)
    u_bar = c.sum() / n.sum()
    sigma = np.sqrt(u_bar / n)
    pts = result.points
    assert pts["value"].to_list() == pytest.approx((c / n * 1000).tolist())
    assert pts["mean"].to_list() == pytest.approx([u_bar * 1000] * 8)
    assert pts["upl"].to_list() == pytest.approx(((u_bar + 3 * sigma) * 1000).tolist())
    assert pts["lpl"].to_list() == pytest.approx((np.maximum(u_bar - 3 * sigma, 0) * 1000).tolist())
    assert pts["upper_two_sigma"].to_list() == pytest.approx(((u_bar + 2 * sigma) * 1000).tolist())


DAYS_BETWEEN = [12.0, 30.0, 5.0, 21.0, 44.0, 9.0, 17.0, 60.0, 3.0, 25.0, 14.0, 38.0, 7.0, 19.0]


def test_t_chart_is_xmr_on_nelson_transform_back_transformed() -> None:
    result = spc_chart(weekly(days=DAYS_BETWEEN), chart="t", value="days")
    y = np.array(DAYS_BETWEEN) ** (1 / 3.6)
    mr = np.abs(np.diff(y))
    amr = mr.mean()
    amr = mr[mr < 3.267 * amr].mean()
    centre = y.mean()
    pts = result.points
    assert pts["mean"][0] == pytest.approx(centre**3.6)
    assert pts["upl"][0] == pytest.approx((centre + 2.66 * amr) ** 3.6)
    lower = centre - 2.66 * amr
    assert pts["lpl"][0] == pytest.approx(max(lower, 0) ** 3.6)
    assert pts["value"].to_list() == pytest.approx(DAYS_BETWEEN)
    assert result.groups["amr"][0] == pytest.approx(amr)


def test_t_chart_flags_a_long_gap_between_events() -> None:
    result = spc_chart(weekly(days=[*DAYS_BETWEEN, 900.0]), chart="t", value="days")
    assert result.points["point_type"][-1] == "special_cause_improvement"


def test_g_chart_formula() -> None:
    cases_between = [40.0, 12, 85, 33, 60, 7, 120, 25, 51, 18, 70, 44]
    result = spc_chart(weekly(g=cases_between), chart="g", value="g")
    g_bar = np.mean(cases_between)
    sigma = np.sqrt(g_bar * (g_bar + 1))
    pts = result.points
    assert pts["mean"][0] == pytest.approx(g_bar)
    assert pts["upl"][0] == pytest.approx(g_bar + 3 * sigma)
    assert pts["lpl"][0] == 0.0  # g_bar - 3 sigma is negative
    assert pts["upper_two_sigma"][0] == pytest.approx(g_bar + 2 * sigma)


def test_run_rules_apply_to_attribute_charts() -> None:
    # c-chart: mean 10 (7 x 8 and 7 x 12), so 7 points below and 7 above: two runs
    counts = [8.0] * 7 + [12.0] * 7
    result = spc_chart(weekly(n=counts), chart="c", value="n")
    assert result.points["special_cause_rule"].to_list() == ["run"] * 14
    assert result.points["point_type"].to_list() == (
        ["special_cause_concern"] * 7 + ["special_cause_improvement"] * 7
    )


def test_p_chart_rebase_and_zero_denominator() -> None:
    frame = weekly(x=[10.0, 20, 15, 0, 40, 45], n=[100.0, 100, 100, 0, 100, 100])
    result = spc_chart(
        frame, chart="p", value="x", denominator="n", rebase=[date(2024, 1, 1) + timedelta(weeks=4)]
    )
    pts = result.points
    assert pts["mean"].to_list()[:3] == pytest.approx([0.15] * 3)
    assert pts["mean"].to_list()[4:] == pytest.approx([0.425] * 2)
    assert pts["point_type"][3] is None
    assert any("zero 'n'" in w for w in result.warnings)


def test_attribute_input_errors() -> None:
    with pytest.raises(SPCOptionError, match="needs a denominator"):
        spc_chart(weekly(x=[1.0, 2.0]), chart="p", value="x")
    with pytest.raises(SeriesError, match="exceeds"):
        spc_chart(weekly(x=[5.0, 2.0], n=[4.0, 4.0]), chart="p", value="x", denominator="n")
    with pytest.raises(SeriesError, match="negative"):
        spc_chart(weekly(x=[-1.0, 2.0]), chart="c", value="x")
