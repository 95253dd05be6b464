"""Read a whole workspace into a :class:`~systemic.framework.WorkspaceSnapshot`."""

from __future__ import annotations

from sqlalchemy.orm import Session

from systemic.framework.kinds import KINDS
from systemic.framework.snapshot import ON_DEMAND_KINDS, WorkspaceSnapshot
from systemic.store.repository import get_workspace, list_objects


def load_snapshot(session: Session, workspace: str) -> WorkspaceSnapshot:
    """Every object of a workspace (by slug or id), for the audit, views and export.

    Kinds in :data:`~systemic.framework.snapshot.ON_DEMAND_KINDS` (captured
    demand) are read from ``session`` when first asked for, so use those while
    the session is open.
    """
    ws = get_workspace(session, workspace)
    return WorkspaceSnapshot(
        workspace_id=ws.id,
        name=ws.name,
        objects={
            kind: list_objects(session, ws.id, kind)
            for kind in KINDS
            if kind not in ON_DEMAND_KINDS
        },
        loader=lambda kind: list_objects(session, ws.id, kind),
    )
