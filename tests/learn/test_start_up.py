"""What a learn run costs beyond learning: the modules it loads, and the memory pieces hold.

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
import pytest
from polars.testing import assert_frame_equal

from systemic.learn.partition import _owned

from .conftest import small_town

COSTS = (
    Path(__file__).resolve().parents[2] / "examples" / "unit_costs" / "uk_health_social_care.toml"
)

_RUN = """
import sys
from systemic.learn import learn, load_unit_costs
result = learn(sys.argv[1], unit_costs=load_unit_costs(sys.argv[2]), partitions=2)
assert result.summary().events == 5
print(sorted(m for m in ("numpy", "pyarrow") if m in sys.modules))
"""


def test_learning_loads_neither_numpy_nor_pyarrow(tmp_path: Path) -> None:
    path = small_town(tmp_path / "town")
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


_PIECES = """
import gc, sys
import polars as pl
from systemic.learn.partition import _owned

copy = sys.argv[1] == "copy"
kept = []
for k in range(5):
    ids = [f"person-{k}-{i:012d}-padding-padding-padding" for i in range(1_000_000)]
    big = pl.DataFrame({"p": ids, "v": range(1_000_000)})
    del ids
    piece = big.group_by("p").agg(pl.col("v").first()).head(10)  # 10 rows, views into big
    kept.append(_owned(piece) if copy else piece)
    del big, piece
    gc.collect()
assert sum(p.height for p in kept) == 50
print(int(open("/proc/self/statm").read().split()[1]) * 4096 // 2**20)
"""


def test_a_copied_piece_does_not_keep_its_partition_alive() -> None:
    """Small results copied with ``_owned`` let the partition's text go.

    Five partitions of a million long person ids each, ten rows kept from
    each: the pieces as Polars returns them keep every partition's text
    buffers (this is why ``_owned`` exists); the copies do not. If this fails
    because the uncopied pieces no longer hold memory, Polars has changed
    and ``_owned`` may no longer be needed.
    """
    if not Path("/proc/self/statm").exists():
        pytest.skip("needs /proc to read resident memory")

    def resident_mib(mode: str) -> int:
        done = subprocess.run(
            [sys.executable, "-c", _PIECES, mode], capture_output=True, text=True, check=True
        )
        return int(done.stdout.strip())

    views, copies = resident_mib("views"), resident_mib("copy")
    assert copies + 150 < views, (copies, views)
