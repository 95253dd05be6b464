"""SPC on a real series: patients seen per week in the BPI Challenge 2011 hospital log.

Data: van Dongen, B.F. (2011). Real-life event logs - Hospital log (BPI Challenge
2011). 4TU.ResearchData. The limits are recomputed here with numpy, independently.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from systemic.measures import spc_chart, summarise, xmr_chart
from systemic.measures.chart import write_chart


@pytest.fixture(scope="module")
def weekly_patients(real_data: Path) -> pl.DataFrame:
    events = pl.read_csv(
        real_data / "hospital_bpic2011.csv.gz", columns=["case_id", "timestamp"],
        infer_schema=False,
    )  # fmt: skip
    return (
        events.with_columns(pl.col("timestamp").str.to_datetime().dt.truncate("1w").alias("week"))
        .group_by("week")
        .agg(pl.col("case_id").n_unique().alias("patients"))
        .sort("week")
        # the log's first and last weeks are partial: leave them out
        .slice(1, None)
        .head(-1)
    )


def test_xmr_on_real_weekly_patients(weekly_patients: pl.DataFrame, tmp_path: Path) -> None:
    y = weekly_patients["patients"].to_numpy().astype(float)
    assert y.size > 100
    result = xmr_chart(weekly_patients, date="week", value="patients")
    mr = np.abs(np.diff(y))
    amr = mr[mr < 3.267 * mr.mean()].mean()
    assert result.points["mean"][0] == pytest.approx(y.mean())
    assert result.points["upl"][0] == pytest.approx(y.mean() + 2.66 * amr)
    assert result.points["lpl"][0] == pytest.approx(y.mean() - 2.66 * amr)
    outside = (y > y.mean() + 2.66 * amr) | (y < y.mean() - 2.66 * amr)
    flagged = (result.points["special_cause_rule"].fill_null("") == "outside_limits").to_numpy()
    assert (flagged == outside).all()
    summary = summarise(result)
    assert sum(summary["point_types"].values()) == y.size
    _, png = write_chart(result, tmp_path, title="Patients seen per week (BPIC 2011)")
    assert png.stat().st_size > 10_000


def test_c_chart_on_real_weekly_patients(weekly_patients: pl.DataFrame) -> None:
    result = spc_chart(weekly_patients, chart="c", date="week", value="patients")
    y = weekly_patients["patients"].to_numpy().astype(float)
    assert result.points["upl"][0] == pytest.approx(y.mean() + 3 * np.sqrt(y.mean()))
