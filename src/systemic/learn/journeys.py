"""Journeys: each person's events in order, cut into episodes of need.

A person's events are ordered by time, ties broken by source order
(``source``, then ``source_row``), stably. A new *episode* starts when the
gap between consecutive events exceeds ``episode_gap_days``. Within an
episode:

- a **hand-off** is an event whose service differs from the previous event's;
- a **repeat contact** is a contact whose demand type (or, when missing, its
  activity) matches an earlier contact by the same person within
  ``repeat_window_days``;
- **rework** is an event whose activity already happened in the episode;
- a contact's **demand class** is the user's (value or failure) when given;
  otherwise it is *failure* when a signal fires (see :mod:`systemic.learn.demand`).

Everything is vectorised: one sort, then shifts along the sorted frame.

>>> import datetime as dt, polars as pl
>>> from systemic.data import conform_events
>>> t = lambda d: dt.datetime(2024, 1, d, tzinfo=dt.UTC)
>>> ev = conform_events(pl.DataFrame({"person_id": ["p", "p", "p"],
...     "service": ["Housing", "Benefits", "Benefits"], "activity": ["call", "claim", "call"],
...     "timestamp": [t(1), t(2), t(3)]}))
>>> episodes(annotate_events(ev)).select("events", "hand_offs", "services").row(0)
(3, 1, 2)
"""

from __future__ import annotations

import polars as pl

from systemic.learn.config import LearnConfig
from systemic.learn.costs import UnitCostTable, with_unit_costs
from systemic.learn.engine import ENGINE

#: The event columns learning reads.
COLUMNS: tuple[str, ...] = (
    "person_id",
    "case_id",
    "service",
    "activity",
    "timestamp",
    "kind",
    "demand_type",
    "demand_class",
    "preventable",
    "channel",
    "locality",
    "cost",
    "source",
    "source_row",
)

#: The journey order: person, then time, ties by source order.
ORDER: tuple[str, ...] = ("person_id", "timestamp", "source", "source_row")

#: Names of the inferred failure-demand signals, in the order they are tried.
SIGNALS: tuple[str, ...] = ("repeat_contact", "recontact_after_closure", "contact_after_hand_off")

UNKNOWN = "unknown"


