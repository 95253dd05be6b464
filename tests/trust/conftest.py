"""Fixtures of the trust tests: stores with users, a protected app, soak gating."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from systemic.store import Store, open_store


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Load and crash tests run only when asked for (``make soak`` passes ``-m soak``)."""
    if "soak" in (config.getoption("-m") or ""):
        return
    skip = pytest.mark.skip(reason="soak test: run with `make soak` (pytest -m soak)")
    for item in items:
        if "soak" in item.keywords and "tests/trust" in str(item.fspath).replace("\\", "/"):
            item.add_marker(skip)


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    """A migrated SQLite workspace database in a temporary folder."""
    store = open_store(tmp_path / "workspace.db")
    yield store
    store.dispose()
