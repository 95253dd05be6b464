"""Fixtures of the trust tests: stores with users, a protected app, soak gating."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from systemic.store import Store, accounts, open_store, repository
from systemic.store import backup as backup_module
from systemic.store.repository import ensure_default_workspace


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


@dataclass
class LiveWorkspace:
    """A workspace database people are writing to, with its default workspace."""

    store: Store
    workspace_id: str

    def write_story_with_link(self, n: int) -> None:
        """One transaction: a new story and a system condition linked to it."""
        with self.store.session() as s:
            story = repository.create(s, self.workspace_id, "story", {"title": f"story {n}"})
            repository.create(
                s,
                self.workspace_id,
                "system_condition",
                {"name": f"sc {n}", "story_ids": [story.id]},
            )
            s.commit()


@contextmanager
def live_workspace(url: str | Path) -> Iterator[LiveWorkspace]:
    """A migrated store at ``url`` with its default workspace; disposed after."""
    store = open_store(url)
    with store.session() as s:
        workspace_id = ensure_default_workspace(s).id
        s.commit()
    try:
        yield LiveWorkspace(store, workspace_id)
    finally:
        store.dispose()


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveWorkspace]:
    """A live SQLite workspace database (``live.db``) in a temporary folder."""
    with live_workspace(tmp_path / "live.db") as workspace:
        yield workspace


@pytest.fixture
def write_during_backup(monkeypatch: pytest.MonkeyPatch) -> Callable[[LiveWorkspace], list[int]]:
    """Arm a writer that commits a story and its link just after a backup reads the story table.

    ``written = write_during_backup(live)`` arms it; ``written`` is non-empty
    once it has written (``monkeypatch.undo()`` disarms it).
    """

    def arm(workspace: LiveWorkspace) -> list[int]:
        real_sha256 = backup_module._sha256
        written: list[int] = []

        def write_after_story_table(path: Path) -> str:
            # Called once each table's file is written: a writer commits right after
            # the story table was read, before the link tables are.
            if path.name == "story.jsonl" and not written:
                workspace.write_story_with_link(1)
                written.append(1)
            return real_sha256(path)

        monkeypatch.setattr(backup_module, "_sha256", write_after_story_table)
        return written

    return arm