def annotate_events(
    events: pl.LazyFrame | pl.DataFrame,
    config: LearnConfig | None = None,
    unit_costs: UnitCostTable | None = None,
    people: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Events in journey order with episode, hand-off, repeat, rework and class columns.

    ``people`` (person_id, locality) fills the locality of events that have none.
    Returns one row per event with, added: ``episode`` (1-based within the
    person), ``episode_key`` (unique in the frame), ``hand_off``, ``is_contact``,
    ``repeat_contact``, ``recontact_after_closure``, ``rework``,
    ``failure_signal`` (the rule that fired, or null), ``demand_class``
    (effective), ``class_source`` (user, inferred or null), ``gap`` (time since the
    previous event of the episode) and ``cost`` (own or from the unit-cost table).
    """
    config = config or LearnConfig()
    lf = events.lazy()
    names = lf.collect_schema().names()
    lf = lf.select([c for c in COLUMNS if c in names])
    lf = _with_defaults(lf, names)
    if people is not None and "locality" in people.columns:
        lf = (
            lf.join(
                people.lazy().select(
                    pl.col("person_id").cast(pl.String),
                    pl.col("locality").alias("_person_locality"),
                ),
                on="person_id",
                how="left",
                maintain_order="left",
            )
            .with_columns(pl.coalesce("locality", "_person_locality").alias("locality"))
            .drop("_person_locality")
        )
    # Services and activities become categorical: grouping and comparing
    # their integer codes is several times faster than hashing text.
    # So does the kind, for the unit-cost lookup; it is text again at the end.
    frame = lf.with_columns(
        pl.col("activity").cast(pl.Categorical),
        pl.col("service").cast(pl.Categorical),
        pl.col("kind").cast(pl.Categorical),
    ).collect(engine=ENGINE)
    frame = in_journey_order(with_unit_costs(frame, unit_costs))
    ts = pl.col("timestamp")
    same_person = (pl.col("person_id") == pl.col("person_id").shift(1)).fill_null(False)
    df = (
        frame.lazy()
        .with_columns(
            locality=pl.col("locality").fill_null(UNKNOWN),
            channel=pl.col("channel").fill_null(UNKNOWN),
            is_contact=(pl.col("kind") == "contact").fill_null(False),
            _same_person=same_person,
            _step=ts - ts.shift(1),
        )
        .with_columns(
            _new_episode=~pl.col("_same_person") | (pl.col("_step") > config.episode_gap),
        )
        .with_columns(
            _person=(~pl.col("_same_person")).cum_sum(),
            episode_key=pl.col("_new_episode").cum_sum(),
            gap=pl.when(pl.col("_new_episode")).then(None).otherwise(pl.col("_step")),
            hand_off=(
                ~pl.col("_new_episode") & (pl.col("service") != pl.col("service").shift(1))
            ).fill_null(False),
        )
        .with_columns(
            episode=(
                pl.col("episode_key")
                - pl.when(~pl.col("_same_person")).then(pl.col("episode_key")).forward_fill()
                + 1
            ).cast(pl.Int32),
            _service_change=pl.col("_new_episode") | pl.col("hand_off"),
            # (episode, activity code) packed in one integer: exact and fast to test
            rework=~(
                pl.col("episode_key").cast(pl.UInt64) * (1 << 32)
                + pl.col("activity").to_physical().cast(pl.UInt64)
            ).is_first_distinct(),
            recontact_after_closure=_recontact(config),
        )
        .with_row_index("_row")
        .collect(engine=ENGINE)
    )
    df = _with_repeats(df, config)
    user = pl.col("demand_class").is_in(["value", "failure"]).fill_null(False)
    signal = (
        pl.when(pl.col("repeat_contact"))
        .then(pl.lit(SIGNALS[0]))
        .when(pl.col("recontact_after_closure"))
        .then(pl.lit(SIGNALS[1]))
        .when(pl.col("hand_off"))
        .then(pl.lit(SIGNALS[2]))
    )
    inferred = pl.col("is_contact") & ~user
    return (
        df.with_columns(
            failure_signal=pl.when(inferred).then(signal),
        )
        .with_columns(
            class_source=pl.when(user)
            .then(pl.lit("user"))
            .when(pl.col("failure_signal").is_not_null())
            .then(pl.lit("inferred")),
            demand_class=pl.when(user)
            .then(pl.col("demand_class"))
            .when(pl.col("failure_signal").is_not_null())
            .then(pl.lit("failure"))
            .otherwise(pl.lit(UNKNOWN)),
            preventable=pl.col("preventable").fill_null(UNKNOWN),
            kind=pl.col("kind").cast(pl.String),
        )
        .drop("_same_person", "_step", "_new_episode", "_person", "_row")
    )


def _with_defaults(lf: pl.LazyFrame, names: list[str]) -> pl.LazyFrame:
    defaults: dict[str, pl.Expr] = {
        "case_id": pl.col("person_id"),
        "kind": pl.lit("other"),
        "demand_type": pl.lit(None, pl.String),
        "demand_class": pl.lit(UNKNOWN),
        "preventable": pl.lit(UNKNOWN),
        "channel": pl.lit(None, pl.String),
        "locality": pl.lit(None, pl.String),
        "cost": pl.lit(None, pl.Float64),
        "source": pl.lit(None, pl.String),
        "source_row": pl.lit(None, pl.Int64),
    }
    add = [expr.alias(c) for c, expr in defaults.items() if c not in names]
    return lf.with_columns(add) if add else lf


def _recontact(config: LearnConfig) -> pl.Expr:
    # The latest earlier closure of the same person, carried forward along
    # the sorted frame; the person check stops it leaking across people.
    closure = pl.col("kind") == "closure"
    last_ts = pl.when(closure).then(pl.col("timestamp")).shift(1).forward_fill()
    last_person = pl.when(closure).then(pl.col("_person")).shift(1).forward_fill()
    return (
        pl.col("is_contact")
        & (last_person == pl.col("_person"))
        & (pl.col("timestamp") - last_ts <= config.recontact_window)
    ).fill_null(False)


def demand_key() -> pl.Expr:
    """A contact's demand type, or its activity when the type is missing."""
    return pl.coalesce(pl.col("demand_type"), pl.col("activity").cast(pl.String))


def in_journey_order(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` ordered by person, time and source order.

    Each person's events only need to be together and in order, so a frame
    that already is (as an import of one source usually is) is not sorted
    again: checking costs a few vectorised comparisons, sorting far more.
    When each person's events are in order but a few people are split in
    separate runs (a person straddling two Parquet files), only those
    people's rows are sorted and moved to the end.
    """
    if frame.height == 0:
        return frame
    p, ts, src, row = (pl.col(c) for c in ORDER)
    same = (p == p.shift(1)).fill_null(False)
    backwards = same & (
        (ts < ts.shift(1))
        | (
            (ts == ts.shift(1))
            & ((src < src.shift(1)) | ((src == src.shift(1)) & (row < row.shift(1))))
        )
    )
    check = frame.select(
        runs=(~same).sum(),
        people=p.n_unique(),
        backwards=backwards.fill_null(True).sum(),
        nulls=src.null_count() + row.null_count() + ts.null_count(),
    ).row(0, named=True)
    if check["backwards"] == 0 and check["nulls"] == 0:
        if check["runs"] == check["people"]:
            return frame
        if check["runs"] - check["people"] <= _FEW_SPLIT_PEOPLE:
            return _gather_split_people(frame)
    return frame.sort(list(ORDER), nulls_last=True, maintain_order=True)


#: Up to this many extra runs, split people are gathered rather than the
#: whole frame sorted.
_FEW_SPLIT_PEOPLE = 10_000


def _gather_split_people(frame: pl.DataFrame) -> pl.DataFrame:
    # People whose events come in more than one run: sort just their rows.
    p = pl.col("person_id")
    starts = frame.select(p.filter((p != p.shift(1)).fill_null(True)))
    split = starts.filter(p.is_duplicated())["person_id"].unique()
    moved = pl.col("person_id").is_in(split.implode())
    return pl.concat(
        [
            frame.filter(~moved),
            frame.filter(moved).sort(list(ORDER), nulls_last=True, maintain_order=True),
        ]
    )


def _with_repeats(df: pl.DataFrame, config: LearnConfig) -> pl.DataFrame:
    repeats = (
        df.lazy()
        .filter(pl.col("is_contact"))
        .select("_row", "person_id", demand_key().alias("_key"), "timestamp")
        .sort("person_id", "_key", "_row", maintain_order=True)
        .filter(
            (pl.col("person_id") == pl.col("person_id").shift(1))
            & (pl.col("_key") == pl.col("_key").shift(1))
            & (pl.col("timestamp") - pl.col("timestamp").shift(1) <= config.repeat_window)
        )
        .select("_row")
        .collect(engine=ENGINE)
    )
    flags = pl.repeat(False, df.height, eager=True).scatter(repeats["_row"], True)
    return df.with_columns(repeat_contact=flags)


def episodes(annotated: pl.DataFrame, hand_off_cost: float | None = None) -> pl.DataFrame:
    """One row per person-episode, from :func:`annotate_events`.

    Columns: person_id, episode, locality (of the first event that has one),
    start, end, duration (microseconds precision), end_to_end_days, events,
    contacts, services (distinct), hand_offs, repeat_contacts, rework,
    failure_contacts, value_contacts, preventable_contacts, cost, failure_cost,
    hand_off_cost, service_path (services in order, consecutive repeats collapsed).
    """
    contact = pl.col("is_contact")
    known_locality = pl.col("locality").filter(pl.col("locality") != UNKNOWN)
    per_hand_off = hand_off_cost or 0.0
    return (
        annotated.lazy()
        .group_by("episode_key", maintain_order=True)
        .agg(
            pl.col("person_id").first(),
            pl.col("episode").first(),
            known_locality.first().fill_null(UNKNOWN).alias("locality"),
            pl.col("timestamp").min().alias("start"),
            pl.col("timestamp").max().alias("end"),
            pl.len().cast(pl.Int64).alias("events"),
            contact.sum().cast(pl.Int64).alias("contacts"),
            pl.col("service").n_unique().cast(pl.Int64).alias("services"),
            pl.col("hand_off").sum().cast(pl.Int64).alias("hand_offs"),
            pl.col("repeat_contact").sum().cast(pl.Int64).alias("repeat_contacts"),
            pl.col("rework").sum().cast(pl.Int64).alias("rework"),
            (contact & (pl.col("demand_class") == "failure"))
            .sum()
            .cast(pl.Int64)
            .alias("failure_contacts"),
            (contact & (pl.col("demand_class") == "value"))
            .sum()
            .cast(pl.Int64)
            .alias("value_contacts"),
            (contact & (pl.col("preventable") == "yes"))
            .sum()
            .cast(pl.Int64)
            .alias("preventable_contacts"),
            pl.col("cost").sum().alias("cost"),
            pl.col("cost")
            .filter(contact & (pl.col("demand_class") == "failure"))
            .sum()
            .alias("failure_cost"),
            pl.col("cost").filter(pl.col("hand_off")).sum().alias("_hand_off_event_cost"),
            pl.col("service")
            .filter(pl.col("_service_change"))
            .cast(pl.String)
            .alias("service_path"),
        )
        .with_columns(
            duration=pl.col("end") - pl.col("start"),
            hand_off_cost=pl.col("_hand_off_event_cost") + pl.col("hand_offs") * per_hand_off,
            cost=pl.col("cost") + pl.col("hand_offs") * per_hand_off,
        )
        .with_columns(
            end_to_end_days=pl.col("duration").dt.total_microseconds() / 86_400e6,
        )
        .select(
            "person_id",
            "episode",
            "locality",
            "start",
            "end",
            "duration",
            "end_to_end_days",
            "events",
            "contacts",
            "services",
            "hand_offs",
            "repeat_contacts",
            "rework",
            "failure_contacts",
            "value_contacts",
            "preventable_contacts",
            "cost",
            "failure_cost",
            "hand_off_cost",
            "service_path",
        )
        .collect(engine=ENGINE)
    )
