"""The coherence audit: checks the links the framework depends on.

The rules are data (``audit_rules.toml`` shipped with the package, overridable
by a user's TOML file): id, severity, whether enabled, a title, why it matters,
and parameters. Each rule id names one check below; a check is a pure function
over a :class:`~systemic.framework.snapshot.WorkspaceSnapshot`.

>>> from systemic.framework.snapshot import WorkspaceSnapshot
>>> snap = WorkspaceSnapshot.empty()
>>> _ = snap.add("measure", {"name": "Calls answered", "kind": "process", "target": 100}, "m1")
>>> sorted(f.rule_id for f in run_audit(snap))
['measure-without-purpose', 'target-on-activity']
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from systemic.framework.kinds import object_path, title_of
from systemic.framework.snapshot import WorkspaceSnapshot

Severity = Literal["error", "warning", "info"]
SEVERITY_ORDER: dict[str, int] = {"error": 0, "warning": 1, "info": 2}


class AuditRulesError(ValueError):
    """An audit rules file is invalid; the message names the file, rule and key."""


class AuditRule(BaseModel):
    """One rule of the audit, as configured."""

    model_config = ConfigDict(extra="forbid")

    id: str
    severity: Severity
    title: str
    why: str
    enabled: bool = True
    params: dict[str, Any] = Field(default_factory=dict)


@dataclass(frozen=True)
class Finding:
    """One problem found: which rule, how severe, which object and where to see it."""

    rule_id: str
    severity: Severity
    title: str
    why: str
    kind: str
    object_id: str
    object_title: str
    message: str
    path: str

    def as_dict(self) -> dict[str, str]:
        """A JSON-ready dict of the finding."""
        return dict(self.__dict__)


Check = Callable[[WorkspaceSnapshot, AuditRule, date], Iterator[tuple[str, Any, str]]]
#: rule id -> check yielding (kind, record, message) for each object that fails it.
CHECKS: dict[str, Check] = {}


def check(rule_id: str) -> Callable[[Check], Check]:
    """Register the check run for a rule id."""

    def register(fn: Check) -> Check:
        CHECKS[rule_id] = fn
        return fn

    return register


@check("measure-without-purpose")
def _measure_without_purpose(snap: WorkspaceSnapshot, rule: AuditRule, today: date):
    for measure in snap.of("measure"):
        if not measure.purpose_statement_ids:
            yield (
                "measure",
                measure,
                f"Measure '{measure.name}' is derived from no purpose statement.",
            )


@check("target-on-activity")
def _target_on_activity(snap: WorkspaceSnapshot, rule: AuditRule, today: date):
    kinds = set(rule.params.get("kinds", ["process", "demand"]))
    for measure in snap.of("measure"):
        if measure.target is not None and measure.kind in kinds:
            yield (
                "measure",
                measure,
                f"Measure '{measure.name}' ({measure.kind}) has a target of {measure.target:g}.",
            )


@check("purpose-unconnected")
def _purpose_unconnected(snap: WorkspaceSnapshot, rule: AuditRule, today: date):
    for statement in snap.of("purpose_statement"):
        sid = statement.id
        linked = (
            snap.linked_to("measure", "purpose_statement_ids", sid)
            or snap.linked_to("team", "purpose_statement_ids", sid)
            or snap.linked_to("experiment", "purpose_statement_ids", sid)
        )
        if not linked:
            yield "purpose_statement", statement, "No measure, team or experiment takes it up."


@check("experiment-without-measure")
def _experiment_without_measure(snap: WorkspaceSnapshot, rule: AuditRule, today: date):
    for experiment in snap.of("experiment"):
        if not experiment.measure_ids:
            yield "experiment", experiment, f"Experiment '{experiment.title}' has no measure."


@check("experiment-without-result")
def _experiment_without_result(snap: WorkspaceSnapshot, rule: AuditRule, today: date):
    for experiment in snap.of("experiment"):
        ended = experiment.end_date is not None and experiment.end_date < today
        if ended and (not experiment.result or experiment.decision is None):
            missing = " and ".join(
                name
                for name, present in (
                    ("result", experiment.result),
                    ("decision", experiment.decision),
                )
                if not present
            )
            yield (
                "experiment",
                experiment,
                f"Ended {experiment.end_date.isoformat()} with no {missing} recorded.",
            )


@check("redesign-without-evidence")
def _redesign_without_evidence(snap: WorkspaceSnapshot, rule: AuditRule, today: date):
    # Evidence is a measure, or an experiment that was analysed: an experiment linked
    # but never analysed holds no evidence yet, however well it went in words.
    experiments = snap.by_id("experiment")
    for decision in snap.of("redesign_decision"):
        linked = [experiments[e] for e in decision.experiment_ids if e in experiments]
        if decision.measure_ids or any(e.analyses for e in linked):
            continue
        if linked:
            names = ", ".join(f"'{e.title}'" for e in linked)
            message = (
                f"Its experiments ({names}) hold no stored evidence: analyse them on their "
                "pages, or link the measure the decision rests on."
            )
        else:
            message = "No analysed experiment and no measure is linked."
        yield "redesign_decision", decision, message


@check("locality-without-team")
def _locality_without_team(snap: WorkspaceSnapshot, rule: AuditRule, today: date):
    served = {team.locality_id for team in snap.of("team")}
    for locality in snap.of("locality"):
        if locality.id not in served:
            yield "locality", locality, f"No team serves {locality.name}."


@check("decisions-mostly-escalated")
def _decisions_mostly_escalated(snap: WorkspaceSnapshot, rule: AuditRule, today: date):
    from systemic.framework.views import local_by_default_index

    threshold = float(rule.params.get("threshold", 0.5))
    for locality in snap.of("locality"):
        index = local_by_default_index(snap, locality.id)
        if index.decisions and index.escalated_share > threshold:
            yield (
                "locality",
                locality,
                f"{index.escalated} of {index.decisions} decision kinds are escalated "
                f"(more than {threshold:.0%}).",
            )


@check("harmful-condition-without-proposal")
def _harmful_condition_without_proposal(snap: WorkspaceSnapshot, rule: AuditRule, today: date):
    for condition in snap.of("system_condition"):
        if condition.judgement == "harmful" and not condition.proposal:
            yield "system_condition", condition, f"'{condition.name}' is judged harmful."


@check("harmful-condition-without-decision")
def _harmful_condition_without_decision(snap: WorkspaceSnapshot, rule: AuditRule, today: date):
    changed = {c for d in snap.of("redesign_decision") for c in d.system_condition_ids}
    for condition in snap.of("system_condition"):
        if condition.judgement == "harmful" and condition.id not in changed:
            yield (
                "system_condition",
                condition,
                f"'{condition.name}' is judged harmful and no redesign decision changes it.",
            )


def default_rules_text() -> str:
    """The TOML text of the rules shipped with systemic."""
    return resources.files("systemic.framework").joinpath("audit_rules.toml").read_text()


def parse_rules(text: str, source: str = "<rules>") -> list[AuditRule]:
    """Parse and validate a rules TOML text (``[[rule]]`` tables)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise AuditRulesError(f"{source}: not valid TOML ({exc}); fix the syntax.") from exc
    return _parse_tables(_rule_tables(data, source), source)


