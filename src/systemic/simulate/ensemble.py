"""Ensembles: many runs over sampled parameter uncertainty, in-process or on Dask.

Each run ``r`` draws every parameter listed in the scenario's
``[uncertainty]`` table uniformly from its range, with a random stream fixed
by ``(seed, r, parameter name)``, and runs the engine with a seed fixed by
``(seed, r)``. Runs are therefore independent and reproducible wherever they
execute: on a Dask cluster they give exactly the in-process results.

>>> from systemic.simulate import load_scenario
>>> s = load_scenario({"population": {"people": 300}, "years": 0.5,
...                    "uncertainty": {"population.seek_per_week": [0.2, 0.5]}})
>>> e = run_ensemble(s, runs=3, seed=1)
>>> sorted(e.bands["metric"].unique().to_list())[:3]
['below_need', 'contacts', 'cost']
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from systemic.simulate.engine import run
from systemic.simulate.result import KEY_METRICS
from systemic.simulate.scenario import (
    Scenario,
    load_scenario,
    scenario_to_dict,
    with_overrides,
)

#: Quantiles reported for every band: median, 80% and 95% intervals.
QUANTILES: dict[str, float] = {
    "p2_5": 0.025,
    "p10": 0.10,
    "median": 0.5,
    "p90": 0.90,
    "p97_5": 0.975,
}

DaskTarget = Any  # None, "local", a scheduler address, or a distributed.Client


def run_seed(seed: int, run_index: int) -> int:
    """The engine seed of run ``run_index`` of an ensemble seeded ``seed``."""
    return int(np.random.SeedSequence([seed, run_index]).generate_state(1, np.uint64)[0] >> 1)


def sample_parameters(scenario: Scenario, seed: int, run_index: int) -> dict[str, float]:
    """Values of the uncertain parameters for one run (uniform within each range).

    A parameter's draw depends only on ``(seed, run_index, name)``, so two
    scenarios sharing a parameter get the same value in the same run.

    >>> s = load_scenario({"uncertainty": {"crisis.rate_per_week": [0.1, 0.2]}})
    >>> v = sample_parameters(s, 1, 0)["crisis.rate_per_week"]
    >>> 0.1 <= v <= 0.2 and v == sample_parameters(s, 1, 0)["crisis.rate_per_week"]
    True
    """
    values = {}
    for key, (low, high) in sorted(scenario.uncertainty.items()):
        stream = np.random.SeedSequence([seed, run_index, zlib.crc32(key.encode())])
        values[key] = float(np.random.default_rng(stream).uniform(low, high))
    return values


def run_member(scenario: dict[str, Any] | Scenario, seed: int, run_index: int) -> pl.DataFrame:
    """One ensemble run: whole-town totals per step, tagged with ``run``.

    A plain function of plain data, so Dask can ship it to any worker.
    """
    sc = load_scenario(scenario)
    draws = sample_parameters(sc, seed, run_index)
    member = with_overrides(sc, draws) if draws else sc
    totals = run(member, seed=run_seed(seed, run_index)).totals()
    return totals.with_columns(pl.lit(run_index, pl.Int32).alias("run"))


def bands(runs: pl.DataFrame, metrics: tuple[str, ...] | list[str] = KEY_METRICS) -> pl.DataFrame:
    """Median and 80%/95% bands across runs, per step and metric (long table).

    >>> f = pl.DataFrame({"run": [0, 1, 2], "step": [0, 0, 0], "contacts": [1.0, 2.0, 3.0]})
    >>> bands(f, ["contacts"])["median"].to_list()
    [2.0]
    """
    present = [m for m in metrics if m in runs.columns]
    keys = ["step", "date"] if "date" in runs.columns else ["step"]
    long = runs.unpivot(index=["run", *keys], on=present, variable_name="metric").with_columns(
        pl.col("value").cast(pl.Float64)
    )
    return (
        long.group_by([*keys, "metric"], maintain_order=True)
        .agg(
            *[
                pl.col("value").quantile(q, interpolation="linear").alias(name)
                for name, q in QUANTILES.items()
            ],
            pl.col("value").mean().alias("mean"),
            pl.len().alias("runs"),
        )
        .sort("metric", "step")
    )


@dataclass
class EnsembleResult:
    """Per-run totals (``runs``), sampled parameters and bands per step."""

    scenario: Scenario
    seed: int
    runs: pl.DataFrame
    parameters: pl.DataFrame
    bands: pl.DataFrame


def _parameters_frame(scenario: Scenario, seed: int, n: int) -> pl.DataFrame:
    rows = [
        {"run": r, "parameter": k, "value": v}
        for r in range(n)
        for k, v in sample_parameters(scenario, seed, r).items()
    ]
    schema = {"run": pl.Int32, "parameter": pl.String, "value": pl.Float64}
    return pl.DataFrame(rows, schema=schema)


def map_runs(
    fn: Callable[..., Any],
    args: list[tuple[Any, ...]],
    *,
    dask: DaskTarget = None,
    on_done: Callable[[int, int], None] | None = None,
) -> list[Any]:
    """Apply ``fn(*a)`` to every tuple in ``args`` in-process or on Dask, in order."""
    total = len(args)
    if dask is None:
        out = []
        for i, a in enumerate(args):
            out.append(fn(*a))
            if on_done:
                on_done(i + 1, total)
        return out
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    own_client = not isinstance(dask, Client)
    if dask == "local":
        cluster = LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)
    elif own_client:
        client = Client(str(dask))
    else:
        client = dask
    try:
        futures = [client.submit(fn, *a, pure=False) for a in args]
        index = {f.key: i for i, f in enumerate(futures)}
        results: list[Any] = [None] * total
        for n, fut in enumerate(as_completed(futures), 1):
            results[index[fut.key]] = fut.result()
            if on_done:
                on_done(n, total)
        return results
    finally:
        if own_client:
            client.close()
        if cluster is not None:
            cluster.close()


def run_ensemble(
    scenario: Scenario | dict[str, Any] | str,
    runs: int = 20,
    seed: int = 0,
    *,
    dask: DaskTarget = None,
    on_run: Callable[[int, int], None] | None = None,
) -> EnsembleResult:
    """Run ``runs`` independent members and summarise them as bands.

    ``dask``: ``None`` (in-process), ``"local"`` (a 2-worker LocalCluster),
    a scheduler address, or a ``distributed.Client``. Results are identical
    either way.
    """
    sc = load_scenario(scenario)
    data = scenario_to_dict(sc)
    parts = map_runs(run_member, [(data, seed, r) for r in range(runs)], dask=dask, on_done=on_run)
    frame = pl.concat(parts)
    return EnsembleResult(
        scenario=sc,
        seed=seed,
        runs=frame,
        parameters=_parameters_frame(sc, seed, runs),
        bands=bands(frame),
    )
