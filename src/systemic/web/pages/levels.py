"""The dashboard, one page per level, the learning cycle and the audit.

Each handler reads the workspace once (a snapshot), asks ``systemic.framework``
for the view it shows, and renders a template: no rules live here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from systemic.framework import purpose_thread, views
from systemic.framework.evidence import evidence_summary
from systemic.framework.kinds import KINDS
from systemic.web.pages.context import PageContext, page_context
from systemic.web.pages.site import render
from systemic.web.security.identity import require_role

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_role("viewer"))])


@router.get("/", response_class=HTMLResponse)
def dashboard_page(request: Request, ctx: PageContext = Depends(page_context)) -> Response:
    """The dashboard: counts per level, the purpose thread, the audit headline, loops."""
    snap = ctx.snapshot()
    findings = ctx.findings(snap)
    summary = views.dashboard(snap, findings)
    rights = snap.of("decision_right")
    local_share = sum(r.made == "local" for r in rights) / len(rights) if rights else None
    running = sum(views.experiment_status(e) == "running" for e in snap.of("experiment"))
    loops: list[tuple[str, str, str]] = []
    for the_map in snap.of("system_map"):
        view = views.system_map(snap, the_map.id)
        loops += [(loop.name, loop.kind, view.chain(loop)) for loop in view.named_loops]
    return render(
        request,
        "dashboard.html",
        title="Dashboard",
        active="/",
        workspace_name=ctx.name,
        summary=summary,
        harmful=sum(c.judgement == "harmful" for c in snap.of("system_condition")),
        local_share=local_share,
        running=running,
        thread=purpose_thread(snap),
        loops=loops,
    )


@router.get("/mission", response_class=HTMLResponse)
def mission_page(request: Request, ctx: PageContext = Depends(page_context)) -> Response:
    """Purpose: the tree of purpose statements with coverage, and the measures."""
    snap = ctx.snapshot()
    purposes = snap.by_id("purpose_statement")
    return render(
        request,
        "mission.html",
        title="Purpose",
        active="/mission",
        workspace_name=ctx.name,
        tree=views.purpose_tree(snap),
        coverage=views.purpose_coverage(snap),
        measures=snap.of("measure"),
        teams=snap.by_id("team"),
        purposes_of=lambda m: [purposes[i] for i in m.purpose_statement_ids if i in purposes],
        voice_label=lambda v: KINDS["purpose_statement"].choice_label("voice", v),
    )


@router.get("/paradigm", response_class=HTMLResponse)
def paradigm_page(request: Request, ctx: PageContext = Depends(page_context)) -> Response:
    """Principles and the system-conditions register."""
    snap = ctx.snapshot()
    principles = snap.by_id("principle")
    return render(
        request,
        "paradigm.html",
        title="Principles & conditions",
        active="/paradigm",
        workspace_name=ctx.name,
        principles=snap.of("principle"),
        conditions=views.system_conditions(snap),
        principles_of=lambda c: [principles[i] for i in c.principle_ids if i in principles],
        conditions_against=lambda p: snap.linked_to("system_condition", "principle_ids", p.id),
    )


@router.get("/organisation", response_class=HTMLResponse)
def organisation_page(request: Request, ctx: PageContext = Depends(page_context)) -> Response:
    """Localities with their teams, decision rights and local-by-default index."""
    snap = ctx.snapshot()
    localities = snap.by_id("locality")
    return render(
        request,
        "organisation.html",
        title="Localities & teams",
        active="/organisation",
        workspace_name=ctx.name,
        localities=views.localities(snap),
        unplaced_teams=[t for t in snap.of("team") if t.locality_id not in localities],
    )


def trust_trend(relationship: Any) -> str:
    """How trust moved from the first observation to the last, in words."""
    first, last = relationship.observations[0].trust, relationship.observations[-1].trust
    if last > first:
        return f"up from {first}"
    if last < first:
        return f"down from {first}"
    return "unchanged"


@router.get("/people", response_class=HTMLResponse)
def people_page(request: Request, ctx: PageContext = Depends(page_context)) -> Response:
    """Conversations, stories, community assets and relationships."""
    snap = ctx.snapshot()
    newest_first = lambda records, field: sorted(  # noqa: E731
        records, key=lambda r: (getattr(r, field) or date.min, r.created_at), reverse=True
    )
    return render(
        request,
        "people.html",
        title="People & communities",
        active="/people",
        workspace_name=ctx.name,
        conversations=newest_first(snap.of("conversation"), "held_on"),
        stories=newest_first(snap.of("story"), "told_on"),
        assets=snap.of("community_asset"),
        relationships=snap.of("relationship"),
        locality_names={loc.id: loc.name for loc in snap.of("locality")},
        trend=trust_trend,
    )


@dataclass
class Timeline:
    """Experiments as bars on a shared date axis (percentages of its width)."""

    start: date | None
    end: date | None
    today: float | None
    bars: list[dict[str, Any]]


def experiment_timeline(experiments: list[Any], today: date | None = None) -> Timeline:
    """Lay out dated experiments on one axis; an experiment with no end runs to today.

    >>> from types import SimpleNamespace as E
    >>> t = experiment_timeline([E(id="a", title="A", start_date=date(2026, 1, 1),
    ...                            end_date=date(2026, 1, 11))], today=date(2026, 1, 6))
    >>> (t.bars[0]["left"], t.bars[0]["width"], t.today)
    (0.0, 100.0, 50.0)
    """
    today = today or date.today()
    dated = [e for e in experiments if e.start_date is not None]
    if not dated:
        return Timeline(None, None, None, [])
    ends = [e.end_date or max(today, e.start_date) for e in dated]
    start = min(e.start_date for e in dated)
    end = max(ends)
    span = max((end - start).days, 1)
    bars = []
    for experiment, finish in zip(dated, ends, strict=True):
        left = (experiment.start_date - start).days / span * 100
        width = max((finish - experiment.start_date).days / span * 100, 1.0)
        bars.append(
            {
                "id": experiment.id,
                "title": experiment.title,
                "left": round(left, 2),
                "width": round(min(width, 100 - left), 2),
                "open": experiment.end_date is None,
                "dates": f"{experiment.start_date} to {experiment.end_date or 'now'}",
            }
        )
    marker = (today - start).days / span * 100
    return Timeline(start, end, round(marker, 2) if 0 <= marker <= 100 else None, bars)


@router.get("/cycle", response_class=HTMLResponse)
def cycle_page(request: Request, ctx: PageContext = Depends(page_context)) -> Response:
    """Experiments on a timeline with their evidence, and redesign decisions."""
    snap = ctx.snapshot()
    timeline_views = views.experiments_timeline(snap)
    by_kind = {name: snap.by_id(name) for name in ("experiment", "measure", "story")}

    def evidence_of(decision: Any) -> list[tuple[str, Any]]:
        items = []
        for name, field in (
            ("experiment", "experiment_ids"),
            ("measure", "measure_ids"),
            ("story", "story_ids"),
        ):
            known = by_kind[name]
            items += [(name, known[i]) for i in getattr(decision, field) if i in known]
        return items

    return render(
        request,
        "cycle.html",
        title="Learning cycle",
        active="/cycle",
        workspace_name=ctx.name,
        experiments=timeline_views,
        timeline=experiment_timeline([v.experiment for v in timeline_views]),
        decisions=sorted(
            snap.of("redesign_decision"),
            key=lambda d: (d.decided_on or date.min, d.created_at),
            reverse=True,
        ),
        evidence_of=evidence_of,
        evidence_summary=evidence_summary,
        locality_names={loc.id: loc.name for loc in snap.of("locality")},
        team_names={t.id: t.name for t in snap.of("team")},
    )


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, ctx: PageContext = Depends(page_context)) -> Response:
    """The coherence audit: findings grouped by rule, most severe first, with links."""
    snap = ctx.snapshot()
    findings = ctx.findings(snap)
    groups: dict[str, dict[str, Any]] = {}
    for finding in findings:
        group = groups.setdefault(
            finding.rule_id,
            {
                "rule_id": finding.rule_id,
                "severity": finding.severity,
                "title": finding.title,
                "why": finding.why,
                "findings": [],
            },
        )
        group["findings"].append(finding)
    counts = {"error": 0, "warning": 0, "info": 0}
    for finding in findings:
        counts[finding.severity] += 1
    return render(
        request,
        "audit.html",
        title="Audit",
        active="/audit",
        workspace_name=ctx.name,
        findings=findings,
        groups=list(groups.values()),
        counts=counts,
        rules=ctx.rules(),
        kind_label=lambda name: KINDS[name].label,
    )
