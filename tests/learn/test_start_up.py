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


def _bytes_held(frame: pl.DataFrame) -> int:
    """Bytes of the Arrow buffers ``frame``'s columns point into (shared or not).

    Polars hands its buffers to Arrow without copying, so this is what the
    frame keeps alive, independent of what the allocator does with memory.
    """
    held = 0
    for name in frame.columns:
        array = frame[name].to_arrow(compat_level=pl.CompatLevel.newest())
        for chunk in getattr(array, "chunks", [array]):
            held += sum(buffer.size for buffer in chunk.buffers() if buffer is not None)
    return held


def test_a_copied_piece_does_not_keep_its_partition_alive() -> None:
    """Small results copied with ``_owned`` let the partition's text go.

    A partition of 200,000 long person ids, ten rows kept: the piece as
    Polars returns it points into the partition's whole text buffer (this is
    why ``_owned`` exists); the copy holds only its ten ids. Measured as the
    bytes of the buffers each points into, not resident memory, which moves
    with the allocator and the machine's load. If this fails because the
    uncopied piece no longer holds the buffer, Polars has changed and
    ``_owned`` may no longer be needed.
    """
    ids = [f"person-{i:012d}-padding-padding-padding" for i in range(200_000)]
    partition = pl.DataFrame({"p": ids, "v": range(200_000)})
    piece = partition.group_by("p").agg(pl.col("v").first()).head(10)
    text_bytes = sum(len(i) for i in ids)

    assert _bytes_held(piece) > text_bytes // 2
    copy = _owned(piece)
    assert_frame_equal(copy, piece)
    assert _bytes_held(copy) < 10 * 200
