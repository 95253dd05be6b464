"""Which Polars engine runs learning's in-memory steps, chosen by measurement.

Journeys are sort-and-shift work on one partition that is already in
memory. On the 500k-event hospital replica (2 shared cores) Polars'
in-memory engine ran the journey annotation in 1.0-1.5 s against 1.7-2.3 s
for the streaming engine (the default since Polars 2), and the activity
flow in 0.4-0.8 s against 1.5 s. Reading a partition from Parquet (scan,
filter by person hash) stays on the streaming engine, which bounds memory.

Sorting a 5M-event partition into journey order (14 columns), measured on
the same loaded machine: Polars ``sort`` 6.9 s, DuckDB ``ORDER BY`` (Arrow
in, Polars out, 2 threads) 17.8 s, Polars arg-sort on a person hash then
gather 21 s. So journeys sort with Polars, and skip the sort when events are
already in journey order.
"""

from __future__ import annotations

from typing import Literal

#: Engine for steps over a partition already in memory.
ENGINE: Literal["in-memory"] = "in-memory"

#: Engine for reading a partition from Parquet.
SCAN_ENGINE: Literal["streaming"] = "streaming"
