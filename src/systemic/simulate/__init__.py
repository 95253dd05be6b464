"""Simulate people, needs and services over years to compare service designs.

The model (``docs/model.md``) is a population of people in localities whose
wellbeing life events push down and support pulls up; needs create contacts;
services with capacity, eligibility, hand-offs and time limits respond.
Designs are parameters: the ``silo`` and ``local`` presets are two points of
one parameter space, and failure demand emerges from the mechanisms.

>>> from systemic.simulate import load_scenario, run
>>> result = run(load_scenario({"preset": "local", "population": {"people": 1000}, "years": 1}),
...              seed=7)
>>> result.steps.height
52
"""

from systemic.simulate.calibrate import (
    CalibrationResult,
    calibrate,
    read_targets,
    render_calibration,
)
from systemic.simulate.compare import Comparison, compare
from systemic.simulate.engine import prepare, run
from systemic.simulate.ensemble import EnsembleResult, run_ensemble
from systemic.simulate.errors import ScenarioError, SimulationError
from systemic.simulate.events import event_frame, people_frame, write_events
from systemic.simulate.presets import DOMAINS, PRESETS, SERVICES
from systemic.simulate.result import KEY_METRICS, SimulationResult
from systemic.simulate.scenario import Scenario, load_scenario, with_overrides

__all__ = [
    "DOMAINS",
    "KEY_METRICS",
    "PRESETS",
    "SERVICES",
    "CalibrationResult",
    "Comparison",
    "EnsembleResult",
    "Scenario",
    "ScenarioError",
    "SimulationError",
    "SimulationResult",
    "calibrate",
    "compare",
    "event_frame",
    "load_scenario",
    "people_frame",
    "prepare",
    "read_targets",
    "render_calibration",
    "run",
    "run_ensemble",
    "with_overrides",
    "write_events",
]
