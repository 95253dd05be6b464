"""The demo town's silos, written with their own ids and errors, linked before learning.

Each service of the simulated town becomes a silo: an extract with one record
per person it served, under the silo's own record id, with made-up clear
identity fields carrying the errors real extracts have (:mod:`.identities`).
The silos are linked with ``systemic link`` (default UK settings), each
service's events are given the person key of their record, and the town's
journeys are learnt again from the linked silos (:func:`journey_figures`).
Because the simulation knows who everyone really is, the linkage is scored
against the truth, and the journeys learnt from linked silos are compared
with those learnt from the true person ids.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from systemic.data.linkage import link_files, parse_link_settings
from systemic.demo.identities import SILO_STYLES, silo_extract, silo_settings_toml, town_identities
from systemic.learn import LearnConfig
from systemic.learn.journeys import CLASSIFIED, annotate_events, episodes

#: Journey figures compared between the true ids and the linked silos.
JOURNEY_FIGURES = (
    ("people", "people"),
    ("needs", "needs"),
    ("median_hand_offs", "median hand-offs per need"),
    ("median_need_days", "median days per need, end to end"),
    ("failure_demand_share", "failure-demand share of classified contacts"),
)


@dataclass
class TownLinkage:
    """How well the silos were linked, measured against the simulation's truth."""

    folder: Path
    silos: dict[str, str]
    records: int
    true_people: int
    linked_people: int
    precision: float
    recall: float
    people_exact: float
    threshold: float
    expected_precision: float
    expected_recall: float
    pairs_to_review: int

    @property
    def person_error(self) -> float:
        """Share of the true people not formed exactly (split, or merged with another)."""
        return 1.0 - self.people_exact


