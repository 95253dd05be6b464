"""Journeys: each person's events in order, cut into needs (episodes).

A person's events are ordered by time, ties broken by source order
(``source``, then ``source_row``), stably.

- **Pieces of work** (activity instances): the lifecycle transitions of one
  piece of work count once. Within a case, the events of one activity with
  the same ``event_id`` (or none) form a piece up to and including its
  closing transition: SCHEDULE, ASSIGN, REASSIGN, START, SUSPEND and RESUME
  open or continue a piece; any other transition (COMPLETE, an abort, a
  skip, a missing or non-standard value) closes it. As in pm4py's interval
  lifecycle pairing, a START pairs with the next COMPLETE of the same
  activity (and instance id). A piece is anchored on its last event: that is
  where it counts as a contact, a repeat candidate and a cost.
- A new **need** (episode) starts when the gap between a person's
  consecutive events exceeds ``episode_gap_days`` and none of the person's
  cases is still open across the gap: a case's events (for one person)
  always fall in one need.
- A **hand-off** is an event whose service differs from the previous
  event's in the same need.
- A contact's **demand class** is the user's (``classified``) when given;
  otherwise the rules switched on in :class:`~systemic.learn.config.LearnConfig`
  may infer failure demand (``inferred``), never for planned work.

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
    "event_id",
    "service",
    "activity",
    "lifecycle",
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

#: Lifecycle transitions (XES standard, any case) that open or continue a
#: piece of work; every other transition closes one.
OPEN_TRANSITIONS: frozenset[str] = frozenset(
    {"schedule", "assign", "reassign", "start", "suspend", "resume"}
)

UNKNOWN = "unknown"
CLASSIFIED = "classified"
INFERRED = "inferred"


def annotate_events(
    events: pl.LazyFrame | pl.DataFrame,
    config: LearnConfig | None = None,
    unit_costs: UnitCostTable | None = None,
    people: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Events in journey order with piece-of-work, need, hand-off and class columns.

    ``people`` (person_id, locality) fills the locality of events that have none.
    Returns one row per event with, added: ``piece_end`` (the event is the
    last of its piece of work), ``planned`` (a piece of planned work),
    ``episode`` (the need, 1-based within the person), ``episode_key``
    (unique in the frame), ``hand_off``, ``is_contact`` (a piece of work that
    is a contact, on its last event), ``repeat_contact``,
    ``recontact_after_closure``, ``rework``, ``failure_signal`` (the rule that
    fired, or null), ``demand_class`` (effective), ``class_source``
    (classified, inferred or null), ``failure_work`` (a non-contact piece the
    user classed failure), ``after_failure`` and ``after_inferred_failure``
    (the event is at or after the first classified / inferred failure contact
    of its need), ``gap`` (time since the previous event of the need) and
    ``cost`` (the piece's cost, on its last event; null when uncosted).
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
        pl.col("case_id").is_not_null().alias("_case_given"),
        pl.coalesce("case_id", "person_id").alias("case_id"),
        pl.col("activity").cast(pl.Categorical),
        pl.col("service").cast(pl.Categorical),
        pl.col("kind").cast(pl.Categorical),
        pl.col("cost").alias("_own_cost"),
    ).collect(engine=ENGINE)
    frame = in_journey_order(frame)
    frame = _with_pieces(frame, config)
    frame = with_unit_costs(frame, unit_costs)
    ts = pl.col("timestamp")
    same_person = (pl.col("person_id") == pl.col("person_id").shift(1)).fill_null(False)
    open_case = _open_case(frame)
    df = (
        frame.lazy()
        .with_columns(
            # a piece's cost: its own (summed over its events), else the table's, once
            cost=pl.when(pl.col("piece_end")).then(
                pl.coalesce(pl.col("_own_cost"), pl.col("cost"))
            ),
            locality=pl.col("locality").fill_null(UNKNOWN),
            channel=pl.col("channel").fill_null(UNKNOWN),
            is_contact=(pl.col("kind") == "contact").fill_null(False) & pl.col("piece_end"),
            _same_person=same_person,
            _step=ts - ts.shift(1),
            _open_case=open_case,
        )
        .with_columns(
            _new_episode=~pl.col("_same_person")
            | ((pl.col("_step") > config.episode_gap) & ~pl.col("_open_case")),
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
            # (need, activity code) packed in one integer: exact and fast to test
            rework=pl.col("piece_end")
            & ~pl.when(pl.col("piece_end"))
            .then(
                pl.col("episode_key").cast(pl.UInt64) * (1 << 32)
                + pl.col("activity").to_physical().cast(pl.UInt64)
            )
            .is_first_distinct(),
            recontact_after_closure=_recontact(config),
        )
        .with_row_index("_row")
        .collect(engine=ENGINE)
    )
    df = _with_repeats(df, config)
    classified = pl.col("piece_end") & pl.col("demand_class").is_in(["value", "failure"]).fill_null(
        False
    )
    fired: dict[str, pl.Expr] = {
        "repeat_contact": pl.col("repeat_contact"),
        "recontact_after_closure": pl.col("recontact_after_closure"),
        "contact_after_hand_off": pl.col("hand_off"),
    }
    signal: pl.Expr = pl.lit(None, pl.String)
    for rule in reversed(config.rules):  # the first rule in order wins
        signal = pl.when(fired[rule]).then(pl.lit(rule)).otherwise(signal)
    eligible = pl.col("is_contact") & ~classified & ~pl.col("planned")
    df = df.with_columns(
        failure_signal=pl.when(eligible).then(signal),
        _classified=classified,
    )
    inferred_value = pl.lit(False)
    if config.infer_value_demand:
        inferred_value = (
            pl.col("is_contact")
            & ~pl.col("_classified")
            & pl.col("failure_signal").is_null()
            & _first_in_need(pl.col("is_contact"))
        )
    fd = pl.col("is_contact") & pl.col("_classified") & (pl.col("demand_class") == "failure")
    ifd = pl.col("failure_signal").is_not_null()
    return (
        df.with_columns(_inferred_value=inferred_value)
        .with_columns(
            class_source=pl.when(pl.col("_classified"))
            .then(pl.lit(CLASSIFIED))
            .when(pl.col("failure_signal").is_not_null() | pl.col("_inferred_value"))
            .then(pl.lit(INFERRED)),
            demand_class=pl.when(pl.col("_classified"))
            .then(pl.col("demand_class"))
            .when(pl.col("failure_signal").is_not_null())
            .then(pl.lit("failure"))
            .when(pl.col("_inferred_value"))
            .then(pl.lit("value"))
            .otherwise(pl.lit(UNKNOWN)),
            failure_work=pl.col("_classified")
            & ~pl.col("is_contact")
            & (pl.col("demand_class") == "failure"),
            after_failure=_since_first_in_need(fd),
            after_inferred_failure=_since_first_in_need(ifd),
            preventable=pl.col("preventable").fill_null(UNKNOWN),
            kind=pl.col("kind").cast(pl.String),
        )
        .drop(
            "_same_person",
            "_step",
            "_new_episode",
            "_person",
            "_row",
            "_open_case",
            "_own_cost",
            "_case_given",
            "_classified",
            "_inferred_value",
        )
    )


def _open_case(frame: pl.DataFrame) -> pl.Expr:
    """True where one of the person's earlier cases has an event at or after this one.

    Only cases whose ``case_id`` was given count: a person's own case (no
    case id) never stops a need from ending.
    """
    given = frame.select(
        any=pl.col("_case_given").any(),
        all=pl.col("_case_given").all(),
        people=(pl.col("case_id") == pl.col("person_id")).all(),
    ).row(0, named=True)
    if not given["any"]:
        return pl.lit(False)
    if given["all"] and given["people"]:
        return pl.lit(True)  # every case is its person: a need is the person's case
    ts = pl.col("timestamp")
    case_end = pl.when(pl.col("_case_given")).then(ts.max().over("person_id", "case_id"))
    return (case_end.cum_max().over("person_id").shift(1) >= ts).fill_null(False)


def _need_start_value(running: pl.Expr, flag: pl.Expr) -> pl.Expr:
    # the running count just before the need's first event, carried along the need
    return pl.when(pl.col("_new_episode")).then(running - flag.cast(pl.Int64)).forward_fill()


def _first_in_need(flag: pl.Expr) -> pl.Expr:
    """True on the first row of each need where ``flag`` holds (frame in journey order)."""
    running = flag.cast(pl.Int64).cum_sum()
    return flag & ((running - _need_start_value(running, flag)) == 1)


def _since_first_in_need(flag: pl.Expr) -> pl.Expr:
    """True from the first row of each need where ``flag`` holds to the need's end."""
    running = flag.cast(pl.Int64).cum_sum()
    return (running - _need_start_value(running, flag)) > 0


