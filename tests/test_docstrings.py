"""The docstring examples of the measures and simulate packages, of learn's series, the
framework's thread and the system map's modules, run and give what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "systemic.framework.thread",
    "systemic.learn.series",
    "systemic.framework.kumu",
    "systemic.framework.loops",
    "systemic.framework.map_layout",
    "systemic.measures",
    "systemic.measures.attribute",
    "systemic.measures.chart",
    "systemic.measures.experiment",
    "systemic.measures.funnel",
    "systemic.measures.learnt",
    "systemic.measures.rules",
    "systemic.measures.series",
    "systemic.measures.spc",
    "systemic.measures.summary",
    "systemic.simulate",
    "systemic.simulate.calibrate",
    "systemic.simulate.charts",
    "systemic.simulate.compare",
    "systemic.simulate.compiled",
    "systemic.simulate.engine",
    "systemic.simulate.ensemble",
    "systemic.simulate.events",
    "systemic.simulate.presets",
    "systemic.simulate.result",
    "systemic.simulate.scenario",
    "systemic.report.system_map_svg",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    failures, attempted = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert attempted > 0, f"{name} has no examples"
    assert failures == 0
