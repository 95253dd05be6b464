"""Step 2's model-against-records figures on a small hand-worked case."""

from __future__ import annotations

import datetime as dt
import re
from types import SimpleNamespace

import polars as pl
import pytest

from systemic.report.simulation_section import (
    CostGap,
    RecordedRates,
    cost_gap,
    cost_gap_table,
    reconcile,
    recorded_cost_heads,
)

SWITCH = dt.date(2025, 1, 6)
HEADS = (
    "cost_contact",
    "cost_assessment",
    "cost_crisis",
    "cost_intervention",
    "cost_residential",
    "cost_prevention",
)


def _row(design: str, run: int, date: dt.date, contacts: int, failure: int, *heads: float):
    row = {"design": design, "run": run, "date": date, "contacts": contacts}
    row["failure_demand"] = failure
    row.update(dict(zip(HEADS, heads, strict=True)))
    row["cost"] = sum(heads)
    return row


def _comparison() -> SimpleNamespace:
    """Two runs of the silo design ("a") over one recorded year, 1,000 residents.

    Per run, summed over the year (two weeks each):
      run 0: 1,800 contacts (450 failure); contact 12,000, assessment 3,000,
             crisis 4,000, intervention 6,000, residential 2,000, prevention 0
      run 1: 2,200 contacts (660 failure); contact 14,000, assessment 5,000,
             crisis 2,000, intervention 8,000, residential 4,000, prevention 0
    Rows after the year, and the local design's, must be left out.
    """
    week1, week2 = SWITCH, SWITCH + dt.timedelta(days=7)
    later = SWITCH + dt.timedelta(days=400)
    rows = [
        _row("a", 0, week1, 900, 200, 6000, 1000, 4000, 3000, 2000, 0),
        _row("a", 0, week2, 900, 250, 6000, 2000, 0, 3000, 0, 0),
        _row("a", 1, week1, 1000, 300, 7000, 2500, 2000, 4000, 1000, 0),
        _row("a", 1, week2, 1200, 360, 7000, 2500, 0, 4000, 3000, 0),
        _row("a", 0, later, 99999, 0, 1e6, 1e6, 1e6, 1e6, 1e6, 1e6),
        _row("b", 0, week1, 99999, 0, 1e6, 1e6, 1e6, 1e6, 1e6, 1e6),
    ]
    return SimpleNamespace(runs=pl.DataFrame(rows))


#: The records: 500 residents over one year; event costs 5,000 + 2,000 + 1,000.
RECORDED = RecordedRates(
    residents=500,
    years=1.0,
    contacts=900,
    failure_demand_share=0.3,
    cost=8000.0,
    cost_heads={
        "cost_contact": 5000.0,
        "cost_assessment": 2000.0,
        "cost_crisis": 1000.0,
        "other": 0.0,
    },
)


def test_cost_gap_is_taken_apart_head_by_head():
    gap = cost_gap(_comparison(), SWITCH, RECORDED, residents=1000)
    assert gap is not None
    # Means of the two runs per 1,000 resident-years: contact (12,000 + 14,000) / 2 / 1,000 = 13,
    # assessment 4, crisis 3, intervention 7, residential 3, prevention 0: in all 30.
    assert gap.simulated == pytest.approx(
        {
            "cost_contact": 13.0,
            "cost_assessment": 4.0,
            "cost_crisis": 3.0,
            "cost_intervention": 7.0,
            "cost_residential": 3.0,
            "cost_prevention": 0.0,
        }
    )
    # The records per 500 resident-years: 10 + 4 + 2 = 16.
    assert gap.recorded_total == pytest.approx(16.0)
    assert gap.simulated_total == pytest.approx(30.0)
    assert gap.gap == pytest.approx(14.0)
    # 10 of the 14 are costs of time (7 + 3 + 0); the other 4 are 3 on contacts, 1 on crises.
    assert gap.time_costs == pytest.approx(10.0)
    assert gap.event_gap == pytest.approx(4.0)
    sentence = gap.sentence()
    assert "the model costs £30.00 per resident-year and the records £16.00" in sentence
    assert "a difference of +£14.00. Of that, +£10.00 is cost the records cannot hold" in sentence
    assert (
        "weeks in a service (£7.00), weeks in residential care (£3.00) and prevention" in sentence
    )
    assert "The other +£4.00 is the model costing contacts, assessments and crises more" in sentence
    assert "contacts and progress chases +£3.00, assessments £0.00, A&E" in sentence
    assert sentence.endswith("A&E attendances and emergency admissions +£1.00).")