def _with_pieces(frame: pl.DataFrame, config: LearnConfig) -> pl.DataFrame:
    """Add ``piece_end`` (last event of a piece), ``planned``, ``working`` and pieces' own costs.

    ``working`` is, on a piece's last event when that closes it, the time
    from its first START to that event (null for pieces without a START).

    Without opening transitions (the usual case: no lifecycle, or COMPLETE
    only) every event is a piece of its own and nothing is grouped.
    """
    lifecycles = [v for v in frame["lifecycle"].unique().to_list() if v is not None]
    opening = [v for v in lifecycles if v.strip().lower() in OPEN_TRANSITIONS]
    scheduled = [v for v in lifecycles if v.strip().lower() == "schedule"]
    started = [v for v in lifecycles if v.strip().lower() == "start"]
    planned_activity = _planned_activity(frame, config)
    if not opening:
        return frame.with_columns(
            piece_end=pl.lit(True),
            planned=planned_activity,
            working=pl.lit(None, pl.Duration("us")),
        )
    closing = ~pl.col("lifecycle").is_in(opening).fill_null(False)
    group = pl.struct(pl.col("case_id"), pl.col("activity").to_physical(), pl.col("event_id")).hash(
        seed=11
    )
    framed = frame.with_columns(_group=group, _closing=closing.cast(pl.Int64))
    framed = framed.with_columns(
        _piece=pl.struct(
            "_group",
            (pl.col("_closing").cum_sum().over("_group") - pl.col("_closing")).alias("_n"),
        ).hash(seed=13)
    )
    own = pl.col("_own_cost")
    return framed.with_columns(
        piece_end=pl.col("_piece").is_last_distinct(),
        planned=planned_activity
        | pl.col("lifecycle").is_in(scheduled).fill_null(False).any().over("_piece"),
        _own_cost=pl.when(own.is_not_null().any().over("_piece")).then(own.sum().over("_piece")),
        # START to the piece's closing transition, on its last event
        working=pl.when(pl.col("_piece").is_last_distinct() & (pl.col("_closing") == 1)).then(
            pl.col("timestamp")
            - pl.col("timestamp").filter(pl.col("lifecycle").is_in(started)).min().over("_piece")
        ),
    ).drop("_group", "_closing", "_piece")


