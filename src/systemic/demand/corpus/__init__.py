"""The demand-study corpus: 3,000 contact notes with their labels (see ``generate.py``).

Columns: contact_id, received, channel, service, locality, text,
demand_class (value/failure), demand_type, what_failed,
resolved_first_contact, part (``tune`` or ``held_out``: the held-out third
is never read while tuning).

>>> c = load_corpus()
>>> c.height, sorted(c["part"].unique())
(3000, ['held_out', 'tune'])
"""

from __future__ import annotations

from importlib import resources

import polars as pl


def load_corpus() -> pl.DataFrame:
    """The packaged corpus as a table (all columns text)."""
    path = resources.files("systemic.demand.corpus").joinpath("contacts.csv")
    with resources.as_file(path) as p:
        return pl.read_csv(p, infer_schema=False)
