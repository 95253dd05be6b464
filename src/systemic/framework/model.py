"""The workspace's domain model: the four levels and the learning cycle.

Pure Python (pydantic), no SQL: ``systemic.store`` persists these shapes and
``systemic.web`` serves them. Each kind of object has one *fields* model (what a
user edits, including the ids of the objects it links to); the stored record
adds ``id``, ``workspace_id`` and timestamps (see :func:`record_model`).

Each field says what it is called and what it is for, once, on the field:
``Field(title="Label on forms and pages", description="Help shown under the
control")``; where a stored choice is not plain English,
``json_schema_extra=choice_labels({value: words})``; for text that needs a
multi-line box, ``json_schema_extra=LONG_TEXT``; for text picked from what the
workspace holds, ``json_schema_extra=options_from("learn_result")``. Forms,
pages, the JSON API's schema and the docs read these
(``systemic.framework.kinds.Kind.field_title`` and friends).

>>> from systemic.framework.model import PurposeStatementFields
>>> PurposeStatementFields(text="Help me stay in my own home", voice="I").level
'person'
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

Voice = Literal["I", "We", "organisation"]
Level = Literal["person", "neighbourhood", "service", "system"]
PurposeStatus = Literal["draft", "tested", "adopted"]
ConditionKind = Literal[
    "legislation",
    "guidance",
    "policy",
    "political_decision",
    "measure_or_target",
    "funding_rule",
    "it_system",
]
ConditionOwner = Literal["national", "local"]
EffectJudgement = Literal["unassessed", "harmful", "neutral", "helpful"]
ConditionStatus = Literal["identified", "assessed", "proposed", "changing", "changed", "retained"]
DecisionMade = Literal["local", "escalated"]
Power = Literal["with", "over"]
MeasureKind = Literal["outcome", "process", "balancing", "capability", "demand"]
DataSourceKind = Literal["none", "learn", "series"]
ExperimentDecision = Literal["adopt", "adapt", "abandon", "spread"]
#: The framework's four levels, at which a redesign decision changes something.
FrameworkLevel = Literal["purpose", "paradigm", "organisation", "people"]
Polarity = Literal["+", "-"]
#: What a factor on a system map is: a system condition, demand on a service, the
#: capacity to meet it, or an outcome for people.
FactorKind = Literal["system_condition", "demand", "capacity", "outcome"]
LoopKind = Literal["reinforcing", "balancing"]
#: A field marked with this is set by the system map itself (dragging, loop finding),
#: not typed into the object's form.
SET_ON_MAP: dict[str, Any] = {"set_on": "map"}
#: A free-text field that deserves a multi-line box on forms.
LONG_TEXT: dict[str, Any] = {"long_text": True}


def choice_labels(labels: dict[str, str]) -> dict[str, Any]:
    """Field extras giving the words shown for a choice's stored values.

    >>> choice_labels({"it_system": "IT system"})
    {'choice_labels': {'it_system': 'IT system'}}
    """
    return {"choice_labels": dict(labels)}


def options_from(source: str) -> dict[str, Any]:
    """Field extras making a text field a choice of what the workspace holds under
    ``source`` (``"learn_result"``: the learn results brought in), none allowed.

    >>> options_from("learn_result")
    {'options_from': 'learn_result'}
    """
    return {"options_from": source}


#: Help for a list of words or names typed on a form.
ONE_PER_LINE = "One per line."
#: A person's consent to their words being recorded and used (statements, stories,
#: conversations): one definition, the same words on every form.
Consent = Annotated[
    bool,
    Field(
        title="Consent given to record and use these words",
        description="Tick only when the person agreed to their words being recorded and used.",
    ),
]
#: When a story or conversation is deleted by the retention run.
RetainUntil = Annotated[
    date | None,
    Field(
        title="Keep until (then deleted)",
        description=(
            "Optional. After this date `systemic retention run` deletes it for good; "
            "leave empty to keep it until someone deletes it."
        ),
    ),
]
Confidence = Literal["low", "medium", "high"]


def _no_nul(value: Any) -> None:
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("text must not contain NUL characters")
    elif isinstance(value, list | tuple):
        for item in value:
            _no_nul(item)
    elif isinstance(value, BaseModel):
        for item in value.__dict__.values():
            _no_nul(item)


class Fields(BaseModel):
    """Base of every kind's editable fields: unknown keys are refused, text is trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)

    @field_validator("*")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        # PostgreSQL cannot store NUL in text; refuse it here, where the field is known.
        _no_nul(value)
        return value


def _required_text(value: str) -> str:
    if not value:
        raise ValueError("must not be empty")
    return value