def _planned_activity(frame: pl.DataFrame, config: LearnConfig) -> pl.Expr:
    if config.planned_pattern is None:
        return pl.lit(False)
    names = frame["activity"].unique().cast(pl.String).drop_nulls()
    planned = names.filter(names.str.contains(config.planned_pattern))
    if planned.len() == 0:
        return pl.lit(False)
    return pl.col("activity").is_in(planned.cast(pl.Categorical).implode()).fill_null(False)


def _with_defaults(lf: pl.LazyFrame, names: list[str]) -> pl.LazyFrame:
    defaults: dict[str, pl.Expr] = {
        "case_id": pl.lit(None, pl.String),
        "event_id": pl.lit(None, pl.String),
        "lifecycle": pl.lit(None, pl.String),
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
        & ~pl.col("planned")  # planned work is never a re-contact
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
        .select("_row", "person_id", demand_key().alias("_key"), "timestamp", "planned")
        .sort("person_id", "_key", "_row", maintain_order=True)
        .filter(
            (pl.col("person_id") == pl.col("person_id").shift(1))
            & (pl.col("_key") == pl.col("_key").shift(1))
            & (pl.col("timestamp") - pl.col("timestamp").shift(1) <= config.repeat_window)
            & ~pl.col("planned")  # planned work is never a repeat
        )
        .select("_row")
        .collect(engine=ENGINE)
    )
    flags = pl.repeat(False, df.height, eager=True).scatter(repeats["_row"], True)
    return df.with_columns(repeat_contact=flags)


