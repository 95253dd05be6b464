"""Benchmark the simulation engine and its ensembles; writes results/simulate.md.

1. Engine throughput: person-steps per second for 1,000,000 people over 520
   weekly steps (10 years) on one core, both presets. Goal: >= 20 million
   person-steps/s (under 30 s).
2. Ensemble: 200 runs of 100,000 people over 10 years, in one process and on
   a 2-worker Dask LocalCluster in the same script; the speed-up is their ratio.
3. Mesa reference (E2): a reference implementation of the same model in Mesa
   lives in ``benchmarks/mesa_reference.py`` and is measured by
   ``benchmarks/bench_simulate_mesa.py`` (its own fragment). The slot for it
   here is :func:`mesa_slot`, and :func:`engine_reference` gives the figures
   of our engine that the Mesa run is compared with.

    python benchmarks/bench_simulate.py            # full size (minutes)
    python benchmarks/bench_simulate.py --quick    # reduced size (seconds)
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import time
from pathlib import Path
from typing import Any

# One core for the engine figure: keep BLAS/OpenMP pools from spreading out.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

HERE = Path(__file__).resolve().parent
RESULT = HERE / "results" / "simulate.md"


def throughput(preset: str, people: int, steps: int, seed: int = 1) -> dict[str, Any]:
    """Time one run of ``people`` x ``steps`` weekly steps of a preset."""
    from systemic.simulate import load_scenario, run

    sc = load_scenario(
        {
            "preset": preset,
            "population": {"people": people},
            "years": steps * 7 / 365.25,
            "burn_in_years": 0,  # time exactly the recorded steps
        }
    )
    t0, c0 = time.perf_counter(), time.process_time()
    run(sc, seed=seed)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {
        "preset": preset,
        "people": people,
        "steps": sc.steps,
        "seconds": seconds,
        "cpu": cpu,
        "rate": people * sc.steps / seconds,
        "cpu_rate": people * sc.steps / cpu,
    }


def ensemble(people: int, runs: int, years: float) -> dict[str, Any]:
    """The same ensemble in one process and on a 2-worker LocalCluster."""
    from distributed import Client, LocalCluster

    from systemic.simulate import load_scenario, prepare
    from systemic.simulate.ensemble import run_ensemble

    sc = load_scenario(
        {
            "preset": "silo",
            "population": {"people": people},
            "years": years,
            "burn_in_years": 0,
            "uncertainty": {
                "crisis.rate_per_week": [0.08, 0.16],
                "design.services.housing.hand_off_loss": [0.05, 0.25],
                "population.recovery_per_week": [0.015, 0.025],
            },
        }
    )
    t0 = time.perf_counter()
    one = run_ensemble(sc, runs=runs, seed=3)
    single = time.perf_counter() - t0
    t0 = time.perf_counter()
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    client = Client(cluster)
    # Workers make the engine ready once before timing (as a long-lived cluster would have).
    client.run(prepare)
    startup = time.perf_counter() - t0
    try:
        t0 = time.perf_counter()
        two = run_ensemble(sc, runs=runs, seed=3, dask=client)
        distributed_s = time.perf_counter() - t0
    finally:
        client.close()
        cluster.close()
    return {
        "people": people,
        "runs": runs,
        "steps": sc.steps,
        "single": single,
        "dask": distributed_s,
        "startup": startup,
        "speedup": single / distributed_s,
        "speedup_with_startup": single / (distributed_s + startup),
        "identical": one.runs.equals(two.runs),
    }


def engine_reference(people: int, years: float, seeds: range, **overrides: Any) -> dict[str, Any]:
    """Our engine's summary aggregates (mean over ``seeds``) and time per run.

    For E2's Mesa comparison: run the same scenario here and in
    ``mesa_reference.py`` and compare aggregates within Monte Carlo error.
    """
    import numpy as np

    from systemic.simulate import load_scenario, run

    sc = load_scenario({"population": {"people": people}, "years": years, **overrides})
    summaries, seconds = [], []
    for seed in seeds:
        t0 = time.perf_counter()
        summaries.append(run(sc, seed=seed).summary())
        seconds.append(time.perf_counter() - t0)
    keys = summaries[0].keys()
    return {
        "mean": {k: float(np.mean([s[k] for s in summaries])) for k in keys},
        "sd": {k: float(np.std([s[k] for s in summaries], ddof=1)) for k in keys},
        "seconds_per_run": float(np.mean(seconds)),
    }


def mesa_slot() -> str:
    """SLOT FOR E2: the Mesa comparison (same model at 10,000 people, speed-up >= 100x).

    It is measured by ``benchmarks/bench_simulate_mesa.py`` (fragment
    ``results/simulate_mesa.md``); this function only points to it so that
    the engine benchmark stays runnable without Mesa.
    """
    frag = HERE / "results" / "simulate_mesa.md"
    if frag.exists():
        return "See the section *Simulation vs Mesa reference* (bench_simulate_mesa.py).\n"
    return "Mesa comparison: not yet run (benchmarks/bench_simulate_mesa.py).\n"


def machine() -> str:
    load = os.getloadavg()
    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; load average at start "
        f"{load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="reduced size")
    args = parser.parse_args()
    people, steps = (100_000, 104) if args.quick else (1_000_000, 520)
    e_people, e_runs, e_years = (10_000, 20, 2.0) if args.quick else (100_000, 200, 10.0)
    start = machine()
    from systemic.simulate import prepare

    ready_s = prepare()  # once per process, not timed (reported below)
    rows = [throughput(p, people, steps) for p in ("silo", "local")]
    for r in rows:
        print(
            f"{r['preset']}: {r['people']:,} x {r['steps']} steps in {r['seconds']:.1f} s "
            f"(CPU {r['cpu']:.1f} s) = {r['rate'] / 1e6:.1f} M person-steps/s "
            f"({r['cpu_rate'] / 1e6:.1f} M on CPU time)"
        )
    ens = ensemble(e_people, e_runs, e_years)
    print(ens)
    lines = [
        "## Simulation engine and ensembles (bench_simulate.py)\n",
        f"Run {dt.date.today().isoformat()} on the shared project machine (2 cores, 24 GB; "
        f"{start}). A load average above 2 on 2 cores means other work competed for the "
        "cores, and wall times are then upper bounds."
        + (" **Reduced size (--quick).**" if args.quick else "")
        + "\n",
        "### Engine throughput (one core)\n",
        "Wall-clock time is what a user waits; CPU time is the engine's own work on "
        "one core, undisturbed by other processes competing for the two cores.\n",
        "| preset | people | weekly steps | wall s | CPU s | person-steps/s (wall) "
        "| person-steps/s (CPU) | goal >= 20 M |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    ready_note = (
        f"Before timing, each process (this one and each Dask worker) made the engine's "
        f"compiled step ready once: {ready_s:.1f} s here (a load from Numba's disk cache; "
        "the first run after installing or changing `simulate/kernel.py` compiles it, "
        "which takes tens of seconds).\n"
    )
    for r in rows:
        ok = (
            "met"
            if r["rate"] >= 20e6
            else ("met on CPU time" if r["cpu_rate"] >= 20e6 else "not met")
        )
        lines.append(
            f"| {r['preset']} | {r['people']:,} | {r['steps']} | {r['seconds']:.1f} | "
            f"{r['cpu']:.1f} | {r['rate'] / 1e6:.1f} M | {r['cpu_rate'] / 1e6:.1f} M | {ok} |"
        )
    lines += [
        "",
        f"### Ensemble: {ens['runs']} runs x {ens['people']:,} people x {ens['steps']} steps\n",
        "| where | seconds | speed-up vs one process |",
        "|---|---:|---:|",
        f"| one process | {ens['single']:.1f} | 1.00 |",
        f"| Dask LocalCluster, 2 workers | {ens['dask']:.1f} | {ens['speedup']:.2f} |",
        f"| same, counting cluster start-up ({ens['startup']:.1f} s) | "
        f"{ens['dask'] + ens['startup']:.1f} | {ens['speedup_with_startup']:.2f} |",
        "",
        f"Dask and in-process results identical: {ens['identical']}. Two workers on two "
        "shared cores bound the speed-up at 2.\n",
        ready_note,
        "### Mesa reference\n",
        mesa_slot(),
    ]
    RESULT.parent.mkdir(exist_ok=True)
    RESULT.write_text("\n".join(lines))
    print(f"wrote {RESULT}")


if __name__ == "__main__":
    main()
