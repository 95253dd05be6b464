"""The thread from purpose to change, computed once for every page and the report.

For each purpose statement: the measures derived from it, the teams that work
to it, the experiments that test it, the evidence those experiments hold and
the redesign decisions that rest on them. The dashboard, the purpose page,
each statement's page and the report all read :func:`purpose_thread` (or
:func:`thread_tree`, the same rows as a tree), so they cannot disagree.

The rules, in one place:

- an experiment is on a statement's thread when it names the statement or
  uses one of the statement's measures;
- its evidence is an experiment on the thread with a recorded result or a
  stored analysis (the "Analyse" button's evidence);
- a redesign decision is on the thread when it names the statement as the
  purpose it serves, or rests on one of those experiments or on one of the
  statement's measures.

>>> from systemic.framework.snapshot import WorkspaceSnapshot
>>> snap = WorkspaceSnapshot.empty()
>>> _ = snap.add("purpose_statement", {"text": "Tell my story once", "voice": "I"}, "p")
>>> _ = snap.add("measure", {"name": "Repeat contacts", "purpose_statement_ids": ["p"]}, "m")
>>> _ = snap.add("experiment", {"title": "One conversation", "measure_ids": ["m"]}, "e")
>>> [[x.title for x in row.experiments] for row in purpose_thread(snap)]
[['One conversation']]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from systemic.framework.snapshot import WorkspaceSnapshot


@dataclass
class PurposeThread:
    """One purpose statement and everything that takes it up, down to redesign."""

    statement: Any
    depth: int = 0
    children: list[PurposeThread] = field(default_factory=list)
    measures: list[Any] = field(default_factory=list)
    teams: list[Any] = field(default_factory=list)
    experiments: list[Any] = field(default_factory=list)
    evidence: list[Any] = field(default_factory=list)
    decisions: list[Any] = field(default_factory=list)

    @property
    def covered(self) -> bool:
        """True when at least one measure, team or experiment takes it up."""
        return bool(self.measures or self.teams or self.experiments)


def thread_tree(snap: WorkspaceSnapshot) -> list[PurposeThread]:
    """The thread of every statement as a forest (roots first, children under parents)."""
    experiments = snap.of("experiment")
    decisions = snap.of("redesign_decision")
    rows: dict[str, PurposeThread] = {}
    for statement in sorted(snap.of("purpose_statement"), key=lambda s: (s.created_at, s.id)):
        measures = snap.linked_to("measure", "purpose_statement_ids", statement.id)
        measure_ids = {m.id for m in measures}
        tested = [
            e
            for e in experiments
            if statement.id in e.purpose_statement_ids or measure_ids & set(e.measure_ids)
        ]
        tested_ids = {e.id for e in tested}
        rows[statement.id] = PurposeThread(
            statement=statement,
            measures=measures,
            teams=snap.linked_to("team", "purpose_statement_ids", statement.id),
            experiments=tested,
            evidence=[e for e in tested if (e.result or "").strip() or e.analyses],
            decisions=[
                d
                for d in decisions
                if statement.id in d.purpose_statement_ids
                or tested_ids & set(d.experiment_ids)
                or measure_ids & set(d.measure_ids)
            ],
        )
    roots = []
    for row in rows.values():
        parent = row.statement.parent_id
        if parent in rows and parent != row.statement.id:
            rows[parent].children.append(row)
        else:
            roots.append(row)
    stack = [(root, 0) for root in roots]
    while stack:
        row, depth = stack.pop()
        row.depth = depth
        stack.extend((child, depth + 1) for child in row.children)
    return roots


def purpose_thread(snap: WorkspaceSnapshot) -> list[PurposeThread]:
    """Every statement's thread in tree order (each parent before its children)."""
    out: list[PurposeThread] = []
    stack = list(reversed(thread_tree(snap)))
    while stack:
        row = stack.pop()
        out.append(row)
        stack.extend(reversed(row.children))
    return out


__all__ = ["PurposeThread", "purpose_thread", "thread_tree"]
