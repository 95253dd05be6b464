"""Headline figures on real logs against counts taken straight from the events.

The classes come from the shipped mappings' rules; each expected figure is
computed here from the dataset's events with plain Polars filters,
independently of learn.
"""

from __future__ import annotations

import polars as pl
import pytest

from systemic.data import open_dataset
from systemic.learn import learn

from .conftest import RealDatasets


def _events(real_datasets: RealDatasets, log: str) -> pl.DataFrame:
    return open_dataset(real_datasets[log]).events().collect()


def test_receipt_rework_classes_count_as_failure_work(real_datasets: RealDatasets) -> None:
    ev = _events(real_datasets, "receipt")
    rework = ev.filter((pl.col("demand_class") == "failure") & (pl.col("kind") != "contact"))
    work = ev.filter(pl.col("kind") != "contact")
    s = learn(real_datasets["receipt"]).summary()
    assert rework.height > 50  # the mapping's T03/T13/T18 rework
    assert (s.failure_work_events, s.work_pieces) == (rework.height, work.height)
    assert s.failure_work_share == pytest.approx(rework.height / work.height)
    # the receipts are classified value: no failure demand among contacts
    contacts = ev.filter(pl.col("kind") == "contact")
    assert (s.contacts, s.classified_contacts, s.failure_contacts) == (
        contacts.height,
        contacts.height,
        0,
    )


def test_sepsis_classified_share_is_returns_over_presentations(
    real_datasets: RealDatasets,
) -> None:
    ev = _events(real_datasets, "sepsis")
    contacts = ev.filter(pl.col("kind") == "contact")
    returns = contacts.filter(pl.col("activity") == "Return ER").height
    s = learn(real_datasets["sepsis"]).summary()
    assert (s.contacts, s.classified_contacts) == (contacts.height, contacts.height)
    assert s.failure_demand_share == pytest.approx(returns / contacts.height)
    # every contact is classified: nothing is inferred or unknown
    assert (s.inferred_failure_contacts, s.unknown_contacts) == (0, 0)
