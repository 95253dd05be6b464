"""Partitioning people never changes an answer; Dask gives identical results."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from systemic.cli import app
from systemic.learn import learn

from .conftest import RealDatasets, small_town

COSTS = (
    Path(__file__).resolve().parents[2] / "examples" / "unit_costs" / "uk_health_social_care.toml"
)


@pytest.mark.parametrize("log", ["sepsis", "hospital"])
def test_partitions_give_the_same_results(log: str, real_datasets: RealDatasets) -> None:
    one = learn(real_datasets[log], partitions=1)
    four = learn(real_datasets[log], partitions=4)
    assert one.summary() == four.summary()
    assert_frame_equal(one.episodes, four.episodes)
    assert_frame_equal(one.cases, four.cases)
    for name, table in one.tables().items():
        other = four.tables()[name]
        # counts are exact; sums of floats may differ in the last bits by order
        assert_frame_equal(table, other, check_exact=False, rel_tol=1e-12, abs_tol=1e-9)


def test_large_datasets_split_to_disk_give_the_same_results(
    real_datasets: RealDatasets, monkeypatch: pytest.MonkeyPatch
) -> None:
    from systemic.learn import partition

    one = learn(real_datasets["sepsis"], partitions=1)
    monkeypatch.setattr(partition, "IN_MEMORY_EVENTS", 0)  # force the on-disk split
    five = learn(real_datasets["sepsis"], partitions=5)
    assert one.summary() == five.summary()
    assert_frame_equal(one.episodes, five.episodes)
    assert_frame_equal(one.cases, five.cases)
    assert_frame_equal(one.activity_variants, five.activity_variants)
    assert_frame_equal(one.activity_map.edges, five.activity_map.edges)


def test_an_empty_dataset_learns_nothing_without_error(tmp_path: Path) -> None:
    from systemic.data import create_dataset

    create_dataset(tmp_path / "empty")
    s = learn(tmp_path / "empty").summary()
    assert (s.people, s.needs, s.events, s.contacts) == (0, 0, 0, 0)


@pytest.mark.slow
def test_dask_local_cluster_matches_single_process(
    real_datasets: RealDatasets, tmp_path: Path
) -> None:
    pytest.importorskip("dask.distributed")
    ds = str(real_datasets["hospital"])
    local, distributed = tmp_path / "local", tmp_path / "dask"
    common = ["--partitions", "3", "--unit-costs", str(COSTS), "--no-charts"]
    res = CliRunner().invoke(app, ["learn", ds, "-o", str(local), *common])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(app, ["learn", ds, "-o", str(distributed), "--dask", "local", *common])
    assert res.exit_code == 0, res.output
    assert json.loads((local / "summary.json").read_text()) == json.loads(
        (distributed / "summary.json").read_text()
    )
    files = sorted(p.relative_to(local) for p in local.rglob("*.parquet"))
    assert len(files) > 20
    for f in files:
        assert_frame_equal(
            pl.read_parquet(local / f), pl.read_parquet(distributed / f), check_exact=True
        )


@pytest.mark.parametrize("on_disk", [False, True])
def test_every_partition_is_reported_once_even_when_empty(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, on_disk: bool
) -> None:
    from systemic.learn import partition

    if on_disk:
        monkeypatch.setattr(partition, "IN_MEMORY_EVENTS", 0)
    path = small_town(tmp_path / "town")
    calls: list[tuple[int, int]] = []
    # three people in eight partitions: at least five partitions are empty
    result = learn(path, partitions=8, on_partition=lambda done, total: calls.append((done, total)))
    assert calls == [(i, 8) for i in range(1, 9)]
    assert (result.summary().people, result.summary().events) == (3, 5)
    assert_frame_equal(result.episodes, learn(path, partitions=1).episodes)


@pytest.mark.slow
def test_dask_reports_each_partition_and_matches_in_process(tmp_path: Path) -> None:
    distributed = pytest.importorskip("dask.distributed")
    path = small_town(tmp_path / "town")
    calls: list[tuple[int, int]] = []
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        result = learn(
            path, partitions=4, client=client, on_partition=lambda d, t: calls.append((d, t))
        )
    assert calls == [(i, 4) for i in range(1, 5)]
    local = learn(path, partitions=4)
    assert result.summary() == local.summary()
    for name, table in local.tables().items():
        assert_frame_equal(result.tables()[name], table, check_exact=True)
