"""The docstring examples of learn (and of data.cases) run and give what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "systemic.data.cases",
    "systemic.learn",
    "systemic.learn.config",
    "systemic.learn.flow",
    "systemic.learn.headlines",
    "systemic.learn.journeys",
    "systemic.learn.locality",
    "systemic.learn.pipeline",
    "systemic.learn.publish",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0
