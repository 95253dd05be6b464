"""Calibration: aggregates measured as learn measures them, recovery of known
parameters, and parameters the data cannot identify."""

from __future__ import annotations

import datetime as dt
import json
import math

import polars as pl
import pytest

from systemic.simulate import Scenario, event_frame, load_scenario, run, write_events
from systemic.simulate.calibrate import (
    CalibrationError,
    aggregate_errors,
    apply_parameters,
    calibrate,
    event_aggregates,
    read_targets,
    render_calibration,
    resolve_parameters,
    simulated_aggregates,
)

# The engine may warm a town up before recording (scenario ``burn_in_years``);
# these tests use calibration's own burn-in instead, to keep runs short.
NO_WARM_UP = {"burn_in_years": 0.0} if "burn_in_years" in Scenario.model_fields else {}

AGGS = ["contacts_per_1000", "failure_demand_share", "hand_offs_per_episode", "re_referral_rate"]


def _t(day: int, hour: int = 0) -> dt.datetime:
    return dt.datetime(2024, 1, 1, hour, tzinfo=dt.UTC) + dt.timedelta(days=day)


def test_event_aggregates_hand_worked() -> None:
    # Person a: CC contact, housing assessment (hand-off), housing closure, then
    # 100 days later a CC re-referral: the gap (> 90 days) starts a new episode,
    # so that contact is not a hand-off. Person b: one GP contact.
    ev = pl.DataFrame(
        {
            "person_id": ["a", "a", "a", "a", "b"],
            "service": ["CC", "Housing", "Housing", "CC", "GP"],
            "kind": ["contact", "assessment", "closure", "contact", "contact"],
            "timestamp": [_t(0), _t(1), _t(10), _t(110), _t(5)],
            "demand_class": ["value", "unknown", "unknown", "failure", "value"],
            "demand_type": ["new need", None, None, "re-referral after closure", "new need"],
        }
    )
    a = event_aggregates(ev, residents=500, years=2.0)
    assert a["contacts_per_1000"] == pytest.approx(3 * 1000 / 500 / 2)
    assert a["failure_demand_share"] == pytest.approx(1 / 3)
    # Episodes: a1 (3 events, 1 hand-off), a2, b1: 1 hand-off over 3 episodes.
    assert a["hand_offs_per_episode"] == pytest.approx(1 / 3)
    assert a["re_referral_rate"] == pytest.approx(1 / 3)
    assert a["contacts_per_1000[CC]"] == pytest.approx(2 * 1000 / 500 / 2)
    # A shorter episode gap splits a's first episode at the 9-day gap.
    b = event_aggregates(ev, residents=500, years=2.0, episode_gap_days=5)
    assert b["hand_offs_per_episode"] == pytest.approx(1 / 4)


def test_aggregates_agree_with_learn_on_a_simulated_dataset(tmp_path) -> None:
    learn = pytest.importorskip("systemic.learn")
    sc = load_scenario({"preset": "silo", "population": {"people": 3000}, "years": 1, **NO_WARM_UP})
    result = run(sc, seed=3, events=True)
    years = sc.steps * sc.days_per_step / 365.25
    ours = event_aggregates(event_frame(result), residents=3000, years=years)
    write_events(result, tmp_path / "town")
    learnt = learn.learn(tmp_path / "town")
    summary = learnt.summary()
    eps = learnt.episodes
    assert ours["contacts_per_1000"] == pytest.approx(summary.contacts * 1000 / 3000 / years)
    assert ours["failure_demand_share"] == pytest.approx(summary.failure_demand_share)
    assert ours["hand_offs_per_episode"] == pytest.approx(eps["hand_offs"].sum() / eps.height)
    by_type = learnt.demand.by_type
    re_ref = by_type.filter(pl.col("demand_type") == "re-referral after closure")["contacts"]
    assert ours["re_referral_rate"] == pytest.approx(re_ref.sum() / summary.contacts)
    # The same numbers read back from learn's output folder (published tables).
    # (threshold 1: nothing suppressed, so every aggregate can be compared)
    learn.write_outputs(learnt, tmp_path / "out", charts=False, threshold=1)
    read = read_targets(tmp_path / "out", residents=3000, years=years)
    for key in [*AGGS, "contacts_per_1000[GP]", "contacts_per_1000[contact centre]"]:
        assert read[key] == pytest.approx(ours[key]), key
    # Without --years the span of demand_by_week is used: 52 weeks here.
    spanned = read_targets(tmp_path / "out", residents=3000)
    assert spanned["contacts_per_1000"] == pytest.approx(
        ours["contacts_per_1000"] * years / (52 * 7 / 365.25), rel=0.02
    )
    # Without residents there is no rate per 1,000.
    assert "contacts_per_1000" not in read_targets(tmp_path / "out")


def test_read_targets_files(tmp_path) -> None:
    (tmp_path / "t.json").write_text(json.dumps({"failure_demand_share": 0.5, "other": 3}))
    assert read_targets(tmp_path / "t.json") == {"failure_demand_share": 0.5}
    pl.DataFrame({"aggregate": ["re_referral_rate", "x"], "value": [0.02, None]}).write_csv(
        tmp_path / "t.csv"
    )
    assert read_targets(tmp_path / "t.csv") == {"re_referral_rate": 0.02}
    pl.DataFrame({"name": ["a"]}).write_csv(tmp_path / "bad.csv")
    with pytest.raises(CalibrationError, match="'aggregate' and 'value'"):
        read_targets(tmp_path / "bad.csv")
    with pytest.raises(CalibrationError, match=r"no summary\.json"):
        read_targets(tmp_path)
    with pytest.raises(CalibrationError, match="no such"):
        read_targets(tmp_path / "missing.json")


