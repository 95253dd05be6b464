"""Hand-worked journeys: episodes, hand-offs, repeat contacts, rework, signals.

Each expected number below was worked out by hand from the events listed.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from systemic.learn import LearnConfig, annotate_events, episodes, learn_events


def t(day: int, hour: int = 9) -> dt.datetime:
    return dt.datetime(2024, 1, 1, hour, tzinfo=dt.UTC) + dt.timedelta(days=day - 1)


def frame(rows: list[tuple], **extra: list) -> pl.DataFrame:
    """rows: (person, service, activity, timestamp, kind, demand_type)."""
    f = pl.DataFrame(
        {
            "person_id": [r[0] for r in rows],
            "service": [r[1] for r in rows],
            "activity": [r[2] for r in rows],
            "timestamp": [r[3] for r in rows],
            "kind": [r[4] for r in rows],
            "demand_type": [r[5] for r in rows],
        },
        schema_overrides={"timestamp": pl.Datetime("us", "UTC")},
    )
    f = f.with_columns(
        pl.lit("s0001").alias("source"), pl.int_range(1, f.height + 1).alias("source_row")
    )
    return f.with_columns(**{k: pl.Series(v) for k, v in extra.items()})


def test_episodes_split_on_gaps_longer_than_episode_gap() -> None:
    ev = frame(
        [
            ("p", "Housing", "call", t(1), "contact", "repairs"),
            ("p", "Housing", "visit", t(40), "other", None),
            ("p", "Housing", "call", t(140), "contact", "repairs"),  # gap 100 days > 90
            ("p", "Benefits", "claim", t(230), "other", None),  # gap exactly 90: same episode
        ]
    )
    eps = episodes(annotate_events(ev))
    assert eps.select("episode", "events", "hand_offs").rows() == [(1, 2, 0), (2, 2, 1)]
    assert eps["end_to_end_days"].to_list() == [39.0, 90.0]
    eps30 = episodes(annotate_events(ev, LearnConfig(episode_gap_days=30)))
    assert eps30["episode"].to_list() == [1, 2, 3, 4]


def test_hand_offs_count_service_changes_within_an_episode_only() -> None:
    ev = frame(
        [
            ("p", "A", "x", t(1), "contact", "d"),
            ("p", "B", "x", t(2), "other", None),
            ("p", "B", "y", t(3), "other", None),
            ("p", "A", "z", t(4), "other", None),
            ("p", "C", "z", t(200), "other", None),  # new episode: not a hand-off
        ]
    )
    a = annotate_events(ev)
    assert a["hand_off"].to_list() == [False, True, False, True, False]
    eps = episodes(a)
    assert eps["hand_offs"].to_list() == [2, 0]
    assert eps["services"].to_list() == [2, 1]
    assert eps["service_path"].to_list() == [["A", "B", "A"], ["C"]]
    # rework: in episode 1 the activity x happens twice (A/x, then B/x)
    assert eps["rework"].to_list() == [1, 0]


def test_ties_keep_source_order_stably() -> None:
    # Same timestamp: the order is source then source_row, not service name.
    ev = frame(
        [
            ("p", "Zeta", "first", t(1), "other", None),
            ("p", "Alpha", "second", t(1), "other", None),
            ("p", "Zeta", "third", t(1), "other", None),
        ]
    )
    shuffled = ev.reverse()
    a = annotate_events(shuffled)
    assert a["activity"].to_list() == ["first", "second", "third"]
    assert a["hand_off"].sum() == 2
    eps = episodes(a)
    assert eps["service_path"].to_list() == [["Zeta", "Alpha", "Zeta"]]
    assert eps["end_to_end_days"].to_list() == [0.0]


def test_one_event_journeys_and_people_with_no_contacts() -> None:
    ev = frame(
        [
            ("solo", "GP", "visit", t(5), "other", None),
            ("quiet", "Housing", "repair", t(1), "intervention", None),
            ("quiet", "Housing", "inspect", t(3), "assessment", None),
        ]
    )
    r = learn_events(ev)
    eps = r.episodes.sort("person_id")
    assert eps.select("person_id", "events", "contacts", "hand_offs").rows() == [
        ("quiet", 2, 0, 0),
        ("solo", 1, 0, 0),
    ]
    assert eps["end_to_end_days"].to_list() == [2.0, 0.0]
    s = r.summary()
    assert (s.people, s.needs, s.events, s.contacts) == (2, 2, 3, 0)
    assert s.failure_demand_share is None
    assert r.service_map.edges.height == 0
    assert r.demand.by_class["contacts"].to_list() == [0, 0, 0, 0, 0]


def test_repeat_contacts_same_type_within_window() -> None:
    ev = frame(
        [
            ("p", "Contact centre", "call", t(1), "contact", "missed bin"),
            ("p", "Contact centre", "call", t(10), "contact", "missed bin"),  # repeat (9 days)
            ("p", "Contact centre", "call", t(12), "contact", "council tax"),  # other type
            ("p", "Contact centre", "call", t(50), "contact", "missed bin"),  # 40 days: no
            ("p", "Contact centre", "email", t(50, 10), "contact", "missed bin"),  # repeat
            ("q", "Contact centre", "call", t(11), "contact", "missed bin"),  # other person
        ]
    )
    a = annotate_events(ev)
    got = dict(zip(a["activity"].to_list(), a["repeat_contact"].to_list(), strict=True))
    assert a.filter(pl.col("person_id") == "p")["repeat_contact"].to_list() == [
        False,
        True,
        False,
        False,
        True,
    ]
    assert a.filter(pl.col("person_id") == "q")["repeat_contact"].to_list() == [False]
    assert got  # the frame is not empty
    assert episodes(a).filter(pl.col("person_id") == "p")["repeat_contacts"].to_list() == [2]
    short = annotate_events(ev, LearnConfig(repeat_window_days=5))
    assert short["repeat_contact"].sum() == 1  # only the same-day email


def test_missing_demand_type_falls_back_to_activity_for_repeats() -> None:
    ev = frame(
        [
            ("p", "S", "ask about rent", t(1), "contact", None),
            ("p", "S", "ask about rent", t(2), "contact", None),
            ("p", "S", "ask about bins", t(3), "contact", None),
        ]
    )
    assert annotate_events(ev)["repeat_contact"].to_list() == [False, True, False]


def test_signals_infer_failure_only_where_the_user_gave_no_class() -> None:
    ev = frame(
        [
            ("p", "Housing", "call", t(1), "contact", "repair"),
            ("p", "Housing", "close", t(2), "closure", None),
            ("p", "Housing", "call", t(3), "contact", "repair"),  # repeat (and re-contact)
            ("p", "Housing", "call", t(4), "contact", "damp"),  # 2 days after the closure
            ("p", "Benefits", "call", t(5), "contact", "claim"),  # 3 days: too late; after hand-off
            ("p", "Benefits", "call", t(6), "contact", "advice"),  # nothing fired
            ("p", "Benefits", "call", t(7), "contact", "advice"),  # repeat, but user says value
        ],
        demand_class=["unknown"] * 6 + ["value"],
    )
    config = LearnConfig(recontact_window_days=2, contact_after_hand_off=True)
    a = annotate_events(ev, config)
    assert a["failure_signal"].to_list() == [
        None,
        None,
        "repeat_contact",
        "recontact_after_closure",
        "contact_after_hand_off",
        None,
        None,
    ]
    assert a["demand_class"].to_list() == [
        "unknown",
        "unknown",
        "failure",
        "failure",
        "failure",
        "unknown",
        "value",
    ]
    inferred = ["inferred"] * 3
    assert a["class_source"].to_list() == [None, None, *inferred, None, "classified"]
    r = learn_events(ev, config)
    assert dict(r.demand.signals.select("failure_signal", "contacts").rows()) == {
        "repeat_contact": 1,
        "recontact_after_closure": 1,
        "contact_after_hand_off": 1,
    }
    s = r.summary()
    # classified: one value contact and no failure; inferred: 3 of the 5 not classified
    assert (s.classified_contacts, s.failure_demand_share) == (1, 0.0)
    assert (s.inferred_failure_contacts, s.inferred_failure_share) == (3, pytest.approx(3 / 5))
    assert (s.unknown_contacts, s.unknown_share) == (2, pytest.approx(2 / 6))


def test_recontact_does_not_leak_across_people() -> None:
    ev = frame(
        [
            ("a", "S", "close", t(1), "closure", None),
            ("b", "S", "call", t(2), "contact", "x"),
        ]
    )
    assert annotate_events(ev)["failure_signal"].to_list() == [None, None]


def test_locality_comes_from_people_table_when_events_have_none() -> None:
    ev = frame([("a", "S", "call", t(1), "contact", "x"), ("b", "S", "call", t(2), "contact", "x")])
    people = pl.DataFrame({"person_id": ["a", "b"], "locality": ["North", None]})
    r = learn_events(ev, people=people)
    assert dict(r.episodes.select("person_id", "locality").rows()) == {
        "a": "North",
        "b": "unknown",
    }


events_strategy = st.lists(
    st.tuples(
        st.sampled_from(["p1", "p2", "p3"]),
        st.sampled_from(["A", "B", "C"]),
        st.sampled_from(["x", "y"]),
        st.integers(0, 400),
        st.sampled_from(["contact", "closure", "other"]),
        st.sampled_from(["d1", "d2", None]),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(events_strategy, st.integers(1, 120))
def test_journey_invariants(rows: list[tuple], gap: int) -> None:
    ev = frame([(p, s, a, t(1) + dt.timedelta(days=d), k, dt_) for p, s, a, d, k, dt_ in rows])
    r = learn_events(ev, LearnConfig(episode_gap_days=gap))
    eps = r.episodes
    assert eps["events"].sum() == len(rows)
    assert eps["contacts"].sum() == sum(1 for row in rows if row[4] == "contact")
    assert r.people == len({row[0] for row in rows})
    assert eps.height >= r.people
    assert (eps["hand_offs"] <= eps["events"] - 1).all()
    assert (eps["hand_offs"] >= eps["services"] - 1).all()
    assert (eps["rework"] <= eps["events"] - 1).all()
    assert (eps["end_to_end_days"] >= 0).all()
    # hand-offs are exactly the service-level edges; episodes are the start counts
    assert r.service_map.edges["count"].sum() == eps["hand_offs"].sum()
    assert r.service_map.starts["count"].sum() == eps.height
    assert r.activity_map.edges["count"].sum() == len(rows) - r.cases.height
    assert r.demand.failure_contacts + r.demand.value_contacts <= r.demand.contacts
    # the row order of the input never changes the answer
    again = learn_events(ev.reverse(), LearnConfig(episode_gap_days=gap))
    assert again.episodes.equals(eps)