def episodes(annotated: pl.DataFrame, hand_off_cost: float | None = None) -> pl.DataFrame:
    """One row per person-need (episode), from :func:`annotate_events`.

    Columns: person_id, episode, locality (of the first event that has one),
    start, end, duration (microseconds precision), end_to_end_days (the
    need's first to last event, in days), events, pieces (pieces of work),
    cases, contacts, classified_contacts, services (distinct), hand_offs,
    repeat_contacts, rework, failure_contacts (classified failure demand),
    value_contacts (classified), inferred_failure_contacts, unknown_contacts,
    preventable_contacts, failure_work, cost, failure_cost (failure demand
    and the work after it in the need), inferred_failure_cost, failure_work_cost,
    hand_off_cost (``hand_off_cost`` per hand-off, null without one),
    uncosted (pieces with no cost), timed_pieces (pieces with a START and a
    closing transition), working_days (their START-to-close times summed;
    null without any), service_path (services in order,
    consecutive repeats collapsed).
    """
    contact = pl.col("is_contact")
    cls, src = pl.col("demand_class"), pl.col("class_source")
    known_locality = pl.col("locality").filter(pl.col("locality") != UNKNOWN)
    per_hand_off = pl.lit(hand_off_cost, pl.Float64)

    def count(flag: pl.Expr, name: str) -> pl.Expr:
        return flag.sum().cast(pl.Int64).alias(name)

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
            count(pl.col("piece_end"), "pieces"),
            pl.col("case_id").n_unique().cast(pl.Int64).alias("cases"),
            count(contact, "contacts"),
            count(contact & (src == CLASSIFIED), "classified_contacts"),
            pl.col("service").n_unique().cast(pl.Int64).alias("services"),
            count(pl.col("hand_off"), "hand_offs"),
            count(pl.col("repeat_contact"), "repeat_contacts"),
            count(pl.col("rework"), "rework"),
            count(contact & (src == CLASSIFIED) & (cls == "failure"), "failure_contacts"),
            count(contact & (src == CLASSIFIED) & (cls == "value"), "value_contacts"),
            count(contact & (src == INFERRED) & (cls == "failure"), "inferred_failure_contacts"),
            count(contact & (cls == UNKNOWN), "unknown_contacts"),
            count(contact & (pl.col("preventable") == "yes"), "preventable_contacts"),
            count(pl.col("failure_work"), "failure_work"),
            pl.col("cost").sum().alias("cost"),
            pl.col("cost").filter(pl.col("after_failure")).sum().alias("failure_cost"),
            pl.col("cost")
            .filter(pl.col("after_inferred_failure"))
            .sum()
            .alias("inferred_failure_cost"),
            pl.col("cost").filter(pl.col("failure_work")).sum().alias("failure_work_cost"),
            count(pl.col("piece_end") & pl.col("cost").is_null(), "uncosted"),
            count(pl.col("working").is_not_null(), "timed_pieces"),
            pl.col("working").sum().alias("working"),
            pl.col("service")
            .filter(pl.col("_service_change"))
            .cast(pl.String)
            .alias("service_path"),
        )
        .with_columns(
            duration=pl.col("end") - pl.col("start"),
            hand_off_cost=pl.col("hand_offs") * per_hand_off,
        )
        .with_columns(
            end_to_end_days=pl.col("duration").dt.total_microseconds() / 86_400e6,
            working_days=pl.when(pl.col("timed_pieces") > 0).then(
                pl.col("working").dt.total_microseconds() / 86_400e6
            ),
            cost=pl.col("cost") + pl.col("hand_off_cost").fill_null(0.0),
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
            "pieces",
            "cases",
            "contacts",
            "classified_contacts",
            "services",
            "hand_offs",
            "repeat_contacts",
            "rework",
            "failure_contacts",
            "value_contacts",
            "inferred_failure_contacts",
            "unknown_contacts",
            "preventable_contacts",
            "failure_work",
            "cost",
            "failure_cost",
            "inferred_failure_cost",
            "failure_work_cost",
            "hand_off_cost",
            "uncosted",
            "timed_pieces",
            "working_days",
            "service_path",
        )
        .collect(engine=ENGINE)
    )
