"""The whole cycle on a simulated town, end to end: the demo and its test.

1. simulate the town (silo design, one locality switched to a local team
   after two recorded years) and write all its records as a dataset: the
   town's unrecorded warm-up is the scenario's own ``burn_in_years``
   (``town.toml``), so the recorded years are the report's years; then write
   each service's records as a silo with its own ids and made-up identities
   with errors, link the silos (``systemic link``) and score the linkage
   against the simulation's truth (:mod:`systemic.demo.linkage`);
2. learn from the true ids: journeys, failure demand, hand-offs and cost of
   failure; and learn the journeys alone from the linked silos, to say how far
   linkage moves them;
3. measure per locality (p-chart of failure-demand share, XmR of end-to-end
   time) and judge the experiment against the other localities;
4. seed a workspace with purpose, system conditions, localities, stories, the
   experiment and a redesign decision, and audit it;
5. calibrate the model to what learn measured, and compare the silo and
   local designs over ten years as an ensemble with uncertainty bands;
6. write one self-contained HTML report.

Every number in the report comes from these steps; nothing is typed in.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import polars as pl

from systemic.data import write_dataset
from systemic.demand.outputs import write_study
from systemic.demo.demand import TownStudy, town_demand_study
from systemic.demo.linkage import (
    TownLinkage,
    journey_agreement,
    journey_figures,
    link_town,
    linkage_headline,
    linkage_section,
)
from systemic.demo.workspace import DemoEvidence, SeedResult, seed_demo_workspace
from systemic.learn import LearnResult, learn, write_outputs
from systemic.measures import ExperimentEvidence, MeasuresError, experiment_evidence
from systemic.measures.experiment import default_scale
from systemic.measures.learnt import read_learnt_series
from systemic.report import write_html
from systemic.report.build import dataset_report
from systemic.report.demand_section import demand_section
from systemic.report.simulation_section import (
    RecordedRates,
    comparison_section,
    experiment_headline,
    experiment_section,
    post_switch_summary,
    recorded_cost_heads,
)
from systemic.simulate import event_frame, load_scenario, people_frame, prepare, run
from systemic.simulate.calibrate import CalibrationResult, calibrate, read_targets
from systemic.simulate.compare import Comparison, compare
from systemic.store import open_store

Progress = Callable[[str, int, int], None]

#: Parameters fitted to the town's learn results (they apply to both designs).
CALIBRATED = ("population.seek_per_week", "population.re_present_per_week")
CALIBRATION_AGGREGATES = ("contacts_per_1000", "failure_demand_share")


@dataclass
class DemoConfig:
    """Size of the demo. The defaults are the full demo (a few minutes on 2 cores).

    ``years`` are recorded years from the town's ``start``; the unrecorded
    warm-up before it is the scenario's ``burn_in_years`` (``town.toml``).
    """

    people: int = 50_000
    years: float = 3.0
    seed: int = 2026
    calibration_people: int = 10_000
    calibration_budget: int = 10
    comparison_people: int = 20_000
    comparison_years: float = 10.0
    comparison_runs: int = 24
    dask: str | None = None
    link_silos: bool = True


@dataclass
class DemoResult:
    """Where everything went, and the results the report was made from."""

    out: Path
    dataset: Path
    learn_dir: Path
    workspace_db: Path
    report: Path
    learn: LearnResult
    evidence: ExperimentEvidence
    seed: SeedResult
    calibration: CalibrationResult
    comparison: Comparison
    summary: dict[str, Any] = field(default_factory=dict)
    demand: TownStudy | None = None
    linkage: TownLinkage | None = None
    linkage_agreement: pl.DataFrame | None = None
    #: The experiment read on failure-demand contacts a week (relative changes).
    volume: ExperimentEvidence | None = None


def town_scenario(config: DemoConfig) -> dict[str, Any]:
    """The demo town's scenario (packaged TOML) at the configured size."""
    text = resources.files("systemic.demo").joinpath("town.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    data["population"]["people"] = config.people
    data["years"] = config.years
    return data


def _noop(stage: str, done: int, total: int) -> None:
    return None


def run_demo(
    out: str | Path, config: DemoConfig | None = None, progress: Progress = _noop
) -> DemoResult:
    """Run the whole cycle into ``out`` (replacing what an earlier demo left there)."""
    config = config or DemoConfig()
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)

    # 1. simulate the town and write its records
    progress("prepare the simulation engine", 0, 1)
    prepare()  # a load, or the first time on a machine a compile: say so
    progress("prepare the simulation engine", 1, 1)
    town = load_scenario(town_scenario(config))
    steps = town.steps
    sim = run(
        town,
        seed=config.seed,
        events=True,
        on_step=lambda d, t: progress("simulate the town", d, t),
    )
    dataset = out / "town-dataset"
    first = town.date_of(0).date()
    events = event_frame(sim)
    write_dataset(
        events,
        dataset,
        source_name=f"demo town, records from {first} (seed {config.seed})",
        source_format="simulation",
        people=people_frame(sim),
        notes={"simulated": True, "scenario": town.name, "seed": config.seed},
    )
    progress("simulate the town", steps, steps)
    # The records' costs by the model's heads, to take the cost gap of step 2 apart.
    cost_heads = recorded_cost_heads(events)

    # 1b. the silos as a council holds them: their own ids, errors; linked before learning
    linkage = linked = None
    if config.link_silos:
        progress("link the silos", 0, 1)
        linkage, linked_events = link_town(events, out / "silos", seed=config.seed)
        # the linked silos' journeys only: the rest of a learn run is not compared
        linked = journey_figures(linked_events)
        del linked_events
        progress("link the silos", 1, 1)

    # 2. learn
    progress("learn", 0, 1)
    result = learn(dataset)
    learn_dir = out / "learn"
    write_outputs(result, learn_dir)
    agreement = None
    if linked is not None:
        agreement = journey_agreement(result.summary(), linked)
    progress("learn", 1, 1)

    # 2b. a demand study: the last weeks' contacts get words, 300 are labelled
    progress("demand study", 0, 1)
    demand = town_demand_study(events, seed=config.seed)
    write_study(demand.study, out / "demand-study")
    del events
    progress("demand study", 1, 1)

    # 3. measures and the experiment's evidence
    progress("measures", 0, 1)
    exp = town.experiments[0]
    # Exactly what `systemic experiment --from LEARN_DIR` reads: the published series.
    weekly = read_learnt_series(learn_dir, "failure_demand_share", every_locality=True)
    evidence = experiment_evidence(
        weekly.frame,
        locality=exp.locality,
        start=exp.start,
        value="value",
        denominator="denominator",
        chart="p",
        improvement="decrease",
        seed=config.seed,
        scale=default_scale(whole_periods=weekly.definition.whole_periods),
    )
    # A team that prevents need cuts value and failure demand alike: the share can stand
    # still while the volume falls, so the volume is read too, as relative changes
    # (the localities differ in size).
    volume: ExperimentEvidence | None = None
    volume_problem = ""
    try:
        contacts = read_learnt_series(learn_dir, "failure_contacts", every_locality=True)
        volume = experiment_evidence(
            contacts.frame,
            locality=exp.locality,
            start=exp.start,
            chart="xmr",
            improvement="decrease",
            seed=config.seed,
            scale=default_scale(whole_periods=contacts.definition.whole_periods),
        )
    except MeasuresError as error:  # a town too small: its weekly counts are suppressed
        volume_problem = str(error)
    progress("measures", 1, 1)

    # 4. the workspace
    progress("workspace", 0, 1)
    db = out / "workspace.db"
    store = open_store(db)
    end = town.date_of(steps).date()
    pop = _populations(town)
    s = result.summary()
    seeded = seed_demo_workspace(
        store,
        DemoEvidence(
            localities=pop,
            experiment_locality=exp.locality,
            experiment_start=exp.start,
            experiment_end=end,
            failure_demand_share=s.failure_demand_share,
            median_hand_offs=s.median_hand_offs,
            experiment_verdict="\n\n".join(
                [evidence.verdict, *([volume.verdict] if volume is not None else [])]
            ),
            learn_dir=learn_dir,
        ),
    )
    store.dispose()
    progress("workspace", 1, 1)

    # 5. calibrate to learn's results, then compare designs over ten years
    targets = read_targets(learn_dir, residents=config.people, years=config.years)
    base = town_scenario(config)
    base.pop("experiments", None)
    base["population"]["people"] = config.calibration_people
    fit = calibrate(
        base,
        targets,
        list(CALIBRATED),
        seeds=(1, 2),
        budget=config.calibration_budget,
        aggregates=[a for a in CALIBRATION_AGGREGATES if a in targets],
        on_evaluation=lambda n, loss: progress("calibrate", n, config.calibration_budget),
    )
    progress("calibrate", config.calibration_budget, config.calibration_budget)
    switch = first
    silo = _ten_year(fit, "silo", switch, config)
    local = _ten_year(fit, "local", switch, config)
    comparison = compare(
        silo,
        local,
        runs=config.comparison_runs,
        seed=config.seed,
        dask=config.dask,
        on_run=lambda d, t: progress("compare designs over ten years", d, t),
    )
    post_switch_summary(comparison, switch).write_csv(out / "comparison_summary.csv")
    comparison.bands.write_parquet(out / "comparison_bands.parquet")

    # 6. the report
    progress("report", 0, 1)
    doc = dataset_report(
        dataset,
        workspace=db,
        result=result,
        title="Demo town: the whole system, seen whole",
        focus_locality=exp.locality,
    )
    doc.subtitle = (
        f"A simulated town of {config.people:,} residents in {len(town.localities)} localities "
        f"over {config.years:g} years; {exp.locality} tried a neighbourhood team from {exp.start}."
    )
    doc.sections.insert(2, experiment_section(evidence, volume, volume_problem))
    horizon = post_switch_summary(comparison, switch)
    recorded = RecordedRates(
        config.people, config.years, s.contacts, s.failure_demand_share, s.total_cost, cost_heads
    )
    doc.sections.append(
        comparison_section(
            comparison, horizon, switch, fit, residents=config.comparison_people, recorded=recorded
        )
    )
    doc.sections.append(demand_section(demand.study, demand.rules))
    doc.summary.insert(0, experiment_headline(evidence, volume))
    doc.summary.append(_comparison_headline(horizon, config.comparison_years))
    if linkage is not None and agreement is not None:
        doc.sections.insert(1, linkage_section(linkage, agreement))
        doc.summary.append(linkage_headline(linkage, agreement))
    doc.sources.append(
        "All data in this report are simulated by systemic's model (docs/model.md); no real "
        "person is in it."
    )
    report = write_html(doc, out / "report.html")
    summary = {
        "people": config.people,
        "events": result.events,
        "failure_demand_share": s.failure_demand_share,
        "median_hand_offs": s.median_hand_offs,
        "experiment_headline": experiment_headline(evidence, volume),
        "experiment_conclusion": evidence.conclusion,
        "experiment_verdict": evidence.verdict,
        "did_estimate": evidence.did.estimate if evidence.did else None,
        "experiment_volume_conclusion": volume.conclusion if volume else None,
        "experiment_volume_verdict": volume.verdict if volume else volume_problem,
        "volume_relative_did": volume.did.estimate if volume and volume.did else None,
        "audit_findings": len(seeded.findings),
        "calibration_loss": fit.loss,
        "calibrated": fit.fitted,
        "demand_study": {
            "failure_demand_share": demand.study.estimate.share,
            "interval_95": [demand.study.estimate.low, demand.study.estimate.high],
            "labelled": demand.study.estimate.labelled,
            "contacts": demand.study.estimate.contacts,
            "cross_validated_accuracy": demand.study.metrics.accuracy,
        },
    }
    if linkage is not None and agreement is not None:
        summary["linkage"] = {
            "precision": linkage.precision,
            "recall": linkage.recall,
            "people_exact": linkage.people_exact,
            "journeys": agreement.to_dicts(),
        }
    (out / "demo_summary.json").write_text(json.dumps(summary, indent=2, default=str))
    progress("report", 1, 1)
    return DemoResult(
        out,
        dataset,
        learn_dir,
        db,
        report,
        result,
        evidence,
        seeded,
        fit,
        comparison,
        summary,
        demand=demand,
        linkage=linkage,
        linkage_agreement=agreement,
        volume=volume,
    )


