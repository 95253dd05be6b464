"""Learn results in a workspace: published series only, a version per extract, history kept."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from systemic.cli import app
from systemic.framework.measures import chart_measure
from systemic.learn import learn_events, write_outputs
from systemic.store import Store, repository
from systemic.store.learn_results import (
    LearnResultError,
    add_learn_result,
    learn_result_versions,
    newest_learn_results,
)
from systemic.store.measure_data import load_measure_data
from tests.measures.test_learnt import town_events

RUNNER = CliRunner()


@pytest.fixture(scope="module")
def extracts(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two extracts of the same town: 30 weeks, then 40 (the later one adds ten weeks)."""
    first, second = tmp_path_factory.mktemp("first"), tmp_path_factory.mktemp("second")
    write_outputs(learn_events(town_events(weeks=30)), first, charts=False)
    write_outputs(learn_events(town_events(weeks=40)), second, charts=False)
    return first, second


def published(learn_dir: Path, locality: str) -> dict[str, str]:
    """North's published failure contacts by week, read straight from the CSV."""
    with (learn_dir / "tables" / "series_weekly.csv").open() as f:
        return {
            r["period"]: r["failure_contacts"]
            for r in csv.DictReader(f)
            if r["locality"] == locality
        }


MEASURE = {
    "name": "Failure demand, South",
    "data_source": "learn",
    "learn_result": "town",
    "series_name": "failure_contacts",
    "locality": "South",
    "improvement": "decrease",
}


def test_a_new_extract_adds_a_version_the_measure_reads_it_and_history_keeps_the_old(
    store: Store, extracts: tuple[Path, Path]
) -> None:
    first, second = extracts
    with store.session() as s:
        ws = repository.create_workspace(s, "Town", seed=False)
        assert add_learn_result(s, ws.id, "town", first, actor="test").version == 1
        m = repository.create(s, ws.id, "measure", MEASURE, actor="test")
        s.commit()
        before = load_measure_data(s, ws.id, m)
        assert add_learn_result(s, ws.id, "town", second, actor="test").version == 2
        s.commit()
        now = load_measure_data(s, ws.id, m)
        old = load_measure_data(s, ws.id, m, version=1)
        versions = learn_result_versions(s, ws.id, "town")
    assert [v.version for v in versions] == [2, 1]
    assert (before.source, before.source_version, now.source_version) == ("town", "1", "2")
    assert old.series.equals(before.series)
    # The newer extract runs ten weeks further, and every value is the published figure.
    assert now.series["date"].max() > before.series["date"].max()
    cells = published(second, "South")
    for row in now.series.iter_rows(named=True):
        cell = cells[str(row["date"])]
        if cell.startswith("<") or cell == "*":
            assert row["value"] is None  # suppressed: a gap, never a number
        else:
            assert row["value"] == float(cell)
    assert now.gaps > 0  # South's small weeks are suppressed in what is published
    chart = chart_measure(m, now)
    assert chart.result is not None and chart.data.source_version == "2"


def test_a_measure_naming_an_absent_result_says_how_to_bring_it_in(store: Store) -> None:
    with store.session() as s:
        ws = repository.create_workspace(s, "Town", seed=False)
        m = repository.create(s, ws.id, "measure", MEASURE, actor="test")
        data = load_measure_data(s, ws.id, m)
    assert data.series.height == 0
    assert "systemic workspace add-learn DIR --name town" in data.problem


def test_a_folder_without_published_series_is_refused_with_what_to_do(
    store: Store, tmp_path: Path
) -> None:
    with store.session() as s:
        ws = repository.create_workspace(s, "Town", seed=False)
        with pytest.raises(LearnResultError, match=r"series_weekly\.csv: not found"):
            add_learn_result(s, ws.id, "town", tmp_path)


def test_cli_add_learn_adds_versions_and_lists_them(
    tmp_path: Path, extracts: tuple[Path, Path]
) -> None:
    first, second = extracts
    db = str(tmp_path / "w.db")
    assert RUNNER.invoke(app, ["workspace", "create", "Town", "--db", db]).exit_code == 0
    one = RUNNER.invoke(app, ["workspace", "add-learn", str(first), "--name", "town", "--db", db])
    assert one.exit_code == 0, one.output
    assert "as version 1: 30 weeks, North, South" in " ".join(one.output.split())
    two = RUNNER.invoke(app, ["workspace", "add-learn", str(second), "-n", "town", "--db", db])
    assert "as version 2: 40 weeks" in " ".join(two.output.split())
    listed = RUNNER.invoke(app, ["workspace", "learn-results", "--db", db])
    assert listed.exit_code == 0 and "town" in listed.output
    missing = RUNNER.invoke(
        app, ["workspace", "add-learn", str(tmp_path / "nope"), "--name", "x", "--db", db]
    )
    assert missing.exit_code != 0
    assert "no such folder" in " ".join(missing.output.split())


