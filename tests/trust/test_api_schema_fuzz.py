"""Schemathesis against the workspace app's OpenAPI schema: no request gets a 500.

Every operation in the schema gets a few generated requests (bounded, so the
file stays fast) on a fresh SQLite workspace in a temporary folder; the check
is schemathesis' ``not_a_server_error``: bad input must be answered with a 4xx,
never a 5xx.
"""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error

from systemic.web.app import create_app

EXAMPLES_PER_OPERATION = 2


@cache
def _schema() -> Any:
    folder = Path(tempfile.mkdtemp(prefix="systemic-schema-"))
    return schemathesis.openapi.from_asgi(
        "/openapi.json", create_app(folder / "workspace.db", secure=False)
    )


@cache
def _operations() -> dict[str, Any]:
    found = {}
    for result in _schema().get_all_operations():
        operation = result.ok()
        found[f"{operation.method.upper()} {operation.path}"] = operation
    return found


@pytest.mark.parametrize("label", sorted(_operations()))
def test_no_server_errors(label: str) -> None:
    operation = _operations()[label]

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(case=operation.as_strategy())
    def run(case: Any) -> None:
        case.call_and_validate(checks=[not_a_server_error])

    run()


def test_every_operation_is_covered() -> None:
    operations = _operations()
    assert len(operations) > 50
    assert "POST /api/stories" in operations and "PATCH /api/measures/{object_id}" in operations