def _populations(town: Any) -> dict[str, int]:
    """Residents per locality, from the scenario's shares."""
    n = town.population.people
    total_share = sum(loc.share for loc in town.localities)
    return {loc.name: round(n * loc.share / total_share) for loc in town.localities}


def _ten_year(
    fit: CalibrationResult, preset: str, switch: dt.date, config: DemoConfig
) -> dict[str, Any]:
    """The calibrated town over the comparison horizon, from ``switch`` (its start).

    Both designs share the scenario's unrecorded warm-up as silos; under
    ``local`` every locality switches to the local design at ``switch``, so
    the two runs differ only from then on (common random numbers make the
    warm-up identical).
    """
    scenario = fit.scenario.model_dump(mode="json")
    scenario.pop("experiments", None)
    scenario["population"]["people"] = config.comparison_people
    scenario["years"] = config.comparison_years
    scenario["name"] = f"{preset} (calibrated)"
    if preset == "local":
        scenario["experiments"] = [
            {"locality": loc["name"], "start": switch.isoformat(), "preset": "local"}
            for loc in scenario["localities"]
        ]
    return scenario


def _comparison_headline(horizon: pl.DataFrame, years: float) -> str:
    row = horizon.filter((pl.col("metric") == "cost") & (pl.col("series") == "difference"))
    a = horizon.filter((pl.col("metric") == "cost") & (pl.col("series") == "a"))
    if row.height == 0 or a.height == 0 or not a["median"][0]:
        return "The ten-year comparison could not be summarised."
    med, lo, hi = row["median"][0], row["p2_5"][0], row["p97_5"][0]
    base = a["median"][0]
    word = "less" if med < 0 else "more"
    return (
        f"Over {years:g} years the local design would cost {abs(med) / base:.0%} {word} than "
        f"the silo design (95% band {lo / base:+.0%} to {hi / base:+.0%}), with the same people "
        f"and the same life events."
    )
