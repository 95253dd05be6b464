"""An experiment keeps its evidence: each analysis a version with its inputs; PDSA cycles."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from systemic.cli import app
from systemic.framework.evidence import EvidenceError
from systemic.store import (
    InvalidObjectError,
    Store,
    export_workspace,
    import_workspace,
    open_store,
    orm,
    repository,
)
from systemic.store.experiment_evidence import analyse, save_cycle
from systemic.store.learn_results import add_learn_result
from tests.framework import big_and_small

RUNNER = CliRunner()

START = date(2026, 3, 2)
WEEKS = [START + timedelta(weeks=i - 8) for i in range(16)]


def points(values: list[float]) -> list[dict[str, object]]:
    return [{"period": d.isoformat(), "value": v} for d, v in zip(WEEKS, values, strict=True)]


def test_two_analyses_are_two_versions_each_with_its_inputs(store: Store) -> None:
    with store.session() as s:
        ws = repository.create_workspace(s, "Anytown", seed=False)
        north = repository.create(s, ws.id, "locality", {"name": "North"})
        measure = repository.create(
            s, ws.id, "measure", {"name": "Repeat contacts", "series": points([5.0, 6.0] * 8)}
        )
        experiment = repository.create(
            s, ws.id, "experiment",
            {"title": "One call", "start_date": START, "locality_id": north.id,
             "measure_ids": [measure.id]},
        )  # fmt: skip
        first_at = datetime(2026, 5, 1, 9, tzinfo=UTC)
        analyse(s, ws.id, experiment.id, actor="ana", at=first_at)
        # New values are uploaded and the start date is corrected before the second run.
        changed = repository.update(
            s, ws.id, "measure", measure.id, {"series": points([5.0, 6.0] * 4 + [2.0, 3.0] * 4)}
        )
        repository.update(s, ws.id, "experiment", experiment.id,
                          {"start_date": START - timedelta(weeks=1)})  # fmt: skip
        analyse(s, ws.id, experiment.id, actor="bo", at=first_at + timedelta(days=7))
        s.commit()
    with store.session() as s:
        stored = repository.get(s, ws.id, "experiment", experiment.id)
        first, second = stored.analyses
        assert [first.version, second.version] == [1, 2]
        assert (first.analysed_by, first.analysed_at, first.start_date) == ("ana", first_at, START)
        assert (second.analysed_by, second.start_date) == ("bo", START - timedelta(weeks=1))
        assert first.locality == second.locality == "North"
        one, two = first.measures[0], second.measures[0]
        assert one.measure_id == two.measure_id == measure.id
        assert one.source == two.source == "upload"
        assert one.source_version == measure.updated_at.isoformat()
        assert two.source_version == changed.updated_at.isoformat() != one.source_version
        # The first version still says what it found then: a flat series, no change.
        assert one.conclusion == "no_change" and one.n_before == 8
        assert two.n_before == 7 and two.signal != "none"
        actions = [h.action for h in repository.history(s, ws.id, object_id=experiment.id)]
        assert actions.count("update") == 3  # two analyses and the start date


def test_an_experiment_without_a_start_date_is_not_analysed(store: Store) -> None:
    with store.session() as s:
        ws = repository.create_workspace(s, "Anytown", seed=False)
        experiment = repository.create(s, ws.id, "experiment", {"title": "Undated"})
        with pytest.raises(EvidenceError, match="no start date"):
            analyse(s, ws.id, experiment.id)
        assert repository.get(s, ws.id, "experiment", experiment.id).analyses == []


def test_pdsa_cycles_are_added_edited_and_kept_in_date_order(store: Store) -> None:
    with store.session() as s:
        ws = repository.create_workspace(s, "Anytown", seed=False)
        e = repository.create(s, ws.id, "experiment", {"title": "One call"})
        save_cycle(s, ws.id, e.id, {"plan": "Second", "started_on": "2026-04-01"})
        save_cycle(s, ws.id, e.id, {"plan": "Not started yet"})
        save_cycle(s, ws.id, e.id, {"plan": "First", "started_on": "2026-03-02",
                                    "prediction": "Fewer repeat calls"})  # fmt: skip
        stored = repository.get(s, ws.id, "experiment", e.id)
        assert [c.plan for c in stored.pdsa_cycles] == ["First", "Second", "Not started yet"]
        save_cycle(s, ws.id, e.id, {**stored.pdsa_cycles[0].model_dump(),
                                    "what_happened": "Two fewer a day"}, index=0)  # fmt: skip
        assert repository.get(s, ws.id, "experiment", e.id).pdsa_cycles[0].what_happened == (
            "Two fewer a day"
        )
        with pytest.raises(InvalidObjectError) as problem:
            save_cycle(s, ws.id, e.id, {"plan": "Bad", "started_on": "2026-05-02",
                                        "ended_on": "2026-05-01"})  # fmt: skip
        assert problem.value.errors[0]["loc"][:3] == ("pdsa_cycles", 3, "ended_on")
        with pytest.raises(IndexError):
            save_cycle(s, ws.id, e.id, {"plan": "Nowhere"}, index=7)


def test_export_and_import_keep_cycles_evidence_and_a_decisions_links(
    store: Store, tmp_path: Path
) -> None:
    with store.session() as s:
        ws = repository.create_workspace(s, "Anytown", seed=False)
        purpose = repository.create(s, ws.id, "purpose_statement", {"text": "Tell it once"})
        condition = repository.create(
            s, ws.id, "system_condition", {"name": "Call-time target", "judgement": "harmful"}
        )
        measure = repository.create(
            s, ws.id, "measure", {"name": "Repeat contacts", "series": points([5.0, 6.0] * 8)}
        )
        e = repository.create(s, ws.id, "experiment", {
            "title": "One call", "start_date": START, "measure_ids": [measure.id],
        })  # fmt: skip
        save_cycle(s, ws.id, e.id, {"plan": "One officer", "started_on": "2026-03-02"})
        analyse(s, ws.id, e.id, actor="ana")
        repository.create(s, ws.id, "redesign_decision", {
            "title": "Drop the target", "experiment_ids": [e.id],
            "system_condition_ids": [condition.id], "purpose_statement_ids": [purpose.id],
        })  # fmt: skip
        s.commit()
        document = export_workspace(s, "anytown")
    target = open_store(f"sqlite:///{tmp_path / 'empty.db'}")
    with target.session() as s:
        import_workspace(s, json.loads(json.dumps(document)))
        s.commit()
        again = repository.get(s, ws.id, "experiment", e.id)
        (decision,) = repository.list_objects(s, ws.id, "redesign_decision")
        assert export_workspace(s, "anytown") == document
    target.dispose()
    assert [c.plan for c in again.pdsa_cycles] == ["One officer"]
    assert again.analyses[0].measures[0].measure_id == measure.id
    assert decision.system_condition_ids == [condition.id]
    assert decision.purpose_statement_ids == [purpose.id]


def test_analyse_reads_a_learnt_count_relative_and_a_share_as_a_difference_as_the_cli_does(
    store: Store, tmp_path: Path
) -> None:
    """The workspace's stored evidence and `systemic experiment --from` on the same result."""
    folder = big_and_small.write_learn_folder(tmp_path / "learn")
    with store.session() as s:
        ws = repository.create_workspace(s, "Anytown", seed=False)
        add_learn_result(s, ws.id, "town", folder, actor="ana")
        north = repository.create(s, ws.id, "locality", {"name": "North"})
        drawn = {"data_source": "learn", "learn_result": "town", "locality": "North"}
        contacts = repository.create(s, ws.id, "measure", drawn | {
            "name": "Contacts, North", "series_name": "contacts", "improvement": "neutral",
        })  # fmt: skip
        share = repository.create(s, ws.id, "measure", drawn | {
            "name": "Failure share, North", "series_name": "failure_demand_share",
            "chart": "p", "improvement": "decrease",
        })  # fmt: skip
        e = repository.create(s, ws.id, "experiment", {
            "title": "One call", "start_date": big_and_small.START, "locality_id": north.id,
            "measure_ids": [contacts.id, share.id],
        })  # fmt: skip
        analyse(s, ws.id, e.id, actor="ana")
        s.commit()
    with store.session() as s:
        stored = repository.get(s, ws.id, "experiment", e.id).analyses[0].measures
    counted, shared = sorted(stored, key=lambda m: m.measure_id != contacts.id)
    for found, series in [(counted, "contacts"), (shared, "failure_demand_share")]:
        out = tmp_path / series
        ran = RUNNER.invoke(app, [
            "experiment", "--from", str(folder), "--series", series, "--locality", "North",
            "--start", big_and_small.START.isoformat(), "--out", str(out),
        ])  # fmt: skip
        assert ran.exit_code == 0, ran.output
        cli = json.loads((out / "evidence.json").read_text())["difference_in_differences"]
        assert found.scale == cli["scale"]
        assert (found.did, found.did_lower, found.did_upper) == pytest.approx(
            (cli["estimate"], cli["lower"], cli["upper"]), abs=1e-12
        )
        assert (found.change_in_locality, found.change_in_others) == pytest.approx(
            (cli["change_in_locality"], cli["change_in_others"]), abs=1e-12
        )
    # Contacts a week in a big and a small place: relative, -11% by hand (not -19 contacts).
    assert counted.scale == "relative" and counted.did == pytest.approx(big_and_small.RELATIVE)
    assert shared.scale == "difference"


def test_evidence_stored_before_the_scale_was_recorded_still_loads(store: Store) -> None:
    with store.session() as s:
        ws = repository.create_workspace(s, "Anytown", seed=False)
        measure = repository.create(
            s, ws.id, "measure", {"name": "Repeat contacts", "series": points([5.0, 6.0] * 8)}
        )
        e = repository.create(s, ws.id, "experiment", {
            "title": "One call", "start_date": START, "measure_ids": [measure.id],
        })  # fmt: skip
        analyse(s, ws.id, e.id, actor="ana")
        row = s.get(orm.Experiment, e.id)
        assert row is not None
        # The JSON an earlier version wrote: no "scale" in any measure's evidence.
        old = [
            {**a, "measures": [{k: v for k, v in m.items() if k != "scale"} for m in a["measures"]]}
            for a in row.analyses
        ]
        assert "scale" in row.analyses[0]["measures"][0] and "scale" not in str(old)
        row.analyses = old
        s.commit()
    with store.session() as s:
        (found,) = repository.get(s, ws.id, "experiment", e.id).analyses[0].measures
        assert found.scale == "difference" and found.conclusion == "no_change"