def test_an_export_carries_the_learn_results_so_the_imported_measure_draws_the_same(
    store: Store, extracts: tuple[Path, Path], tmp_path: Path
) -> None:
    from systemic.store import export_workspace, import_workspace, open_store

    first, second = extracts
    with store.session() as s:
        ws = repository.create_workspace(s, "Town", seed=False)
        add_learn_result(s, ws.id, "town", first, actor="test")
        add_learn_result(s, ws.id, "town", second, actor="test")
        m = repository.create(s, ws.id, "measure", MEASURE, actor="test")
        s.commit()
        document = export_workspace(s, ws.id)
        before = load_measure_data(s, ws.id, m)
    other = open_store(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        with other.session() as s:
            copy = import_workspace(s, document)
            s.commit()
            after = load_measure_data(s, copy.id, repository.get(s, copy.id, "measure", m.id))
            versions = [v.version for v in learn_result_versions(s, copy.id, "town")]
    finally:
        other.dispose()
    assert versions == [2, 1]
    assert after.source_version == "2" and after.series.equals(before.series)


def test_cli_learn_with_workspace_brings_the_published_series_in(tmp_path: Path) -> None:
    from systemic.data import write_dataset
    from systemic.store import open_store

    write_dataset(town_events(weeks=12), tmp_path / "dataset", source_name="a small town")
    db = str(tmp_path / "w.db")
    assert RUNNER.invoke(app, ["workspace", "create", "Town", "--db", db]).exit_code == 0
    args = ["learn", str(tmp_path / "dataset"), "--out", str(tmp_path / "learnt"), "--no-charts"]
    run = RUNNER.invoke(app, [*args, "--workspace", "town", "--name", "town", "--db", db])
    assert run.exit_code == 0, run.output
    assert "Brought learn result 'town' into workspace 'town' as version 1" in " ".join(
        run.output.split()
    )
    store = open_store(db)
    try:
        with store.session() as s:
            (info,) = learn_result_versions(s, repository.pick_workspace(s, "town").id)
    finally:
        store.dispose()
    assert (info.name, info.version, info.weeks, info.threshold) == ("town", 1, 12, 5)
    elsewhere = [*args[:3], str(tmp_path / "elsewhere"), "--no-charts"]
    wrong = RUNNER.invoke(app, [*elsewhere, "--workspace", "nowhere", "--db", db])
    assert wrong.exit_code != 0 and "no workspace 'nowhere'" in " ".join(wrong.output.split())
    assert not (tmp_path / "elsewhere").exists()  # refused before learning anything


def test_the_audit_trail_records_an_import_without_copying_its_tables(
    store: Store, extracts: tuple[Path, Path]
) -> None:
    from sqlalchemy import select

    from systemic.store.accounts import AuditEvent
    from systemic.store.audit_trail import watch_sessions

    watch_sessions(store.sessions)
    with store.session() as s:
        ws = repository.create_workspace(s, "Town", seed=False)
        add_learn_result(s, ws.id, "town", extracts[0], actor="test")
        s.commit()
        (event,) = s.scalars(
            select(AuditEvent).where(AuditEvent.object_kind == "learn_result_version")
        ).all()
    rows = len(published(extracts[0], "North")) * 3  # North, South and all localities
    assert event.action == "create" and len(event.object_id) == 32
    assert event.after["name"] == "town" and event.after["version"] == 1
    assert event.after["weekly"] == f"({rows} rows)"


def test_the_newest_version_of_each_result_and_the_series_it_publishes(
    store: Store, extracts: tuple[Path, Path], tmp_path: Path
) -> None:
    """What the measure form offers: one entry per name at its newest version, with the
    series that have a published value (a learn run without case ids has no case times)."""
    import shutil

    first, second = extracts
    no_cases = tmp_path / "no-cases"
    shutil.copytree(first, no_cases)
    for period in ("weekly", "monthly"):
        path = no_cases / "tables" / f"series_{period}.csv"
        with path.open() as f:
            rows = list(csv.DictReader(f))
        for row in rows:
            row["end_to_end_days_per_case"] = ""
        with path.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    with store.session() as s:
        ws = repository.create_workspace(s, "Town", seed=False)
        add_learn_result(s, ws.id, "town", first, actor="test")
        add_learn_result(s, ws.id, "town", second, actor="test")
        add_learn_result(s, ws.id, "area", no_cases, actor="test")
        other = repository.create_workspace(s, "Elsewhere", seed=False)
        add_learn_result(s, other.id, "theirs", first, actor="test")
        s.commit()
        newest = newest_learn_results(s, ws.id)
    assert [(i.name, i.version) for i in newest] == [("area", 1), ("town", 2)]
    area, town = newest
    assert town.weeks == len(set(published(second, "North")))
    assert "end_to_end_days_per_case" in town.series
    assert area.series == tuple(n for n in town.series if n != "end_to_end_days_per_case")
