"""Cases spanning people: a case whose events belong to more than one person.

A case (``case_id``, the unit of work a service sees: an application, a
ticket, a referral) normally belongs to one person. When the mapping ties a
case to something that varies within it (a customer field that changes, a
household member), one case holds several people's events. ``inspect``
reports such cases, and ``learn`` keeps each of them one case (one duration,
one path in the activity map), whatever the person mapping.

These are pure functions over frames, used by :mod:`systemic.data.inspect`
and :mod:`systemic.learn`.

>>> import polars as pl
>>> ev = pl.DataFrame({"person_id": ["a", "b", "a", "c"], "case_id": ["1", "1", "2", "3"]})
>>> case_people(ev).sort("case_id").rows()
[('1', 2), ('2', 1), ('3', 1)]
>>> cases_spanning_people(ev).rows()
[('1', 2)]
"""

from __future__ import annotations

import polars as pl


def case_key() -> pl.Expr:
    """A case's identifier: ``case_id``, or the person's pseudonym where it has none."""
    return pl.coalesce(pl.col("case_id"), pl.col("person_id")).alias("case_id")


def case_people(events: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """One row per case: ``case_id`` and ``people`` (distinct persons among its events).

    ``events`` needs ``person_id`` and ``case_id`` (a null ``case_id`` is the
    person's own case).
    """
    return (
        events.lazy()
        .group_by(case_key())
        .agg(pl.col("person_id").n_unique().cast(pl.Int64).alias("people"))
        .collect()
    )


def merge_case_people(pieces: list[pl.DataFrame]) -> pl.DataFrame:
    """Merge :func:`case_people` tables from disjoint groups of people.

    Groups of people are disjoint (as learn's partitions are), so a case's
    people add up across groups.

    >>> a = pl.DataFrame({"case_id": ["1", "2"], "people": [1, 1]})
    >>> b = pl.DataFrame({"case_id": ["1"], "people": [1]})
    >>> merge_case_people([a, b]).sort("case_id").rows()
    [('1', 2), ('2', 1)]
    """
    return pl.concat(pieces).group_by("case_id").agg(pl.col("people").sum())


def cases_spanning_people(events: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """The cases whose events belong to more than one person: ``case_id``, ``people``.

    Most people first, then by case id.
    """
    return spanning(case_people(events))


def spanning(people_per_case: pl.DataFrame) -> pl.DataFrame:
    """The rows of a ``case_id``, ``people`` table with more than one person."""
    return people_per_case.filter(pl.col("people") > 1).sort(
        ["people", "case_id"], descending=[True, False]
    )