class PurposeStatementFields(Fields):
    """A purpose statement, verbatim, in the voice of who said it (the Mission level)."""

    text: str = Field(
        title="Statement, in the words used",
        description="The statement, verbatim.",
        json_schema_extra=LONG_TEXT,
    )
    voice: Voice = Field(
        "We",
        title="Voice",
        description="Whose voice it is in: a person, a group, or the organisation.",
        json_schema_extra=choice_labels(
            {
                "I": "I (a person)",
                "We": "We (a group or community)",
                "organisation": "The organisation",
            }
        ),
    )
    said_by: str = Field(
        "", title="Who said it", description="A role, or a name given with consent."
    )
    said_where: str = Field(
        "", title="Where it was said", description="A meeting, a visit, a survey."
    )
    consent: Consent = False
    level: Level = Field(
        "person", title="Level", description="Whose purpose: a person's, up to the system's."
    )
    locality_id: str | None = Field(None, title="Locality", description="Where it was said.")
    parent_id: str | None = Field(
        None,
        title="Part of (broader statement)",
        description="The broader statement this one details.",
    )
    status: PurposeStatus = Field(
        "draft", title="Status", description="Draft, tested with people, or adopted."
    )

    _text = field_validator("text")(_required_text)


class PrincipleFields(Fields):
    """A principle the system should work by (the Paradigm level)."""

    name: str = Field(title="Name", description="The principle, in a few words.")
    description: str = Field(
        "",
        title="Description",
        description="What working by it looks like.",
        json_schema_extra=LONG_TEXT,
    )

    _name = field_validator("name")(_required_text)


class EvidenceLink(Fields):
    """A pointer to evidence: a learn result, a report, a dataset query or a web page."""

    label: str = Field(title="what it is")
    href: str = Field("", title="link")


class SystemConditionFields(Fields):
    """A mechanism that shapes behaviour: a rule, target, funding rule or IT system."""

    name: str = Field(title="Name", description="The rule, target, funding rule or system.")
    description: str = Field(
        "", title="Description", description="What it says or does.", json_schema_extra=LONG_TEXT
    )
    kind: ConditionKind = Field(
        "policy",
        title="Kind",
        description="What sort of condition it is.",
        json_schema_extra=choice_labels({"it_system": "IT system"}),
    )
    owner: ConditionOwner = Field(
        "local", title="Owner", description="Whether it is set nationally or locally."
    )
    changeable_locally: bool = Field(
        False, title="Can be changed locally", description="Whether we could change it ourselves."
    )
    judgement: EffectJudgement = Field(
        "unassessed",
        title="Effect on purpose",
        description="Assessed effect on the system's purpose.",
    )
    effect: str = Field(
        "",
        title="Demand or behaviour it causes",
        description="What people and staff do because of it.",
        json_schema_extra=LONG_TEXT,
    )
    evidence: list[EvidenceLink] = Field(
        default_factory=list,
        title="Evidence",
        description="What shows its effect: a learn result, a report, a page.",
        examples=[[{"label": "Demand study", "href": "/learn/demand"}]],
    )
    proposal: str = Field(
        "",
        title="Proposal",
        description="What we propose to change, and how.",
        json_schema_extra=LONG_TEXT,
    )
    status: ConditionStatus = Field(
        "identified", title="Status", description="How far the work on it has got."
    )
    principle_ids: list[str] = Field(
        default_factory=list,
        title="Principles it works against",
        description="Principles it works against.",
    )
    story_ids: list[str] = Field(
        default_factory=list, title="Stories", description="Stories that show its effect."
    )

    _name = field_validator("name")(_required_text)


class LocalityFields(Fields):
    """A place with its population and boundary (the Organisation level)."""

    name: str = Field(title="Name", description="What people there call the place.")
    population: int | None = Field(
        None, ge=0, le=10**10, title="Population", description="How many people live there."
    )
    boundary: str = Field(
        "",
        title="Boundary",
        description="How the boundary is drawn (wards, postcodes).",
        json_schema_extra=LONG_TEXT,
    )

    _name = field_validator("name")(_required_text)


class TeamFields(Fields):
    """A team serving a locality: its members and the services it covers."""

    name: str = Field(title="Name", description="What the team is called.")
    locality_id: str | None = Field(None, title="Locality", description="Where the team works.")
    members: list[str] = Field(default_factory=list, title="Members", description=ONE_PER_LINE)
    services: list[str] = Field(
        default_factory=list, title="Services covered", description=ONE_PER_LINE
    )
    purpose_statement_ids: list[str] = Field(
        default_factory=list,
        title="Purpose statements",
        description="Purpose statements the team works to.",
    )

    _name = field_validator("name")(_required_text)


