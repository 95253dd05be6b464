"""When a locality switches design, nobody is left waiting for a service that no longer
has any capacity there: the waiting list moves to the service that now holds the need."""

from __future__ import annotations

import polars as pl

from systemic.simulate import load_scenario, run

LOCALITIES = [
    {"name": "A", "share": 0.5, "deprivation": 1.3, "community_strength": 0.4},
    {"name": "B", "share": 0.5, "deprivation": 1.0, "community_strength": 0.5},
]


def _services(experiment: bool) -> pl.DataFrame:
    """Per-step service tables of a two-locality town, A switching to local mid-year."""
    data = {"population": {"people": 4000}, "years": 1, "localities": LOCALITIES}
    if experiment:
        data["experiments"] = [{"locality": "A", "start": "2025-07-07", "preset": "local"}]
    return run(load_scenario(data), seed=5).services


def test_waiting_lists_move_with_the_switch():
    services = _services(True)
    switched = services.filter((pl.col("locality") == "A") & (pl.col("step") >= 26))
    # every service A still queues for has capacity under the new design
    stranded = switched.filter((pl.col("capacity") == 0) & (pl.col("waiting") > 0))
    assert stranded.height == 0, stranded.select("step", "service", "waiting")
    before = services.filter(
        (pl.col("locality") == "A") & (pl.col("step") == 25) & (pl.col("service") == "housing")
    )
    assert before["waiting"].item() > 0  # there was a silo queue to move
    # without the switch, A's housing queue stays where it was
    unswitched = _services(False).filter(
        (pl.col("locality") == "A") & (pl.col("step") >= 26) & (pl.col("service") == "housing")
    )
    assert unswitched["waiting"].sum() > 0
