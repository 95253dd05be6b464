"""The demo town's demand study and its report section, on a small simulated town."""

from __future__ import annotations

import polars as pl
import pytest

from systemic.demand.corpus import load_corpus
from systemic.demo.demand import town_demand_study
from systemic.report.demand_section import demand_section
from systemic.simulate import event_frame, load_scenario, run


@pytest.fixture(scope="module")
def town():
    sim = run(load_scenario({"population": {"people": 3000}, "years": 1.0}), seed=5, events=True)
    events = event_frame(sim)
    return events, town_demand_study(events, contacts=600, labels=200, seed=5)


def test_each_contact_gets_its_own_note_of_its_class(town) -> None:
    events, t = town
    contacts = events.filter(pl.col("kind") == "contact")
    recent = contacts.filter(
        pl.col("timestamp") > contacts["timestamp"].max() - pl.duration(weeks=12)
    ).height
    n = min(600, recent)
    assert n > 200
    assert t.contacts.height == n
    assert t.contacts["text"].n_unique() == n
    corpus = load_corpus().select("text", pl.col("demand_class").alias("note_class"))
    joined = t.contacts.join(corpus, on="text").join(
        events.select(pl.col("event_id").alias("id"), "demand_class"), on="id"
    )
    assert joined.height == n
    assert (joined["note_class"] == joined["demand_class"]).all()
    assert t.study.estimate.labelled == 200
    assert t.study.estimate.contacts == n


def test_rules_are_judged_on_the_labelled_contacts(town) -> None:
    _, t = town
    any_rule = t.rules.filter(pl.col("rule") == "any rule").row(0, named=True)
    assert any_rule["labelled"] == 200
    failures = int((t.labels["demand_class"] == "failure").sum())
    if any_rule["recall"] is not None:
        assert any_rule["recall"] == pytest.approx(any_rule["true_positive"] / failures)


def test_the_section_says_what_the_study_computed(town) -> None:
    _, t = town
    section = demand_section(t.study, t.rules)
    figures = {k.label: k for k in section.key_figures}
    e = t.study.estimate
    assert figures["failure demand"].value == f"{100 * e.share:.0f}%"
    assert f"{100 * e.low:.0f}% to {100 * e.high:.0f}%" in figures["failure demand"].detail
    assert any("precision" in p for p in section.paragraphs)
    assert len(section.figures) == 2
    assert all(f.svg.lstrip().startswith("<svg") for f in section.figures)