def test_parameters_resolve_tie_and_scale() -> None:
    sc = load_scenario({})
    loss, events = resolve_parameters(
        sc, ["design.services.*.hand_off_loss", "events.*.rate_per_year"]
    )
    assert loss.base is None and len(loss.paths) == 8  # equal values: one shared value
    assert events.base is not None and events.start == 1.0  # differing: a multiplier
    out = apply_parameters(sc, [loss, events], [0.3, 2.0])
    assert {s.hand_off_loss for s in out.design.services.values()} == {0.3}
    assert out.events["illness"].rate_per_year == pytest.approx(
        2 * sc.events["illness"].rate_per_year
    )
    with pytest.raises(CalibrationError, match="not a numeric parameter"):
        resolve_parameters(sc, ["population.peple"])
    with pytest.raises(CalibrationError, match="bounds"):
        resolve_parameters(sc, ["population.seek_per_week"], {"population.seek_per_week": (1, 1)})


# -- recovery ----------------------------------------------------------------------------

BASE = {"preset": "silo", "population": {"people": 5000}, "years": 1.5, **NO_WARM_UP}
BURN_IN = 0.5
BOUNDS = {
    "events.*.rate_per_year": (0.5, 2.0),
    "population.re_present_per_week": (0.05, 0.5),
    "costs.a_and_e": (100.0, 400.0),
}
TRUTH = {"events.*.rate_per_year": 1.3, "population.re_present_per_week": 0.3}


def test_recovers_known_parameters_and_flags_a_parameter_without_effect() -> None:
    base = load_scenario(BASE)
    params = resolve_parameters(base, list(BOUNDS), BOUNDS)
    truth = apply_parameters(base, params, [*TRUTH.values(), 250.0])
    # The "observed" town: other seeds than the calibration's, so the targets
    # carry their own Monte-Carlo error, given as target_se.
    observed = (101, 102)
    targets = simulated_aggregates(truth, seeds=observed, burn_in_years=BURN_IN)
    target_se = aggregate_errors(truth, seeds=observed, burn_in_years=BURN_IN)
    fit = calibrate(
        base,
        targets,
        list(BOUNDS),
        bounds=BOUNDS,
        start={"events.*.rate_per_year": 0.9, "population.re_present_per_week": 0.15},
        aggregates=AGGS,
        target_se=target_se,
        seeds=(1, 2),
        budget=40,
        burn_in_years=BURN_IN,
    )
    assert fit.loss < fit.start_loss / 20
    print(render_calibration(fit))
    # Each aggregate within 3 Monte-Carlo standard errors (simulated and observed).
    for r in fit.fit.iter_rows(named=True):
        total = math.hypot(r["mc_se"], target_se[r["aggregate"]])
        assert abs(r["simulated"] - r["target"]) < 3 * total, r
    rows = {r["parameter"]: r for r in fit.parameters.iter_rows(named=True)}
    for name, true in TRUTH.items():
        r = rows[name]
        low, high = BOUNDS[name]
        # Tolerance from Monte-Carlo error: the reported standard error combines
        # the noise of the calibration's seeds and of the targets'; the fit must
        # lie within 3 of them of the truth, and that error must itself be small
        # (under 10% of the range), or this check would have no teeth.
        assert r["se"] < 0.1 * (high - low), (name, r["se"])
        assert abs(r["fitted"] - true) <= 3 * r["se"], (name, r["fitted"], true, r["se"])
        assert r["identified"], (name, r["note"])
    cost = rows["costs.a_and_e"]
    assert not cost["identified"] and cost["sensitivity"] == 0.0
    assert "costs.a_and_e" in fit.not_identified
    assert "Monte-Carlo standard errors across its whole range" in cost["note"]
    text = render_calibration(fit)
    assert "| costs.a_and_e |" in text and "not identified" in text


def test_confounded_parameters_are_reported() -> None:
    # Seeking help more often and having more life events both raise the
    # contact rate; with only contacts and failure share as targets the data
    # cannot tell them apart.
    base = load_scenario({**BASE, "population": {"people": 4000}, "years": 1.0})
    names = ["events.*.rate_per_year", "population.seek_per_week"]
    targets = simulated_aggregates(base, seeds=(7, 8))
    fit = calibrate(
        base,
        targets,
        names,
        bounds={"events.*.rate_per_year": (0.6, 1.4), "population.seek_per_week": (0.15, 0.6)},
        aggregates=["contacts_per_1000"],
        seeds=(1, 2),
        budget=4,
    )
    assert set(fit.not_identified) == set(names)
    corr = fit.correlation.drop("parameter").to_numpy()
    assert abs(corr[0, 1]) > 0.9
    assert any("mimicked" in n for n in fit.parameters["note"])


def test_calibrate_rejects_unusable_targets() -> None:
    with pytest.raises(CalibrationError, match="is a calibration aggregate: use"):
        calibrate(
            {"population": {"people": 500}, "years": 0.5},
            {"x": 1.0},
            ["population.seek_per_week"],
            budget=2,
            seeds=(1,),
        )
    with pytest.raises(CalibrationError, match="no usable target"):
        calibrate(
            {"population": {"people": 500}, "years": 0.5},
            {"x": 1.0},
            ["population.seek_per_week"],
            aggregates=["re_referral_rate"],
            budget=2,
            seeds=(1,),
        )
