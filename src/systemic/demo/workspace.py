"""Seed a workspace for the demo town: the four levels and the cycle, linked.

The content is written for a fictional town. Purpose statements are in the
residents' own voice; system conditions are the mechanisms that shape the
silo design the simulation runs; the experiment is the one the simulation
switched on in one locality, with its measures and the evidence found. A few
gaps are left on purpose (a locality without a team, a volume target, a
harmful condition with no proposal yet) so that the audit shows what it is
for.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from systemic.store import Store, audit_workspace, repository
from systemic.store.learn_results import add_learn_result

ACTOR = "demo"


@dataclass
class DemoEvidence:
    """What the demo pipeline learnt, to be cited by the seeded objects."""

    localities: dict[str, int]  # name -> population
    experiment_locality: str
    experiment_start: dt.date
    experiment_end: dt.date
    failure_demand_share: float | None
    median_hand_offs: float | None
    experiment_verdict: str
    report_href: str = "report.html"
    #: The learn folder whose published series the seeded measures draw on.
    learn_dir: Path | None = None


#: The name the demo's learn result is brought into the workspace under.
LEARN_RESULT = "town"


@dataclass
class SeedResult:
    """Ids of the seeded objects that the report and tests refer to."""

    workspace_id: str
    ids: dict[str, str] = field(default_factory=dict)
    findings: list[Any] = field(default_factory=list)


def seed_demo_workspace(
    store: Store, evidence: DemoEvidence, *, name: str = "Demo town"
) -> SeedResult:
    """Create (or replace) the demo workspace and fill it; returns ids and audit findings."""
    with store.session() as s:
        for ws in repository.list_workspaces(s):
            if ws.slug == "default":
                s.delete(ws)
        s.commit()
    with store.session() as s:
        ws = repository.ensure_default_workspace(s, name)
        if evidence.learn_dir is not None:  # published series only: suppressed cells stay gaps
            add_learn_result(s, ws.id, LEARN_RESULT, evidence.learn_dir, actor=ACTOR)
        ids = _fill(s, ws.id, evidence)
        s.commit()
        findings = audit_workspace(s, ws.id, today=evidence.experiment_end + dt.timedelta(days=1))
    return SeedResult(ws.id, ids, findings)


def _fill(s: Any, ws: str, ev: DemoEvidence) -> dict[str, str]:
    ids: dict[str, str] = {}

    def add(key: str, kind: str, data: dict[str, Any]) -> str:
        ids[key] = repository.create(s, ws, kind, data, actor=ACTOR).id
        return ids[key]

    # Organisation: localities, and teams for all but one (left for the audit).
    names = list(ev.localities)
    for n in names:
        add(
            f"locality:{n}",
            "locality",
            {
                "name": n,
                "population": ev.localities[n],
                "boundary": f"The wards that make up {n}",
            },
        )
    exp_loc = ids[f"locality:{ev.experiment_locality}"]

    # Mission: the town's purpose in residents' words, broken down.
    top = add(
        "purpose:home",
        "purpose_statement",
        {
            "text": "I can live the life I want, in my own home, with the people who matter to me.",
            "voice": "I",
            "said_by": "Resident, aged 81",
            "said_where": "Kitchen-table conversation",
            "consent": True,
            "level": "system",
            "status": "adopted",
        },
    )
    add(
        "purpose:once",
        "purpose_statement",
        {
            "text": "When I ask for help I only have to tell my story once.",
            "voice": "I",
            "said_by": "Carer",
            "said_where": "Listening event, community centre",
            "consent": True,
            "level": "service",
            "parent_id": top,
            "status": "tested",
        },
    )
    add(
        "purpose:early",
        "purpose_statement",
        {
            "text": "Help comes before things fall apart, not after.",
            "voice": "We",
            "said_by": "Tenants' association",
            "said_where": "Residents' meeting",
            "consent": True,
            "level": "neighbourhood",
            "parent_id": top,
            "status": "tested",
            "locality_id": exp_loc,
        },
    )
    add(
        "purpose:know",
        "purpose_statement",
        {
            "text": "Someone who knows me and my street can sort things out.",
            "voice": "I",
            "said_by": "Resident, aged 34",
            "said_where": "Doorstep conversation",
            "consent": True,
            "level": "neighbourhood",
            "parent_id": top,
            "status": "draft",
            "locality_id": exp_loc,
        },
    )
    add(
        "purpose:money",
        "purpose_statement",
        {
            "text": "We want to stop spending money on putting things right that should have been right first time.",
            "voice": "organisation",
            "said_by": "Finance director",
            "said_where": "Leadership away day",
            "consent": True,
            "level": "system",
            "parent_id": top,
            "status": "draft",
        },
    )

    # Paradigm: principles and the system conditions that work against them.
    for key, nm, desc in (
        ("value", "Value", "Do what matters to the person, once, in one place."),
        ("people", "People", "People are experts in their own lives; start from strengths."),
        ("communities", "Communities", "Neighbourhoods hold help that services cannot buy."),
        ("prevention", "Prevention", "Act early, before need turns into crisis."),
    ):
        add(f"principle:{key}", "principle", {"name": nm, "description": desc})

    add(
        "condition:eligibility",
        "system_condition",
        {
            "name": "Eligibility threshold for adult social care",
            "kind": "policy",
            "owner": "local",
            "changeable_locally": True,
            "judgement": "harmful",
            "effect": "People below the threshold are turned away and return in crisis; "
            "repeat contacts and emergency admissions rise.",
            "evidence": [
                {"label": "Learn: repeat contacts and failure demand", "href": ev.report_href}
            ],
            "proposal": "Let the locality team give early help below the threshold for twelve months.",
            "status": "proposed",
            "principle_ids": [ids["principle:prevention"], ids["principle:value"]],
        },
    )
    add(
        "condition:handling-time",
        "system_condition",
        {
            "name": "Contact-centre average handling time target",
            "kind": "measure_or_target",
            "owner": "local",
            "changeable_locally": True,
            "judgement": "harmful",
            "effect": "Calls are closed fast and passed on; people call back (failure demand).",
            "evidence": [{"label": "Learn: Pareto of failure demand", "href": ev.report_href}],
            "proposal": "",
            "status": "assessed",
            "principle_ids": [ids["principle:value"]],
        },
    )
    add(
        "condition:commissioning",
        "system_condition",
        {
            "name": "Time-limited commissioned interventions (six weeks)",
            "kind": "funding_rule",
            "owner": "local",
            "changeable_locally": True,
            "judgement": "harmful",
            "effect": "Cases are closed to meet throughput and re-referred weeks later.",
            "proposal": "Fund the locality team by outcome over a year, not by episode.",
            "status": "proposed",
            "principle_ids": [ids["principle:people"]],
        },
    )
    add(
        "condition:data-sharing",
        "system_condition",
        {
            "name": "Separate case systems per department",
            "kind": "it_system",
            "owner": "local",
            "changeable_locally": False,
            "judgement": "unassessed",
            "effect": "Each service re-assesses; the person repeats their story.",
            "status": "identified",
        },
    )

    # Teams (one locality has none: the audit will say so).
    add(
        "team:exp",
        "team",
        {
            "name": f"{ev.experiment_locality} neighbourhood team",
            "locality_id": exp_loc,
            "members": [
                "social worker",
                "community nurse",
                "housing officer",
                "benefits adviser",
                "community connector",
            ],
            "services": ["adult social care", "community health", "housing", "benefits"],
            "purpose_statement_ids": [ids["purpose:know"], ids["purpose:early"]],
        },
    )
    for n in names[1:-1]:
        add(
            f"team:{n}",
            "team",
            {
                "name": f"{n} locality hub",
                "locality_id": ids[f"locality:{n}"],
                "members": ["duty social worker", "customer services officer"],
                "services": ["adult social care", "contact centre"],
            },
        )

    # Decision rights: local by default in the experiment, escalated elsewhere.
    for kind, made_exp, made_other, why in (
        ("spend up to £500 on what matters", "local", "escalated", "Small spends prevent crises."),
        ("eligibility", "local", "escalated", "The team that knows the person decides."),
        ("closing a case", "local", "escalated", "Close when the person says it is done."),
        ("staffing", "escalated", "escalated", "Set by the employing organisations."),
    ):
        add(
            f"right:exp:{kind}",
            "decision_right",
            {
                "locality_id": exp_loc,
                "decision_kind": kind,
                "made": made_exp,
                "reason": why,
            },
        )
        other = ids[f"locality:{names[1]}"]
        add(
            f"right:other:{kind}",
            "decision_right",
            {
                "locality_id": other,
                "decision_kind": kind,
                "made": made_other,
                "reason": "Decided by the service's panel." if made_other == "escalated" else why,
            },
        )

    # People & communities.
    add(
        "story:mr-a",
        "story",
        {
            "title": "Six services, one leaking roof",
            "text": "My roof leaked, my chest got worse, and I was passed from housing to the GP "
            "to social care and back. Nobody fixed the roof for five months.",
            "told_by": "Resident, aged 77",
            "told_on": "2025-09-12",
            "consent": True,
            "locality_id": exp_loc,
            "purpose_statement_ids": [ids["purpose:once"]],
        },
    )
    add(
        "story:ms-b",
        "story",
        {
            "title": "The worker who stayed",
            "text": "The same nurse came every time. She got the benefits sorted and found me "
            "the lunch club. I have not been back to A&E since.",
            "told_by": "Resident, aged 68",
            "told_on": "2026-05-03",
            "consent": True,
            "locality_id": exp_loc,
            "purpose_statement_ids": [ids["purpose:know"]],
        },
    )
    add(
        "conversation:1",
        "conversation",
        {
            "what_matters": "Getting to my granddaughter's school play without worrying about my legs.",
            "strengths": ["neighbour drives", "loves gardening"],
            "agreed_actions": ["physio at home", "community transport pass"],
            "person_holds_record": True,
            "held_on": "2026-02-10",
            "consent": True,
            "locality_id": exp_loc,
        },
    )
    add(
        "asset:lunch",
        "community_asset",
        {
            "name": "St Mary's lunch club",
            "kind": "group",
            "description": "Tuesday and Friday lunches; volunteers notice when someone is struggling.",
            "locality_id": exp_loc,
        },
    )
    add(
        "asset:allotments",
        "community_asset",
        {
            "name": "Canal-side allotments",
            "kind": "place",
            "locality_id": exp_loc,
        },
    )
    add(
        "relationship:team-tenants",
        "relationship",
        {
            "party_a": f"{ev.experiment_locality} neighbourhood team",
            "party_b": "Tenants' association",
            "locality_id": exp_loc,
            "observations": [
                {
                    "observed_on": "2025-11-01",
                    "trust": 2,
                    "power": "over",
                    "note": "Met once a year, at a consultation.",
                },
                {
                    "observed_on": "2026-06-01",
                    "trust": 4,
                    "power": "with",
                    "note": "Co-designing the home-visit offer.",
                },
            ],
        },
    )

    # Measures derived from purpose (and one volume target, for the audit).
    add(
        "measure:failure",
        "measure",
        {
            "name": f"Failure-demand share of contacts in {ev.experiment_locality}",
            "kind": "demand",
            "data_source": "learn",
            "learn_result": LEARN_RESULT,
            "series_name": "failure_demand_share",
            "locality": ev.experiment_locality,
            "chart": "p",
            "improvement": "decrease",
            "baseline_end": (ev.experiment_start - dt.timedelta(days=1)).isoformat(),
            "definition": "Contacts the services classed as failure demand over all contacts "
            "they classed, per week (inferred failure is not counted). Limits fixed on the "
            "weeks before the neighbourhood team started.",
            "owner_team_id": ids["team:exp"],
            "purpose_statement_ids": [ids["purpose:once"], ids["purpose:money"]],
        },
    )
    add(
        "measure:e2e",
        "measure",
        {
            "name": "End-to-end time of a need (days)",
            "kind": "outcome",
            "data_source": "learn",
            "learn_result": LEARN_RESULT,
            "series_name": "end_to_end_days_per_need",
            "chart": "xmr",
            "improvement": "decrease",
            "definition": "Median days from first to last event of the needs ended in the week, "
            "across the whole area (weeks cut short by the record's edges are left out).",
            "owner_team_id": ids["team:exp"],
            "purpose_statement_ids": [ids["purpose:early"], ids["purpose:know"]],
        },
    )
    add(
        "measure:calls",
        "measure",
        {
            "name": "Calls answered within 20 seconds",
            "kind": "process",
            "target": 0.8,
            "improvement": "increase",
            "definition": "Share of calls answered within 20 seconds (inherited from the contact-centre contract).",
        },
    )

    # Step 1: the experiment the simulation switched on.
    add(
        "experiment:team",
        "experiment",
        {
            "title": f"One neighbourhood team in {ev.experiment_locality}",
            "question": "If one team takes the whole need early, does failure demand fall?",
            "prediction": "Fewer repeat contacts and hand-offs within three months; fewer crises within a year.",
            "change_idea": "A multidisciplinary team with local decision rights, continuity of worker and early help.",
            "locality_id": exp_loc,
            "team_id": ids["team:exp"],
            "start_date": ev.experiment_start.isoformat(),
            "end_date": ev.experiment_end.isoformat(),
            "result": ev.experiment_verdict,
            "decision": "spread",
            "purpose_statement_ids": [ids["purpose:early"], ids["purpose:know"]],
            "measure_ids": [ids["measure:failure"], ids["measure:e2e"]],
            "story_ids": [ids["story:ms-b"]],
        },
    )

    # Step 2: the redesign decision, citing the evidence.
    add(
        "redesign:spread",
        "redesign_decision",
        {
            "title": "Spread neighbourhood teams to two more localities",
            "level": "organisation",
            "object_changed": "Locality operating model",
            "change": "Form neighbourhood teams with local decision rights in two further localities.",
            "decided_by": "Leadership team",
            "decided_on": (ev.experiment_end + dt.timedelta(days=14)).isoformat(),
            "review_date": (ev.experiment_end + dt.timedelta(days=365)).isoformat(),
            "experiment_ids": [ids["experiment:team"]],
            "measure_ids": [ids["measure:failure"], ids["measure:e2e"]],
            "story_ids": [ids["story:ms-b"]],
            "system_condition_ids": [ids["condition:eligibility"]],
            "purpose_statement_ids": [ids["purpose:early"]],
        },
    )
    return ids
