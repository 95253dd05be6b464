"""The coherence audit on a stored workspace, with the workspace's own rule settings.

>>> from systemic.store import open_store
>>> from systemic.store.repository import ensure_default_workspace, create
>>> store = open_store("sqlite://")
>>> with store.session() as s:
...     ws = ensure_default_workspace(s)
...     _ = create(s, ws.id, "locality", {"name": "Eastfield"})
...     [f.rule_id for f in audit_workspace(s, ws.id)]
['locality-without-team']
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from systemic.framework.audit import AuditRule, Finding, load_rules, run_audit
from systemic.store.errors import InvalidObjectError
from systemic.store.orm import AuditRuleSetting
from systemic.store.repository import get_workspace
from systemic.store.snapshot import load_snapshot


def workspace_rules(
    session: Session, workspace: str, rules_file: str | Path | None = None
) -> list[AuditRule]:
    """The shipped rules (optionally overridden by a TOML file), then the workspace's settings."""
    ws = get_workspace(session, workspace)
    rules = {r.id: r for r in load_rules(rules_file)}
    for setting in session.scalars(
        select(AuditRuleSetting).where(AuditRuleSetting.workspace_id == ws.id)
    ):
        if setting.rule_id in rules:
            rules[setting.rule_id] = rules[setting.rule_id].model_copy(
                update={
                    "enabled": setting.enabled,
                    "severity": setting.severity,
                    "params": {**rules[setting.rule_id].params, **setting.params},
                }
            )
    return list(rules.values())


def set_rule(
    session: Session,
    workspace: str,
    rule_id: str,
    *,
    enabled: bool | None = None,
    severity: str | None = None,
    params: dict[str, Any] | None = None,
) -> AuditRule:
    """Store a workspace's setting for one rule; returns the rule as now configured."""
    ws = get_workspace(session, workspace)
    current = {r.id: r for r in workspace_rules(session, ws.id)}
    if rule_id not in current:
        raise InvalidObjectError.field(
            "rule_id", f"no audit rule {rule_id!r}; known: {sorted(current)}"
        )
    if severity is not None and severity not in ("error", "warning", "info"):
        raise InvalidObjectError.field("severity", "must be 'error', 'warning' or 'info'")
    rule = current[rule_id]
    setting = session.get(AuditRuleSetting, (ws.id, rule_id))
    if setting is None:
        setting = AuditRuleSetting(workspace_id=ws.id, rule_id=rule_id, params={})
        session.add(setting)
    setting.enabled = rule.enabled if enabled is None else enabled
    setting.severity = rule.severity if severity is None else severity
    setting.params = {**(setting.params or {}), **(params or {})}
    session.flush()
    return {r.id: r for r in workspace_rules(session, ws.id)}[rule_id]


def audit_workspace(
    session: Session,
    workspace: str,
    *,
    rules_file: str | Path | None = None,
    today: date | None = None,
) -> list[Finding]:
    """Run the coherence audit on a stored workspace (by slug or id)."""
    rules = workspace_rules(session, workspace, rules_file)
    return run_audit(load_snapshot(session, workspace), rules, today=today)
