"""A measure's uploaded series read as an XmR chart, and an experiment's evidence (by hand)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import polars as pl
import pytest

from systemic.framework import WorkspaceSnapshot
from systemic.framework.evidence import (
    EvidenceError,
    analyse_experiment,
    change_since_start,
    comparison_words,
    evidence_summary,
    measure_evidence,
    measure_series,
    measure_spc,
)
from systemic.framework.measure_data import MeasureData, learnt_measure_data
from systemic.framework.model import MeasureEvidence
from systemic.measures import ExperimentEvidence, experiment_evidence
from systemic.measures.experiment import Scale
from systemic.measures.learnt import learnt_series
from tests.framework import big_and_small


def test_series_is_sorted_and_charted_with_hand_worked_limits() -> None:
    snap = WorkspaceSnapshot.empty()
    values = {"2026-01-03": 12.0, "2026-01-01": 10.0, "2026-01-02": 14.0, "2026-01-04": 12.0}
    measure = snap.add(
        "measure",
        {
            "name": "Days at home",
            "target": 13.0,
            "series": [{"period": p, "value": v} for p, v in values.items()],
        },
        "m",
    )
    frame = measure_series(measure)
    assert frame["value"].to_list() == [10.0, 14.0, 12.0, 12.0]
    result = measure_spc(measure)
    assert result is not None
    # mean 12; moving ranges 4, 2, 0 -> average 2; limits 12 +/- 2.66 * 2.
    mean, upper, lower = result.points.select("mean", "upl", "lpl").row(0)
    assert abs(mean - 12.0) < 1e-9
    assert abs(upper - (12 + 2.66 * 2)) < 1e-9 and abs(lower - (12 - 2.66 * 2)) < 1e-9


def test_too_short_series_gives_no_chart() -> None:
    snap = WorkspaceSnapshot.empty()
    measure = snap.add(
        "measure", {"name": "New", "series": [{"period": "2026-01-01", "value": 1.0}]}, "m"
    )
    assert measure_spc(measure) is None


# --- an experiment's evidence, worked by hand -------------------------------------------

START = date(2026, 3, 2)
WEEKS = [START + timedelta(weeks=i - 10) for i in range(20)]  # 10 weeks before, 10 since


def series(values: list[float]) -> pl.DataFrame:
    return pl.DataFrame({"date": WEEKS, "value": values})


#: North steps down by 6 at the start; South and East carry on as before.
NORTH = [10.0, 12.0] * 5 + [4.0, 6.0] * 5
SOUTH = [10.0, 12.0] * 10
EAST = [21.0, 19.0, 20.0, 22.0, 18.0] * 4


def stepped() -> MeasureData:
    return MeasureData(
        "m",
        series(NORTH),
        locality="North",
        others={"South": series(SOUTH), "East": series(EAST)},
        source="upload",
        source_version="v1",
        improvement="decrease",
    )


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


def test_a_step_at_the_start_in_the_locality_only_is_a_signal_and_its_did_is_the_hand_one() -> None:
    found = measure_evidence(stepped(), name="Repeat contacts", start=START, locality="North")
    # Limits from the 10 points before: mean 11, moving ranges all 2, so 11 +/- 2.66 * 2.
    assert found.n_before == 10 and found.n_after == 10
    assert found.baseline_mean == pytest.approx(11.0)
    assert found.baseline_lower == pytest.approx(11 - 5.32)
    assert found.baseline_upper == pytest.approx(11 + 5.32)
    # Since the start every value (4 and 6) is below the mean, and 4 is below 5.68.
    assert found.signal == "improvement"
    assert "points outside the limits" in found.signal_rules
    # DiD by hand: North's change minus the change in the mean of the others per date.
    others = [(s + e) / 2 for s, e in zip(SOUTH, EAST, strict=True)]
    by_hand = (mean(NORTH[10:]) - mean(NORTH[:10])) - (mean(others[10:]) - mean(others[:10]))
    assert by_hand == pytest.approx(-6.0)
    assert found.did == pytest.approx(by_hand)
    assert found.change_in_locality == pytest.approx(-6.0)
    assert found.change_in_others == pytest.approx(0.0)
    assert found.did_upper < 0  # the interval excludes no change
    assert found.compared_with == ["East", "South"]
    assert found.conclusion == "improvement"
    assert "special-cause improvement" in found.verdict
    assert "beyond what happened elsewhere" in found.verdict
    assert (found.source, found.source_version, found.locality) == ("upload", "v1", "North")


def test_a_flat_series_shows_no_signal_and_the_verdict_says_so() -> None:
    flat = MeasureData(
        "m",
        series(SOUTH),
        locality="North",
        others={"South": series(SOUTH), "East": series(EAST)},
        improvement="decrease",
    )
    found = measure_evidence(flat, name="Repeat contacts", start=START, locality="North")
    assert found.signal == "none" and found.signal_rules == []
    assert found.did == pytest.approx(0.0)
    assert found.conclusion == "no_change"
    assert "no special cause" in found.verdict
    assert "There is no evidence that the experiment changed this measure." in found.verdict


def test_a_measure_without_the_experiments_locality_is_read_whole_and_says_so() -> None:
    area = MeasureData("m", series(NORTH), improvement="decrease")
    found = measure_evidence(area, name="Repeat contacts", start=START, locality="Westfield")
    assert found.locality == "" and found.did is None and found.compared_with == []
    assert found.verdict.startswith("This measure has no series for Westfield")
    assert "No other localities were given" in found.verdict


def test_a_whole_area_series_is_no_comparison_for_one_of_its_localities() -> None:
    data = MeasureData(
        "m",
        series([(n + s) / 2 for n, s in zip(NORTH, SOUTH, strict=True)]),
        others={"North": series(NORTH), "South": series(SOUTH)},
        improvement="decrease",
    )
    found = measure_evidence(data, name="Repeat contacts", start=START, locality="North")
    assert found.locality == "North" and found.compared_with == ["South"]
    assert found.did == pytest.approx(-6.0)


def test_a_measure_with_no_values_or_too_few_before_the_start_is_not_analysed() -> None:
    empty = measure_evidence(
        MeasureData("m", series([0.0] * 20).clear()), name="New", start=START, locality=None
    )
    assert empty.conclusion == "not_analysed"
    assert empty.verdict == "New could not be analysed: it has no values for the whole area yet."
    late = measure_evidence(
        MeasureData("m", series(NORTH)), name="Late", start=WEEKS[1], locality=None
    )
    assert late.conclusion == "not_analysed" and "points before and after" in late.verdict


def test_an_analysis_needs_a_start_date_and_a_measure_and_numbers_its_version() -> None:
    snap = WorkspaceSnapshot.empty()
    when = datetime(2026, 6, 1, tzinfo=UTC)
    undated = snap.add("experiment", {"title": "Undated"}, "u")
    with pytest.raises(EvidenceError, match="no start date: set it"):
        analyse_experiment(undated, [stepped()], names={}, locality=None,
                           analysed_by="ana", analysed_at=when)  # fmt: skip
    dated = snap.add("experiment", {"title": "Dated", "start_date": START}, "d")
    with pytest.raises(EvidenceError, match="no measure: link one"):
        analyse_experiment(dated, [], names={}, locality=None, analysed_by="ana",
                           analysed_at=when)  # fmt: skip
    first = analyse_experiment(dated, [stepped()], names={"m": "Repeat contacts"},
                               locality="North", analysed_by="ana", analysed_at=when)  # fmt: skip
    assert (first.version, first.start_date, first.locality) == (1, START, "North")
    assert [m.measure_name for m in first.measures] == ["Repeat contacts"]
    again = dated.model_copy(update={"analyses": [first]})
    second = analyse_experiment(again, [stepped()], names={}, locality="North",
                                analysed_by="bo", analysed_at=when)  # fmt: skip
    assert second.version == 2 and second.analysed_by == "bo"


def shares(failures: list[float], contacts: float = 100.0) -> pl.DataFrame:
    return pl.DataFrame({
        "date": WEEKS, "value": [f / contacts for f in failures],
        "numerator": failures, "denominator": [contacts] * len(failures),
    })  # fmt: skip


def test_a_p_chart_measure_reads_counts_over_denominators_with_p_limits() -> None:
    north = [40.0, 44.0] * 5 + [20.0, 24.0] * 5
    data = MeasureData(
        "m", shares(north), locality="North", others={"South": shares([40.0, 44.0] * 10)},
        improvement="decrease", notes=("1 week suppressed to protect people",),
    )  # fmt: skip
    found = measure_evidence(data, name="Failure share", start=START, locality="North", chart="p")
    # p-chart limits by hand: pbar 0.42, n 100 -> 0.42 +/- 3 * sqrt(0.42 * 0.58 / 100).
    spread = 3 * (0.42 * 0.58 / 100) ** 0.5
    assert found.baseline_mean == pytest.approx(0.42)
    assert found.baseline_upper == pytest.approx(0.42 + spread)
    assert found.baseline_lower == pytest.approx(0.42 - spread)
    assert found.did == pytest.approx(-0.20)  # (0.22 - 0.42) - (0.42 - 0.42)
    assert "percentage points" in found.verdict and found.conclusion == "improvement"
    assert found.notes == ["1 week suppressed to protect people"]
    no_counts = measure_evidence(
        MeasureData("m", series(NORTH)), name="Calls", start=START, locality=None, chart="p"
    )
    assert no_counts.conclusion == "not_analysed" and "needs a count" in no_counts.verdict


def test_a_measure_whose_source_cannot_be_read_is_not_analysed_and_says_why() -> None:
    broken = MeasureData(
        "m", series(NORTH).clear(), source="town", problem="no learn result 'town'"
    )
    found = measure_evidence(broken, name="Failure share", start=START, locality="North")
    assert found.conclusion == "not_analysed" and found.source == "town"
    assert found.verdict == "Failure share could not be analysed: no learn result 'town'."


# --- counts of whole periods: compared as relative changes, as the CLI does ------------------


def learnt(series_name: str, **measure: object) -> MeasureData:
    """The workspace's data of a measure drawing on the hand-worked big-and-small result."""
    fields = {"id": "m", "series_name": series_name, "locality": "North", "period": "week"}
    return learnt_measure_data(
        SimpleNamespace(**(fields | measure)),
        big_and_small.published_table(),
        source="town",
        source_version="1",
    )


