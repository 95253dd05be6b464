"""The demo town's silos, linked before learning, scored against the simulation's truth."""

from __future__ import annotations

import polars as pl
import pytest

from systemic.data import write_dataset
from systemic.demo import DemoConfig
from systemic.demo.linkage import (
    JOURNEY_FIGURES,
    journey_agreement,
    journey_figures,
    link_town,
    linkage_section,
    score_linkage,
)
from systemic.demo.pipeline import town_scenario
from systemic.learn import learn
from systemic.simulate import event_frame, load_scenario, run


@pytest.fixture(scope="module")
def town(tmp_path_factory):
    folder = tmp_path_factory.mktemp("town")
    sim = run(
        load_scenario(town_scenario(DemoConfig(people=3_000, years=1.0))), seed=5, events=True
    )
    events = event_frame(sim)
    write_dataset(events, folder / "true", source_name="true ids")
    scores, linked = link_town(events, folder / "silos", seed=5)
    write_dataset(linked, folder / "linked", source_name="linked silos")
    return folder, events, scores, linked


def test_silos_hold_no_shared_id_and_link_well(town):
    folder, events, scores, _ = town
    silos = sorted((folder / "silos").glob("*.csv"))
    assert len(silos) == events["service"].n_unique() >= 3
    true_ids = set(events["person_id"].unique().to_list())
    for path in silos:
        frame = pl.read_csv(path, infer_schema=False)
        assert "person_id" not in frame.columns
        assert not true_ids & set(frame["record_id"].to_list())
    assert scores.precision >= 0.97 and scores.recall >= 0.95, scores
    assert scores.people_exact >= 0.9


def test_journeys_agree_within_the_linkage_error(town):
    folder, _, scores, _ = town
    agreement = journey_agreement(
        learn(folder / "true").summary(), learn(folder / "linked").summary()
    )
    diffs = agreement["difference"].drop_nulls().abs()
    assert diffs.len() >= 4
    assert float(diffs.max()) <= scores.person_error + 1e-9, (agreement, scores.person_error)
    section = linkage_section(scores, agreement)
    said = " ".join(section.paragraphs)
    assert f"{scores.precision:.1%}" in said and f"{float(diffs.max()):.1%}" in said


def test_score_linkage_against_hand_worked_truth():
    links = pl.DataFrame(
        {
            "source": ["a", "b", "a", "b"],
            "record_id": ["1", "1", "2", "2"],
            "person_key": ["k", "k", "m", "n"],
        }
    )
    truth = pl.DataFrame(
        {
            "source": ["a", "b", "a", "b"],
            "record_id": ["1", "1", "2", "2"],
            "person_id": ["x", "x", "y", "y"],
        }
    )
    # one true pair of two found; nothing wrongly joined; person x exact, y split
    assert score_linkage(links, truth) == (1.0, 0.5, 0.5)


def test_journey_figures_alone_are_what_a_whole_learn_run_says(town):
    # the demo learns only the linked silos' journeys: the same figures as learning all of it
    folder, events, _, linked = town
    for frame, dataset in ((linked, "linked"), (events, "true")):
        whole = learn(folder / dataset).summary()
        alone = journey_figures(frame)
        for attr, _label in JOURNEY_FIGURES:
            assert getattr(alone, attr) == getattr(whole, attr), (dataset, attr)
