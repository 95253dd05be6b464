"""The coherence audit: each rule fires when it should and stays quiet otherwise."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from systemic.framework import WorkspaceSnapshot, load_rules, parse_rules, run_audit
from systemic.framework.audit import CHECKS, AuditRulesError, default_rules_text

TODAY = date(2026, 6, 1)


def rules_fired(snap: WorkspaceSnapshot, **kwargs) -> set[tuple[str, str]]:
    return {(f.rule_id, f.object_id) for f in run_audit(snap, today=TODAY, **kwargs)}


@pytest.fixture
def snap() -> WorkspaceSnapshot:
    return WorkspaceSnapshot.empty("Anytown")


def test_shipped_rules_cover_every_check_with_an_explanation() -> None:
    rules = load_rules()
    assert {r.id for r in rules} == set(CHECKS)
    assert len(rules) == 10
    for rule in rules:
        assert rule.severity in ("error", "warning", "info")
        assert len(rule.why) > 40 and rule.title


def test_empty_workspace_is_clean(snap: WorkspaceSnapshot) -> None:
    assert run_audit(snap, today=TODAY) == []


def test_measure_without_purpose(snap: WorkspaceSnapshot) -> None:
    snap.add("measure", {"name": "Orphan"}, "m1")
    snap.add("purpose_statement", {"text": "Stay well"}, "p1")
    snap.add("measure", {"name": "Derived", "purpose_statement_ids": ["p1"]}, "m2")
    fired = rules_fired(snap)
    assert ("measure-without-purpose", "m1") in fired
    assert ("measure-without-purpose", "m2") not in fired


def test_target_on_activity_or_volume(snap: WorkspaceSnapshot) -> None:
    snap.add("purpose_statement", {"text": "p"}, "p")
    for mid, kind, target in [
        ("a", "process", 95.0),
        ("b", "demand", 1000.0),
        ("c", "outcome", 80.0),
        ("d", "process", None),
    ]:
        snap.add(
            "measure",
            {"name": mid, "kind": kind, "target": target, "purpose_statement_ids": ["p"]},
            mid,
        )
    fired = {oid for rule, oid in rules_fired(snap) if rule == "target-on-activity"}
    assert fired == {"a", "b"}
    finding = next(f for f in run_audit(snap, today=TODAY) if f.object_id == "a")
    assert finding.message == "Measure 'a' (process) has a target of 95."
    assert finding.path == "/measures/a" and finding.severity == "warning"


@pytest.mark.parametrize("taken_up_by", ["measure", "team", "experiment", None])
def test_purpose_unconnected(snap: WorkspaceSnapshot, taken_up_by: str | None) -> None:
    snap.add("purpose_statement", {"text": "Help me stay home"}, "p")
    if taken_up_by == "measure":
        snap.add("measure", {"name": "m", "purpose_statement_ids": ["p"]}, "x")
    elif taken_up_by == "team":
        snap.add("team", {"name": "t", "purpose_statement_ids": ["p"]}, "x")
    elif taken_up_by == "experiment":
        snap.add("experiment", {"title": "e", "purpose_statement_ids": ["p"]}, "x")
    fired = ("purpose-unconnected", "p") in rules_fired(snap)
    assert fired is (taken_up_by is None)


def test_experiment_without_measure(snap: WorkspaceSnapshot) -> None:
    snap.add("measure", {"name": "m"}, "m")
    snap.add("experiment", {"title": "no measure"}, "e1")
    snap.add("experiment", {"title": "measured", "measure_ids": ["m"]}, "e2")
    fired = {oid for rule, oid in rules_fired(snap) if rule == "experiment-without-measure"}
    assert fired == {"e1"}


def test_experiment_without_result_after_end(snap: WorkspaceSnapshot) -> None:
    base = {"measure_ids": ["m"], "start_date": "2026-01-01"}
    snap.add("experiment", {**base, "title": "ended, nothing", "end_date": "2026-05-31"}, "e1")
    snap.add(
        "experiment",
        {
            **base,
            "title": "ended, result only",
            "end_date": "2026-05-01",
            "result": "Fewer hand-offs",
        },
        "e2",
    )
    snap.add(
        "experiment",
        {
            **base,
            "title": "ended, decided",
            "end_date": "2026-05-01",
            "result": "Fewer hand-offs",
            "decision": "adopt",
        },
        "e3",
    )
    snap.add("experiment", {**base, "title": "ends today", "end_date": "2026-06-01"}, "e4")
    snap.add("experiment", {**base, "title": "no end"}, "e5")
    hits = {
        f.object_id: f.message
        for f in run_audit(snap, today=TODAY)
        if f.rule_id == "experiment-without-result"
    }
    assert hits == {
        "e1": "Ended 2026-05-31 with no result and decision recorded.",
        "e2": "Ended 2026-05-01 with no decision recorded.",
    }


#: One stored analysis, as "Analyse" leaves it on an experiment.
ANALYSIS = {
    "version": 1,
    "analysed_at": "2026-05-01T09:00:00+00:00",
    "analysed_by": "ana",
    "start_date": "2026-03-02",
    "measures": [
        {
            "measure_id": "m",
            "measure_name": "Repeat contacts",
            "source": "upload",
            "conclusion": "no_change",
            "verdict": "There is no evidence that the experiment changed this measure.",
        }
    ],
}


def test_redesign_without_evidence(snap: WorkspaceSnapshot) -> None:
    snap.add("purpose_statement", {"text": "Tell my story once"}, "p")
    snap.add("measure", {"name": "Repeat contacts", "purpose_statement_ids": ["p"]}, "m")
    snap.add("story", {"title": "s"}, "s")
    snap.add("experiment", {"title": "not analysed", "measure_ids": ["m"]}, "e0")
    snap.add(
        "experiment", {"title": "analysed", "measure_ids": ["m"], "analyses": [ANALYSIS]}, "e1"
    )
    snap.add("redesign_decision", {"title": "bare"}, "r1")
    snap.add("redesign_decision", {"title": "with story only", "story_ids": ["s"]}, "r2")
    snap.add("redesign_decision", {"title": "unanalysed", "experiment_ids": ["e0"]}, "r3")
    snap.add("redesign_decision", {"title": "analysed", "experiment_ids": ["e0", "e1"]}, "r4")
    snap.add("redesign_decision", {"title": "on a measure", "measure_ids": ["m"]}, "r5")
    findings = {
        f.object_id: f.message
        for f in run_audit(snap, today=TODAY)
        if f.rule_id == "redesign-without-evidence"
    }
    assert set(findings) == {"r1", "r2", "r3"}
    assert findings["r1"] == "No analysed experiment and no measure is linked."
    assert "('not analysed') hold no stored evidence" in findings["r3"]


def test_harmful_condition_without_decision(snap: WorkspaceSnapshot) -> None:
    snap.add("system_condition", {"name": "harmful, undecided", "judgement": "harmful"}, "c1")
    snap.add("system_condition", {"name": "harmful, decided", "judgement": "harmful"}, "c2")
    snap.add("system_condition", {"name": "helpful", "judgement": "helpful"}, "c3")
    snap.add("system_condition", {"name": "unassessed"}, "c4")
    snap.add("redesign_decision", {"title": "Change it", "system_condition_ids": ["c2", "c3"]}, "r")
    fired = {oid for rule, oid in rules_fired(snap) if rule == "harmful-condition-without-decision"}
    assert fired == {"c1"}


def test_locality_without_team(snap: WorkspaceSnapshot) -> None:
    snap.add("locality", {"name": "North"}, "n")
    snap.add("locality", {"name": "South"}, "s")
    snap.add("team", {"name": "South team", "locality_id": "s"}, "t")
    fired = {oid for rule, oid in rules_fired(snap) if rule == "locality-without-team"}
    assert fired == {"n"}


def test_decisions_mostly_escalated(snap: WorkspaceSnapshot) -> None:
    for loc, made in [
        ("even", ["local", "escalated"]),
        ("mostly", ["escalated", "escalated", "local"]),
        ("none", []),
    ]:
        snap.add("locality", {"name": loc}, loc)
        snap.add("team", {"name": f"{loc} team", "locality_id": loc}, f"t-{loc}")
        for n, how in enumerate(made):
            snap.add(
                "decision_right",
                {"locality_id": loc, "decision_kind": f"k{n}", "made": how},
                f"{loc}-{n}",
            )
    fired = {oid for rule, oid in rules_fired(snap) if rule == "decisions-mostly-escalated"}
    assert fired == {"mostly"}  # exactly half is not "mostly"
    # The threshold is a parameter of the rule.
    rules = [
        r.model_copy(update={"params": {"threshold": 0.4}})
        if r.id == "decisions-mostly-escalated"
        else r
        for r in load_rules()
    ]
    fired = {
        oid for rule, oid in rules_fired(snap, rules=rules) if rule == "decisions-mostly-escalated"
    }
    assert fired == {"even", "mostly"}


def test_harmful_condition_without_proposal(snap: WorkspaceSnapshot) -> None:
    snap.add("system_condition", {"name": "harmful, no plan", "judgement": "harmful"}, "c1")
    snap.add(
        "system_condition",
        {"name": "harmful, plan", "judgement": "harmful", "proposal": "Pilot a waiver"},
        "c2",
    )
    snap.add("system_condition", {"name": "unassessed"}, "c3")
    fired = {oid for rule, oid in rules_fired(snap) if rule == "harmful-condition-without-proposal"}
    assert fired == {"c1"}


def test_findings_sorted_by_severity(snap: WorkspaceSnapshot) -> None:
    snap.add("locality", {"name": "North"}, "n")  # warning
    snap.add("redesign_decision", {"title": "bare"}, "r")  # error
    assert [f.severity for f in run_audit(snap, today=TODAY)] == ["error", "warning"]


def test_rules_can_be_switched_off_and_changed_by_file(
    snap: WorkspaceSnapshot, tmp_path: Path
) -> None:
    snap.add("locality", {"name": "North"}, "n")
    snap.add("redesign_decision", {"title": "bare"}, "r")
    override = tmp_path / "rules.toml"
    override.write_text(
        '[[rule]]\nid = "locality-without-team"\nenabled = false\n\n'
        '[[rule]]\nid = "redesign-without-evidence"\nseverity = "info"\n'
    )
    findings = run_audit(snap, load_rules(override), today=TODAY)
    assert [(f.rule_id, f.severity) for f in findings] == [("redesign-without-evidence", "info")]


def test_bad_rules_files_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(AuditRulesError, match="rule no-such-rule: no check has this id"):
        parse_rules('[[rule]]\nid = "no-such-rule"\nseverity = "error"\ntitle = "t"\nwhy = "w"\n')
    with pytest.raises(AuditRulesError, match="key 'severity'"):
        parse_rules(default_rules_text().replace('severity = "error"', 'severity = "loud"', 1))
    bad = tmp_path / "bad.toml"
    bad.write_text("[[rule]\n")
    with pytest.raises(AuditRulesError, match=r"bad\.toml"):
        load_rules(bad)
    with pytest.raises(AuditRulesError, match="unknown top-level"):
        parse_rules("[rules]\n")


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b'name = "caf\xe9"\n', "not UTF-8"),
        (b"rule = 3\n", "array of tables"),
        (b'rule = "x"\n', "array of tables"),
        (b"rule = [1, 2]\n", "array of tables"),
        (b"colour = 1\n", "unknown top-level"),
    ],
)
def test_malformed_rules_files_give_the_documented_error(
    tmp_path: Path, payload: bytes, message: str
) -> None:
    path = tmp_path / "rules.toml"
    path.write_bytes(payload)
    with pytest.raises(AuditRulesError, match=message):
        load_rules(path)
