"""Real logs imported once per session with the shipped mapping files.

Each fixture returns the dataset path. Imports use a throwaway key given
explicitly (session fixtures run before the per-test key fixture).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import polars as pl
import pytest

from systemic.data import PseudonymKey, import_sources, open_dataset

ROOT = Path(__file__).resolve().parents[2]
MAPPINGS = ROOT / "examples" / "mappings"
LOGS = {
    "sepsis": "sepsis.csv.gz",
    "hospital": "hospital_bpic2011.csv.gz",
    "receipt": "receipt_wabo.xes.gz",
}
MAPPING_FILES = {
    "sepsis": "sepsis.toml",
    "hospital": "hospital_bpic2011.toml",
    "receipt": "receipt_wabo.toml",
}


@pytest.fixture(scope="session")
def real_datasets(real_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    key = PseudonymKey(b"learn-tests-session-key-0123456789")
    root = tmp_path_factory.mktemp("real_datasets")
    out = {}
    for name, log in LOGS.items():
        path = root / name
        import_sources(real_data / log, MAPPINGS / MAPPING_FILES[name], path, key=key)
        out[name] = path
    return out


def pm4py_frame(dataset: Path) -> pd.DataFrame:
    """The dataset's events as a pm4py-ready pandas frame, in source order.

    Same events, same order (source, then source row): pm4py sorts by time
    stably, so its tie-breaks follow the source order as ours do.
    """
    import pm4py

    events = (
        open_dataset(dataset)
        .events(["person_id", "case_id", "activity", "timestamp", "source", "source_row"])
        .sort("source", "source_row")
        .with_columns(pl.concat_str("person_id", pl.lit("|"), "case_id").alias("case_key"))
        .collect()
    )
    df = events.select("case_key", "activity", "timestamp").to_pandas()
    return pm4py.format_dataframe(
        df, case_id="case_key", activity_key="activity", timestamp_key="timestamp"
    )
