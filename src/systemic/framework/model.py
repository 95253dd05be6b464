"""The workspace's domain model: the four levels and the learning cycle.

Pure Python (pydantic), no SQL: ``systemic.store`` persists these shapes and
``systemic.web`` serves them. Each kind of object has one *fields* model (what a
user edits, including the ids of the objects it links to); the stored record
adds ``id``, ``workspace_id`` and timestamps (see :func:`record_model`).

Each field says what it is called and what it is for, once, on the field:
``Field(title="Label on forms and pages", description="Help shown under the
control")``; where a stored choice is not plain English, and for text that
needs a multi-line box, ``json_schema_extra={"choice_labels": {value: words},
"long_text": True}``. Forms, pages, the JSON API's schema and the docs read
these (``systemic.framework.kinds.Kind.field_title`` and friends).

>>> from systemic.framework.model import PurposeStatementFields
>>> PurposeStatementFields(text="Help me stay in my own home", voice="I").level
'person'
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

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
#: Help for a list of words or names typed on a form.
ONE_PER_LINE = "One per line."
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
        json_schema_extra={
            "choice_labels": {
                "I": "I (a person)",
                "We": "We (a group or community)",
                "organisation": "The organisation",
            }
        },
    )
    said_by: str = Field(
        "", title="Who said it", description="A role, or a name given with consent."
    )
    said_where: str = Field(
        "", title="Where it was said", description="A meeting, a visit, a survey."
    )
    consent: bool = Field(
        False,
        title="Consent given to record and use these words",
        description="Tick only when the person agreed to their words being recorded and used.",
    )
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
        json_schema_extra={"choice_labels": {"it_system": "IT system"}},
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
    consent: bool = Field(
        False,
        title="Consent given to record and use these words",
        description="Tick only when the person agreed to their words being recorded and used.",
    )
    retain_until: date | None = Field(
        None,
        title="Keep until (then deleted)",
        description=(
            "Optional. After this date `systemic retention run` deletes it for good; "
            "leave empty to keep it until someone deletes it."
        ),
    )
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
    consent: bool = Field(
        False,
        title="Consent given to record and use these words",
        description="Tick only when the person agreed to their words being recorded and used.",
    )
    retain_until: date | None = Field(
        None,
        title="Keep until (then deleted)",
        description=(
            "Optional. After this date `systemic retention run` deletes it for good; "
            "leave empty to keep it until someone deletes it."
        ),
    )
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
        json_schema_extra={"choice_labels": {"with": "power with", "over": "power over"}},
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

    period: date
    value: float


class MeasureFields(Fields):
    """A measure derived from purpose; a target is allowed but flagged by the audit."""

    name: str
    kind: MeasureKind = "outcome"
    definition: str = Field("", description="Operational definition: what is counted and how.")
    data_source: DataSourceKind = "none"
    learn_output: str = Field("", description="Name of the learn result that feeds it.")
    series: list[SeriesPoint] = Field(default_factory=list, description="An uploaded series.")
    owner_team_id: str | None = None
    target: float | None = Field(None, description="Optional; targets are flagged.")
    purpose_statement_ids: list[str] = Field(default_factory=list)

    _name = field_validator("name")(_required_text)


class ExperimentFields(Fields):
    """Step 1 of the cycle: try a change in one place and learn from it."""

    title: str
    question: str = ""
    prediction: str = ""
    change_idea: str = ""
    locality_id: str | None = None
    team_id: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    result: str = ""
    decision: ExperimentDecision | None = None
    purpose_statement_ids: list[str] = Field(default_factory=list)
    measure_ids: list[str] = Field(default_factory=list)
    story_ids: list[str] = Field(default_factory=list)

    _title = field_validator("title")(_required_text)

    @field_validator("end_date")
    @classmethod
    def _dates_in_order(cls, value: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("start_date")
        if value is not None and start is not None and value < start:
            raise ValueError("end_date must not be before start_date")
        return value


class RedesignDecisionFields(Fields):
    """Step 2 of the cycle: a change to the system, with the evidence behind it."""

    title: str
    level: FrameworkLevel = "organisation"
    object_changed: str = Field("", description="What was changed (a rule, a team, a form).")
    change: str = ""
    decided_by: str = ""
    decided_on: date | None = None
    review_date: date | None = None
    experiment_ids: list[str] = Field(default_factory=list)
    measure_ids: list[str] = Field(default_factory=list)
    story_ids: list[str] = Field(default_factory=list)

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
        json_schema_extra={
            "choice_labels": {
                "purpose": "Purpose (mission)",
                "paradigm": "Paradigm",
                "organisation": "Organisation",
                "people": "People",
            }
        },
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
        json_schema_extra={"choice_labels": {"+": "+ same direction", "-": "− opposite direction"}},
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
