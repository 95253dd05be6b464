"""A whole workspace held in memory: what the audit, the views and export work on.

Workspaces are small (hundreds to a few thousand objects), so reading one whole
is cheap and keeps the rules pure functions over plain records.

>>> snap = WorkspaceSnapshot.empty("Anytown")
>>> snap.of("measure")
[]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from systemic.framework.kinds import KINDS

#: Kinds that grow by the thousand (a demand study captures every contact): a
#: snapshot reads them only when they are asked for (``loader``), so the pages,
#: the audit and the views, which do not need them, stay as quick as before.
ON_DEMAND_KINDS: frozenset[str] = frozenset({"demand"})


@dataclass
class WorkspaceSnapshot:
    """Every object of one workspace, by kind, as validated records.

    ``loader``, when given, reads a kind missing from ``objects`` on first use
    (see :data:`ON_DEMAND_KINDS`).
    """

    workspace_id: str
    name: str
    objects: dict[str, list[Any]] = field(default_factory=dict)
    loader: Callable[[str], list[Any]] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def empty(cls, name: str = "workspace", workspace_id: str = "w") -> WorkspaceSnapshot:
        """A snapshot with no objects (for examples and tests)."""
        return cls(workspace_id=workspace_id, name=name, objects={k: [] for k in KINDS})

    def of(self, kind: str) -> list[Any]:
        """The records of one kind (empty list when none)."""
        if kind not in self.objects and self.loader is not None:
            self.objects[kind] = self.loader(kind)
        return self.objects.setdefault(kind, [])

    def by_id(self, kind: str) -> dict[str, Any]:
        """The records of one kind by id."""
        return {r.id: r for r in self.of(kind)}

    def add(self, kind: str, fields: BaseModel | dict[str, Any], object_id: str) -> Any:
        """Add a record built from fields (used by examples and tests of pure rules)."""
        now = datetime.now(UTC)
        data = fields.model_dump() if isinstance(fields, BaseModel) else dict(fields)
        record = KINDS[kind].record(
            id=object_id, workspace_id=self.workspace_id, created_at=now, updated_at=now, **data
        )
        self.of(kind).append(record)
        return record

    def linked_to(self, kind: str, relation_field: str, target_id: str) -> list[Any]:
        """Records of ``kind`` whose ``relation_field`` list contains ``target_id``."""
        return [r for r in self.of(kind) if target_id in getattr(r, relation_field)]
