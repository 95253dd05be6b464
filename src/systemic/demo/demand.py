"""The demo town's demand study: its contacts get words from the corpus, a team labels 300.

A real study takes the contacts of a few weeks, writes down what people said
and classifies a random sample by hand. Here the last weeks' contacts of the
simulated town are sampled, each is given a note from the corpus of the same
class (value or failure, as the simulation recorded it) and, where it can,
a service of the same kind; a random 300 of them are "labelled" (their class
is read from the simulation), and :func:`systemic.demand.study.run_study`
classifies the rest. learn's inference rules are then tested against the
same labels. Every note is used at most once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from systemic.demand.corpus import load_corpus
from systemic.demand.rules import rule_agreement
from systemic.demand.study import DemandStudy, run_study

#: Simulated service -> corpus service whose notes fit it.
SERVICE_NOTES = {
    "housing": ("Housing repairs",),
    "benefits": ("Benefits",),
    "GP": ("GP appointments",),
    "adult social care": ("Adult social care",),
    "community health": ("Hospital appointments", "GP appointments"),
    "A&E": ("Hospital appointments",),
    "hospital": ("Hospital appointments",),
    "contact centre": ("Council tax", "Waste", "Benefits", "Housing repairs"),
}


@dataclass
class TownStudy:
    """The town's demand study and how learn's inference rules did against its labels."""

    study: DemandStudy
    rules: pl.DataFrame
    contacts: pl.DataFrame
    labels: pl.DataFrame


def town_demand_study(
    events: pl.DataFrame, *, contacts: int = 1500, labels: int = 300, seed: int = 2026
) -> TownStudy:
    """Sample the town's last contacts, give them words, label ``labels`` and estimate."""
    rng = np.random.default_rng(seed)
    evs = events.filter(pl.col("kind") == "contact")
    end = evs["timestamp"].max()
    recent = evs.filter(pl.col("timestamp") > end - pl.duration(weeks=12))  # type: ignore[operator]
    if recent.height > contacts:
        take = np.sort(rng.choice(recent.height, contacts, replace=False))
        recent = recent[take]
    corpus = load_corpus().sample(fraction=1.0, shuffle=True, seed=seed)
    used: set[int] = set()
    by_key: dict[tuple[str, str], list[int]] = {}
    for i, (service, cls) in enumerate(corpus.select("service", "demand_class").iter_rows()):
        by_key.setdefault((service, cls), []).append(i)
        by_key.setdefault(("*", cls), []).append(i)
    chosen: list[int] = []
    for service, cls in recent.select("service", "demand_class").iter_rows():
        pick = None
        for corpus_service in (*SERVICE_NOTES.get(service, ()), "*"):
            pool = by_key.get((corpus_service, cls), [])
            while pool and pool[-1] in used:
                pool.pop()
            if pool:
                pick = pool.pop()
                break
        if pick is None:
            raise ValueError(
                f"the corpus has too few {cls} notes for {recent.height} contacts: "
                "study fewer contacts"
            )
        used.add(pick)
        chosen.append(pick)
    notes = corpus[chosen]
    study_contacts = recent.select(
        pl.col("event_id").alias("id"),
        notes["text"].alias("text"),
        "service",
        "channel",
        "locality",
    )
    # A small town may have fewer recent contacts than a study labels: then label half.
    if labels >= recent.height:
        labels = recent.height // 2
    pick = rng.choice(recent.height, labels, replace=False)
    sample = pl.DataFrame(
        {
            "id": recent["event_id"].gather(pick),
            "demand_class": recent["demand_class"].gather(pick),
            "demand_type": notes["demand_type"].gather(pick),
            "what_failed": notes["what_failed"].gather(pick),
        }
    )
    study = run_study(study_contacts, sample, features="tfidf", seed=seed)
    rules = rule_agreement(events, sample)
    return TownStudy(study, rules, study_contacts, sample)
