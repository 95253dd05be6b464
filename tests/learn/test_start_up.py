"""What a learn run costs before it starts: the modules it loads, and the piece copy.

Every ``systemic learn`` run pays for the modules it imports (on the project's
machine NumPy and PyArrow together take about 0.3 s to import). Learning needs
neither, so a run must not load them; this test fails if a change brings one
back into learning's path.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal

from systemic.data import write_dataset
from systemic.learn.partition import _owned

COSTS = (
    Path(__file__).resolve().parents[2] / "examples" / "unit_costs" / "uk_health_social_care.toml"
)

_RUN = """
import sys
from systemic.learn import learn, load_unit_costs
result = learn(sys.argv[1], unit_costs=load_unit_costs(sys.argv[2]), partitions=2)
assert result.summary().events == 4
print(sorted(m for m in ("numpy", "pyarrow") if m in sys.modules))
"""


def test_learning_loads_neither_numpy_nor_pyarrow(tmp_path: Path) -> None:
    t = lambda d: dt.datetime(2024, 1, d, tzinfo=dt.UTC)  # noqa: E731
    events = pl.DataFrame(
        {
            "person_id": ["a", "a", "b", "c"],
            "service": ["Housing", "Adult social care", "Housing", "GP"],
            "activity": ["call", "assessment", "call", "visit"],
            "kind": ["contact", "assessment", "contact", "contact"],
            "timestamp": [t(1), t(2), t(5), t(6)],
        }
    )
    path = write_dataset(events, tmp_path / "town", source_name="example").path
    done = subprocess.run(
        [sys.executable, "-c", _RUN, str(path), str(COSTS)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def test_a_copied_piece_keeps_its_values_and_types() -> None:
    frame = pl.DataFrame(
        {
            "person_id": ["a", "b", None],
            "service": pl.Series(["Housing", "GP", "GP"], dtype=pl.Categorical),
            "path": [["Housing", "GP"], [], None],
            "duration": [dt.timedelta(days=1, microseconds=3), None, dt.timedelta(0)],
            "start": [dt.datetime(2024, 1, 1, tzinfo=dt.UTC)] * 3,
            "cost": [1.5, None, 0.0],
        }
    )
    copy = _owned(frame)
    assert copy.schema == frame.schema
    assert_frame_equal(copy, frame)
