"""No suppressed count of a published table can be recovered from the other published tables.

An attacker holds every published table (``demand_by_week``,
``demand_by_locality``, ``preventable_by_locality``, ``series_weekly``,
``series_monthly`` and ``summary.json``) and knows how they add up: the
same cell in two tables; a week's localities add up to its all-localities
row; a locality's weeks add up to its months and to its whole record; a
row's classes add up to its contacts. Whenever one of these sums has a
single unknown, they solve it, and carry on with what they learnt. The test
fails if any count shown as hidden is solved.

The attack is checked on the demo's simulated town and on a hand-made town
with contacts of every class and some without a locality; and the same
attack, run on the tables suppressed one at a time (as before), must find
recoverable counts (so the test can fail).
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from pathlib import Path

import polars as pl
import pytest

from systemic.data.disclosure import RowTotal, is_suppressed, suppress_counts
from systemic.learn import LearnConfig, LearnResult, learn, learn_events
from systemic.learn.publish import published_summary, published_tables
from systemic.learn.series import (
    ALL_LOCALITIES,
    COUNTS,
    LINKED,
    UNKNOWN_LOCALITY,
    learn_series,
    published_series,
)

THRESHOLD = 5
CLASSES = ("value", "failure", "inferred_failure", "inferred_value", "unknown")
#: demand table column -> summary key
SUMMARY_OF = {
    "contacts": "contacts",
    "classified": "classified_contacts",
    "value": "value_contacts",
    "failure": "failure_contacts",
    "inferred_failure": "inferred_failure_contacts",
    "inferred_value": "inferred_value_contacts",
    "unknown": "unknown_contacts",
}
#: series column -> demand table column
SERIES_OF = {
    "contacts": "contacts",
    "classified_contacts": "classified",
    "failure_contacts": "failure",
}
NEEDS = [c for c in COUNTS if c not in SERIES_OF]

Cell = tuple[str, tuple[object, ...], str]
Relation = list[tuple[int, Cell]]  # sum of coefficient * cell is zero


def _locality(x: object) -> str:
    return UNKNOWN_LOCALITY if x is None else str(x)


def cells_of(tables: dict[str, pl.DataFrame], summary: dict[str, object]) -> dict[Cell, object]:
    """Every count cell of the tables and summary, by (table, row key, column)."""
    out: dict[Cell, object] = {}
    for row in tables["demand_by_week"].iter_rows(named=True):
        for c in SUMMARY_OF:
            out[("demand_by_week", (row["week"],), c)] = row[c]
    for row in tables["demand_by_locality"].iter_rows(named=True):
        for c in SUMMARY_OF:
            out[("demand_by_locality", (_locality(row["locality"]),), c)] = row[c]
    for row in tables["preventable_by_locality"].iter_rows(named=True):
        for c in ("contacts", "preventable"):
            out[("preventable_by_locality", (_locality(row["locality"]),), c)] = row[c]
    for name in ("series_weekly", "series_monthly"):
        for row in tables[name].iter_rows(named=True):
            for c in COUNTS:
                out[(name, (row["locality"], row["period"]), c)] = row[c]
    for c in SUMMARY_OF.values():
        out[("summary", (), c)] = summary[c]
    return out


def relations(cells: dict[Cell, object]) -> list[Relation]:
    """Every sum between the cells that a reader of the tables knows."""
    rels: list[Relation] = []
    rows: dict[tuple[str, tuple[object, ...]], set[str]] = defaultdict(set)
    for table, key, col in cells:
        rows[(table, key)].add(col)

    def total(whole: Cell, parts: list[Cell]) -> None:
        rels.append([(1, whole), *[(-1, p) for p in parts]])

    # within a row, the classes add up
    for table in ("demand_by_week", "demand_by_locality"):
        keys = [k for (t, k) in rows if t == table]
        for k in keys:
            total((table, k, "contacts"), [(table, k, c) for c in CLASSES])
            total((table, k, "classified"), [(table, k, "value"), (table, k, "failure")])
        for c in SUMMARY_OF:  # down a column, to the summary
            total(("summary", (), SUMMARY_OF[c]), [(table, k, c) for k in keys])
    prevent = [k for (t, k) in rows if t == "preventable_by_locality"]
    for k in prevent:  # the same cell in two tables
        total(("demand_by_locality", k, "contacts"), [("preventable_by_locality", k, "contacts")])
    weeks = sorted(k[0] for (t, k) in rows if t == "demand_by_week")
    for name in ("series_weekly", "series_monthly"):
        keys = [k for (t, k) in rows if t == name]
        periods = sorted({k[1] for k in keys})
        localities = sorted({k[0] for k in keys} - {ALL_LOCALITIES})
        for p in periods:  # the localities of a period add up to all localities
            for c in COUNTS:
                total((name, (ALL_LOCALITIES, p), c), [(name, (loc, p), c) for loc in localities])
        for loc in [*localities, ALL_LOCALITIES]:  # a locality's periods, to its whole record
            for c, d in SERIES_OF.items():
                whole = (
                    ("summary", (), SUMMARY_OF[d])
                    if loc == ALL_LOCALITIES
                    else ("demand_by_locality", (loc,), d)
                )
                if whole in cells:
                    total(whole, [(name, (loc, p), c) for p in periods])
    for w in weeks:  # a week of all localities is in both tables
        for c, d in SERIES_OF.items():
            total(("demand_by_week", (w,), d), [("series_weekly", (ALL_LOCALITIES, w), c)])
    week_keys = [k for (t, k) in rows if t == "series_weekly"]
    month_keys = [k for (t, k) in rows if t == "series_monthly"]
    for loc, m in month_keys:  # a month is the weeks that start in it
        inside = [k for k in week_keys if k[0] == loc and k[1].replace(day=1) == m]
        for c in SERIES_OF:
            total(("series_monthly", (loc, m), c), [("series_weekly", k, c) for k in inside])
    for loc in {k[0] for k in week_keys}:  # needs ended: all weeks = all months
        for c in NEEDS:
            rels.append(
                [(1, ("series_weekly", k, c)) for k in week_keys if k[0] == loc]
                + [(-1, ("series_monthly", k, c)) for k in month_keys if k[0] == loc]
            )
    return rels


def attack(published: dict[Cell, object], rels: list[Relation]) -> dict[Cell, int]:
    """Solve every sum with one unknown, again and again; the hidden counts solved."""
    known = {
        k: int(v)  # type: ignore[call-overload]
        for k, v in published.items()
        if v is not None and not is_suppressed(v, THRESHOLD)
    }
    solved: dict[Cell, int] = {}
    changed = True
    while changed:
        changed = False
        for rel in rels:
            unknown = [(a, cell) for a, cell in rel if cell not in known]
            if len(unknown) == 1:
                a, cell = unknown[0]
                value = -sum(b * known[c] for b, c in rel if c != cell) // a
                known[cell] = value
                if is_suppressed(published.get(cell), THRESHOLD):
                    solved[cell] = value
                changed = True
    return solved


def true_cells(result: LearnResult) -> dict[Cell, object]:
    tables = result.tables()
    series = learn_series(result)
    return cells_of(
        {**tables, "series_weekly": series["week"], "series_monthly": series["month"]},
        result.summary().to_dict(),
    )


def published_cells(result: LearnResult) -> dict[Cell, object]:
    tables = {**published_tables(result, THRESHOLD), **published_series(result, THRESHOLD)}
    # what write_outputs publishes: the same tables, from one pass
    together = published_tables(result, THRESHOLD, series=True)
    assert together.keys() == tables.keys()
    assert all(together[name].equals(tables[name]) for name in tables)
    return cells_of(tables, published_summary(result.summary(), THRESHOLD))


def one_at_a_time(result: LearnResult) -> dict[Cell, object]:
    """The tables as they were suppressed before: each on its own."""
    tables = result.tables()
    wide = {
        "row_totals": [
            RowTotal("contacts", CLASSES),
            RowTotal("classified", ("value", "failure")),
        ]
    }
    own = {
        name: suppress_counts(tables[name], list(SUMMARY_OF), threshold=THRESHOLD, **wide)
        for name in ("demand_by_week", "demand_by_locality")
    }
    own["preventable_by_locality"] = suppress_counts(
        tables["preventable_by_locality"], ["contacts", "preventable"], threshold=THRESHOLD
    )
    for period, frame in learn_series(result).items():
        own[f"series_{period}ly"] = suppress_counts(
            frame, list(COUNTS), threshold=THRESHOLD, by=["period"], linked=LINKED
        )
    return cells_of(own, published_summary(result.summary(), THRESHOLD))


def check(result: LearnResult) -> None:
    truth = true_cells(result)
    rels = relations(truth)
    # the attacker's sums are true sums (else the attack proves nothing)
    wrong = [r for r in rels if sum(a * int(truth[c]) for a, c in r if c in truth) != 0]
    assert not wrong, wrong[:3]
    assert all(c in truth for r in rels for _, c in r)
    published = published_cells(result)
    assert published.keys() == truth.keys()
    hidden = [k for k, v in published.items() if is_suppressed(v, THRESHOLD)]
    assert hidden, "nothing is suppressed: the check would prove nothing"
    solved = attack(published, rels)
    assert not solved, sorted(solved.items(), key=str)[:10]
    # and every cell still reads its true count where it is shown
    for k, v in published.items():
        if v is not None and not is_suppressed(v, THRESHOLD):
            assert int(v) == truth[k], k  # type: ignore[call-overload]
    # the tables suppressed one at a time gave counts away
    before = attack(one_at_a_time(result), rels)
    assert before, "the old way gives nothing away here: the data do not test the fix"
    assert all(v == truth[k] for k, v in before.items())


@pytest.fixture(scope="module")
def demo_town(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's town (its scenario and seed) at a small size, as a dataset."""
    from systemic.data import write_dataset
    from systemic.demo import DemoConfig
    from systemic.demo.pipeline import town_scenario
    from systemic.simulate import event_frame, load_scenario, people_frame, prepare, run

    prepare()
    config = DemoConfig(people=2_000, years=1.0)
    town = load_scenario(town_scenario(config))
    sim = run(town, seed=config.seed, events=True)
    path = tmp_path_factory.mktemp("town") / "dataset"
    write_dataset(
        event_frame(sim), path, source_name="demo town", source_format="simulation",
        people=people_frame(sim),
    )  # fmt: skip
    return path


