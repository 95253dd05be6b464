"""Benchmark the simulation engine against a Mesa reference of the same model.

Runs both presets at 10,000 people with several seeds in our vectorised
engine and in ``benchmarks/mesa_reference.py`` (one Mesa agent per person,
the same rules), in the same process, one after the other. Prints and writes
``results/simulate_mesa.md``:

- each aggregate's mean in both, with the standard error of the difference
  and whether they agree within Monte-Carlo error (|z| <= 3.5);
- seconds per run and the speed-up of our engine over Mesa (goal >= 100x).

    python benchmarks/bench_simulate_mesa.py            # 10,000 people, 5 years, 5 seeds
    python benchmarks/bench_simulate_mesa.py --quick    # 1,000 people, 1 year, 4 seeds
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
RESULT = HERE / "results" / "simulate_mesa.md"

from mesa_reference import compare, engine_summary, run_mesa  # noqa: E402


def town(preset: str, people: int, years: float) -> dict[str, Any]:
    """Two localities of equal size, different deprivation and community strength."""
    return {
        "preset": preset,
        "years": years,
        "population": {"people": people},
        "localities": [
            {"name": "North", "share": 0.5, "deprivation": 1.3, "community_strength": 0.4},
            {"name": "South", "share": 0.5, "deprivation": 0.8, "community_strength": 0.6},
        ],
    }


def measure(preset: str, people: int, years: float, seeds: int) -> dict[str, Any]:
    from systemic.simulate import load_scenario, run

    sc = load_scenario(town(preset, people, years))
    engine_runs, mesa_runs = [], []
    engine_s, mesa_s, engine_cpu, mesa_cpu = [], [], [], []
    # Interleaved, seed by seed, so both see the same load from other work.
    for s in range(seeds):
        t0, c0 = time.perf_counter(), time.process_time()
        result = run(sc, seed=1000 + s)
        engine_s.append(time.perf_counter() - t0)
        engine_cpu.append(time.process_time() - c0)
        engine_runs.append(engine_summary(result))
        t0, c0 = time.perf_counter(), time.process_time()
        mesa_runs.append(run_mesa(sc, seed=s))
        mesa_s.append(time.perf_counter() - t0)
        mesa_cpu.append(time.process_time() - c0)
        print(
            f"  {preset} seed {s}: engine {engine_s[-1]:.2f} s, mesa {mesa_s[-1]:.1f} s "
            f"(CPU {engine_cpu[-1]:.2f} / {mesa_cpu[-1]:.1f} s)",
            flush=True,
        )

    def mean(xs: list[float]) -> float:
        return sum(xs) / len(xs)

    return {
        "preset": preset,
        "steps": sc.steps,
        "rows": compare(engine_runs, mesa_runs),
        "engine_s": mean(engine_s),
        "mesa_s": mean(mesa_s),
        "speedup": mean(mesa_s) / mean(engine_s),
        "engine_cpu": mean(engine_cpu),
        "mesa_cpu": mean(mesa_cpu),
        "speedup_cpu": mean(mesa_cpu) / mean(engine_cpu),
        "person_steps": people * _all_steps(sc),
    }


def at_scale(people: int, years: float) -> dict[str, Any]:
    """Our engine alone at a larger population (one run): its cost per person-step falls."""
    from systemic.simulate import load_scenario, run

    sc = load_scenario(town("silo", people, years))
    t0 = time.perf_counter()
    run(sc, seed=1)
    seconds = time.perf_counter() - t0
    return {"people": people, "seconds": seconds, "person_steps": people * _all_steps(sc)}


def _all_steps(sc: Any) -> int:
    """Recorded steps plus the scenario's unrecorded warm-up (both implementations run it)."""
    return sc.steps + round(getattr(sc, "burn_in_years", 0.0) * 365.25 / sc.days_per_step)


