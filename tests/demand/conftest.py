"""Fixtures of the demand tests: contacts and labels written as a user would, and the CLI."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from click.testing import Result
from typer.testing import CliRunner

from systemic.cli import app
from systemic.demand.corpus import load_corpus

#: ``run(command, *options, text="note")`` runs ``systemic demand COMMAND`` on the files.
RunDemand = Callable[..., Result]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, pl.DataFrame]:
    """600 held-out contacts (``ref``, ``note``) and 200 labels plus two bad ones; the corpus."""
    d = tmp_path_factory.mktemp("demand")
    corpus = load_corpus().filter(pl.col("part") == "held_out").head(600)
    contacts = d / "contacts.csv"
    corpus.select(
        pl.col("contact_id").alias("ref"), pl.col("text").alias("note"), "service", "locality"
    ).write_csv(contacts)
    labels = d / "labels.csv"
    lab = corpus.sample(200, seed=1).select(
        pl.col("contact_id").alias("id"), "demand_class", "demand_type", "what_failed"
    )
    bad = pl.DataFrame(
        {
            "id": ["NOPE", lab["id"][0]],
            "demand_class": ["value", "maybe"],
            "demand_type": [None, None],
            "what_failed": [None, None],
        },
        schema=lab.schema,
    )
    pl.concat([lab, bad]).write_csv(labels)
    return contacts, labels, corpus


@pytest.fixture
def run_demand(files: tuple[Path, Path, pl.DataFrame]) -> RunDemand:
    """``systemic demand COMMAND CONTACTS --text TEXT --id ref --labels LABELS *options``."""
    contacts, labels, _ = files

    def run(command: str, *options: str, text: str = "note") -> Result:
        args = ["demand", command, str(contacts), "--text", text, "--id", "ref"]
        return CliRunner().invoke(app, [*args, "--labels", str(labels), *options])

    return run