def test_no_hidden_count_of_the_demo_town_can_be_recovered(demo_town: Path) -> None:
    check(learn(demo_town))


def mixed_town(seed: int) -> pl.DataFrame:
    """Contacts of every class over five months; a big, a small and a missing locality."""
    rng = random.Random(seed)
    start = dt.datetime(2025, 1, 6, 9, tzinfo=dt.UTC)
    rows = []
    for _ in range(700):
        locality = rng.choices(["North", "South", "Hamlet", None], [60, 30, 6, 4])[0]
        demand = rng.choices(["value", "failure", None], [40, 35, 25])[0]
        rows.append(
            {
                "person_id": f"p{rng.randrange(250)}",
                "locality": locality,
                "timestamp": start + dt.timedelta(days=rng.uniform(0, 150)),
                "demand_class": demand,
                "demand_type": rng.choice(["rent", "repair", "noise"]),
                "service": rng.choice(["Housing", "Benefits"]),
                "activity": "call",
                "kind": "contact",
            }
        )
    return pl.DataFrame(rows)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_no_hidden_count_of_a_mixed_town_can_be_recovered(seed: int) -> None:
    config = LearnConfig(infer_value_demand=True)
    result = learn_events(mixed_town(seed), config)
    classes = result.summary()
    assert classes.inferred_failure_contacts and classes.unknown_contacts  # every class is here
    check(result)


def test_contacts_without_a_locality_are_the_unknown_locality_in_the_series() -> None:
    result = learn_events(mixed_town(1), LearnConfig())
    weekly = learn_series(result)["week"]

    def by_period(loc: str) -> pl.DataFrame:
        return weekly.filter(pl.col("locality") == loc).sort("period")

    parts = sum(
        by_period(loc)["contacts"].to_numpy()
        for loc in ["Hamlet", "North", "South", UNKNOWN_LOCALITY]
    )
    assert (by_period(UNKNOWN_LOCALITY)["contacts"] > 0).any()
    assert list(parts) == by_period(ALL_LOCALITIES)["contacts"].to_list()
