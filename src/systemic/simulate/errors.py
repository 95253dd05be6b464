"""Errors raised by the simulation, each telling the user what to change."""

from __future__ import annotations


class SimulationError(Exception):
    """Base class of simulation errors."""


class ScenarioError(SimulationError, ValueError):
    """A scenario file or dictionary is invalid: the message names file, line and key."""
