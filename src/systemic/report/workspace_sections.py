"""The four levels and the cycle, read from a workspace database, as report sections.

Mission (purpose statements and what takes them up), Paradigm (system
conditions), Organisation (localities, teams, local-by-default index),
People & communities (stories told with consent, community assets), the
cycle (experiments and redesign decisions) and the coherence audit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from systemic.framework import (
    experiments_timeline,
    localities,
    purpose_thread,
    run_audit,
    system_conditions,
    system_map,
)
from systemic.framework.evidence import evidence_summary
from systemic.report.document import Figure, KeyFigure, Section, Table
from systemic.report.system_map_svg import render_map_view
from systemic.store import load_snapshot, open_store


def _frame(rows: list[dict[str, Any]], columns: list[str]) -> pl.DataFrame:
    return (
        pl.DataFrame(rows, schema={c: pl.String for c in columns})
        if rows
        else pl.DataFrame(schema={c: pl.String for c in columns})
    )


def workspace_sections(db: str | Path, workspace: str | None = None) -> list[Section]:
    """Sections for each level and the cycle from the workspace at ``db``
    (``workspace``, else ``default``, else the only one)."""
    from systemic.store.repository import pick_workspace

    store = open_store(db, migrate=False)
    try:
        with store.session() as session:
            snap = load_snapshot(session, pick_workspace(session, workspace).id)
    finally:
        store.dispose()
    return snapshot_sections(snap)


def snapshot_sections(snap: Any) -> list[Section]:
    """Sections for each level and the cycle from a workspace snapshot."""
    sections = []
    thread = purpose_thread(snap)
    covered = sum(row.covered for row in thread)
    mission = Section(
        id="mission",
        title="Mission: purpose in the words of the people served",
        intro="Purpose statements, broader ones first, with the thread from each to change: "
        "measures derived from it, experiments that test it (naming it or using one of its "
        "measures), the evidence they hold, the redesign decisions that rest on them, and "
        "the teams that work to it.",
        key_figures=[
            KeyFigure("purpose statements", str(len(thread))),
            KeyFigure(
                "taken up", f"{covered} of {len(thread)}", "by a measure, team or experiment"
            ),
        ],
    )

    def names(records: list[Any], attribute: str) -> str:
        return ", ".join(getattr(r, attribute) for r in records) or "none"

    mission.tables.append(
        Table(
            "Purpose statements and their thread",
            _frame(
                [
                    {
                        "statement": ("— " * row.depth) + row.statement.text,
                        "voice": row.statement.voice,
                        "measures": names(row.measures, "name"),
                        "experiments": names(row.experiments, "title"),
                        "evidence": names(row.evidence, "title"),
                        "redesign decisions": names(row.decisions, "title"),
                        "teams": names(row.teams, "name"),
                    }
                    for row in thread
                ],
                [
                    "statement",
                    "voice",
                    "measures",
                    "experiments",
                    "evidence",
                    "redesign decisions",
                    "teams",
                ],
            ),
        )
    )
    sections.append(mission)

    conditions = system_conditions(snap)
    harmful = [c for c in conditions if c.judgement == "harmful"]
    paradigm = Section(
        id="paradigm",
        title="Paradigm: the system conditions that shape behaviour",
        intro="Rules, targets, funding rules and IT systems examined for the demand and "
        "behaviour they cause, and what is proposed instead.",
        key_figures=[
            KeyFigure("system conditions", str(len(conditions))),
            KeyFigure("judged harmful", str(len(harmful))),
            KeyFigure("changeable locally", str(sum(c.changeable_locally for c in conditions))),
        ],
    )
    paradigm.tables.append(
        Table(
            "System conditions register",
            _frame(
                [
                    {
                        "condition": c.name,
                        "kind": c.kind.replace("_", " "),
                        "judgement": c.judgement,
                        "effect": c.effect,
                        "proposal": c.proposal or "(none yet)",
                        "status": c.status,
                    }
                    for c in conditions
                ],
                ["condition", "kind", "judgement", "effect", "proposal", "status"],
            ),
        )
    )
    for the_map in snap.of("system_map"):
        view = system_map(snap, the_map.id)
        loops = view.named_loops
        paradigm.figures.append(
            Figure(
                f"System map: {the_map.name}",
                (
                    "Loops: " + "; ".join(f"{lp.name} {lp.kind}: {view.chain(lp)}" for lp in loops)
                    if loops
                    else "No feedback loops on this map yet."
                ),
                render_map_view(view),
            )
        )
    sections.append(paradigm)

    locs = localities(snap)
    organisation = Section(
        id="organisation",
        title="Organisation: local by default",
        intro="Each locality with its teams and where its decisions are made: the local-by-"
        "default index is the share of decision kinds made in the locality.",
    )
    organisation.tables.append(
        Table(
            "Localities",
            _frame(
                [
                    {
                        "locality": v.locality.name,
                        "population": ""
                        if v.locality.population is None
                        else f"{v.locality.population:,}",
                        "teams": ", ".join(t.name for t in v.teams) or "(no team)",
                        "decisions made locally": (
                            "not recorded"
                            if v.local_index.index is None
                            else f"{v.local_index.local} of {v.local_index.decisions}"
                        ),
                    }
                    for v in locs
                ],
                ["locality", "population", "teams", "decisions made locally"],
            ),
        )
    )
    sections.append(organisation)

    stories = [s for s in snap.of("story") if s.consent]
    assets = snap.of("community_asset")
    people = Section(
        id="people",
        title="People and communities",
        intro="Stories told with consent, in the teller's words, and the community strengths "
        "the teams work with.",
        key_figures=[
            KeyFigure("stories (with consent)", str(len(stories))),
            KeyFigure("community assets", str(len(assets))),
        ],
    )
    for s in stories:
        people.paragraphs.append(f"“{s.text}” — {s.told_by or 'resident'} ({s.title})")
    if assets:
        people.tables.append(
            Table(
                "Community assets",
                _frame(
                    [
                        {"asset": a.name, "kind": a.kind, "what it offers": a.description}
                        for a in assets
                    ],
                    ["asset", "kind", "what it offers"],
                ),
            )
        )
    sections.append(people)

    timeline = experiments_timeline(snap)
    decisions = snap.of("redesign_decision")
    conditions_by_id = snap.by_id("system_condition")
    cycle = Section(
        id="cycle",
        title="The cycle: experiments and redesign decisions",
        intro="Step 1 tries a change in one place and measures it; step 2 redesigns the "
        "system from that evidence.",
    )
    cycle.tables.append(
        Table(
            "Experiments",
            _frame(
                [
                    {
                        "experiment": v.experiment.title,
                        "dates": (
                            f"{v.experiment.start_date or '?'} to {v.experiment.end_date or '?'}"
                        ),
                        "measures": ", ".join(m.name for m in v.measures) or "(none)",
                        "result": v.experiment.result or "(not yet)",
                        "evidence": evidence_summary(
                            v.experiment.analyses[-1] if v.experiment.analyses else None
                        ),
                        "decision": v.experiment.decision or "",
                    }
                    for v in timeline
                ],
                ["experiment", "dates", "measures", "result", "evidence", "decision"],
            ),
        )
    )
    if decisions:
        cycle.tables.append(
            Table(
                "Redesign decisions",
                _frame(
                    [
                        {
                            "decision": d.title,
                            "level": d.level,
                            "change": d.change,
                            "evidence": (
                                f"{len(d.experiment_ids)} experiment(s), "
                                f"{len(d.measure_ids)} measure(s), {len(d.story_ids)} story(ies)"
                            ),
                            "conditions changed": ", ".join(
                                conditions_by_id[c].name
                                for c in d.system_condition_ids
                                if c in conditions_by_id
                            ),
                            "review": str(d.review_date or ""),
                        }
                        for d in decisions
                    ],
                    ["decision", "level", "change", "evidence", "conditions changed", "review"],
                ),
            )
        )
    sections.append(cycle)

    findings = run_audit(snap)
    audit = Section(
        id="audit",
        title="Coherence audit: where the thread from purpose to change is broken",
        intro="Checks of the links the framework depends on. Each finding says why it matters.",
        key_figures=[
            KeyFigure(sev + "s", str(sum(f.severity == sev for f in findings)))
            for sev in ("error", "warning", "info")
        ],
    )
    audit.tables.append(
        Table(
            "Findings",
            _frame(
                [
                    {
                        "severity": f.severity,
                        "finding": f.title,
                        "object": f.object_title,
                        "why it matters": f.why,
                    }
                    for f in findings
                ],
                ["severity", "finding", "object", "why it matters"],
            ),
        )
    )
    sections.append(audit)
    return sections
