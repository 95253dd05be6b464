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
