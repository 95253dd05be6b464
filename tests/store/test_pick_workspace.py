"""Readers of a workspace database pick a workspace clearly, or say which ones there are.

The review's attack: ``systemic report --workspace DB`` on a database without a
workspace named ``default`` ended in a traceback (``NotFoundError``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from systemic.cli import app
from systemic.data import write_dataset
from systemic.store import open_store
from systemic.store.errors import NoSuchWorkspaceError
from systemic.store.repository import create_workspace, pick_workspace

runner = CliRunner()


def _dataset(tmp_path: Path) -> Path:
    events = pl.DataFrame(
        {
            "person_id": ["a", "b", "a"],
            "service": ["Housing"] * 3,
            "activity": ["call", "visit", "call"],
            "timestamp": [dt.datetime(2024, 1, d, tzinfo=dt.UTC) for d in (1, 2, 3)],
        }
    )
    return write_dataset(events, tmp_path / "ds", source_name="calls").path


def test_pick_workspace(tmp_path: Path) -> None:
    store = open_store(tmp_path / "w.db")
    with store.session() as s:
        with pytest.raises(NoSuchWorkspaceError, match="holds no workspace"):
            pick_workspace(s)
        create_workspace(s, "Anytown", seed=False)
        assert pick_workspace(s).slug == "anytown"  # the only one
        create_workspace(s, "Other", seed=False)
        with pytest.raises(NoSuchWorkspaceError, match="'anytown', 'other'"):
            pick_workspace(s)
        assert pick_workspace(s, "other").slug == "other"
        with pytest.raises(NoSuchWorkspaceError, match="no workspace 'nope'"):
            pick_workspace(s, "nope")
        create_workspace(s, "Default", slug="default", seed=False)
        assert pick_workspace(s).slug == "default"
    store.dispose()


def test_report_on_a_database_without_a_default_workspace(tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    store = open_store(db)
    with store.session() as s:
        create_workspace(s, "Anytown", seed=False)
        s.commit()
    store.dispose()
    dataset = _dataset(tmp_path)
    out = tmp_path / "r.html"
    args = ["report", str(dataset), "--workspace", str(db), "-o", str(out)]
    made = runner.invoke(app, args)
    assert made.exit_code == 0, made.output  # the only workspace is used
    store = open_store(db)
    with store.session() as s:
        create_workspace(s, "Other", seed=False)
        s.commit()
    store.dispose()
    refused = runner.invoke(app, args)
    assert refused.exit_code != 0
    assert refused.exception is None or isinstance(refused.exception, SystemExit)
    assert "several workspaces" in refused.output and "'anytown', 'other'" in refused.output
