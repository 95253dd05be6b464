"""Validation of the engine: conservation, limiting cases, direction of each mechanism."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from systemic.simulate import load_scenario, run
from systemic.simulate.presets import BASE, SERVICES
from tests.simulate.scenarios import town

NO_EVENTS = {k: {"rate_per_year": 0.0} for k in BASE["events"]}


def _check_conservation(result: Any) -> None:
    s = result.steps.sort("locality", "step")
    # Every person is in exactly one state at the end of every step.
    total = s["no_open_case"] + s["waiting"] + s["in_service"] + s["residential_care"]
    assert (total == s["people"]).all()
    assert (s["no_open_case"] >= 0).all()
    # Stocks change only by the recorded flows (from zero when the run starts
    # cold; from the first recorded step after a burn-in).
    cold = result.scenario.burn_in_years == 0

    def balanced(frame: pl.DataFrame, stock: str, flow: pl.Expr, keys: list[str]) -> bool:
        prev = pl.col(stock).shift(1, fill_value=0 if cold else None).over(keys)
        change = pl.col(stock) - prev
        return bool(frame.select(((change == flow) | change.is_null()).all()).item())

    sv = result.services.sort("locality", "service", "step")
    keys = ["locality", "service"]
    flow = pl.col("queue_joins") - pl.col("admissions") - pl.col("left_waiting")
    assert balanced(sv, "waiting", flow, keys)
    flow = pl.col("admissions") - pl.col("closures") - pl.col("left_service")
    assert balanced(sv, "in_service", flow, keys)
    # Admissions never fill a service beyond capacity (cases open when a design
    # switch removes capacity run on to their end).
    admitted = sv.filter(pl.col("admissions") > 0)
    assert (admitted["in_service"] <= admitted["capacity"]).all()
    flow = pl.col("residential_admissions") - pl.col("residential_exits")
    assert balanced(s, "residential_care", flow, ["locality"])
    # The wellbeing distribution counts everyone too.
    bands = result.wellbeing.group_by("step", "locality").agg(pl.col("people").sum())
    joined = bands.join(
        s.select("step", "locality", pl.col("people").alias("n")), on=["step", "locality"]
    )
    assert (joined["people"] == joined["n"]).all()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    preset=st.sampled_from(["silo", "local"]),
    people=st.integers(50, 1500),
    loss=st.floats(0, 1),
    capacity=st.floats(0.2, 20),
    eligibility=st.floats(0, 1),
    max_weeks=st.floats(1, 60),
    time_step=st.sampled_from(["week", "month"]),
    crisis=st.floats(0, 1),
    seed=st.integers(0, 2**31),
)
def test_every_person_is_accounted_for_at_every_step(
    preset: str,
    people: int,
    loss: float,
    capacity: float,
    eligibility: float,
    max_weeks: float,
    time_step: str,
    crisis: float,
    seed: int,
) -> None:
    knobs = {
        "hand_off_loss": loss,
        "capacity_per_1000": capacity,
        "eligibility": eligibility,
        "max_weeks": max_weeks,
    }
    services = {s: dict(knobs) for s in SERVICES}
    data = town(
        preset,
        people=people,
        years=1.5,
        time_step=time_step,
        crisis={"rate_per_week": crisis, "residential_probability": 0.5},
        design={"services": services},
        experiments=[{"locality": "South", "start": "2025-09-01", "preset": "local"}],
    )
    _check_conservation(run(load_scenario(data), seed=seed))


def test_no_life_events_means_no_new_demand() -> None:
    quiet = town(
        people=3000,
        years=3,
        events=NO_EVENTS,
        population={"people": 3000, "initial_spread": 0.0},
    )
    r = run(load_scenario(quiet), seed=1)
    t = r.totals()
    assert t["contacts"].sum() == 0 and t["crises"].sum() == 0 and t["cases_opened"].sum() == 0
    assert t["life_events"].sum() == 0
    # Control: the same town with life events does create demand.
    busy = town(people=3000, years=3, population={"people": 3000, "initial_spread": 0.0})
    assert run(load_scenario(busy), seed=1).totals()["contacts"].sum() > 0


def test_infinite_capacity_means_no_waiting() -> None:
    services = {s: {"capacity_per_1000": 1000.0} for s in SERVICES}
    for preset in ("silo", "local"):
        r = run(load_scenario(town(preset, people=3000, years=3, design={"services": services})), 2)
        assert r.totals()["wait_steps"].sum() == 0
        assert r.services["waiting"].sum() == 0
        assert r.totals()["failure_chase"].sum() == 0
        assert r.totals()["admissions"].sum() > 100


def _mean(data: dict, metric: str, seeds: range = range(3)) -> float:
    """Mean over seeds of a whole-run summary measure (common random numbers)."""
    sc = load_scenario(data)
    return float(np.mean([run(sc, seed=s).summary()[metric] for s in seeds]))


def _silo_services(**knobs: float) -> dict:
    specialists = ("housing", "benefits", "adult_social_care", "childrens_services")
    return {"services": {s: dict(knobs) for s in specialists}}


def test_more_hand_off_loss_means_more_failure_demand() -> None:
    low = _mean(
        town(people=4000, years=3, design=_silo_services(hand_off_loss=0.02)), "failure_per_1000"
    )
    high = _mean(
        town(people=4000, years=3, design=_silo_services(hand_off_loss=0.5)), "failure_per_1000"
    )
    assert high > low


def test_lost_hand_offs_re_present_as_failure_demand() -> None:
    no_loss = {"services": {s: {"hand_off_loss": 0.0} for s in SERVICES}}
    r = run(load_scenario(town(people=3000, years=2, design=no_loss)), 1)
    assert r.totals()["failure_lost_hand_off"].sum() == 0
    assert r.totals()["hand_offs_lost"].sum() == 0
    r = run(load_scenario(town(people=3000, years=2, design=_silo_services(hand_off_loss=1.0))), 1)
    specialists = r.services.filter(pl.col("service").is_in(["housing", "benefits"]))
    assert specialists["admissions"].sum() == 0
    assert r.totals()["failure_lost_hand_off"].sum() > 0


def test_more_prevention_means_fewer_crises() -> None:
    none = _mean(town(people=6000, years=4, design={"prevention": 0.0}), "crises_per_1000")
    full = _mean(town(people=6000, years=4, design={"prevention": 1.0}), "crises_per_1000")
    assert full < none


def test_stricter_eligibility_means_more_refusals_and_failure_demand() -> None:
    early = town(people=4000, years=3, design=_silo_services(eligibility=0.45))
    strict = town(people=4000, years=3, design=_silo_services(eligibility=0.25))
    assert _mean(strict, "failure_per_1000") > _mean(early, "failure_per_1000")


def test_shorter_time_limits_mean_more_premature_closures_and_re_referrals() -> None:
    short = town(people=4000, years=3, design=_silo_services(max_weeks=2.0))
    long = town(people=4000, years=3, design=_silo_services(max_weeks=40.0))
    assert _mean(short, "premature_closure_share") > _mean(long, "premature_closure_share")
    assert _mean(short, "re_referral_rate") > _mean(long, "re_referral_rate")


def test_less_capacity_means_longer_waits() -> None:
    small = town(people=4000, years=3, design=_silo_services(capacity_per_1000=0.5))
    large = town(people=4000, years=3, design=_silo_services(capacity_per_1000=4.0))
    assert _mean(small, "mean_wait_weeks") > _mean(large, "mean_wait_weeks")


def test_strength_based_work_raises_connection() -> None:
    gain = {"services": {"locality_team": {"connection_gain_per_week": 0.05}}}
    none = {"prevention": 0.0, "services": {"locality_team": {"connection_gain_per_week": 0.0}}}
    gain["prevention"] = 0.0
    a = run(load_scenario(town("local", people=3000, years=3, design=none)), 1).totals()
    b = run(load_scenario(town("local", people=3000, years=3, design=gain)), 1).totals()
    assert b["connection_mean"][-1] > a["connection_mean"][-1]


def test_experiment_switches_one_locality_from_its_start_date() -> None:
    data = town(
        people=4000,
        years=2,
        experiments=[{"locality": "North", "start": "2026-01-05", "preset": "local"}],
    )
    sc = load_scenario(data)
    switch = sc.step_of(sc.experiments[0].start)
    r = run(sc, seed=3)
    team = r.services.filter(service="locality_team")
    contacts = pl.col("contacts_value") + pl.col("contacts_failure")
    before = team.filter(pl.col("step") < switch).select(contacts.sum()).item()
    north_after = team.filter(pl.col("step") >= switch, locality="North").select(contacts.sum())
    south_after = team.filter(pl.col("step") >= switch, locality="South").select(contacts.sum())
    assert before == 0
    assert north_after.item() > 0 and south_after.item() == 0
    cap = team.filter(locality="North")
    assert cap.filter(pl.col("step") < switch)["capacity"].max() == 0
    assert cap.filter(pl.col("step") >= switch)["capacity"].min() > 0
    _check_conservation(r)


@pytest.mark.parametrize("preset", ["silo", "local"])
def test_presets_run_ten_years_with_sane_aggregates(preset: str) -> None:
    r = run(load_scenario({"preset": preset, "population": {"people": 5000}}), seed=1)
    s = r.summary()
    assert r.steps.height == r.scenario.steps
    assert 0 <= s["failure_demand_share"] <= 1
    assert 0 < s["wellbeing_mean"] < 1
    assert s["cost_per_resident"] > 0
    _check_conservation(r)


def test_burn_in_settles_the_start_without_recording_or_switching() -> None:
    data = town(
        people=4000,
        years=1,
        burn_in_years=2.0,
        experiments=[{"locality": "North", "start": "2025-01-06", "preset": "local"}],
    )
    settled = run(load_scenario(data), seed=2)
    cold = run(load_scenario({**data, "burn_in_years": 0.0}), seed=2)
    assert settled.steps.height == cold.steps.height == 2 * 52

    # A settled town starts near its own level of demand; a cold one ramps up.
    def ramp(result: Any) -> float:
        t = result.totals()["failure_demand"].to_numpy()
        return float(t[:13].mean() / t[-13:].mean())

    assert ramp(settled) > ramp(cold)
    assert ramp(settled) > 0.6
    # The experiment starts at step 0, not during the burn-in: North's team
    # only has capacity from the start, and South never has one.
    team = settled.services.filter(service="locality_team")
    assert team.filter(locality="South")["capacity"].max() == 0
    assert team.filter(locality="North", step=0)["capacity"].item() > 0
    _check_conservation(settled)


def _engine_run(data: dict, seed: int, block: int, log_capacity: int) -> Any:
    """Run through the engine's own interface, ``block`` steps per compiled call."""
    from systemic.simulate.compiled import compile_scenario
    from systemic.simulate.engine import Engine
    from systemic.simulate.events import EventLog

    compiled = compile_scenario(load_scenario(data))
    engine = Engine(compiled, seed, record_events=True)
    engine.log = EventLog(capacity=log_capacity)
    engine.warm_up(compiled.burn_in_steps)
    done = 0
    while done < compiled.steps:
        done += engine.advance(min(block, compiled.steps - done))
    return engine.rec.steps_frame(), engine.rec.services_frame(), engine.log.frame()