def cli_evidence(series_name: str, scale: Scale) -> ExperimentEvidence:
    """What `systemic experiment --from` computes on the same published table."""
    read = learnt_series(big_and_small.published_table(), series_name, every_locality=True)
    d = read.definition
    return experiment_evidence(
        read.frame, locality="North", start=big_and_small.START, chart=d.chart,
        improvement=d.improvement, denominator="denominator" if d.denominator else None,
        scale=scale,
    )  # fmt: skip


def test_a_learnt_count_is_compared_as_relative_changes_as_the_cli_compares_it() -> None:
    data = learnt("contacts")
    assert data.whole_periods and data.scale == "relative"
    e = SimpleNamespace(title="One call", start_date=big_and_small.START, analyses=[])
    when = datetime(2026, 6, 1, tzinfo=UTC)
    run = analyse_experiment(e, [data], names={"m": "Contacts"}, locality="North",
                             analysed_by="ana", analysed_at=when)  # fmt: skip
    (found,) = run.measures
    # By hand: North 100 -> 80 (-20%), South 10 -> 9 (-10%); 0.8 / 0.9 - 1 = -11%.
    assert found.scale == "relative"
    assert found.change_in_locality == pytest.approx(-0.2)
    assert found.change_in_others == pytest.approx(-0.1)
    assert found.did == pytest.approx(big_and_small.RELATIVE)
    assert found.n_before == 10  # the partial first week is left out
    # The CLI's own function on the frame it reads gives the same figures, interval too.
    cli = cli_evidence("contacts", "relative").did
    assert cli is not None and cli.scale == "relative"
    assert (found.did, found.did_lower, found.did_upper) == pytest.approx(
        (cli.estimate, cli.lower, cli.upper), abs=1e-12
    )
    assert found.did_upper < 0  # the interval excludes no change
    # On the difference scale the same data read -19 contacts: the scales disagree.
    raw = cli_evidence("contacts", "difference").did
    assert raw is not None and raw.estimate == pytest.approx(big_and_small.DIFFERENCE)
    assert comparison_words(found).startswith("-11% [")
    assert comparison_words(found).endswith("relative to the other localities (South)")
    assert change_since_start(found) == "-20% in North, -10% in the other localities"
    assert "the other locality by -10%: North moved -11% relative to it" in found.verdict
    assert "Contacts: changed (no direction of improvement set), -11% [" in evidence_summary(run)