def load_rules(path: str | Path | None = None) -> list[AuditRule]:
    """The shipped rules, with any rule in ``path`` replacing or adjusting the shipped one.

    An override table needs only ``id`` and the keys it changes, e.g.
    ``[[rule]] id = "locality-without-team" enabled = false``.
    """
    rules = {r.id: r for r in parse_rules(default_rules_text(), "audit_rules.toml")}
    if path is None:
        return list(rules.values())
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise AuditRulesError(
            f"{path}: not UTF-8 text (byte {exc.start}); save the rules file as UTF-8."
        ) from exc
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise AuditRulesError(f"{path}: cannot read audit rules ({exc}).") from exc
    merged = []
    for table in _rule_tables(data, str(path)):
        rule_id = table.get("id")
        base = rules.get(rule_id) if isinstance(rule_id, str) else None
        merged.append({**(base.model_dump() if base else {}), **table})
    for rule in _parse_tables(merged, str(path)):
        rules[rule.id] = rule
    return list(rules.values())


def _rule_tables(data: dict[str, Any], source: str) -> list[dict[str, Any]]:
    unknown_keys = set(data) - {"rule"}
    if unknown_keys:
        raise AuditRulesError(
            f"{source}: unknown top-level key(s) {sorted(unknown_keys)}; use [[rule]] tables."
        )
    tables = data.get("rule", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise AuditRulesError(
            f"{source}: key 'rule' must be an array of tables: write each rule under [[rule]]."
        )
    return tables


def _parse_tables(tables: list[dict[str, Any]], source: str) -> list[AuditRule]:
    out = []
    for n, table in enumerate(tables, 1):
        rule_id = table.get("id", f"#{n}")
        try:
            rule = AuditRule.model_validate(table)
        except ValidationError as exc:
            problems = "; ".join(
                f"key '{'.'.join(map(str, e['loc']))}': {e['msg']}" for e in exc.errors()
            )
            raise AuditRulesError(f"{source}: rule {rule_id}: {problems}") from exc
        if rule.id not in CHECKS:
            raise AuditRulesError(
                f"{source}: rule {rule.id}: no check has this id; known ids: {sorted(CHECKS)}."
            )
        out.append(rule)
    return out


def run_audit(
    snapshot: WorkspaceSnapshot,
    rules: list[AuditRule] | None = None,
    today: date | None = None,
) -> list[Finding]:
    """Run every enabled rule; findings sorted by severity, rule and object title."""
    rules = load_rules() if rules is None else rules
    today = today or date.today()
    findings = []
    for rule in rules:
        if not rule.enabled:
            continue
        for kind, record, message in CHECKS[rule.id](snapshot, rule, today):
            findings.append(
                Finding(
                    rule_id=rule.id,
                    severity=rule.severity,
                    title=rule.title,
                    why=rule.why,
                    kind=kind,
                    object_id=record.id,
                    object_title=title_of(kind, record),
                    message=message,
                    path=object_path(kind, record.id),
                )
            )
    return sorted(
        findings, key=lambda f: (SEVERITY_ORDER[f.severity], f.rule_id, f.object_title, f.object_id)
    )
