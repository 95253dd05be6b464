"""Scenarios: presets plus overrides, validation errors that name the key, seeds."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from systemic.simulate import ScenarioError, load_scenario, run, with_overrides
from systemic.simulate.compiled import compile_scenario, per_step, rate_per_step
from systemic.simulate.presets import PRESETS
from tests.simulate.scenarios import town

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "scenarios"


def test_presets_are_points_in_one_parameter_space() -> None:
    silo, local = PRESETS["silo"], PRESETS["local"]
    assert set(silo) == set(local)
    # They differ only in the design table.
    assert {k for k in silo if silo[k] != local[k]} == {"name", "design"}
    assert set(silo["design"]["services"]) == set(local["design"]["services"])
    for s in silo["design"]["services"]:
        assert set(silo["design"]["services"][s]) == set(local["design"]["services"][s])


def test_toml_file_overrides_the_preset(tmp_path: Path) -> None:
    f = tmp_path / "north.toml"
    f.write_text(
        'preset = "local"\nyears = 2\n[population]\npeople = 1234\n'
        "[design.services.locality_team]\nmax_weeks = 12\n"
    )
    s = load_scenario(f)
    assert s.name == "north" and s.preset == "local"
    assert s.population.people == 1234
    assert s.design.services["locality_team"].max_weeks == 12
    # Untouched values come from the preset.
    assert s.design.services["locality_team"].connection_gain_per_week == 0.01
    assert s.population.need_threshold == PRESETS["local"]["population"]["need_threshold"]


def test_unknown_key_is_named_with_file_and_line(tmp_path: Path) -> None:
    f = tmp_path / "bad.toml"
    f.write_text('preset = "silo"\n\n[population]\npeople = 10\nseek_per_wek = 0.3\n')
    with pytest.raises(ScenarioError) as err:
        load_scenario(f)
    msg = str(err.value)
    assert "bad.toml:5" in msg and "population.seek_per_wek" in msg


def test_out_of_range_value_is_named() -> None:
    with pytest.raises(ScenarioError, match=r"design\.services\.housing\.hand_off_loss"):
        load_scenario({"design": {"services": {"housing": {"hand_off_loss": 1.5}}}})


def test_route_to_a_service_without_capacity_is_refused() -> None:
    with pytest.raises(ScenarioError, match="community_health"):
        load_scenario({"design": {"route": {"housing": "community_health"}}})


def test_unknown_preset_and_bad_toml(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="unknown preset"):
        load_scenario({"preset": "market"})
    f = tmp_path / "broken.toml"
    f.write_text("years = = 3")
    with pytest.raises(ScenarioError, match="not valid TOML"):
        load_scenario(f)


def test_experiment_must_name_a_locality() -> None:
    data = town(experiments=[{"locality": "West", "start": "2025-06-01", "preset": "local"}])
    with pytest.raises(ScenarioError, match="West"):
        load_scenario(data)


def test_uncertainty_ranges_are_checked_and_applied() -> None:
    with pytest.raises(ScenarioError, match="above high"):
        load_scenario({"uncertainty": {"crisis.rate_per_week": [0.3, 0.1]}})
    s = load_scenario(town())
    s2 = with_overrides(s, {"localities.North.deprivation": 2.0, "crisis.stabilise": 0.3})
    assert s2.localities[0].deprivation == 2.0 and s2.crisis.stabilise == 0.3
    with pytest.raises(ScenarioError, match="not a parameter"):
        with_overrides(s, {"crisis.nonsense": 1.0})


def test_rates_convert_between_step_lengths() -> None:
    # Four weekly chances of 0.1 make one four-week chance of 1 - 0.9^4.
    assert per_step(0.1, 4.0) == pytest.approx(1 - 0.9**4)
    assert rate_per_step(52.0, 7.0) == pytest.approx(1 - 2.718281828 ** (-52 * 7 / 365.25))
    weekly = compile_scenario(load_scenario({"time_step": "week"}))
    monthly = compile_scenario(load_scenario({"time_step": "month"}))
    assert weekly.steps == 522 and monthly.steps == 120
    assert monthly.recovery == pytest.approx(1 - (1 - weekly.recovery) ** (365.25 / 12 / 7))


def test_step_dates() -> None:
    s = load_scenario({"start": "2025-01-06", "time_step": "week"})
    assert s.step_of(dt.date(2025, 1, 6)) == 0
    assert s.step_of(dt.date(2025, 1, 7)) == 1
    assert s.date_of(2) == dt.datetime(2025, 1, 20, tzinfo=dt.UTC)


def test_same_seed_same_result_other_seed_differs() -> None:
    s = load_scenario(town(people=1500, years=1))
    a, b, c = run(s, seed=5), run(s, seed=5), run(s, seed=6)
    assert a.steps.equals(b.steps) and a.services.equals(b.services)
    assert a.wellbeing.equals(b.wellbeing)
    assert not a.steps.equals(c.steps)


@pytest.mark.parametrize("name", ["silo.toml", "local.toml", "town_experiment.toml"])
def test_example_scenarios_load(name: str) -> None:
    s = load_scenario(EXAMPLES / name)
    assert s.steps > 100


def test_unit_cost_table_is_replaceable(tmp_path: Path) -> None:
    (tmp_path / "costs.toml").write_text("a_and_e = 999.0\n[contact]\ngp = 1.0\n")
    f = tmp_path / "s.toml"
    f.write_text('unit_costs = "costs.toml"\n[costs]\nemergency_admission = 5.0\n')
    s = load_scenario(f)
    assert s.costs.a_and_e == 999.0 and s.costs.contact["gp"] == 1.0
    assert s.costs.emergency_admission == 5.0
    # Untouched costs keep the preset's values.
    assert s.costs.contact["housing"] == PRESETS["silo"]["costs"]["contact"]["housing"]
    shipped = load_scenario({"unit_costs": str(EXAMPLES / "unit_costs.toml")})
    assert shipped.costs.model_dump() == load_scenario({}).costs.model_dump()
    (tmp_path / "bad.toml").write_text('unit_costs = "nowhere.toml"\n')
    with pytest.raises(ScenarioError, match="unit_costs"):
        load_scenario(tmp_path / "bad.toml")
