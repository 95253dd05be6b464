"""Read-only views of a workspace for pages, reports and the CLI.

Pure functions over a :class:`WorkspaceSnapshot`; ``systemic.store.queries``
offers the same views taking a database session.

>>> from systemic.framework.snapshot import WorkspaceSnapshot
>>> snap = WorkspaceSnapshot.empty()
>>> _ = snap.add("locality", {"name": "North"}, "n")
>>> _ = snap.add("decision_right", {"locality_id": "n", "decision_kind": "spend"}, "d1")
>>> _ = snap.add("decision_right",
...              {"locality_id": "n", "decision_kind": "staffing", "made": "escalated"}, "d2")
>>> local_by_default_index(snap, "n").index
0.5
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from systemic.framework.loops import MAX_LOOP_FACTORS, Loop, NamedLoop, find_loops, name_loops
from systemic.framework.snapshot import WorkspaceSnapshot
from systemic.framework.thread import PurposeThread, thread_tree


@dataclass(frozen=True)
class LocalIndex:
    """How far decisions in a locality are made locally: local / all decision kinds."""

    locality_id: str
    decisions: int
    local: int

    @property
    def escalated(self) -> int:
        """Decision kinds escalated out of the locality."""
        return self.decisions - self.local

    @property
    def index(self) -> float | None:
        """Share made locally (0..1), None when no decision rights are recorded."""
        return self.local / self.decisions if self.decisions else None

    @property
    def escalated_share(self) -> float:
        """Share escalated (0 when none recorded)."""
        return self.escalated / self.decisions if self.decisions else 0.0


def local_by_default_index(snap: WorkspaceSnapshot, locality_id: str) -> LocalIndex:
    """The "local by default" index of a locality from its decision rights."""
    rights = [r for r in snap.of("decision_right") if r.locality_id == locality_id]
    return LocalIndex(locality_id, len(rights), sum(r.made == "local" for r in rights))


#: A purpose statement with what takes it up: the thread's row (one definition).
PurposeNode = PurposeThread


def purpose_tree(snap: WorkspaceSnapshot) -> list[PurposeNode]:
    """The purpose statements as a forest, each with its thread (see :mod:`.thread`)."""
    return thread_tree(snap)


def purpose_coverage(snap: WorkspaceSnapshot) -> float | None:
    """Share of purpose statements taken up by a measure, team or experiment."""
    flat: list[PurposeNode] = []
    stack = purpose_tree(snap)
    while stack:
        node = stack.pop()
        flat.append(node)
        stack.extend(node.children)
    return sum(n.covered for n in flat) / len(flat) if flat else None


@dataclass
class LocalityView:
    """A locality with its teams, decision rights and local-by-default index."""

    locality: Any
    teams: list[Any]
    decision_rights: list[Any]
    local_index: LocalIndex


def localities(snap: WorkspaceSnapshot) -> list[LocalityView]:
    """Every locality (by name) with its teams and decision rights."""
    out = []
    for loc in sorted(snap.of("locality"), key=lambda x: x.name.lower()):
        out.append(
            LocalityView(
                locality=loc,
                teams=[t for t in snap.of("team") if t.locality_id == loc.id],
                decision_rights=sorted(
                    (r for r in snap.of("decision_right") if r.locality_id == loc.id),
                    key=lambda r: r.decision_kind.lower(),
                ),
                local_index=local_by_default_index(snap, loc.id),
            )
        )
    return out


def system_conditions(snap: WorkspaceSnapshot) -> list[Any]:
    """The register of system conditions: harmful first, then by name."""
    order = {"harmful": 0, "unassessed": 1, "neutral": 2, "helpful": 3}
    return sorted(snap.of("system_condition"), key=lambda c: (order[c.judgement], c.name.lower()))


@dataclass
class ExperimentView:
    """An experiment with its linked evidence resolved to records."""

    experiment: Any
    purpose_statements: list[Any]
    measures: list[Any]
    stories: list[Any]
    status: str  # planned | running | ended | decided


def experiment_status(experiment: Any, today: date | None = None) -> str:
    """planned (not started), running, ended (no decision yet) or decided."""
    today = today or date.today()
    if experiment.decision is not None:
        return "decided"
    if experiment.start_date and experiment.start_date > today:
        return "planned"
    if experiment.end_date and experiment.end_date < today:
        return "ended"
    return "running" if experiment.start_date else "planned"


def experiments_timeline(
    snap: WorkspaceSnapshot, today: date | None = None
) -> list[ExperimentView]:
    """Experiments in start-date order (undated last) with their evidence."""
    purposes, measures, stories = (
        snap.by_id("purpose_statement"),
        snap.by_id("measure"),
        snap.by_id("story"),
    )
    views = [
        ExperimentView(
            experiment=e,
            purpose_statements=[purposes[i] for i in e.purpose_statement_ids if i in purposes],
            measures=[measures[i] for i in e.measure_ids if i in measures],
            stories=[stories[i] for i in e.story_ids if i in stories],
            status=experiment_status(e, today),
        )
        for e in snap.of("experiment")
    ]
    return sorted(
        views,
        key=lambda v: (
            v.experiment.start_date is None,
            v.experiment.start_date or date.min,
            v.experiment.title,
        ),
    )


@dataclass
class MapView:
    """A system map with its factors, links and the loops they form, named.

    ``named_loops`` carry the names stored with the map, new loops taking new
    names; ``names_given`` is every name given so far (what the store keeps).
    """

    system_map: Any
    factors: list[Any]
    links: list[Any]
    loops: list[Loop]
    named_loops: list[NamedLoop] = field(default_factory=list)
    names_given: list[Any] = field(default_factory=list)

    def loop_names(self, loop: Loop) -> list[str]:
        """The factor names of a loop, in causal order."""
        names = {f.id: f.name for f in self.factors}
        return [names[i] for i in loop.factors]

    def chain(self, loop: NamedLoop) -> str:
        """A loop as words: 'Failure demand → Workload → Failure demand'."""
        names = {f.id: f.name for f in self.factors}
        chain = [names[i] for i in loop.factors]
        return " → ".join([*chain, chain[0]])


def system_map(snap: WorkspaceSnapshot, map_id: str) -> MapView:
    """One map with its loops detected, classified and named (KeyError if absent).

    Loops of up to :data:`~systemic.framework.loops.MAX_LOOP_FACTORS` factors are
    found. Names come from the map's stored ``loop_names``; a loop not named yet
    gets the name the store will give it when the map's links next change.
    """
    the_map = snap.by_id("system_map")[map_id]
    factors = [f for f in snap.of("factor") if f.system_map_id == map_id]
    links = [c for c in snap.of("causal_link") if c.system_map_id == map_id]
    loops = find_loops(
        ((c.cause_id, c.effect_id, c.polarity, c.delay) for c in links),
        max_length=MAX_LOOP_FACTORS,
    )
    naming = name_loops(loops, the_map.loop_names, [f.id for f in factors])
    return MapView(the_map, factors, links, loops, naming.loops, naming.names)


@dataclass(frozen=True)
class Dashboard:
    """Counts across the four levels and the cycle, and the audit's headline."""

    counts: dict[str, int]
    purpose_coverage: float | None
    findings_by_severity: dict[str, int]


def dashboard(snap: WorkspaceSnapshot, findings: list[Any] | None = None) -> Dashboard:
    """A summary for the dashboard page."""
    from systemic.framework.audit import run_audit

    findings = run_audit(snap) if findings is None else findings
    by_severity = {"error": 0, "warning": 0, "info": 0}
    for f in findings:
        by_severity[f.severity] += 1
    return Dashboard(
        counts={kind: len(records) for kind, records in snap.objects.items()},
        purpose_coverage=purpose_coverage(snap),
        findings_by_severity=by_severity,
    )