def test_a_learnt_share_and_an_upload_are_compared_as_differences() -> None:
    share = learnt("failure_demand_share", improvement="decrease")
    assert not share.whole_periods and share.scale == "difference"
    found = measure_evidence(share, name="Share", start=big_and_small.START, locality="North",
                             chart="p")  # fmt: skip
    cli = cli_evidence("failure_demand_share", "difference").did
    assert cli is not None and found.scale == "difference"
    assert (found.did, found.did_lower, found.did_upper) == pytest.approx(
        (cli.estimate, cli.lower, cli.upper), abs=1e-12
    )
    assert comparison_words(found).endswith("percentage points against the other localities "
                                             "(South)")  # fmt: skip
    # The same counts uploaded: an upload is never read as a count of whole periods.
    upload = measure_evidence(stepped(), name="Repeat contacts", start=START, locality="North")
    assert upload.scale == "difference" and upload.did == pytest.approx(-6.0)
    assert comparison_words(upload).startswith("-6 [")
    assert comparison_words(upload).endswith("in the measure's units")


def test_a_count_of_zero_before_the_start_is_compared_as_a_difference_and_says_why() -> None:
    quiet = MeasureData("m", series([0.0] * 10 + [2.0, 3.0] * 5), locality="North",
                        others={"South": series([1.0, 2.0] * 10)}, whole_periods=True)  # fmt: skip
    found = measure_evidence(quiet, name="Contacts", start=START, locality="North")
    assert found.scale == "difference" and found.did == pytest.approx(2.5)
    assert found.verdict.startswith(
        "This count is compared as a difference, not as relative changes: a relative "
        "comparison needs the measure above zero before the start"
    )


def test_evidence_stored_before_the_scale_was_recorded_reads_as_a_difference() -> None:
    stored = {
        "measure_id": "m", "measure_name": "Repeat contacts", "source": "upload",
        "locality": "North", "compared_with": ["South"], "improvement": "decrease",
        "change_in_locality": -6.0, "change_in_others": 0.0, "did": -6.0, "did_lower": -6.8,
        "did_upper": -5.2, "conclusion": "improvement", "verdict": "…",
    }  # fmt: skip
    found = MeasureEvidence.model_validate(stored)
    assert found.scale == "difference"
    assert comparison_words(found) == (
        "-6 [-6.8, -5.2] against the other localities (South), in the measure's units"
    )
