"""The two named designs, ``silo`` and ``local``, as points in one parameter space.

A preset is plain data: a nested dictionary in the shape of a scenario file.
Both presets share every parameter about people, life events, crises and
costs (:data:`BASE`); they differ only in the ``[design]`` table. The reasons
behind each default are given in ``docs/model.md``.

>>> from systemic.simulate.presets import PRESETS
>>> sorted(PRESETS)
['local', 'silo']
>>> PRESETS["silo"]["design"]["route"]["housing"], PRESETS["local"]["design"]["route"]["housing"]
('housing', 'locality_team')
"""

from __future__ import annotations

import copy
from typing import Any, Literal, get_args

Domain = Literal["health", "housing", "money", "care", "family"]
ServiceName = Literal[
    "contact_centre",
    "locality_team",
    "gp",
    "community_health",
    "housing",
    "benefits",
    "adult_social_care",
    "childrens_services",
]

#: Services that hold cases (have capacity and a waiting list), in code order.
SERVICES: tuple[ServiceName, ...] = get_args(ServiceName)

#: How each service is named in event logs.
SERVICE_LABELS: dict[str, str] = {
    "contact_centre": "contact centre",
    "locality_team": "locality team",
    "gp": "GP",
    "community_health": "community health",
    "housing": "housing",
    "benefits": "benefits",
    "adult_social_care": "adult social care",
    "childrens_services": "children's services",
}

#: Kinds of need a life event can create.
DOMAINS: tuple[Domain, ...] = get_args(Domain)


def _service(**kw: float) -> dict[str, float]:
    base = {
        "capacity_per_1000": 0.0,
        "eligibility": 0.45,
        "max_weeks": 26.0,
        "effect_per_week": 0.03,
        "connection_gain_per_week": 0.0,
        "hand_off_loss": 0.15,
        "completion_per_week": 0.0,
        "continuity": 0.5,
    }
    base.update(kw)
    return base


#: Everything except the design: people, life events, crises, unit costs.
BASE: dict[str, Any] = {
    "name": "scenario",
    "start": "2025-01-06",
    "time_step": "week",
    "years": 10.0,
    "burn_in_years": 2.0,
    "population": {
        "people": 10_000,
        "initial_wellbeing": 0.72,
        "initial_spread": 0.12,
        "baseline": 0.55,
        "connection_weight": 0.3,
        "recovery_per_week": 0.02,
        "need_threshold": 0.45,
        "crisis_threshold": 0.2,
        "resolve_margin": 0.08,
        "seek_per_week": 0.35,
        "re_present_per_week": 0.2,
        "chase_after_weeks": 4.0,
        "chase_per_week": 0.25,
        "continuity_effect": 0.3,
    },
    "localities": [
        {"name": "Town", "share": 1.0, "deprivation": 1.0, "community_strength": 0.5},
    ],
    "events": {
        "illness": {"rate_per_year": 0.10, "shock": 0.22, "domain": "health"},
        "bereavement": {"rate_per_year": 0.04, "shock": 0.25, "domain": "health"},
        "job_loss": {"rate_per_year": 0.04, "shock": 0.22, "domain": "money"},
        "housing_problem": {"rate_per_year": 0.05, "shock": 0.22, "domain": "housing"},
        "ageing": {"rate_per_year": 0.03, "shock": 0.2, "domain": "care"},
        "family_stress": {"rate_per_year": 0.04, "shock": 0.22, "domain": "family"},
    },
    "crisis": {
        "rate_per_week": 0.12,
        "in_service_factor": 0.3,
        "admission_probability": 0.3,
        "residential_probability": 0.1,
        "stabilise": 0.15,
        "residential_exit_per_year": 0.3,
    },
    "prevention": {
        "shock_reduction": 0.25,
        "connection_per_year": 0.05,
    },
    "costs": {
        "contact": {
            "contact_centre": 4.0,
            "locality_team": 25.0,
            "gp": 42.0,
            "community_health": 40.0,
            "housing": 15.0,
            "benefits": 10.0,
            "adult_social_care": 30.0,
            "childrens_services": 30.0,
        },
        "assessment": {
            "contact_centre": 0.0,
            "locality_team": 180.0,
            "gp": 0.0,
            "community_health": 120.0,
            "housing": 150.0,
            "benefits": 80.0,
            "adult_social_care": 250.0,
            "childrens_services": 300.0,
        },
        "intervention_per_week": {
            "contact_centre": 0.0,
            "locality_team": 110.0,
            "gp": 20.0,
            "community_health": 90.0,
            "housing": 80.0,
            "benefits": 40.0,
            "adult_social_care": 150.0,
            "childrens_services": 180.0,
        },
        "a_and_e": 250.0,
        "emergency_admission": 2700.0,
        "residential_care_per_week": 1100.0,
        "prevention_per_resident_year": 40.0,
    },
    "uncertainty": {},
    "experiments": [],
}

