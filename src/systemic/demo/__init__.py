"""The demo: the whole reform cycle on a simulated town, in one command.

>>> from systemic.demo import DemoConfig
>>> DemoConfig().people
50000
"""

from systemic.demo.pipeline import DemoConfig, DemoResult, run_demo, town_scenario

__all__ = ["DemoConfig", "DemoResult", "run_demo", "town_scenario"]
