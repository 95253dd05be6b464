"""A hand-worked learn result: a big locality and a small one, contacts a week.

North (the experiment's locality) has about 100 contacts a week before the start
and 80 since: -20%, a fall of 20 contacts. South has about 10 before and 9 since:
-10%, a fall of 1. So the two scales read differently:

- relative: North's after/before ratio over South's, less one: 0.8 / 0.9 - 1 = -1/9 (-11%);
- difference: (80 - 100) - (9 - 10) = -19 contacts.

The first week is partial (the record covers part of it) with few contacts: a
count of it is not comparable, so it is left out (by ``systemic experiment
--from`` and the workspace alike). The table is the published text, as learn
writes it and the workspace keeps it.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import polars as pl

START = date(2026, 3, 2)
#: The partial week, then 10 whole weeks before the start and 10 since.
WEEKS = [START + timedelta(weeks=i - 11) for i in range(21)]
CONTACTS = {
    "North": [40] + [98, 102] * 5 + [78, 82] * 5,
    "South": [3] + [9, 11] * 5 + [8, 10] * 5,
}
FAILURE = {
    "North": [20] + [49, 51] * 5 + [29, 31] * 5,
    "South": [1] + [5, 6] * 5 + [5, 5] * 5,
}
RELATIVE = 0.8 / 0.9 - 1
DIFFERENCE = (80 - 100) - (9 - 10)


def published_table() -> pl.DataFrame:
    """The ``series_weekly`` table of the two localities and all localities, as text."""
    rows = []
    for place in [*CONTACTS, "all localities"]:
        for i, week in enumerate(WEEKS):
            if place == "all localities":
                contacts = sum(c[i] for c in CONTACTS.values())
                failure = sum(f[i] for f in FAILURE.values())
            else:
                contacts, failure = CONTACTS[place][i], FAILURE[place][i]
            rows.append({
                "locality": place, "period": week.isoformat(), "contacts": str(contacts),
                "classified_contacts": str(contacts), "failure_contacts": str(failure),
                "failure_demand_share": str(failure / contacts), "edge": "",
                "partial": "true" if i == 0 else "false",
            })  # fmt: skip
    return pl.DataFrame(rows)


def write_learn_folder(folder: Path) -> Path:
    """A folder as ``systemic learn --out`` writes it, holding only the series tables."""
    (folder / "tables").mkdir(parents=True, exist_ok=True)
    table = published_table()
    table.write_csv(folder / "tables" / "series_weekly.csv")
    # A month table is needed to bring a result in; its figures are not read here.
    table.head(0).write_csv(folder / "tables" / "series_monthly.csv")
    return folder
