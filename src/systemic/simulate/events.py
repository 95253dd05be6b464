"""Simulated events, kept as integer codes during a run and written as a dataset.

The engine's compiled step appends each rule's events to code arrays; the table in the
foundation's event schema is built at the end with vectorised Polars
expressions (no Python loop over events), so ``systemic learn`` can analyse a
simulated town exactly as it analyses a real one.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from systemic.simulate.presets import SERVICE_LABELS, SERVICES

if TYPE_CHECKING:  # pragma: no cover
    from systemic.data import Dataset
    from systemic.simulate.result import SimulationResult

#: (activity, kind) by activity code, as the engine emits them.
ACTIVITIES: tuple[tuple[str, str], ...] = (
    ("contact", "contact"),
    ("progress chase", "contact"),
    ("referral", "referral"),
    ("assessment", "assessment"),
    ("assessment - not eligible", "assessment"),
    ("intervention start", "intervention"),
    ("closed - need met", "closure"),
    ("closed - need not met", "closure"),
    ("A&E attendance", "contact"),
    ("emergency admission", "intervention"),
    ("residential care admission", "intervention"),
)

#: Service names in event logs by service code (case-holding services, then crisis care).
SERVICE_NAMES: tuple[str, ...] = (*tuple(SERVICE_LABELS[s] for s in SERVICES), "A&E", "hospital")

_DEMAND_TYPES = (
    "new need",
    "re-presentation after lost hand-off",
    "re-referral after closure",
    "re-presentation after refusal",
    "progress chase",
    "crisis",
)


class EventLog:
    """Simulated events as integer codes, written by the compiled step; ``frame()`` is the table.

    ``codes`` (int32, one row per event: step, seq, person, activity, service,
    case class, demand type, case number) and ``cost`` (float64) grow as
    needed; ``counter`` holds [events so far, rules that emitted this step].
    """

    def __init__(self, capacity: int = 4096) -> None:
        self.codes = np.empty((capacity, 8), np.int32)
        self.cost = np.empty(capacity, np.float64)
        self.counter = np.zeros(2, np.int64)

    def frame(self) -> pl.DataFrame:
        """All events as codes: step, seq, person, activity, service, class, type, cost, case."""
        n = int(self.counter[0])
        codes = self.codes[:n]
        dtypes = (
            ("step", np.int32),
            ("seq", np.int16),
            ("person", np.int32),
            ("activity", np.int8),
            ("service", np.int8),
            ("case_class", np.int8),
            ("demand_type", np.int8),
        )
        cols = {name: codes[:, i].astype(dtype) for i, (name, dtype) in enumerate(dtypes)}
        cols["cost"] = self.cost[:n].copy()
        cols["case_no"] = codes[:, 7].astype(np.int32)
        return pl.DataFrame(cols)


def person_ids(n: int, seed: int) -> pl.Series:
    """Synthetic pseudonym-like ids: 16 hex digits, fixed by the seed.

    >>> person_ids(3, seed=1).str.len_chars().to_list()
    [16, 16, 16]
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x5EED1D]))
    raw = rng.integers(0, 2**63, size=n, dtype=np.int64).astype(">u8").tobytes().hex()
    return pl.Series("person_id", np.frombuffer(raw.encode("ascii"), dtype="S16").astype("U16"))


