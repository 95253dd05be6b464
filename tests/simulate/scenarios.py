"""Small scenarios shared by the simulation tests (as plain dictionaries)."""

from __future__ import annotations

from typing import Any

from systemic.simulate.presets import BASE, DOMAINS, SERVICES

PRESET_EVENTS = tuple(BASE["events"])


def town(preset: str = "silo", people: int = 3000, years: float = 2.0, **over: Any) -> dict:
    """A two-locality town, small enough for fast tests."""
    base: dict[str, Any] = {
        "preset": preset,
        "years": years,
        "burn_in_years": 0.0,  # mechanism tests need no settled start; faster
        "population": {"people": people},
        "localities": [
            {"name": "North", "share": 0.5, "deprivation": 1.3, "community_strength": 0.4},
            {"name": "South", "share": 0.5, "deprivation": 0.8, "community_strength": 0.6},
        ],
    }
    for key, value in over.items():
        base[key] = value
    return base


def single_queue(
    people: int,
    servers: int,
    arrivals_per_step: float,
    completion_per_step: float,
    steps: int,
    replicas: int = 1,
) -> dict:
    """One service (GP) fed by Poisson-like arrivals, exponential-like service.

    Everyone's wellbeing returns to 1 every step; one kind of life event drops
    it below the need line; help is sought at once; the service accepts all,
    never resolves a need by recovery, and ends each intervention with a fixed
    chance per step (geometric, the discrete-time exponential). Crises, chasing
    and time limits are switched off. Each of ``replicas`` localities of
    ``people`` residents has its own queue: independent replications in one run.
    """
    step_days = 1.0
    weeks = step_days / 7
    completion_per_week = 1 - (1 - completion_per_step) ** (1 / weeks)
    rate_per_year = arrivals_per_step / people * 365.25 / step_days
    svc = {
        "capacity_per_1000": 0.0,
        "eligibility": 1.0,
        "max_weeks": 1e9,
        "effect_per_week": 0.0,
        "connection_gain_per_week": 0.0,
        "hand_off_loss": 0.0,
        "completion_per_week": 0.0,
    }
    services = {s: dict(svc) for s in SERVICES}
    services["gp"]["capacity_per_1000"] = servers * 1000 / people
    services["gp"]["completion_per_week"] = completion_per_week
    return {
        "preset": "silo",
        "time_step": "day",
        "step_days": step_days,
        "burn_in_years": 0.5,  # start measuring once the queue has settled
        "years": steps * step_days / 365.25,
        "population": {
            "people": people * replicas,
            "initial_wellbeing": 1.0,
            "initial_spread": 0.0,
            "baseline": 1.0,
            "connection_weight": 0.0,
            "recovery_per_week": 1.0,
            "need_threshold": 0.5,
            "crisis_threshold": -1.0,
            "resolve_margin": 1.0,
            "seek_per_week": 1.0,
            "re_present_per_week": 1.0,
            "chase_after_weeks": 0.0,
            "chase_per_week": 0.0,
        },
        # Preset events are merged by name, so switch them off explicitly.
        "localities": [
            {"name": f"q{i}", "share": 1.0, "deprivation": 1.0, "community_strength": 0.5}
            for i in range(replicas)
        ],
        "events": {
            **{k: {"rate_per_year": 0.0} for k in PRESET_EVENTS},
            "arrival": {"rate_per_year": rate_per_year, "shock": 1.0, "domain": "health"},
        },
        "design": {
            "prevention": 0.0,
            "entry": {d: "gp" for d in DOMAINS},
            "route": {d: "gp" for d in DOMAINS},
            "services": services,
        },
    }
