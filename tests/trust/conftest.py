"""Fixtures of the trust tests: stores with users, a protected app, soak gating."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from systemic.store import Store, accounts, open_store


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


@pytest.fixture(autouse=True)
def _cheap_argon2(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at its production cost takes over a second on a loaded 2-core machine;
    tests that are not about the hash itself use the same algorithm at a low cost."""
    if "production_argon2" in request.keywords:
        return
    cheap = PasswordHasher(time_cost=1, memory_cost=1024)
    monkeypatch.setattr(accounts, "_HASHER", cheap)
    monkeypatch.setattr(accounts, "_DUMMY_HASH", cheap.hash("dummy"))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "production_argon2: hash at the production cost")