def event_frame(result: SimulationResult) -> pl.DataFrame:
    """The run's events in the foundation's event schema (needs ``run(..., events=True)``).

    >>> from systemic.simulate import load_scenario, run
    >>> r = run(load_scenario({"population": {"people": 300}, "years": 0.5}), seed=2, events=True)
    >>> f = event_frame(r)
    >>> sorted(set(f["kind"])) <= ["assessment", "closure", "contact", "intervention", "referral"]
    True
    """
    if result.event_log is None:
        raise ValueError("this result kept no events: run with run(..., events=True)")
    sc = result.scenario
    codes = result.event_log
    ids = person_ids(sc.population.people, result.seed)
    n_loc = len(sc.localities)
    loc_of = np.repeat(np.arange(n_loc), _sizes(result))  # people are sorted by locality
    step_us = round(sc.days_per_step * 86_400_000_000)
    # Spread each person's events over the step, keeping the rules' order (seq).
    spread = max(step_us - 3_600_000_000, 1)
    start = sc.date_of(0)
    activity = pl.Series([a for a, _ in ACTIVITIES])
    kind = pl.Series([k for _, k in ACTIVITIES])
    services = pl.Series(list(SERVICE_NAMES))
    localities = pl.Series([loc.name for loc in sc.localities])
    contact_codes = [i for i, (_, k) in enumerate(ACTIVITIES) if k == "contact"]
    f = codes.with_columns(
        pl.col("person").cast(pl.Int64).alias("_p"),
    ).with_columns(
        (
            pl.col("step").cast(pl.Int64) * step_us
            + ((pl.col("_p") * 2_654_435_761 + pl.col("step").cast(pl.Int64) * 97_531) % spread)
            + pl.col("seq").cast(pl.Int64) * 60_000_000
        ).alias("_us"),
    )
    failure = (
        pl.when(pl.col("activity").is_in(contact_codes))
        .then(pl.col("demand_type") > 0)
        .otherwise(pl.col("case_class") > 0)
    )
    out = f.select(
        ids.gather(f["person"]).alias("person_id"),
        services.gather(f["service"].cast(pl.Int64)).alias("service"),
        activity.gather(f["activity"].cast(pl.Int64)).alias("activity"),
        (pl.col("_us").cast(pl.Duration("us")) + pl.lit(start)).alias("timestamp"),
        pl.lit(None, pl.String).alias("event_id"),
        pl.lit("complete").alias("lifecycle"),
        pl.when(pl.col("service") == 0)
        .then(pl.lit("phone"))
        .otherwise(pl.lit("in person"))
        .alias("channel"),
        localities.gather(pl.Series(loc_of).gather(f["person"])).alias("locality"),
        kind.gather(f["activity"].cast(pl.Int64)).alias("kind"),
        pl.when(pl.col("activity").is_in(contact_codes))
        .then(pl.Series(list(_DEMAND_TYPES)).gather(f["demand_type"].cast(pl.Int64)))
        .otherwise(pl.lit(None, pl.String))
        .alias("demand_type"),
        pl.when(failure).then(pl.lit("failure")).otherwise(pl.lit("value")).alias("demand_class"),
        pl.when(failure).then(pl.lit("yes")).otherwise(pl.lit("no")).alias("preventable"),
        pl.col("cost"),
        pl.lit(None, pl.String).alias("text"),
        pl.col("case_no"),
    )
    out = out.with_columns(
        pl.concat_str([pl.col("person_id"), pl.lit("-"), pl.col("case_no")]).alias("case_id"),
        pl.format("sim-{}", pl.int_range(pl.len(), dtype=pl.Int64)).alias("event_id"),
    ).drop("case_no")
    return out.sort("timestamp", maintain_order=True)


def _sizes(result: SimulationResult) -> np.ndarray:
    first = result.steps.filter(pl.col("step") == 0)
    order = {loc.name: i for i, loc in enumerate(result.scenario.localities)}
    sizes = np.zeros(len(order), np.int64)
    for name, people in first.select("locality", "people").iter_rows():
        sizes[order[name]] = people
    return sizes


def people_frame(result: SimulationResult) -> pl.DataFrame:
    """The simulated residents: pseudonym-like id and locality (foundation people table)."""
    sc = result.scenario
    sizes = _sizes(result)
    loc_of = np.repeat(np.arange(len(sizes)), sizes)
    return pl.DataFrame(
        {
            "person_id": person_ids(sc.population.people, result.seed),
            "locality": pl.Series([loc.name for loc in sc.localities]).gather(loc_of),
        }
    )


def write_events(
    result: SimulationResult,
    path: str | os.PathLike[str],
    *,
    source_name: str | None = None,
) -> Dataset:
    """Write a run's events and residents as a dataset ``systemic learn`` can read.

    >>> import tempfile
    >>> from systemic.simulate import load_scenario, run
    >>> r = run(load_scenario({"population": {"people": 200}, "years": 0.25}), seed=3, events=True)
    >>> ds = write_events(r, tempfile.mkdtemp() + "/town")
    >>> ds.manifest.sources[0].name
    'simulation: silo (seed 3)'
    """
    from systemic.data import write_dataset

    events = event_frame(result)
    notes: dict[str, Any] = {
        "simulated": True,
        "scenario": result.scenario.name,
        "preset": result.scenario.preset,
        "seed": result.seed,
        "steps": result.scenario.steps,
    }
    return write_dataset(
        events,
        path,
        source_name=source_name or f"simulation: {result.scenario.name} (seed {result.seed})",
        source_format="simulation",
        people=people_frame(result),
        notes=notes,
    )
