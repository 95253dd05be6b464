"""Which Polars engine runs learning's in-memory steps, chosen by measurement.

Journeys are sort-and-shift work on one partition that is already in
memory. On the 500k-event hospital replica (2 shared cores) Polars'
in-memory engine ran the journey annotation in 1.0-1.5 s against 1.7-2.3 s
for the streaming engine (the default since Polars 2), and the activity
flow in 0.4-0.8 s against 1.5 s. Reading a partition from Parquet (scan,
filter by person hash) stays on the streaming engine, which bounds memory.
"""

from __future__ import annotations

from typing import Literal

#: Engine for steps over a partition already in memory.
ENGINE: Literal["in-memory"] = "in-memory"

#: Engine for reading a partition from Parquet.
SCAN_ENGINE: Literal["streaming"] = "streaming"
