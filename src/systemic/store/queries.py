"""The framework's views over a stored workspace, for pages and the CLI.

Each function takes a session and a workspace (slug or id) and returns the
plain dataclasses of ``systemic.framework.views``.

>>> from systemic.store import open_store
>>> from systemic.store.repository import ensure_default_workspace
>>> store = open_store("sqlite://")
>>> with store.session() as s:
...     ws = ensure_default_workspace(s)
...     the_map = system_maps(s, ws.id)[0]
...     [loop.kind for loop in the_map.loops]
['reinforcing', 'reinforcing']
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from systemic.framework import views
from systemic.store.audit import audit_workspace
from systemic.store.snapshot import load_snapshot


def purpose_tree(session: Session, workspace: str) -> list[views.PurposeNode]:
    """The purpose statements as a tree, each with the measures, teams and experiments on it."""
    return views.purpose_tree(load_snapshot(session, workspace))


def localities(session: Session, workspace: str) -> list[views.LocalityView]:
    """Localities with their teams, decision rights and local-by-default index."""
    return views.localities(load_snapshot(session, workspace))


def system_conditions(session: Session, workspace: str) -> list:
    """The system-conditions register, harmful first."""
    return views.system_conditions(load_snapshot(session, workspace))


def experiments_timeline(
    session: Session, workspace: str, today: date | None = None
) -> list[views.ExperimentView]:
    """Experiments by start date, with their purpose statements, measures and stories."""
    return views.experiments_timeline(load_snapshot(session, workspace), today)


def system_maps(session: Session, workspace: str) -> list[views.MapView]:
    """Every system map with its factors, links and classified loops."""
    snap = load_snapshot(session, workspace)
    return [views.system_map(snap, m.id) for m in snap.of("system_map")]


def system_map(session: Session, workspace: str, map_id: str) -> views.MapView:
    """One system map with its loops (KeyError when absent)."""
    return views.system_map(load_snapshot(session, workspace), map_id)


def dashboard(session: Session, workspace: str) -> views.Dashboard:
    """Counts, purpose coverage and the audit's headline."""
    snap = load_snapshot(session, workspace)
    return views.dashboard(snap, audit_workspace(session, workspace))