SILO_DESIGN: dict[str, Any] = {
    "prevention": 0.0,
    "entry": {
        "health": "gp",
        "housing": "contact_centre",
        "money": "contact_centre",
        "care": "contact_centre",
        "family": "contact_centre",
    },
    "route": {
        "health": "gp",
        "housing": "housing",
        "money": "benefits",
        "care": "adult_social_care",
        "family": "childrens_services",
    },
    "services": {
        "contact_centre": _service(),
        "locality_team": _service(),
        "gp": _service(capacity_per_1000=5.0, eligibility=0.45, max_weeks=4.0),
        # Not on any pathway of this preset: route a domain here to use it.
        "community_health": _service(),
        "housing": _service(capacity_per_1000=1.5, eligibility=0.35, max_weeks=8.0),
        "benefits": _service(capacity_per_1000=1.5, eligibility=0.35, max_weeks=6.0),
        "adult_social_care": _service(capacity_per_1000=2.0, eligibility=0.35, max_weeks=6.0),
        "childrens_services": _service(capacity_per_1000=1.5, eligibility=0.35, max_weeks=8.0),
    },
}

LOCAL_DESIGN: dict[str, Any] = {
    "prevention": 0.5,
    # Illness still goes to the GP; every other need to the locality team.
    "entry": {d: "gp" if d == "health" else "locality_team" for d in DOMAINS},
    "route": {d: "gp" if d == "health" else "locality_team" for d in DOMAINS},
    "services": {
        "contact_centre": _service(),
        # The same case slots as the silo services it replaces (housing 1.5,
        # benefits 1.5, adult social care 2, children's services 1.5 per 1,000).
        "locality_team": _service(
            capacity_per_1000=6.5,
            eligibility=0.45,
            max_weeks=52.0,
            connection_gain_per_week=0.01,
            continuity=0.9,
        ),
        "gp": _service(capacity_per_1000=5.0, eligibility=0.45, max_weeks=4.0),
        "community_health": _service(),
        "housing": _service(),
        "benefits": _service(),
        "adult_social_care": _service(),
        "childrens_services": _service(),
    },
}

PRESETS: dict[str, dict[str, Any]] = {
    "silo": {**copy.deepcopy(BASE), "name": "silo", "design": SILO_DESIGN},
    "local": {**copy.deepcopy(BASE), "name": "local", "design": LOCAL_DESIGN},
}


def preset(name: str) -> dict[str, Any]:
    """A deep copy of a named preset, ready to be overridden.

    >>> preset("local")["design"]["services"]["locality_team"]["max_weeks"]
    52.0
    """
    if name not in PRESETS:
        raise KeyError(f"unknown preset {name!r}: choose one of {sorted(PRESETS)}")
    return copy.deepcopy(PRESETS[name])


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` laid on ``base``: tables merge key by key, other values replace.

    >>> deep_merge({"a": {"b": 1, "c": 2}}, {"a": {"c": 3}})
    {'a': {'b': 1, 'c': 3}}
    """
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out
