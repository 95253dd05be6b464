"""Measures read as variation: SPC charts, funnel plots and evidence from experiments.

Compute first, render after: chart functions return an :class:`SPCResult`
(a Polars table of limits and point types); icons, summaries and charts read it.

>>> import polars as pl
>>> from systemic.measures import xmr_chart, variation_icon
>>> frame = pl.DataFrame({"date": pl.date_range(
...     pl.date(2024, 1, 1), pl.date(2024, 1, 5), eager=True), "value": [1, 2, 3, 2, 1]})
>>> variation_icon(xmr_chart(frame))
'common_cause'
"""

from systemic.measures.attribute import c_chart, g_chart, p_chart, spc_chart, t_chart, u_chart
from systemic.measures.chart import (
    chart_spec,
    funnel_spec,
    render_png,
    render_svg,
    write_chart,
    write_funnel_chart,
)
from systemic.measures.errors import MeasuresError, SeriesError, SPCOptionError
from systemic.measures.experiment import (
    DifferenceInDifferences,
    ExperimentEvidence,
    difference_in_differences,
    experiment_evidence,
)
from systemic.measures.funnel import FunnelResult, funnel_plot
from systemic.measures.rules import POINT_TYPES, RULE_SETS, detect_special_causes
from systemic.measures.series import read_measure_csv, read_series
from systemic.measures.spc import SPCOptions, SPCResult, prepare_series, xmr_chart
from systemic.measures.summary import (
    ChartReading,
    assurance_icon,
    read_chart,
    summarise,
    variation_icon,
)

__all__ = [
    "POINT_TYPES",
    "RULE_SETS",
    "ChartReading",
    "DifferenceInDifferences",
    "ExperimentEvidence",
    "FunnelResult",
    "MeasuresError",
    "SPCOptionError",
    "SPCOptions",
    "SPCResult",
    "SeriesError",
    "assurance_icon",
    "c_chart",
    "chart_spec",
    "detect_special_causes",
    "difference_in_differences",
    "experiment_evidence",
    "funnel_plot",
    "funnel_spec",
    "g_chart",
    "p_chart",
    "prepare_series",
    "read_chart",
    "read_measure_csv",
    "read_series",
    "render_png",
    "render_svg",
    "spc_chart",
    "summarise",
    "t_chart",
    "u_chart",
    "variation_icon",
    "write_chart",
    "write_funnel_chart",
    "xmr_chart",
]
