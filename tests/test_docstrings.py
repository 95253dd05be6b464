"""The modules whose docstrings must carry examples do.

``make test`` runs every module's examples (``--doctest-modules`` over src/systemic,
configured in pyproject.toml); this test makes sure these modules keep having some."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "systemic.data.cases",
    "systemic.data.linkage.cleaning",
    "systemic.data.linkage.clusters",
    "systemic.data.linkage.quality",
    "systemic.data.linkage.records",
    "systemic.data.linkage.lookup",
    "systemic.data.linkage.model",
    "systemic.data.linkage.settings",
    "systemic.data.toml_config",
    "systemic.data.withholding",
    "systemic.demand.charts",
    "systemic.demand.classify",
    "systemic.demand.corpus",
    "systemic.demand.embed",
    "systemic.demand.estimate",
    "systemic.demand.mask",
    "systemic.demand.study",
    "systemic.demo.identities",
    "systemic.demo.linkage",
    "systemic.learn",
    "systemic.learn.config",
    "systemic.learn.flow",
    "systemic.learn.headlines",
    "systemic.learn.journeys",
    "systemic.learn.locality",
    "systemic.learn.pipeline",
    "systemic.learn.publish",
    "systemic.cli",
    "systemic.extras",
    "systemic.framework.thread",
    "systemic.framework.evidence",
    "systemic.store.experiment_evidence",
    "systemic.learn.series",
    "systemic.learn.shared_cells",
    "systemic.framework.kumu",
    "systemic.framework.measure_data",
    "systemic.framework.measures",
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
def test_module_has_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    examples = sum(len(t.examples) for t in doctest.DocTestFinder().find(module))
    assert examples > 0, f"{name} has no examples"