class DecisionRightFields(Fields):
    """Who makes one kind of decision for a locality: locally, or escalated, and why."""

    locality_id: str = Field(title="Locality", description="The locality the decision is for.")
    decision_kind: str = Field(
        title="Kind of decision", description="Spend, eligibility, closing a case, staffing, ..."
    )
    made: DecisionMade = Field(
        "local",
        title="Where the decision is made",
        description="Locally, or escalated to someone further away.",
    )
    reason: str = Field(
        "", title="Why", description="Why it is made there.", json_schema_extra=LONG_TEXT
    )

    _kind = field_validator("decision_kind")(_required_text)


class StoryFields(Fields):
    """A person's story, in their words, with consent (People & communities)."""

    title: str = Field(title="Title", description="A few words to find the story by.")
    text: str = Field(
        "",
        title="The story, in the words used",
        description="As it was told.",
        json_schema_extra=LONG_TEXT,
    )
    told_by: str = Field(
        "", title="Told by", description="A role, not a name, unless consent covers it."
    )
    told_on: date | None = Field(None, title="Date told", description="When it was told.")
    consent: Consent = False
    retain_until: RetainUntil = None
    locality_id: str | None = Field(None, title="Locality", description="Where it happened.")
    purpose_statement_ids: list[str] = Field(
        default_factory=list, title="Purpose statements", description="The purpose it speaks to."
    )

    _title = field_validator("title")(_required_text)


class ConversationFields(Fields):
    """A "what matters to you" conversation; the person may hold the record."""

    what_matters: str = Field(
        title="What matters to the person, in their words",
        description="What matters, in the person's words.",
        json_schema_extra=LONG_TEXT,
    )
    strengths: list[str] = Field(default_factory=list, title="Strengths", description=ONE_PER_LINE)
    agreed_actions: list[str] = Field(
        default_factory=list, title="Agreed actions", description=ONE_PER_LINE
    )
    person_holds_record: bool = Field(
        False, title="The person holds this record", description="They keep it and bring it."
    )
    held_on: date | None = Field(None, title="Date of conversation", description="When it was.")
    consent: Consent = False
    retain_until: RetainUntil = None
    locality_id: str | None = Field(None, title="Locality", description="Where the person lives.")

    _what = field_validator("what_matters")(_required_text)


class CommunityAssetFields(Fields):
    """Something in a community that helps: a group, a place, a person, a network."""

    name: str = Field(title="Name", description="The group, place, person or network.")
    description: str = Field(
        "", title="Description", description="How it helps.", json_schema_extra=LONG_TEXT
    )
    kind: str = Field("", title="Kind", description="A group, a place, a person, a network.")
    locality_id: str | None = Field(None, title="Locality", description="Where it is.")
    contact: str = Field(
        "",
        title="How to reach it",
        description="A phone number, a place and time, or a web page, as the asset gives it.",
    )

    _name = field_validator("name")(_required_text)


class RelationshipObservation(Fields):
    """Trust (1 low .. 5 high) and power ("with" or "over") seen on one date."""

    observed_on: date = Field(title="date")
    trust: int = Field(ge=1, le=5, title="trust 1–5")
    power: Power = Field(
        "with",
        title="with or over",
        json_schema_extra=choice_labels({"with": "power with", "over": "power over"}),
    )
    note: str = Field("", title="note")


class RelationshipFields(Fields):
    """A relationship between two parties, with trust and power recorded over time."""

    party_a: str = Field(title="First party", description="A person, team or organisation.")
    party_b: str = Field(title="Second party", description="A person, team or organisation.")
    locality_id: str | None = Field(None, title="Locality", description="Where they meet.")
    observations: list[RelationshipObservation] = Field(
        default_factory=list,
        title="Trust and power over time",
        description="Trust (1 low to 5 high) and power (with or over) seen on a date.",
        examples=[
            [{"observed_on": "2026-03-01", "trust": 4, "power": "with", "note": "met weekly"}]
        ],
    )

    _a = field_validator("party_a")(_required_text)
    _b = field_validator("party_b")(_required_text)

    @field_validator("observations")
    @classmethod
    def _in_date_order(cls, value: list[RelationshipObservation]) -> list[RelationshipObservation]:
        return sorted(value, key=lambda o: o.observed_on)


class SeriesPoint(Fields):
    """One value of an uploaded series."""

    period: date = Field(title="date")
    value: float = Field(title="value")


#: The series a learn result publishes, by name (``systemic.learn.series.SERIES``;
#: a test checks the two agree).
LearnSeriesName = Literal[
    "failure_demand_share",
    "contacts",
    "failure_contacts",
    "needs_ended",
    "end_to_end_days_per_need",
    "end_to_end_days_per_case",
]
SeriesPeriod = Literal["week", "month"]
#: The SPC charts a measure can be drawn as (``systemic.measures``' chart kinds).
MeasureChart = Literal["xmr", "p", "u", "c", "t", "g"]
MeasureImprovement = Literal["increase", "decrease", "neutral"]


