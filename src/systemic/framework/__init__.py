"""The workspace's domain: purpose, system conditions, organisation, people, the cycle.

Pure Python (pydantic models and rules); ``systemic.store`` persists it and
``systemic.web`` serves it.

>>> from systemic.framework import WorkspaceSnapshot, run_audit
>>> snap = WorkspaceSnapshot.empty()
>>> _ = snap.add("locality", {"name": "Riverside"}, "r")
>>> [f.rule_id for f in run_audit(snap)]
['locality-without-team']
"""

from systemic.framework.audit import (
    AuditRule,
    AuditRulesError,
    Finding,
    load_rules,
    parse_rules,
    run_audit,
)
from systemic.framework.kinds import KINDS, KINDS_BY_PLURAL, Kind, api_path, object_path, title_of
from systemic.framework.loops import Loop, find_loops
from systemic.framework.snapshot import WorkspaceSnapshot
from systemic.framework.thread import PurposeThread, purpose_thread, thread_tree
from systemic.framework.views import (
    Dashboard,
    ExperimentView,
    LocalIndex,
    LocalityView,
    MapView,
    PurposeNode,
    dashboard,
    experiment_status,
    experiments_timeline,
    local_by_default_index,
    localities,
    purpose_coverage,
    purpose_tree,
    system_conditions,
    system_map,
)

__all__ = [
    "KINDS",
    "KINDS_BY_PLURAL",
    "AuditRule",
    "AuditRulesError",
    "Dashboard",
    "ExperimentView",
    "Finding",
    "Kind",
    "LocalIndex",
    "LocalityView",
    "Loop",
    "MapView",
    "PurposeNode",
    "PurposeThread",
    "WorkspaceSnapshot",
    "api_path",
    "dashboard",
    "experiment_status",
    "experiments_timeline",
    "find_loops",
    "load_rules",
    "local_by_default_index",
    "localities",
    "object_path",
    "parse_rules",
    "purpose_coverage",
    "purpose_thread",
    "purpose_tree",
    "run_audit",
    "system_conditions",
    "system_map",
    "thread_tree",
    "title_of",
]