def test_results_do_not_depend_on_how_steps_are_grouped_into_compiled_calls() -> None:
    # The step kernel runs blocks of steps per call, stopping at design
    # switches; one step per call, whole blocks, and an event buffer that has
    # to grow many times must all give the same run.
    data = town(
        people=2000,
        years=1.5,
        burn_in_years=0.5,
        experiments=[{"locality": "North", "start": "2025-08-04", "preset": "local"}],
    )
    one = _engine_run(data, seed=5, block=1, log_capacity=1)
    many = _engine_run(data, seed=5, block=52, log_capacity=100_000)
    for a, b in zip(one, many, strict=True):
        assert a.height > 0
        assert a.equals(b)
    # The switch happened inside the run, so the blocks were cut at it.
    team = one[1].filter(service="locality_team", locality="North")
    assert team["capacity"].min() == 0 and team["capacity"].max() > 0


def test_keeping_events_does_not_change_the_run() -> None:
    data = town(people=2000, years=1.0)
    with_events = run(load_scenario(data), seed=9, events=True)
    without = run(load_scenario(data), seed=9)
    assert with_events.event_log is not None and with_events.event_log.height > 0
    assert without.event_log is None
    assert with_events.steps.equals(without.steps)
    assert with_events.services.equals(without.services)


def test_runs_in_threads_give_the_same_results() -> None:
    # The compiled step releases the GIL (threaded Dask workers run
    # simulations side by side); each run keeps its own state and streams.
    from concurrent.futures import ThreadPoolExecutor

    sc = load_scenario(town(people=3000, years=1.0))
    serial = [run(sc, seed=s) for s in range(4)]
    with ThreadPoolExecutor(2) as pool:
        threaded = list(pool.map(lambda s: run(sc, seed=s), range(4)))
    for a, b in zip(serial, threaded, strict=True):
        assert a.steps.equals(b.steps) and a.services.equals(b.services)
    assert not serial[0].steps.equals(serial[1].steps)