def test_cost_gap_table_adds_up_to_the_sentence():
    gap = cost_gap(_comparison(), SWITCH, RECORDED, residents=1000)
    assert gap is not None
    rows = {r[0]: r[1:] for r in cost_gap_table(gap, 1.0).rows()}
    assert rows["All"] == ["£16.00", "£30.00", "+£14.00"]
    assert rows["Contacts and progress chases"] == ["£10.00", "£13.00", "+£3.00"]
    assert rows["Weeks in a service"] == ["no events to hold it", "£7.00", "+£7.00"]
    assert "Other recorded events" not in rows


def test_reconcile_compares_costs_on_the_records_basis():
    rows = {r.measure: r for r in reconcile(_comparison(), SWITCH, RECORDED, 1000, ())}
    # Mean contacts (1,800 + 2,200) / 2 per 1,000 resident-years; shares 0.25 and 0.30.
    assert rows["Contacts per resident-year"].simulated == "2.00"
    assert rows["Contacts per resident-year"].recorded == "1.80"
    assert rows["Failure-demand share of contacts"].simulated == "27.5%"
    # Only what events carry: 13 + 4 + 3, against the records' 8,000 / 500.
    cost = rows["Cost of the events recorded, per resident-year (£)"]
    assert (cost.recorded, cost.simulated) == ("£16.00", "£20.00")


def test_a_model_cheaper_on_events_says_so_with_a_sign():
    cheap = RecordedRates(500, 1.0, 900, 0.3, 20000.0, {"cost_contact": 20000.0})
    gap = cost_gap(_comparison(), SWITCH, cheap, residents=1000)
    assert gap is not None
    # Records: 40 per resident-year; the model 30 in all, of which 20 on events.
    assert gap.gap == pytest.approx(-10.0)
    assert gap.event_gap == pytest.approx(-20.0)
    assert "a difference of -£10.00. Of that, +£10.00 is cost" in gap.sentence()
    assert "The other -£20.00 is the model costing contacts, assessments and crises less" in (
        gap.sentence()
    )


def test_no_recorded_heads_no_gap():
    plain = RecordedRates(500, 1.0, 900, 0.3, 8000.0)
    assert cost_gap(_comparison(), SWITCH, plain, residents=1000) is None


def test_recorded_costs_by_head_add_up_to_the_records_total():
    events = pl.DataFrame(
        {
            "service": ["Housing", "Housing", "A&E", "hospital", "Housing", "Benefits"],
            "kind": ["contact", "assessment", "contact", "intervention", "closure", "referral"],
            "cost": [10.0, 200.0, 150.0, 2000.0, None, 5.0],
        }
    )
    heads = recorded_cost_heads(events)
    assert heads == {
        "cost_contact": 10.0,
        "cost_assessment": 200.0,
        "cost_crisis": 2150.0,
        "other": 5.0,
    }
    assert sum(heads.values()) == pytest.approx(events["cost"].sum())


def test_the_sentences_figures_add_up_in_pence():
    """Each figure is rounded to pence; the rest is what the shown gap leaves once the
    shown costs of time are taken off, so a reader adding them up gets the total."""
    gap = CostGap(
        recorded={"cost_contact": 10.004},
        simulated={"cost_contact": 9.0, "cost_intervention": 2.006, "cost_residential": 1.006},
    )
    sentence = gap.sentence()

    def money(after: str) -> float:
        sign, value = re.search(re.escape(after) + r" ([+-])£(\d+\.\d\d)", sentence).groups()
        return float(sign + value)

    # In all 12.012 against 10.004: a gap of 2.008, shown +£2.01; costs of time
    # 2.006 + 1.006 = 3.012, shown +£3.01; so the rest is shown as -£1.00
    # (unrounded it is -1.004).
    assert money("a difference of") == 2.01
    assert money("Of that,") == 3.01
    assert money("The other") == -1.0
