"""The README's CLI path, learn -> spc -> experiment, runs exactly as written.

The commands are read from README.md ("The paths through it") and run, word
for word, by the installed ``systemic`` in a scratch folder that holds a small
town's dataset under the README's name (``our-dataset``) and a link to the
repository's ``examples``. Their outputs are then checked against the
dataset: the README cannot drift from the commands.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import polars as pl

from systemic.data import write_dataset

ROOT = Path(__file__).resolve().parents[1]
STEPS = ("systemic learn ", "systemic spc ", "systemic experiment ")


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    paths = text.split("## The paths through it", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", paths, re.S)
    lines = [line.split("#")[0].strip() for block in blocks for line in block.splitlines()]
    chosen = [line for line in lines if line.startswith(STEPS)]
    assert [c.split()[1] for c in chosen] == ["learn", "spc", "experiment"], chosen
    return chosen


def small_town() -> pl.DataFrame:
    """Three localities, weekly contacts over a year around the README's start date."""
    start = dt.datetime(2026, 7, 6, 9, tzinfo=dt.UTC)
    rows = []
    for week in range(52):
        for loc, n in (("Northfield", 30), ("Southmead", 25), ("Eastbrook", 20)):
            after = loc == "Northfield" and start + dt.timedelta(weeks=week) >= dt.datetime(
                2027, 1, 4, tzinfo=dt.UTC
            )
            for i in range(n):
                failure = (i % 10) < (3 if after else 6)
                rows.append(
                    {
                        "person_id": f"{loc}-{(week * n + i) % 300}",
                        "locality": loc,
                        "service": ["Housing", "Benefits"][i % 2],
                        "activity": "call",
                        "kind": "contact",
                        "demand_class": "failure" if failure else "value",
                        "timestamp": start + dt.timedelta(weeks=week, hours=4 * i),
                    }
                )
    return pl.DataFrame(rows)


def test_readme_learn_spc_experiment_run_as_written(tmp_path: Path) -> None:
    write_dataset(small_town(), tmp_path / "our-dataset", source_name="a small town")
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    systemic = Path(sys.executable).parent / "systemic"
    env = {**os.environ, "PATH": f"{systemic.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    for command in readme_commands():
        run = subprocess.run(
            shlex.split(command), cwd=tmp_path, env=env, capture_output=True, text=True
        )
        assert run.returncode == 0, f"{command}\n{run.stdout}\n{run.stderr}"

    summary = json.loads((tmp_path / "learnt" / "summary.json").read_text())
    assert summary["contacts"] == 52 * 75
    spc = pl.read_csv(tmp_path / "spc" / "spc.csv")
    weekly = pl.read_parquet(tmp_path / "learnt" / "row_level" / "series_weekly.parquet")
    overall = weekly.filter(pl.col("locality") == "all localities")
    # Every week of the record is a point; each is that week's share of all localities.
    assert spc.height == overall.height
    assert spc["value"].to_list() == overall["failure_demand_share"].to_list()
    evidence = json.loads((tmp_path / "evidence" / "evidence.json").read_text())
    assert evidence["locality"] == "Northfield" and evidence["start"] == "2027-01-04"
    # Northfield's share fell from 0.6 to 0.3 while the others stayed at 0.6.
    assert evidence["conclusion"] == "improvement"
    assert abs(evidence["difference_in_differences"]["estimate"] + 0.3) < 0.02
    assert (tmp_path / "evidence" / "rebased.svg").exists()