class Rebase(Fields):
    """A date from which a measure's limits are recalculated, and why."""

    on: date = Field(title="From", description="The first period of the new limits.")
    reason: str = Field(
        title="Reason",
        description="What changed in the system on that date (a rebase needs a reason).",
    )

    _reason = field_validator("reason")(_required_text)


class Annotation(Fields):
    """A note on a date of a measure's chart (a change, an event, a data problem)."""

    on: date = Field(title="Date")
    text: str = Field(title="Note")

    _text = field_validator("text")(_required_text)


class MeasureFields(Fields):
    """A measure derived from purpose, defined so its chart can be drawn and kept live.

    Its values come from its source: a learn result brought into the workspace
    (``systemic workspace add-learn``), read by series name and locality, or a
    series uploaded by hand. A target is allowed but flagged by the audit.
    """

    name: str
    kind: MeasureKind = "outcome"
    definition: str = Field(
        "",
        title="Operational definition",
        description="What is counted and how.",
        json_schema_extra=LONG_TEXT,
    )
    data_source: DataSourceKind = Field(
        "none",
        title="Source",
        description="Where its values come from.",
        json_schema_extra=choice_labels(
            {
                "none": "Not connected yet",
                "learn": "A learn result in the workspace",
                "series": "A series uploaded by hand",
            }
        ),
    )
    learn_result: str = Field(
        "",
        title="Learn result",
        description="The name a learn result was brought into the workspace under "
        "(systemic workspace add-learn DIR --name NAME); the form lists them with their "
        "newest version, weeks and series. Each new extract under that name refreshes "
        "the measure.",
        json_schema_extra=options_from("learn_result"),
    )
    series_name: LearnSeriesName | None = Field(
        None,
        title="Series",
        description="Which of the learn result's series the measure reads.",
        json_schema_extra=choice_labels(
            {
                "failure_demand_share": "Failure-demand share of classified contacts",
                "contacts": "Contacts",
                "failure_contacts": "Failure-demand contacts",
                "needs_ended": "Needs ended",
                "end_to_end_days_per_need": "Median end-to-end time of needs ended (days)",
                "end_to_end_days_per_case": "Median end-to-end time of cases ended (days)",
            }
        ),
    )
    period: SeriesPeriod = Field(
        "week",
        title="Period",
        description="Weekly or monthly values.",
        json_schema_extra=choice_labels({"week": "Weekly", "month": "Monthly"}),
    )
    locality: str = Field(
        "",
        title="Locality",
        description="The locality's name as the learn result spells it; "
        "leave empty for the whole area.",
    )
    chart: MeasureChart = Field(
        "xmr",
        title="Chart type",
        description="XmR for most measures; p for a share with its denominator; "
        "c for counts of events; u for rates; t and g for time or cases between rare events.",
        json_schema_extra=choice_labels(
            {
                "xmr": "XmR (individual values)",
                "p": "p (a proportion)",
                "u": "u (a rate)",
                "c": "c (a count)",
                "t": "t (time between events)",
                "g": "g (cases between events)",
            }
        ),
    )
    improvement: MeasureImprovement = Field(
        "neutral",
        title="Improvement is",
        description="Which way is better: it decides whether a signal is shown as "
        "improvement or concern.",
        json_schema_extra=choice_labels(
            {
                "increase": "Higher is better",
                "decrease": "Lower is better",
                "neutral": "Neither (show change only)",
            }
        ),
    )
    baseline_start: date | None = Field(
        None,
        title="Baseline from",
        description="First date of the baseline period the limits are fixed on "
        "(empty: from the start).",
    )
    baseline_end: date | None = Field(
        None,
        title="Baseline to",
        description="Last date of the baseline period (empty: limits from every point).",
    )
    rebases: list[Rebase] = Field(
        default_factory=list,
        title="Rebase dates",
        description="Dates from which the limits are recalculated, each with its reason: "
        "one per line, e.g. 2025-08-04, triage moved to the neighbourhood team.",
    )
    series: list[SeriesPoint] = Field(
        default_factory=list,
        title="Uploaded series",
        description="One per line: date, value — for example 2026-01-01, 42.",
    )
    owner_team_id: str | None = None
    target: float | None = Field(
        None,
        title="Target",
        description="Optional. The audit flags targets on activity or volume: they drive the "
        "number, not the purpose. On the chart's scale (a share as 0.25 for 25%).",
    )
    annotations: list[Annotation] = Field(
        default_factory=list,
        title="Annotations",
        description="Notes marked on the chart at their dates: one per line, "
        "e.g. 2025-03-03, phone system down for two days.",
    )
    purpose_statement_ids: list[str] = Field(default_factory=list)

    _name = field_validator("name")(_required_text)

    @field_validator("baseline_end")
    @classmethod
    def _baseline_in_order(cls, value: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("baseline_start")
        if value is not None and start is not None and value < start:
            raise ValueError("baseline_end must not be before baseline_start")
        return value

    @field_validator("rebases")
    @classmethod
    def _rebases_in_order(cls, value: list[Rebase]) -> list[Rebase]:
        return sorted(value, key=lambda r: r.on)

    @field_validator("annotations")
    @classmethod
    def _annotations_in_order(cls, value: list[Annotation]) -> list[Annotation]:
        return sorted(value, key=lambda a: a.on)


#: A field marked with this is written by an experiment's own page (its PDSA cycles,
#: its "Analyse" button), not typed into the experiment's form.
SET_ON_EXPERIMENT: dict[str, Any] = {"set_on": "experiment"}
#: A field only the system computes (an experiment's stored evidence): the JSON API
#: refuses to write it, so no one can type a verdict the analysis did not reach.
COMPUTED: dict[str, Any] = {"set_on": "experiment", "computed": True}


def is_computed(info: Any) -> bool:
    """Whether a field is written only by the system (see :data:`COMPUTED`)."""
    extra = getattr(info, "json_schema_extra", None)
    return isinstance(extra, dict) and bool(extra.get("computed"))


#: What an experiment's evidence concluded about one measure (``not_analysed``: it could
#: not be read, and the verdict says why).
EvidenceConclusion = Literal[
    "improvement",
    "concern",
    "change",
    "shared_change",
    "no_change",
    "inconclusive",
    "not_analysed",
]
EvidenceSignal = Literal["improvement", "concern", "mixed", "shift", "none"]


class PDSACycle(Fields):
    """One plan-do-study-act cycle of an experiment: what we tried, predicted, saw and did next."""

    plan: str = Field(
        title="Plan",
        description="What this cycle tries, where, with whom and how it will be measured.",
        json_schema_extra=LONG_TEXT,
    )
    prediction: str = Field(
        "",
        title="Prediction",
        description="What we expect to happen, said before it does.",
        json_schema_extra=LONG_TEXT,
    )
    started_on: date | None = Field(None, title="Started on", description="When the Do began.")
    ended_on: date | None = Field(None, title="Ended on", description="When the Do ended.")
    what_happened: str = Field(
        "",
        title="Do: what happened",
        description="What was done and what was seen, including what was not planned.",
        json_schema_extra=LONG_TEXT,
    )
    study: str = Field(
        "",
        title="Study: what we learnt",
        description="What happened compared with the prediction, and why they differ.",
        json_schema_extra=LONG_TEXT,
    )
    what_next: str = Field(
        "",
        title="Act: what next",
        description="Adopt, adapt or abandon the change, and the next cycle's plan.",
        json_schema_extra=LONG_TEXT,
    )

    _plan = field_validator("plan")(_required_text)

    @field_validator("ended_on")
    @classmethod
    def _dates_in_order(cls, value: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("started_on")
        if value is not None and start is not None and value < start:
            raise ValueError("must not be before the day the cycle started")
        return value


class MeasureEvidence(Fields):
    """What one measure said about an experiment, with the version of the data it read."""

    measure_id: str = Field(title="Measure", description="The measure read.")
    measure_name: str = Field(title="Measure name", description="Its name when analysed.")
    source: str = Field(title="Source", description="Where its values came from.")
    source_version: str = Field(
        "", title="Source version", description="Which version of the source was read."
    )
    locality: str = Field(
        "", title="Series read", description="The locality whose series was read ('' the area)."
    )
    compared_with: list[str] = Field(
        default_factory=list,
        title="Compared with",
        description="The other localities the difference in differences used.",
    )
    improvement: Literal["increase", "decrease", "neutral"] = Field(
        "neutral", title="Improvement is", description="Which way is better for the measure."
    )
    chart: Literal["xmr", "p", "u", "c", "t", "g"] = Field(
        "xmr", title="Chart", description="The chart whose limits were read (p: a share)."
    )
    n_before: int = Field(0, ge=0, title="Points before the start")
    n_after: int = Field(0, ge=0, title="Points since the start")
    baseline_mean: float | None = Field(None, title="Mean before the start")
    baseline_lower: float | None = Field(None, title="Lower limit before the start")
    baseline_upper: float | None = Field(None, title="Upper limit before the start")
    signal: EvidenceSignal = Field(
        "none", title="Signal", description="Special causes since the start, against the limits."
    )
    signal_rules: list[str] = Field(
        default_factory=list, title="Rules that fired", description="In words."
    )
    scale: Literal["difference", "relative"] = Field(
        "difference",
        title="Compared as",
        description="How the changes and the difference in differences are read: 'difference' "
        "in the measure's units, or 'relative' (fractions of the level before, e.g. -0.22 for "
        "-22%: learnt counts a week or month). Evidence stored before this was recorded read "
        "every measure as a difference.",
        json_schema_extra=choice_labels(
            {"difference": "A difference in the measure's units", "relative": "Relative changes"}
        ),
    )
    change_in_locality: float | None = Field(None, title="Change in the locality")
    change_in_others: float | None = Field(None, title="Change in the other localities")
    did: float | None = Field(None, title="Difference in differences")
    did_lower: float | None = Field(None, title="Interval, lower end")
    did_upper: float | None = Field(None, title="Interval, upper end")
    conclusion: EvidenceConclusion = Field(
        "not_analysed",
        title="Conclusion",
        json_schema_extra=choice_labels(
            {
                "improvement": "Improvement beyond the other localities",
                "concern": "Worse, beyond the other localities",
                "change": "Changed (no direction of improvement set)",
                "shared_change": "Changed, not clearly beyond elsewhere",
                "no_change": "No change",
                "inconclusive": "Inconclusive",
                "not_analysed": "Could not be analysed",
            }
        ),
    )
    verdict: str = Field(title="Verdict", description="The evidence in words.")
    notes: list[str] = Field(
        default_factory=list,
        title="Notes on the data",
        description="What was suppressed or left out of the series read, and why.",
    )


class EvidenceAnalysis(Fields):
    """One run of "Analyse" on an experiment: when, by whom, on what, and what it found."""

    version: int = Field(ge=1, title="Version", description="1 for the first analysis, and up.")
    analysed_at: AwareDatetime = Field(title="Analysed at")
    analysed_by: str = Field("", title="Analysed by")
    start_date: date = Field(title="Start date read", description="The experiment's start then.")
    locality: str = Field(
        "", title="Locality", description="The experiment's locality then ('' none)."
    )
    measures: list[MeasureEvidence] = Field(default_factory=list, title="Measures")


class ExperimentFields(Fields):
    """Step 1 of the cycle: try a change in one place and learn from it."""

    title: str
    question: str = Field("", title="Question we want to answer", json_schema_extra=LONG_TEXT)
    prediction: str = Field("", title="What we predict will happen", json_schema_extra=LONG_TEXT)
    change_idea: str = Field("", title="Change we will try", json_schema_extra=LONG_TEXT)
    locality_id: str | None = None
    team_id: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    result: str = Field(
        "",
        title="Result",
        description="What happened, in words (the stored evidence is kept below).",
        json_schema_extra=LONG_TEXT,
    )
    decision: ExperimentDecision | None = None
    purpose_statement_ids: list[str] = Field(default_factory=list)
    measure_ids: list[str] = Field(default_factory=list)
    story_ids: list[str] = Field(default_factory=list)
    pdsa_cycles: list[PDSACycle] = Field(
        default_factory=list,
        title="PDSA cycles",
        description="Plan, do, study, act: each cycle of the experiment, in date order.",
        json_schema_extra=SET_ON_EXPERIMENT,
    )
    analyses: list[EvidenceAnalysis] = Field(
        default_factory=list,
        title="Stored evidence",
        description="Each run of Analyse, oldest first; a new run adds a version.",
        json_schema_extra=COMPUTED,
    )

    _title = field_validator("title")(_required_text)

    @field_validator("end_date")
    @classmethod
    def _dates_in_order(cls, value: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("start_date")
        if value is not None and start is not None and value < start:
            raise ValueError("end_date must not be before start_date")
        return value

    @field_validator("pdsa_cycles")
    @classmethod
    def _cycles_in_date_order(cls, value: list[PDSACycle]) -> list[PDSACycle]:
        # Undated cycles (still being planned) come after the dated ones, in the order given.
        return sorted(value, key=lambda c: (c.started_on is None, c.started_on or date.min))


class RedesignDecisionFields(Fields):
    """Step 2 of the cycle: a change to the system, with the evidence behind it."""

    title: str
    level: FrameworkLevel = "organisation"
    object_changed: str = Field(
        "", title="What was changed", description="A rule, a team, a form, a measure."
    )
    change: str = Field("", title="The change", json_schema_extra=LONG_TEXT)
    decided_by: str = ""
    decided_on: date | None = Field(None, title="Date decided")
    review_date: date | None = None
    experiment_ids: list[str] = Field(default_factory=list, title="Experiments (evidence)")
    measure_ids: list[str] = Field(default_factory=list)
    story_ids: list[str] = Field(default_factory=list)
    system_condition_ids: list[str] = Field(
        default_factory=list,
        title="System conditions it changes",
        description="The rules, targets, funding rules or IT systems this decision changes.",
    )
    purpose_statement_ids: list[str] = Field(
        default_factory=list,
        title="Purpose statements it serves",
        description="What matters to people that this change is for.",
    )

    _title = field_validator("title")(_required_text)


class LoopName(Fields):
    """The name a feedback loop was given when it first appeared (kept while the map lives).

    ``factors`` are the loop's factor ids in causal order, starting at the smallest id.
    """

    name: str = Field(min_length=2, max_length=16)
    kind: LoopKind
    factors: list[str] = Field(min_length=1)


class SystemMapFields(Fields):
    """A causal map of the system: factors and signed links."""

    name: str = Field(title="Name", description="What the map is about.")
    description: str = Field(
        "",
        title="Description",
        description="What it shows, and for whom.",
        json_schema_extra=LONG_TEXT,
    )
    loop_names: list[LoopName] = Field(
        default_factory=list,
        title="Loop names",
        description="Names given to feedback loops as they appeared: a name is never reused.",
        json_schema_extra=SET_ON_MAP,
    )

    _name = field_validator("name")(_required_text)

    @field_validator("loop_names")
    @classmethod
    def _each_name_once(cls, value: list[LoopName]) -> list[LoopName]:
        first: dict[object, int] = {}
        for n, entry in enumerate(value, 1):
            loop = (entry.kind, tuple(entry.factors))
            for key, what in ((entry.name, f"the name {entry.name!r}"), (loop, "the same loop")):
                if key in first:
                    raise ValueError(
                        f"loops #{first[key]} and #{n} have {what}: each loop keeps one name "
                        "and a name is never given to another loop; remove one of them"
                    )
                first[key] = n
        return value


class FactorFields(Fields):
    """One factor (a variable that can go up or down) on a system map."""

    system_map_id: str = Field(title="System map", description="The map it is on.")
    name: str = Field(title="Name", description="Something that can go up or down.")
    description: str = Field(
        "", title="Description", description="What it means.", json_schema_extra=LONG_TEXT
    )
    kind: FactorKind | None = Field(
        default=None, title="Kind", description="System condition, demand, capacity or outcome."
    )
    level: FrameworkLevel | None = Field(
        default=None,
        title="Level",
        description="The level of the framework it sits at (purpose is the mission).",
        json_schema_extra=choice_labels(
            {
                "purpose": "Purpose (mission)",
                "paradigm": "Paradigm",
                "organisation": "Organisation",
                "people": "People",
            }
        ),
    )
    tags: list[str] = Field(
        default_factory=list,
        title="Tags",
        description="One per line. The system map can show just the factors with a tag.",
    )
    x: float | None = Field(
        default=None,
        title="Across",
        description="Where the factor sits on the map.",
        json_schema_extra=SET_ON_MAP,
    )
    y: float | None = Field(
        default=None,
        title="Down",
        description="Where the factor sits on the map.",
        json_schema_extra=SET_ON_MAP,
    )

    _name = field_validator("name")(_required_text)

    @field_validator("x", "y")
    @classmethod
    def _on_the_canvas(cls, value: float | None) -> float | None:
        if value is not None and not -100_000 <= value <= 100_000:
            raise ValueError("must be within 100000 of the map's origin")
        return value


class CausalLinkFields(Fields):
    """A signed causal link: '+' moves the effect the same way as the cause, '-' opposite."""

    system_map_id: str = Field(title="System map", description="The map it is on.")
    cause_id: str = Field(title="Cause", description="The factor that moves first.")
    effect_id: str = Field(title="Effect", description="The factor it moves.")
    polarity: Polarity = Field(
        "+",
        title="Polarity",
        description="+ means the effect moves the same way as the cause; − the opposite way.",
        json_schema_extra=choice_labels({"+": "+ same direction", "-": "− opposite direction"}),
    )
    delay: bool = Field(False, title="There is a delay", description="The effect comes later.")
    evidence: str = Field("", title="Evidence", description="What shows the link is there.")
    confidence: Confidence = Field(
        "medium", title="Confidence", description="How sure we are of the link."
    )


class Record(BaseModel):
    """What every stored object carries besides its fields."""

    id: str = Field(min_length=1, max_length=32)
    workspace_id: str
    created_at: AwareDatetime
    updated_at: AwareDatetime


def record_model(fields: type[Fields]) -> type[Record]:
    """The stored shape of a kind: its fields plus ``id``, ``workspace_id`` and timestamps."""
    name = fields.__name__.removesuffix("Fields")
    return type(name, (Record, fields), {"model_config": ConfigDict(extra="forbid")})


def as_plain(value: Any) -> Any:
    """A JSON-ready copy of a model's dump (dates as ISO text)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return value


# --- demand captured at the point of contact (issue 18) ------------------------------

#: How a demand reached the service.
Channel = Literal["phone", "face_to_face", "email", "web", "letter", "other"]
#: Value demand (what the service exists to do) or failure demand (caused by a failure
#: to do something or to do something right).
DemandClass = Literal["value", "failure"]
#: For failure demand, what failed (the capture sheet's words; the same values as
#: ``systemic.demand.inputs.WHAT_FAILED``).
WhatFailed = Literal[
    "not_done", "not_done_right", "chasing_progress", "not_understood", "sent_elsewhere"
]
#: A time given without a zone (a phone's date-and-time box) is read as UK clock time.
CLOCK_TIME = ZoneInfo("Europe/London")
#: Marks a person's own words: identifiers are masked in them before they are stored
#: (:mod:`systemic.store.masking`), and viewers are not shown them
#: (:func:`systemic.store.personal.words_withheld`).
PEOPLES_WORDS: dict[str, Any] = {"peoples_words": True, "long_text": True}


def _now_utc() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class DemandFields(Fields):
    """One demand as it arrived, in the person's words, classified by the team.

    Phone numbers, e-mail addresses, NHS and National Insurance numbers, postcodes
    and the names the team lists are masked before the words are stored.

    >>> d = DemandFields(verbatim="third time ringing about the boiler",
    ...                  received_at="2026-07-01T09:30", demand_class="failure",
    ...                  what_failed="chasing_progress")
    >>> d.received_at.isoformat()
    '2026-07-01T09:30:00+01:00'
    """

    received_at: datetime = Field(
        default_factory=_now_utc,
        title="When",
        description="When the demand arrived (now, unless you are catching up).",
    )
    channel: Channel = Field(
        "phone",
        title="Channel",
        description="How the person got in touch.",
        json_schema_extra=choice_labels({"face_to_face": "face to face"}),
    )
    service: str = Field("", title="Service", description="The service the demand is made of.")
    locality_id: str | None = Field(None, title="Locality")
    verbatim: str = Field(
        title="What the person said",
        description="In their words, as near as you can. Phone numbers, e-mail addresses, "
        "NHS and NI numbers, postcodes and listed names are masked when it is saved.",
        json_schema_extra=PEOPLES_WORDS,
    )
    what_matters: str = Field(
        "",
        title="What matters to them",
        description="What the person wants to happen, in their terms.",
        json_schema_extra=PEOPLES_WORDS,
    )
    demand_class: DemandClass | None = Field(
        None,
        title="Value or failure",
        description="Value: what the service is there to do. Failure: caused by a failure "
        "to do something or to do something right. Leave empty when not yet known.",
        examples=["failure"],
        json_schema_extra=choice_labels({"value": "value demand", "failure": "failure demand"}),
    )
    demand_type: str = Field(
        "",
        title="Type of demand",
        description="The team's own words for it (e.g. 'report a repair', 'chase a repair').",
    )
    what_failed: WhatFailed | None = Field(
        None,
        title="What failed",
        description="For failure demand only.",
        json_schema_extra=choice_labels(
            {
                "not_done": "something was not done",
                "not_done_right": "something was not done right",
                "chasing_progress": "chasing progress",
                "not_understood": "not understood (a letter, a form, a decision)",
                "sent_elsewhere": "sent elsewhere",
            }
        ),
    )
    resolved_first_contact: bool | None = Field(
        None,
        title="Resolved at first contact",
        description="Whether what the person needed was done in this contact.",
    )
    retain_until: date | None = Field(
        None, title="Keep until (then deleted)", description="Delete after this date (retention)."
    )

    _verbatim = field_validator("verbatim")(_required_text)

    @field_validator("received_at")
    @classmethod
    def _clock_time(cls, value: datetime) -> datetime:
        return value.replace(tzinfo=CLOCK_TIME) if value.tzinfo is None else value

    @field_validator("what_failed")
    @classmethod
    def _only_for_failure(cls, value: WhatFailed | None, info: ValidationInfo) -> WhatFailed | None:
        if value is not None and info.data.get("demand_class") != "failure":
            raise ValueError("what failed is given only for failure demand")
        return value


class MaskedNameFields(Fields):
    """A name the team lists, masked wherever it appears in what people said."""

    name: str = Field(
        title="Name to mask",
        description="A person's or a place's name; masked in captured demand from now on "
        "(whole words, any case).",
        max_length=200,
    )

    _name = field_validator("name")(_required_text)
