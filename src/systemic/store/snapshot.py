"""Read a whole workspace into a :class:`~systemic.framework.WorkspaceSnapshot`."""

from __future__ import annotations

from sqlalchemy.orm import Session

from systemic.framework.kinds import KINDS
from systemic.framework.snapshot import WorkspaceSnapshot
from systemic.store.repository import get_workspace, list_objects


def load_snapshot(session: Session, workspace: str) -> WorkspaceSnapshot:
    """Every object of a workspace (by slug or id), for the audit, views and export."""
    ws = get_workspace(session, workspace)
    return WorkspaceSnapshot(
        workspace_id=ws.id,
        name=ws.name,
        objects={kind: list_objects(session, ws.id, kind) for kind in KINDS},
    )
