"""Ensembles and comparisons: bands, independence, Dask = in-process, common random numbers."""

from __future__ import annotations

import polars as pl
import pytest

from systemic.simulate import load_scenario
from systemic.simulate.compare import compare
from systemic.simulate.ensemble import bands, run_ensemble, run_seed, sample_parameters
from tests.simulate.scenarios import town

UNCERTAIN = {
    "crisis.rate_per_week": [0.05, 0.2],
    "design.services.housing.hand_off_loss": [0.0, 0.4],
    "localities.North.deprivation": [1.0, 1.6],
}


def _scenario(preset: str = "silo"):
    return load_scenario(town(preset, people=800, years=1, uncertainty=UNCERTAIN))


def test_parameters_are_sampled_within_ranges_and_reproducibly() -> None:
    s = _scenario()
    draws = [sample_parameters(s, 9, r) for r in range(20)]
    for key, (low, high) in UNCERTAIN.items():
        values = [d[key] for d in draws]
        assert all(low <= v <= high for v in values)
        assert len(set(values)) == 20
    assert draws[3] == sample_parameters(s, 9, 3)
    assert len({run_seed(9, r) for r in range(50)}) == 50


def test_bands_are_ordered_and_match_numpy_quantiles() -> None:
    e = run_ensemble(_scenario(), runs=6, seed=2)
    b = e.bands
    assert b["runs"].unique().to_list() == [6]
    ordered = (
        (pl.col("p2_5") <= pl.col("p10"))
        & (pl.col("p10") <= pl.col("median"))
        & (pl.col("median") <= pl.col("p90"))
        & (pl.col("p90") <= pl.col("p97_5"))
    )
    assert b.select(ordered.all()).item()
    import numpy as np

    step5 = e.runs.filter(step=5)["contacts"].to_numpy().astype(float)
    row = b.filter(step=5, metric="contacts")
    assert row["median"].item() == pytest.approx(np.median(step5))
    assert row["p10"].item() == pytest.approx(np.quantile(step5, 0.1))
    # Members differ (sampled parameters and seeds).
    assert e.runs.group_by("run").agg(pl.col("contacts").sum())["contacts"].n_unique() > 1
    assert e.parameters.height == 6 * len(UNCERTAIN)


def test_bands_of_identical_runs_collapse() -> None:
    f = pl.DataFrame({"run": [0, 1, 2], "step": [0, 0, 0], "cost": [5.0, 5.0, 5.0]})
    b = bands(f, ["cost"])
    assert b.select("p2_5", "median", "p97_5").row(0) == (5.0, 5.0, 5.0)


def test_a_design_compared_with_itself_differs_by_exactly_zero() -> None:
    s = _scenario()
    c = compare(s, s, runs=3, seed=4)
    diff = c.bands.filter(series="difference")
    assert diff.select(pl.col("p2_5").abs().max(), pl.col("p97_5").abs().max()).row(0) == (0, 0)


def test_compare_uses_common_random_numbers() -> None:
    silo, local = _scenario("silo"), _scenario("local")
    c = compare(silo, local, runs=4, seed=1)
    # Same life events in both designs of a run (the people and their shocks are shared).
    runs = c.runs.group_by("design", "run").agg(pl.col("life_events").sum()).sort("run", "design")
    per_run = runs.pivot(on="design", index="run", values="life_events")
    # Prevention in the local design softens shocks but not their number.
    assert (per_run["a"] == per_run["b"]).all()
    summary = c.summary.filter(series="difference", metric="failure_demand")
    assert summary["median"].item() < 0


def test_compare_refuses_different_towns() -> None:
    with pytest.raises(ValueError, match="same horizon and population"):
        compare(_scenario(), load_scenario(town(people=900, years=1)), runs=1)


@pytest.mark.slow
def test_dask_local_cluster_gives_identical_results() -> None:
    s = _scenario()
    here = run_ensemble(s, runs=4, seed=8)
    there = run_ensemble(s, runs=4, seed=8, dask="local")
    assert here.runs.equals(there.runs)
    assert here.bands.equals(there.bands)
