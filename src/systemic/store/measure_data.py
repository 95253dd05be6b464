"""Load what a measure's chart and an experiment's evidence read, from the workspace.

One loader for both: the measure's page and an experiment's "Analyse" call
:func:`load_measure_data`, so a chart and the evidence stored beside it are
computed from the same values and name the same source version.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from systemic.framework.measure_data import (
    MeasureData,
    empty_series,
    learnt_measure_data,
    uploaded_measure_data,
)
from systemic.store.learn_results import NoSuchLearnResultError, learn_result_table


def load_measure_data(
    session: Session, workspace_id: str, measure: Any, *, version: int | None = None
) -> MeasureData:
    """The data of ``measure`` (a stored measure record) as its source holds it now.

    A measure drawing on a learn result reads its newest version (or ``version``,
    to look back at an earlier extract); an uploaded series is read as stored.
    A measure not yet connected, or naming a learn result the workspace does not
    hold, gets an empty series and a ``problem`` saying what to do.
    """
    improvement = getattr(measure, "improvement", "neutral") or "neutral"
    if measure.data_source == "learn":
        if not measure.learn_result:
            return MeasureData(
                measure.id,
                empty_series(),
                source="learn",
                improvement=improvement,
                problem="no learn result is named yet: fill in 'Learn result'",
            )
        try:
            info, table = learn_result_table(
                session, workspace_id, measure.learn_result, measure.period, version
            )
        except NoSuchLearnResultError as error:
            return MeasureData(
                measure.id,
                empty_series(),
                source=measure.learn_result,
                improvement=improvement,
                problem=str(error),
            )
        return learnt_measure_data(
            measure, table, source=info.name, source_version=str(info.version)
        )
    return uploaded_measure_data(measure)


__all__ = ["load_measure_data"]