def _slug(service: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", service.lower()).strip("_") or "service"


def _pair_count(frame: pl.DataFrame, keys: list[str]) -> int:
    n = frame.group_by(keys).len()["len"]
    return int((n * (n - 1) // 2).sum())


def score_linkage(links: pl.DataFrame, truth: pl.DataFrame) -> tuple[float, float, float]:
    """Pairwise precision and recall, and the share of true people formed exactly.

    ``links``: ``source``, ``record_id``, ``person_key``; ``truth``: ``source``,
    ``record_id``, ``person_id``.

    >>> links = pl.DataFrame({"source": ["a", "b", "a"], "record_id": ["1", "2", "3"],
    ...                       "person_key": ["k", "k", "k"]})
    >>> truth = pl.DataFrame({"source": ["a", "b", "a"], "record_id": ["1", "2", "3"],
    ...                       "person_id": ["x", "x", "y"]})
    >>> score_linkage(links, truth)
    (0.3333333333333333, 1.0, 0.0)
    """
    joined = links.join(truth, on=["source", "record_id"])
    linked = _pair_count(joined, ["person_key"])
    true = _pair_count(joined, ["person_id"])
    both = _pair_count(joined, ["person_key", "person_id"])
    members = joined.with_columns((pl.col("source") + "/" + pl.col("record_id")).alias("r"))
    by_true = members.group_by("person_id").agg(pl.col("r").sort().str.join("|").alias("m"))
    by_key = members.group_by("person_key").agg(pl.col("r").sort().str.join("|").alias("m"))
    exact = by_true.join(by_key, on="m", how="semi").height / max(by_true.height, 1)
    return both / max(linked, 1), both / max(true, 1), exact


def link_town(events: pl.DataFrame, folder: Path, *, seed: int) -> tuple[TownLinkage, pl.DataFrame]:
    """Write the silos, link them, and return the scores and the events as linked.

    The returned events are ``events`` with each ``person_id`` replaced by the
    person key that linkage gave the record of that person in that service.
    """
    folder.mkdir(parents=True, exist_ok=True)
    served = events.select("service", "person_id").unique().sort("service", "person_id")
    people = served["person_id"].unique().sort()
    identities = town_identities(people, seed=seed)
    bases = list(SILO_STYLES)
    styles: dict[str, Any] = {}
    silos: dict[str, str] = {}
    truth_frames = []
    paths = []
    for i, service in enumerate(served["service"].unique().sort().to_list()):
        name = _slug(service)
        base = SILO_STYLES[bases[i % len(bases)]]
        styles[name] = dataclasses.replace(base, prefix=f"{base.prefix}{i}")
        silos[service] = name
        who = served.filter(pl.col("service") == service).select("person_id")
        ext = silo_extract(
            identities.join(who, on="person_id"), name, seed=seed, style=styles[name]
        )
        truth_frames.append(
            ext.select(
                pl.lit(name).alias("source"),
                "record_id",
                "person_id",
                pl.lit(service).alias("service"),
            )
        )
        path = folder / f"{name}.csv"
        ext.drop("person_id").write_csv(path)  # the silo's extract: no shared id
        paths.append(path)
    truth = pl.concat(truth_frames)
    settings_text = silo_settings_toml(list(styles), styles)
    (folder / "link.toml").write_text(settings_text, encoding="utf-8")
    result = link_files(paths, parse_link_settings(tomllib.loads(settings_text)), folder / "linked")
    links = result.links
    precision, recall, exact = score_linkage(links, truth)
    keys = truth.join(links.select("source", "record_id", "person_key"), on=["source", "record_id"])
    linked_events = (
        events.join(
            keys.select("service", "person_id", "person_key"),
            on=["service", "person_id"],
            how="left",
        )
        .with_columns(pl.col("person_key").alias("person_id"))
        .drop("person_key")
    )
    q = result.quality
    t = q["threshold"]
    row = next(r for r in t["candidates"] if r["threshold"] == t["chosen"])
    scores = TownLinkage(
        folder=folder,
        silos=silos,
        records=links.height,
        true_people=people.len(),
        linked_people=int(q["people"]["people"]),
        precision=precision,
        recall=recall,
        people_exact=exact,
        threshold=float(t["chosen"]),
        expected_precision=float(row["expected_precision"]),
        expected_recall=float(row["expected_recall"]),
        pairs_to_review=int(q["review"]["pairs_in_band"]),
    )
    return scores, linked_events


@dataclass(frozen=True)
class JourneyFigures:
    """The figures of :data:`JOURNEY_FIGURES`, as a learn run's summary gives them."""

    people: int
    needs: int
    median_hand_offs: float | None
    median_need_days: float | None
    failure_demand_share: float | None


def journey_figures(events: pl.DataFrame) -> JourneyFigures:
    """The journey figures learnt from ``events``, without the rest of a learn run.

    What ``learn(dataset).summary()`` says of these figures (the same
    journeys, needs and classes, learnt by the same functions), at the cost of
    the journeys alone: the demo needs them for the linked silos only to
    compare with the full learn of the true ids.
    """
    annotated = annotate_events(events, LearnConfig())
    needs = episodes(annotated)
    contacts = annotated.filter(pl.col("is_contact") & (pl.col("class_source") == CLASSIFIED))
    classified = contacts.height
    failure = contacts.filter(pl.col("demand_class") == "failure").height

    def median(col: str) -> float | None:
        value = needs[col].median() if needs.height else None
        return float(value) if value is not None else None  # type: ignore[arg-type]

    return JourneyFigures(
        people=needs["person_id"].n_unique(),
        needs=needs.height,
        median_hand_offs=median("hand_offs"),
        median_need_days=median("end_to_end_days"),
        failure_demand_share=failure / classified if classified else None,
    )


def journey_agreement(true_summary: Any, linked_summary: Any) -> pl.DataFrame:
    """Each journey figure from true ids and from linked silos, and the relative difference."""
    rows = []
    for attr, label in JOURNEY_FIGURES:
        a, b = getattr(true_summary, attr), getattr(linked_summary, attr)
        if a is None or b is None:
            diff = None
        elif a == b:
            diff = 0.0
        else:
            diff = None if a == 0 else (b - a) / a
        rows.append({"figure": label, "true_ids": a, "linked_silos": b, "difference": diff})
    return pl.DataFrame(
        rows,
        schema={
            "figure": pl.String,
            "true_ids": pl.Float64,
            "linked_silos": pl.Float64,
            "difference": pl.Float64,
        },
    )


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.1%}"


def _figure(value: float | None, label: str) -> str:
    if value is None:
        return "n/a"
    if "share" in label:
        return f"{value:.1%}"
    return f"{value:,.0f}" if label in ("people", "needs") else f"{value:,.1f}"


def _difference(d: float) -> str:
    """A relative difference as text; under 0.05% in either direction reads as none."""
    return "none" if abs(d) < 0.0005 else f"{d:+.1%}"


def linkage_headline(scores: TownLinkage, agreement: pl.DataFrame) -> str:
    """One sentence for the report's summary, from the same objects as the section."""
    worst = agreement.filter(pl.col("difference").is_not_null())
    largest = float(worst["difference"].abs().max() or 0.0)
    within = largest <= scores.person_error + 1e-9
    return (
        f"The town's {len(scores.silos)} silos share no identifier; linked from names, dates of "
        f"birth and addresses, {_pct(scores.precision)} of the record pairs put together were "
        f"the same person and {_pct(scores.recall)} of the true pairs were found, so journeys "
        f"learnt from the linked silos differ from the true ones by at most {largest:.1%} "
        + ("(within" if within else "(more than")
        + f" the {_pct(scores.person_error)} of people not formed exactly)."
    )


def linkage_section(scores: TownLinkage, agreement: pl.DataFrame) -> Any:
    """The report section: linkage quality against the truth, and journeys compared."""
    from systemic.report.document import KeyFigure, Section, Table

    table = agreement.select(
        "figure",
        *[
            pl.struct("figure", c)
            .map_elements(lambda r, c=c: _figure(r[c], r["figure"]), return_dtype=pl.String)
            .alias(c.replace("_", " "))
            for c in ("true_ids", "linked_silos")
        ],
        pl.col("difference").map_elements(_difference, return_dtype=pl.String),
    )
    return Section(
        id="linkage",
        title="Linking the silos: the same people across services",
        intro=(
            f"Each of the town's {len(scores.silos)} services keeps its own records under its "
            "own reference, with the errors real extracts have: typing errors, nicknames, day "
            "and month swapped, old addresses, missing dates of birth. Before learning, "
            f"systemic link joined the {scores.records:,} records to people from their names, "
            "dates of birth and addresses (Splink, trained without labels). The simulation "
            "knows who everyone really is, so the linkage is scored against that truth."
        ),
        key_figures=[
            KeyFigure(
                "precision (pairs)", _pct(scores.precision), "linked pairs that are one person"
            ),
            KeyFigure("recall (pairs)", _pct(scores.recall), "true pairs that were linked"),
            KeyFigure(
                "people formed exactly",
                _pct(scores.people_exact),
                f"{scores.linked_people:,} people formed for {scores.true_people:,} real ones",
            ),
            KeyFigure("pairs to review", f"{scores.pairs_to_review:,}", "the uncertain band"),
        ],
        tables=[
            Table(
                "Journeys learnt from true ids and from linked silos",
                table,
                note=(
                    "Difference: linked silos against true ids, relative. The model expected "
                    f"precision {_pct(scores.expected_precision)} and recall "
                    f"{_pct(scores.expected_recall)} at threshold {scores.threshold}, "
                    "without seeing the truth."
                ),
            )
        ],
        paragraphs=[linkage_headline(scores, agreement)],
    )
