"""An experiment's PDSA cycles and stored evidence, kept on the experiment.

"Analyse" reads each linked measure's data with the loader its chart uses
(:func:`systemic.store.measure_data.load_measure_data`: an uploaded series, or
the newest version of the learn result it draws on), runs
:func:`systemic.framework.evidence.analyse_experiment` on it and appends the
result to the experiment's ``analyses``: a re-run adds a version and earlier
versions stay, each with the measures' sources and versions, the start date it
read, when and by whom. Both changes go through :func:`repository.update`, so
the experiment's history records them like any other edit. The caller commits.

>>> from datetime import date
>>> from systemic.store import open_store, repository
>>> store = open_store("sqlite://")
>>> with store.session() as s:
...     ws = repository.ensure_default_workspace(s)
...     m = repository.create(s, ws.id, "measure", {"name": "Repeat calls", "series": [
...         {"period": f"2026-01-{d:02d}", "value": v}
...         for d, v in zip(range(1, 9), [4, 5, 4, 5, 4, 5, 4, 5])]})
...     e = repository.create(s, ws.id, "experiment", {"title": "One call",
...         "start_date": date(2026, 1, 5), "measure_ids": [m.id]})
...     first = analyse(s, ws.id, e.id, actor="ana")
...     again = analyse(s, ws.id, e.id, actor="ana")
...     [a.version for a in repository.get(s, ws.id, "experiment", e.id).analyses]
[1, 2]
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from systemic.framework.evidence import analyse_experiment
from systemic.framework.measure_data import MeasureData
from systemic.framework.model import EvidenceAnalysis, PDSACycle
from systemic.store import repository
from systemic.store.measure_data import load_measure_data

#: Reads a measure's data: (session, workspace id, measure record) -> MeasureData.
MeasureLoader = Callable[[Session, str, Any], MeasureData]


def analyse(
    session: Session,
    workspace_id: str,
    experiment_id: str,
    *,
    actor: str | None = None,
    load: MeasureLoader = load_measure_data,
    at: datetime | None = None,
) -> EvidenceAnalysis:
    """Analyse an experiment's measures and store the result as its next version.

    Raises :class:`~systemic.framework.evidence.EvidenceError` (saying what to fill
    in) when the experiment has no start date or no measure.
    """
    experiment = repository.get(session, workspace_id, "experiment", experiment_id)
    measures = [
        repository.get(session, workspace_id, "measure", measure_id)
        for measure_id in experiment.measure_ids
    ]
    locality = (
        repository.get(session, workspace_id, "locality", experiment.locality_id).name
        if experiment.locality_id
        else None
    )
    analysis = analyse_experiment(
        experiment,
        [load(session, workspace_id, measure) for measure in measures],
        names={m.id: m.name for m in measures},
        charts={m.id: m.chart for m in measures},
        locality=locality,
        analysed_by=actor or repository.ANONYMOUS,
        analysed_at=at or datetime.now(UTC),
    )
    repository.update(
        session,
        workspace_id,
        "experiment",
        experiment_id,
        {"analyses": [*experiment.analyses, analysis]},
        actor=actor,
    )
    return analysis


def save_cycle(
    session: Session,
    workspace_id: str,
    experiment_id: str,
    cycle: dict[str, Any] | PDSACycle,
    *,
    index: int | None = None,
    actor: str | None = None,
) -> Any:
    """Add a PDSA cycle to an experiment (``index`` None), or replace the one at ``index``.

    Cycles are kept in date order, so a cycle's index can change when its dates do.
    Raises :class:`~systemic.store.errors.InvalidObjectError` for a cycle that does
    not validate (the problems name the cycle's field).
    """
    experiment = repository.get(session, workspace_id, "experiment", experiment_id)
    cycles: list[Any] = list(experiment.pdsa_cycles)
    if index is None:
        cycles.append(cycle)
    elif 0 <= index < len(cycles):
        cycles[index] = cycle
    else:
        raise IndexError(f"experiment {experiment_id} has no PDSA cycle {index + 1}")
    return repository.update(
        session, workspace_id, "experiment", experiment_id, {"pdsa_cycles": cycles}, actor=actor
    )


__all__ = ["MeasureLoader", "analyse", "save_cycle"]
