"""What every page handler gets: a database session and the current workspace.

The session comes from the app's own dependency (``systemic.web.deps``), so
pages and the JSON API share one way to reach the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import Depends
from sqlalchemy.orm import Session

from systemic.framework.audit import Finding, run_audit
from systemic.framework.snapshot import WorkspaceSnapshot
from systemic.store import load_snapshot, repository, workspace_rules
from systemic.store.orm import Workspace
from systemic.web import deps


@dataclass
class PageContext:
    """The session, the workspace (id and name) and who is acting, for one request."""

    session: Session
    workspace_id: str
    name: str
    actor: str = repository.ANONYMOUS
    _snapshot: WorkspaceSnapshot | None = field(default=None, repr=False)

    def snapshot(self) -> WorkspaceSnapshot:
        """The whole workspace, read once per request."""
        if self._snapshot is None:
            self._snapshot = load_snapshot(self.session, self.workspace_id)
        return self._snapshot

    def findings(self, snap: WorkspaceSnapshot | None = None) -> list[Finding]:
        """The coherence audit with this workspace's rule settings."""
        rules = workspace_rules(self.session, self.workspace_id)
        return run_audit(snap or self.snapshot(), rules)

    def rules(self) -> list[Any]:
        """The audit rules as configured for this workspace."""
        return workspace_rules(self.session, self.workspace_id)

    def history(self, kind: str, object_id: str) -> list[Any]:
        """Who changed an object, and when (oldest first)."""
        return repository.history(self.session, self.workspace_id, kind=kind, object_id=object_id)


def page_context(
    session: Session = Depends(deps.get_session),
    workspace: Workspace = Depends(deps.current_workspace),
    actor: str = Depends(deps.current_actor),
) -> PageContext:
    """The page context: the app's workspace, and who is acting (for history)."""
    return PageContext(session=session, workspace_id=workspace.id, name=workspace.name, actor=actor)
