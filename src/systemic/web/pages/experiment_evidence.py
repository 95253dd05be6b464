"""An experiment's PDSA cycles and stored evidence; what a redesign decision rests on.

The experiment's page loads its evidence section from here (htmx, like a
measure's chart; without JavaScript the page links to it): the PDSA cycles in
date order with a form to add or edit one, the "Analyse" button, and every
stored analysis, newest first. The handlers only call the store
(:mod:`systemic.store.experiment_evidence`), which calls the framework.

A redesign decision's page loads what it rests on: the system conditions it
changes, the purpose statements it serves, its experiments with their latest
evidence, and the measures those experiments read (they follow the experiments:
nobody links them twice).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from systemic.framework.evidence import (
    WHOLE_AREA,
    EvidenceError,
    change_since_start,
    comparison_words,
)
from systemic.framework.kinds import object_path
from systemic.framework.model import MeasureEvidence, PDSACycle
from systemic.store import experiment_evidence
from systemic.store.errors import InvalidObjectError, NotFoundError
from systemic.web.deps import submitted_form
from systemic.web.pages.context import PageContext, page_context
from systemic.web.pages.forms import errors_by_field
from systemic.web.pages.site import render
from systemic.web.security.identity import require_role

router = APIRouter(include_in_schema=False)
VIEWER = [Depends(require_role("viewer"))]
EDITOR = [Depends(require_role("editor"))]

#: The fields of a PDSA cycle, in the order a cycle is told: (name, label, help, control).
CYCLE_FIELDS: list[tuple[str, str, str, str]] = [
    (
        name,
        info.title or name,
        info.description or "",
        "date" if name.endswith("_on") else "textarea",
    )
    for name, info in PDSACycle.model_fields.items()
]

#: How each conclusion is shown: a badge's words and its colour class.
CONCLUSION_BADGES: dict[str, tuple[str, str]] = {
    "improvement": ("Improvement", "ok"),
    "concern": ("Concern", "error"),
    "change": ("Changed", "warning"),
    "shared_change": ("Changed, not clearly beyond elsewhere", "warning"),
    "no_change": ("No change", "neutral"),
    "inconclusive": ("Inconclusive", "warning"),
    "not_analysed": ("Not analysed", "gap"),
}


def _is_fragment(request: Request) -> bool:
    return bool(request.headers.get("HX-Request")) and not request.headers.get("HX-Boosted")


def evidence_rows(found: MeasureEvidence) -> list[tuple[str, str]]:
    """The figures of one measure's stored evidence, labelled and formatted as its verdict.

    A share (p-chart) reads in per cent and its changes in percentage points, as the
    verdict beside it does; other levels to four significant digits. The changes
    and the difference in differences read on the scale they were computed on
    (relative changes in per cent: :func:`~systemic.framework.evidence.comparison_words`).
    """
    share = found.chart == "p"

    def level(x: float | None) -> str:
        if x is None:
            return "—"
        return f"{100 * x:.1f}%" if share else f"{x:.4g}"

    rows = [
        (
            "Source",
            found.source + (f", version {found.source_version}" if found.source_version else ""),
        ),
        ("Series read", found.locality or WHOLE_AREA),
        ("Improvement is", {"increase": "higher is better", "decrease": "lower is better"}.get(
            found.improvement, "no direction set")),
        ("Points before / since the start", f"{found.n_before} / {found.n_after}"),
    ]  # fmt: skip
    if found.baseline_mean is not None:
        rows.append(
            (
                "Before the start",
                f"mean {level(found.baseline_mean)}, limits {level(found.baseline_lower)} "
                f"to {level(found.baseline_upper)}",
            )
        )
    if found.did is not None:
        rows += [
            ("Change since the start", change_since_start(found)),
            ("Difference in differences (95% interval)", comparison_words(found)),
        ]
    rows += [("Note on the data", note) for note in found.notes]
    return rows


def _experiment_context(ctx: PageContext, record: Any) -> dict[str, Any]:
    snap = ctx.snapshot()
    measures = snap.by_id("measure")
    return {
        "record": record,
        "cycles": list(enumerate(record.pdsa_cycles)),
        "cycle_fields": CYCLE_FIELDS,
        "analyses": list(reversed(record.analyses)),
        "linked_measures": [measures[m] for m in record.measure_ids if m in measures],
        "badges": CONCLUSION_BADGES,
        "evidence_rows": evidence_rows,
    }


def _show_evidence(
    request: Request,
    ctx: PageContext,
    object_id: str,
    *,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    record = ctx.snapshot().by_id("experiment").get(object_id)
    if record is None:
        return HTMLResponse("<p>No such experiment.</p>", status_code=404)
    context = _experiment_context(ctx, record)
    context |= {"errors": errors or {}, "typed": typed or {}}
    if _is_fragment(request) and status_code == 200:
        return render(request, "_experiment_evidence.html", title="", **context)
    return render(
        request,
        "experiment_evidence.html",
        title=f"Evidence: {record.title}",
        active="/cycle",
        workspace_name=ctx.name,
        status_code=status_code,
        **context,
    )


@router.get("/experiments/{object_id}/evidence", response_class=HTMLResponse, dependencies=VIEWER)
def experiment_evidence_page(
    request: Request, object_id: str, ctx: PageContext = Depends(page_context)
) -> Response:
    """PDSA cycles and stored evidence: a fragment for htmx, or a whole page without it."""
    return _show_evidence(request, ctx, object_id)


def _back(object_id: str, anchor: str) -> RedirectResponse:
    return RedirectResponse(
        f"{object_path('experiment', object_id)}?saved=1#{anchor}", status_code=303
    )


@router.post("/experiments/{object_id}/analyse", dependencies=EDITOR)
def analyse_experiment(
    request: Request, object_id: str, ctx: PageContext = Depends(page_context)
) -> Response:
    """Run the evidence for every linked measure and store it as the next version."""
    try:
        experiment_evidence.analyse(ctx.session, ctx.workspace_id, object_id, actor=ctx.actor)
    except NotFoundError:
        return HTMLResponse("<p>No such experiment.</p>", status_code=404)
    except EvidenceError as error:
        ctx.session.rollback()
        message = str(error)
        return _show_evidence(
            request, ctx, object_id, errors={"analyse": message[:1].upper() + message[1:]},
            status_code=422,
        )  # fmt: skip
    ctx.session.commit()
    return _back(object_id, "evidence")


def _cycle_values(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, _label, _help, control in CYCLE_FIELDS:
        raw = str(form.get(name, "")).strip()
        values[name] = (raw or None) if control == "date" else raw
    return values


def _save_cycle(
    request: Request, ctx: PageContext, object_id: str, form: FormData, index: int | None
) -> Response:
    values = _cycle_values(form)
    try:
        experiment_evidence.save_cycle(
            ctx.session, ctx.workspace_id, object_id, values, index=index, actor=ctx.actor
        )
    except (NotFoundError, IndexError):
        return HTMLResponse("<p>No such experiment or cycle.</p>", status_code=404)
    except InvalidObjectError as error:
        ctx.session.rollback()
        # Problems come back as ("pdsa_cycles", n, field): file them under the field.
        problems = [{**p, "loc": tuple(p.get("loc", ()))[2:]} for p in error.errors]
        errors = {f"{'new' if index is None else index}:{k}": v
                  for k, v in errors_by_field(problems).items()}  # fmt: skip
        return _show_evidence(
            request, ctx, object_id, errors=errors,
            typed={"form": "new" if index is None else str(index), **values}, status_code=422,
        )  # fmt: skip
    ctx.session.commit()
    return _back(object_id, "pdsa")


@router.post("/experiments/{object_id}/cycles", dependencies=EDITOR)
def add_cycle(
    request: Request,
    object_id: str,
    ctx: PageContext = Depends(page_context),
    form: FormData = Depends(submitted_form),
) -> Response:
    """Add a PDSA cycle to the experiment."""
    return _save_cycle(request, ctx, object_id, form, None)


@router.post("/experiments/{object_id}/cycles/{index}", dependencies=EDITOR)
def edit_cycle(
    request: Request,
    object_id: str,
    index: int,
    ctx: PageContext = Depends(page_context),
    form: FormData = Depends(submitted_form),
) -> Response:
    """Change one PDSA cycle (numbered from 0 in date order)."""
    return _save_cycle(request, ctx, object_id, form, index)


def decision_grounds(snap: Any, decision: Any) -> dict[str, Any]:
    """What a redesign decision rests on: conditions, purposes, experiments, their measures.

    Measures come from two places, kept apart: those linked to the decision
    itself, and those its experiments read (they follow the experiments).
    """
    experiments = snap.by_id("experiment")
    measures = snap.by_id("measure")
    conditions = snap.by_id("system_condition")
    statements = snap.by_id("purpose_statement")
    rested = [experiments[e] for e in decision.experiment_ids if e in experiments]
    direct = [measures[m] for m in decision.measure_ids if m in measures]
    direct_ids = {m.id for m in direct}
    followed: list[Any] = []
    for experiment in rested:
        for measure_id in experiment.measure_ids:
            measure = measures.get(measure_id)
            if measure is not None and measure_id not in direct_ids and measure not in followed:
                followed.append(measure)
    return {
        "conditions": [conditions[c] for c in decision.system_condition_ids if c in conditions],
        "statements": [statements[p] for p in decision.purpose_statement_ids if p in statements],
        "experiments": [(e, e.analyses[-1] if e.analyses else None) for e in rested],
        "measures": direct,
        "followed_measures": followed,
    }


@router.get(
    "/redesign_decisions/{object_id}/grounds", response_class=HTMLResponse, dependencies=VIEWER
)
def decision_grounds_page(
    request: Request, object_id: str, ctx: PageContext = Depends(page_context)
) -> Response:
    """What a decision rests on: a fragment for htmx, or a whole page without it."""
    snap = ctx.snapshot()
    record = snap.by_id("redesign_decision").get(object_id)
    if record is None:
        return HTMLResponse("<p>No such redesign decision.</p>", status_code=404)
    context = {"record": record, "badges": CONCLUSION_BADGES, **decision_grounds(snap, record)}
    if _is_fragment(request):
        return render(request, "_decision_grounds.html", title="", **context)
    return render(
        request,
        "decision_grounds.html",
        title=f"What it rests on: {record.title}",
        active="/cycle",
        workspace_name=ctx.name,
        **context,
    )
