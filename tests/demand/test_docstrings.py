"""The demand package's docstring examples run and give what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "systemic.demand.charts",
    "systemic.demand.classify",
    "systemic.demand.corpus",
    "systemic.demand.embed",
    "systemic.demand.estimate",
    "systemic.demand.mask",
    "systemic.demand.study",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    failures, attempted = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert attempted > 0, f"{name} has no examples"
    assert failures == 0