def render(
    results: list[dict[str, Any]],
    people: int,
    years: float,
    seeds: int,
    quick: bool,
    scale: dict[str, Any] | None = None,
    ready_s: float | None = None,
) -> str:
    load = os.getloadavg()
    lines = [
        "## Simulation vs Mesa reference (bench_simulate_mesa.py)",
        "",
        f"Run {dt.date.today().isoformat()} on the shared project machine (2 cores, 24 GB; "
        f"{platform.machine()}, Python {platform.python_version()}; load average at start "
        f"{load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f}). A load average above 2 on 2 cores means "
        "other work competed for the cores: times are then upper bounds for both "
        "implementations, whose runs are interleaved so that both see the same load."
        + (" **Reduced size (--quick).**" if quick else ""),
        "",
        f"Same scenario in both: {people:,} people in two localities, {years:g} years of weekly "
        f"steps (after the scenario's unrecorded warm-up, run by both and counted in the "
        f"person-steps), {seeds} independent seeds each. The Mesa model "
        "(`benchmarks/mesa_reference.py`) has one agent per person and the engine's rules "
        "written afresh; random draws differ, "
        "so agreement is judged within Monte-Carlo error: |difference| <= 3.5 standard errors "
        "of the difference of the means.",
        "",
        "### Speed",
        "",
        "Wall-clock and CPU time (this process) per run; runs interleaved seed by seed.",
        "",
        "| preset | engine s/run (CPU) | Mesa s/run (CPU) | engine person-steps/s | "
        "Mesa person-steps/s | speed-up, wall | speed-up, CPU | goal |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        goal = "met" if min(r["speedup"], r["speedup_cpu"]) >= 100 else "not met"
        lines.append(
            f"| {r['preset']} | {r['engine_s']:.2f} ({r['engine_cpu']:.2f}) | "
            f"{r['mesa_s']:.1f} ({r['mesa_cpu']:.1f}) | "
            f"{r['person_steps'] / r['engine_s'] / 1e6:.2f} M | "
            f"{r['person_steps'] / r['mesa_s'] / 1e3:.0f} k | **{r['speedup']:.0f}x** | "
            f"**{r['speedup_cpu']:.0f}x** | >= 100x ({goal}) |"
        )
    if scale is not None:
        mesa_rate = results[0]["person_steps"] / results[0]["mesa_s"]
        rate = scale["person_steps"] / scale["seconds"]
        lines += [
            "",
            f"For context (not the goal's measure): our engine at {scale['people']:,} people "
            f"(silo, one run, {scale['seconds']:.1f} s) runs {rate / 1e6:.2f} M person-steps/s, "
            f"{rate / mesa_rate:.0f}x the Mesa model's rate per person-step at "
            f"{people:,} people.",
        ]
    if ready_s is not None:
        lines += [
            "",
            f"Not in the per-run times: making the engine's compiled step ready took "
            f"{ready_s:.1f} s in this process, once (Numba loads it from its on-disk cache; "
            "the first run after installing or changing `simulate/kernel.py` compiles it, "
            "which takes tens of seconds). The Mesa model's imports are not counted either.",
        ]
    for r in results:
        judged = [row for row in r["rows"] if row["agree"] is not None]
        agree = sum(bool(row["agree"]) for row in judged)
        lines += [
            "",
            f"### Aggregates, {r['preset']} preset ({agree}/{len(judged)} agree)",
            "",
            "| aggregate | engine | Mesa | difference | se | z | agree |",
            "|---|---:|---:|---:|---:|---:|---|",
        ]
        for row in r["rows"]:
            lines.append(
                f"| {row['aggregate']} | {row['engine']:.4g} | {row['mesa']:.4g} | "
                f"{row['difference']:+.3g} | {row['se']:.2g} | {row['z']:+.2f} | "
                f"{_verdict(row['agree'])} |"
            )
    return "\n".join(lines) + "\n"


def _verdict(agree: bool | None) -> str:
    return "n/a (undefined in most runs)" if agree is None else ("yes" if agree else "NO")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="reduced size")
    parser.add_argument("--people", type=int, default=None)
    parser.add_argument("--years", type=float, default=None)
    parser.add_argument("--seeds", type=int, default=None)
    args = parser.parse_args()
    people = args.people or (1_000 if args.quick else 10_000)
    years = args.years or (1.0 if args.quick else 5.0)
    seeds = args.seeds or (4 if args.quick else 5)
    from systemic.simulate import prepare

    ready_s = prepare()  # once per process, not timed (reported below)
    results = []
    for preset in ("silo", "local"):
        print(f"{preset}: {people:,} people, {years:g} years, {seeds} seeds", flush=True)
        results.append(measure(preset, people, years, seeds))
    scale = at_scale(people * 10, years)
    text = render(results, people, years, seeds, args.quick, scale, ready_s)
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
