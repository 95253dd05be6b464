"""A workspace measure read as its definition says, checked against hand-worked charts."""

from __future__ import annotations

import typing
from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

import polars as pl
import pytest
from pydantic import ValidationError

from systemic.framework.measure_data import MeasureData, learnt_measure_data
from systemic.framework.measures import chart_measure
from systemic.framework.model import LearnSeriesName, MeasureFields
from systemic.learn.series import SERIES
from systemic.measures.chart import chart_spec

WEEKS = [date(2026, 1, 5) + timedelta(weeks=i) for i in range(12)]


def measure(**fields: Any) -> Any:
    """A stored-like measure: the model's defaults with ``fields`` over them."""
    values = MeasureFields(name="Repeat calls", **fields)
    return SimpleNamespace(id="m1", **values.__dict__)


def test_limits_with_a_baseline_and_a_rebase_equal_a_hand_computation() -> None:
    values = [10.0, 12, 11, 13, 9, 11, 12, 10, 20, 22, 21, 23]
    m = measure(
        chart="xmr",
        improvement="increase",
        baseline_end=WEEKS[4],
        rebases=[{"on": WEEKS[8], "reason": "new triage line"}],
    )
    data = MeasureData("m1", pl.DataFrame({"date": WEEKS, "value": values}))
    chart = chart_measure(m, data)
    assert chart.result is not None
    first, second = chart.groups
    # Baseline weeks 1-5: mean 11, moving ranges 2, 1, 2, 4 -> AMR 2.25; limits mean +- 2.66 AMR.
    assert first["mean"] == pytest.approx(11.0)
    assert first["upl"] == pytest.approx(11 + 2.66 * 2.25)
    assert first["lpl"] == pytest.approx(11 - 2.66 * 2.25)
    # Weeks 6-8 are judged against the baseline limits but do not move them.
    assert first["n_points"] == 8
    # From the rebase: 20, 22, 21, 23 -> mean 21.5, moving ranges 2, 1, 2 -> AMR 5/3.
    assert second["start"] == WEEKS[8]
    assert second["mean"] == pytest.approx(21.5)
    assert second["upl"] == pytest.approx(21.5 + 2.66 * 5 / 3)
    reading = chart.reading
    assert "limits fixed on the baseline 2026-01-05 to 2026-02-02" in reading
    assert "the mean is 11 and the usual range 5.01 to 17" in reading
    assert "From 2026-03-02 (limits recalculated: new triage line) the mean is 21.5" in reading
    assert [m.kind for m in chart.markers] == ["rebase"]


def test_a_downward_shift_is_improvement_when_lower_is_better_and_concern_when_higher() -> None:
    weeks = [date(2026, 1, 5) + timedelta(weeks=i) for i in range(20)]
    before, after = (
        [20.0, 21, 19, 20, 22, 18, 20, 21, 19, 20],
        [12.0, 11, 13, 12, 11, 12, 13, 11, 12, 12],
    )
    values = [*before, *after]
    data = MeasureData("m1", pl.DataFrame({"date": weeks, "value": values}))
    lower = chart_measure(measure(improvement="decrease"), data)
    higher = chart_measure(measure(improvement="increase"), data)
    assert lower.variation == "special_cause_improvement"
    assert higher.variation == "special_cause_concern"
    assert "in the direction of improvement" in lower.sentences[0]
    assert "lower is better" in lower.sentences[1]
    assert "in the direction of concern" in higher.sentences[0]


def test_a_target_reads_the_assurance_icon_in_words() -> None:
    data = MeasureData(
        "m1", pl.DataFrame({"date": WEEKS, "value": [10.0, 12, 11, 13, 9] * 2 + [11, 12]})
    )
    chart = chart_measure(measure(improvement="decrease", target=2), data)
    # Limits about 4.6 to 17.6: a target of 2 below the lower limit is never met by chance.
    assert chart.assurance == "consistent_fail"
    assert "will not meet it unless the system changes" in chart.reading


def test_a_suppressed_week_is_a_gap_in_the_data_the_chart_and_the_words() -> None:
    table = pl.DataFrame(
        {
            "locality": ["North"] * 6 + ["South"] * 6,
            "period": [str(w) for w in WEEKS[:6]] * 2,
            "classified_contacts": ["20", "22", "<5", "21", "19", "20"] + ["30"] * 6,
            "failure_contacts": ["8", "9", "*", "10", "8", "9"] + ["12"] * 6,
            "failure_demand_share": ["0.4", "0.41", "", "0.48", "0.42", "0.45"] + ["0.4"] * 6,
            "edge": [None] * 12,
            "partial": ["false"] * 12,
        }
    )
    m = measure(
        data_source="learn",
        learn_result="town",
        series_name="failure_demand_share",
        locality="North",
        chart="p",
        improvement="decrease",
    )
    data = learnt_measure_data(m, table, source="town", source_version="1")
    assert data.series["value"].to_list()[2] is None
    assert data.series["value"][0] == pytest.approx(8 / 20)
    assert data.series["denominator"].to_list() == [20.0, 22.0, None, 21.0, 19.0, 20.0]
    assert list(data.others) == ["South"]
    chart = chart_measure(m, data)
    assert chart.result is not None
    gap = chart.result.points.filter(pl.col("date") == WEEKS[2]).row(0, named=True)
    assert gap["value"] is None and gap["point_type"] is None
    assert "1 week is a gap" in chart.reading
    assert any("suppressed to protect small numbers" in n for n in chart.notes)
    drawn = chart_spec(chart.result)["data"]["values"]
    assert [row["value"] for row in drawn if row["date"] == str(WEEKS[2])] == [None]


def test_experiment_starts_and_annotations_are_marked() -> None:
    data = MeasureData(
        "m1", pl.DataFrame({"date": WEEKS, "value": [float(i % 3) for i in range(12)]})
    )
    m = measure(annotations=[{"on": WEEKS[3], "text": "Phone system down"}])
    linked = SimpleNamespace(title="One team", start_date=WEEKS[6], measure_ids=["m1"])
    other = SimpleNamespace(title="Elsewhere", start_date=WEEKS[7], measure_ids=["m2"])
    chart = chart_measure(m, data, [linked, other])
    assert [(x.on, x.label, x.kind) for x in chart.markers] == [
        (WEEKS[3], "Phone system down", "annotation"),
        (WEEKS[6], "Experiment: One team", "experiment"),
    ]


def test_a_p_chart_without_a_denominator_says_what_to_choose() -> None:
    data = MeasureData("m1", pl.DataFrame({"date": WEEKS, "value": [1.0] * 12}))
    chart = chart_measure(measure(chart="p"), data)
    assert chart.result is None and "choose the XmR chart" in chart.problem


def test_series_names_are_learns_and_a_rebase_needs_a_reason() -> None:
    assert set(typing.get_args(LearnSeriesName)) == set(SERIES)
    with pytest.raises(ValidationError, match="reason"):
        MeasureFields(name="x", rebases=[{"on": "2026-01-05", "reason": ""}])
    with pytest.raises(ValidationError, match="baseline_end"):
        MeasureFields(name="x", baseline_start="2026-02-01", baseline_end="2026-01-01")
