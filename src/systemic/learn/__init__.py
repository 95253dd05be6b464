"""Learn how the system works from the person's point of view.

Journeys across silos cut into needs (episodes) that never cut a case;
cases and their durations as in process mining; hand-offs, repeat contacts
and rework; flow maps (directly-follows graphs) of services and activities;
variants; classified and inferred value and failure demand, failure work;
and what failure costs, everything by locality with small numbers
suppressed for publication. Every figure is defined in docs/learn.md.

>>> import datetime as dt, polars as pl
>>> from systemic.learn import learn_events
>>> t = lambda d: dt.datetime(2024, 1, d, tzinfo=dt.UTC)
>>> ev = pl.DataFrame({"person_id": ["a", "a"], "service": ["Housing", "Benefits"],
...     "activity": ["call", "claim"], "timestamp": [t(1), t(3)]})
>>> learn_events(ev).summary().median_need_days
2.0
"""

from systemic.learn.charts import learn_charts, render_chart
from systemic.learn.config import LearnConfig
from systemic.learn.costs import UnitCost, UnitCostError, UnitCostTable, load_unit_costs
from systemic.learn.demand import SIGNAL_RULES, DemandAnalysis
from systemic.learn.flow import FlowMap
from systemic.learn.headlines import headline_sentences
from systemic.learn.journeys import annotate_events, episodes
from systemic.learn.outputs import write_outputs
from systemic.learn.partition import learn_partition, person_partition
from systemic.learn.pipeline import learn, learn_events
from systemic.learn.publish import published_summary, published_tables
from systemic.learn.result import CostOfFailure, LearnResult, Summary

__all__ = [
    "SIGNAL_RULES",
    "CostOfFailure",
    "DemandAnalysis",
    "FlowMap",
    "LearnConfig",
    "LearnResult",
    "Summary",
    "UnitCost",
    "UnitCostError",
    "UnitCostTable",
    "annotate_events",
    "episodes",
    "headline_sentences",
    "learn",
    "learn_charts",
    "learn_events",
    "learn_partition",
    "load_unit_costs",
    "person_partition",
    "published_summary",
    "published_tables",
    "render_chart",
    "write_outputs",
]
