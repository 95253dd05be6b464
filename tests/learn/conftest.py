"""Real logs imported once per session with the shipped mapping files.

Each fixture returns the dataset path. Imports use a throwaway key given
explicitly (session fixtures run before the per-test key fixture).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import pytest

from systemic.data import PseudonymKey, import_sources, open_dataset
from systemic.learn import UnitCostTable

ROOT = Path(__file__).resolve().parents[2]
MAPPINGS = ROOT / "examples" / "mappings"
LOGS = {
    "sepsis": "sepsis.csv.gz",
    "hospital": "hospital_bpic2011.csv.gz",
    "receipt": "receipt_wabo.xes.gz",
    "helpdesk": "helpdesk.xes.gz",
    "bpic2013": "bpic2013_incidents.xes.gz",
}
MAPPING_FILES = {
    "sepsis": "sepsis.toml",
    "hospital": "hospital_bpic2011.toml",
    "receipt": "receipt_wabo.toml",
    "helpdesk": "helpdesk.toml",
    "bpic2013": "bpic2013_incidents.toml",
}


class RealDatasets:
    """The real logs imported on first use (so a test needs only its own logs)."""

    def __init__(self, real_data: Path, root: Path) -> None:
        self.real_data = real_data
        self.root = root
        self.key = PseudonymKey(b"learn-tests-session-key-0123456789")
        self.paths: dict[str, Path] = {}

    def __getitem__(self, name: str) -> Path:
        if name not in self.paths:
            path = self.root / name
            import_sources(
                self.real_data / LOGS[name], MAPPINGS / MAPPING_FILES[name], path, key=self.key
            )
            self.paths[name] = path
        return self.paths[name]


@pytest.fixture(scope="session")
def real_datasets(real_data: Path, tmp_path_factory: pytest.TempPathFactory) -> RealDatasets:
    return RealDatasets(real_data, tmp_path_factory.mktemp("real_datasets"))


def pm4py_frame(dataset: Path) -> pd.DataFrame:
    """The dataset's events as a pm4py-ready pandas frame, in source order.

    Same events, same order (source, then source row): pm4py sorts by time
    stably, so its tie-breaks follow the source order as ours do. The case is
    ``case_id`` alone (the person's pseudonym where none is mapped), whatever
    the person mapping.
    """
    import pm4py

    events = (
        open_dataset(dataset)
        .events(["person_id", "case_id", "activity", "timestamp", "source", "source_row"])
        .sort("source", "source_row")
        .with_columns(pl.coalesce("case_id", "person_id").alias("case_key"))
        .collect()
    )
    df = events.select("case_key", "activity", "timestamp").to_pandas()
    return pm4py.format_dataframe(
        df, case_id="case_key", activity_key="activity", timestamp_key="timestamp"
    )


def small_town(path: Path) -> Path:
    """A dataset of three people and five events in two services."""
    import datetime as dt

    from systemic.data import write_dataset

    t = lambda d: dt.datetime(2024, 1, d, tzinfo=dt.UTC)  # noqa: E731
    events = pl.DataFrame(
        {
            "person_id": ["a", "a", "b", "c", "c"],
            "service": ["Housing", "GP", "Housing", "GP", "GP"],
            "activity": ["call", "visit", "call", "visit", "call"],
            "kind": ["contact", "other", "contact", "other", "contact"],
            "timestamp": [t(1), t(2), t(5), t(6), t(7)],
        }
    )
    return write_dataset(events, path, source_name="example").path


# --- event frames written by hand (tests/learn/test_figures.py) -----------------------------

#: The columns :func:`events` fills (null where a row does not give them).
EVENT_COLUMNS = (
    "person_id",
    "case_id",
    "event_id",
    "service",
    "activity",
    "lifecycle",
    "timestamp",
    "kind",
    "demand_type",
    "demand_class",
    "cost",
)


def t(day: float) -> dt.datetime:
    """``day`` days after midnight on 1 January 2024 (UTC)."""
    return dt.datetime(2024, 1, 1, tzinfo=dt.UTC) + dt.timedelta(days=day)


def events(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Events from dicts with a ``day``: person ``p`` and service ``S`` unless a row says
    otherwise, other missing fields null; source order is the row order."""
    data = {c: [r.get(c) for r in rows] for c in EVENT_COLUMNS}
    data["person_id"] = [r.get("person_id", "p") for r in rows]
    data["timestamp"] = [t(r["day"]) for r in rows]
    data["service"] = [r.get("service", "S") for r in rows]
    frame = pl.DataFrame(
        data,
        schema={
            **{c: pl.String for c in EVENT_COLUMNS},
            "timestamp": pl.Datetime("us", "UTC"),
            "cost": pl.Float64,
        },
    )
    return frame.with_columns(
        pl.lit("s0001").alias("source"), pl.int_range(1, frame.height + 1).alias("source_row")
    )


def unit_costs_table(**extra: object) -> UnitCostTable:
    """GBP 2024: a contact 10, an assessment 100, other work 50; ``extra`` keys added."""
    rows = [
        {"kind": "contact", "cost": 10.0, "source": "test", "year": 2024},
        {"kind": "assessment", "cost": 100.0, "source": "test", "year": 2024},
        {"kind": "other", "cost": 50.0, "source": "test", "year": 2024},
    ]
    return UnitCostTable.model_validate({"currency": "GBP", "year": 2024, "cost": rows, **extra})
