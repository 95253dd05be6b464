"""The docstring examples of the linkage package run and give what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "systemic.data.linkage.cleaning",
    "systemic.data.linkage.clusters",
    "systemic.data.linkage.quality",
    "systemic.data.linkage.records",
    "systemic.data.linkage.lookup",
    "systemic.data.linkage.settings",
    "systemic.demo.identities",
    "systemic.demo.linkage",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    failures, attempted = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert attempted > 0, f"{name} has no examples"
    assert failures == 0
