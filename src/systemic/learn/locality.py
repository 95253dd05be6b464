"""Everything by locality: one row per locality, from the person-episodes.

An episode belongs to the locality of its first event that has one (event
locality, else the person's locality from the people table, else
``unknown``).
"""

from __future__ import annotations

import polars as pl


def by_locality(episodes: pl.DataFrame) -> pl.DataFrame:
    """People, needs, events, contacts, failure demand, hand-offs, time and cost per locality.

    ``failure_contacts`` are classified failure demand and ``failure_share``
    is their share of classified contacts; ``median_end_to_end_days`` is
    the median need (episode) in days; ``failure_cost`` is the cost of
    failure demand including the work after it in the need.

    >>> import polars as pl
    >>> eps = pl.DataFrame({"person_id": ["a", "a", "b"], "locality": ["N", "N", "S"],
    ...     "events": [3, 1, 2], "contacts": [2, 1, 0], "classified_contacts": [2, 1, 0],
    ...     "failure_contacts": [1, 0, 0],
    ...     "preventable_contacts": [1, 0, 0], "hand_offs": [2, 0, 1],
    ...     "repeat_contacts": [0, 0, 0], "end_to_end_days": [4.0, 0.0, 1.0],
    ...     "cost": [10.0, 5.0, 1.0], "failure_cost": [2.0, 0.0, 0.0],
    ...     "hand_off_cost": [3.0, 0.0, 1.0]})
    >>> by_locality(eps).select("locality", "people", "episodes", "hand_offs").rows()
    [('N', 1, 2, 2), ('S', 1, 1, 1)]
    """
    return (
        episodes.group_by("locality")
        .agg(
            pl.col("person_id").n_unique().cast(pl.Int64).alias("people"),
            pl.len().cast(pl.Int64).alias("episodes"),
            pl.col("events").sum(),
            pl.col("contacts").sum(),
            pl.col("classified_contacts").sum(),
            pl.col("failure_contacts").sum(),
            pl.col("preventable_contacts").sum(),
            pl.col("repeat_contacts").sum(),
            pl.col("hand_offs").sum(),
            pl.col("hand_offs").median().alias("median_hand_offs"),
            pl.col("hand_offs").mean().alias("mean_hand_offs"),
            pl.col("end_to_end_days").median().alias("median_end_to_end_days"),
            pl.col("cost").sum(),
            pl.col("failure_cost").sum(),
            pl.col("hand_off_cost").sum(),
        )
        .with_columns(
            (pl.col("failure_contacts") / pl.col("classified_contacts")).alias("failure_share"),
            (pl.col("preventable_contacts") / pl.col("contacts")).alias("preventable_share"),
        )
        .sort(["episodes", "locality"], descending=[True, False])
    )
