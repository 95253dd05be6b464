"""The registry of object kinds: names, fields, references and links.

One table drives the store, the JSON API, export/import, the audit and the
pages, so a new kind is added in one place. What a user reads about a kind
lives here too: its intro line, the level page it belongs to (``home``) and the
"add a linked object" buttons it offers on the pages of the objects it points
to (``add_linked``). What a user reads about a *field* lives on the pydantic
field itself (``Field(title=..., description=...)``, with
``json_schema_extra={"choice_labels": {...}, "long_text": True}``): see
:meth:`Kind.field_title`, :meth:`Kind.field_help`, :meth:`Kind.choice_label`
and :meth:`Kind.long_text`.

URL conventions (used by audit findings and pages):

- page of one object: ``/{plural}/{id}`` (e.g. ``/measures/4f2c...``);
- JSON API: ``/api/{plural}`` and ``/api/{plural}/{id}``;
- a link: ``/api/{plural}/{id}/{relation}/{target_id}`` (PUT links, DELETE unlinks).

>>> KINDS["measure"].plural
'measures'
>>> KINDS["measure"].relations
{'purpose_statements': 'purpose_statement'}
>>> object_path("measure", "abc")
'/measures/abc'
>>> KINDS["purpose_statement"].field_title("said_by")
'Who said it'
>>> KINDS["purpose_statement"].choice_label("voice", "organisation")
'The organisation'
>>> KINDS["factor"].choice_label("level", "organisation")
'Organisation'
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from systemic.framework import model as m


@dataclass(frozen=True)
class Kind:
    """One kind of workspace object.

    ``references`` maps a single-id field to the kind it points to;
    ``relations`` maps a relation name (the target's plural) to the target kind,
    stored in the field ``<target>_ids``. ``personal`` marks kinds that hold
    people's own words (their text is withheld from viewers and from the audit
    trail, and removed from history when the object is deleted).

    What the pages say about the kind: ``home`` is the level page it is shown on
    (path and the page's name, where "back" leads); ``intro`` a short line under
    the heading of its form; ``add_linked`` maps a field of this kind that points
    to another object (``locality_id``, ``measure_ids``) to the label of the
    button, on that object's page, that adds one of these already linked to it.
    """

    name: str
    plural: str
    label: str
    fields: type[m.Fields]
    title_field: str
    references: dict[str, str] = field(default_factory=dict)
    relations: dict[str, str] = field(default_factory=dict)
    required_references: tuple[str, ...] = ()
    personal: bool = False
    home: tuple[str, str] = ("/", "Dashboard")
    intro: str = ""
    add_linked: dict[str, str] = field(default_factory=dict)

    @property
    def record(self) -> type[m.Record]:
        """The stored shape (fields plus id, workspace_id, timestamps)."""
        return RECORDS[self.name]

    def relation_field(self, relation: str) -> str:
        """The field holding the ids of a relation, e.g. ``purpose_statement_ids``."""
        return f"{self.relations[relation]}_ids"

    @property
    def relation_fields(self) -> dict[str, str]:
        """Field name -> target kind for every relation."""
        return {self.relation_field(r): t for r, t in self.relations.items()}

    @property
    def scalar_fields(self) -> list[str]:
        """Fields stored as columns (everything but relation id lists)."""
        links = set(self.relation_fields)
        return [f for f in self.fields.model_fields if f not in links]

    def field_title(self, name: str) -> str:
        """What a field is called on forms and pages: its ``title``, else its name in words
        (a reference or relation named for what it points to: ``team_id`` -> 'Team',
        ``measure_ids`` -> 'Measures')."""
        info = self.fields.model_fields.get(name)
        if info is not None and info.title:
            return info.title
        if name in self.relation_fields:
            return KINDS[self.relation_fields[name]].plural.replace("_", " ").capitalize()
        return field_title(name.removesuffix("_id"), None)

    def field_help(self, name: str) -> str:
        """The help shown under a field's control: its ``description`` (may be empty)."""
        info = self.fields.model_fields.get(name)
        return (info.description or "") if info is not None else ""

    def choice_label(self, name: str, value: Any) -> str:
        """The words shown for a stored choice ``value`` of the field ``name``."""
        return choice_label(self.fields.model_fields.get(name), value)

    def long_text(self, name: str) -> bool:
        """Whether a text field deserves a multi-line box (``long_text`` on the field)."""
        return bool(_extra(self.fields.model_fields.get(name)).get("long_text"))


def _extra(info: FieldInfo | None) -> dict[str, Any]:
    extra = info.json_schema_extra if info is not None else None
    return extra if isinstance(extra, dict) else {}


def field_title(name: str, info: FieldInfo | None) -> str:
    """A field's ``title``, else its name in words (``said_by`` -> 'Said by').

    >>> field_title("start_date", None)
    'Start date'
    """
    if info is not None and info.title:
        return info.title
    return name.replace("_", " ").capitalize()


def choice_label(info: FieldInfo | None, value: Any) -> str:
    """The words for a choice: the field's ``choice_labels``, else the value with spaces.

    >>> choice_label(None, "it_system")
    'it system'
    """
    labels = _extra(info).get("choice_labels")
    text = str(value)
    if isinstance(labels, dict) and text in labels:
        return str(labels[text])
    return text.replace("_", " ")


def choices_of(info: FieldInfo) -> list[str] | None:
    """The values a choice field (a ``Literal``, optional or not) allows, else None."""
    annotation = info.annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        annotation = args[0] if len(args) == 1 else annotation
    if typing.get_origin(annotation) is Literal:
        return [str(v) for v in typing.get_args(annotation)]
    return None


MISSION = ("/mission", "Purpose")
PARADIGM = ("/paradigm", "Principles & conditions")
ORGANISATION = ("/organisation", "Localities & teams")
PEOPLE = ("/people", "People & communities")
CYCLE = ("/cycle", "Learning cycle")
CAPTURE = ("/capture", "Capture demand")
MASKED_NAMES = ("/capture/names", "Names to mask")
MAP = ("/map", "System map")

_ALL = (
    Kind(
        "locality",
        "localities",
        "Locality",
        m.LocalityFields,
        "name",
        home=ORGANISATION,
    ),
    Kind(
        "purpose_statement",
        "purpose_statements",
        "Purpose statement",
        m.PurposeStatementFields,
        "text",
        references={"locality_id": "locality", "parent_id": "purpose_statement"},
        home=MISSION,
        intro=(
            "Write the purpose as it was said — keep the person's own words. "
            "Only the statement itself is needed."
        ),
        add_linked={"parent_id": "Add a more detailed statement"},
    ),
    Kind("principle", "principles", "Principle", m.PrincipleFields, "name", home=PARADIGM),
    Kind(
        "team",
        "teams",
        "Team",
        m.TeamFields,
        "name",
        references={"locality_id": "locality"},
        relations={"purpose_statements": "purpose_statement"},
        home=ORGANISATION,
        add_linked={"locality_id": "Add a team here"},
    ),
    Kind(
        "decision_right",
        "decision_rights",
        "Decision right",
        m.DecisionRightFields,
        "decision_kind",
        references={"locality_id": "locality"},
        required_references=("locality_id",),
        home=ORGANISATION,
        intro="Who makes this kind of decision for the locality, and why.",
        add_linked={"locality_id": "Record a decision right"},
    ),
    Kind(
        "story",
        "stories",
        "Story",
        m.StoryFields,
        "title",
        references={"locality_id": "locality"},
        relations={"purpose_statements": "purpose_statement"},
        personal=True,
        home=PEOPLE,
    ),
    Kind(
        "system_condition",
        "system_conditions",
        "System condition",
        m.SystemConditionFields,
        "name",
        relations={"principles": "principle", "stories": "story"},
        home=PARADIGM,
        intro="A rule, target, funding rule or IT system that shapes how work is done.",
    ),
    Kind(
        "conversation",
        "conversations",
        "Conversation",
        m.ConversationFields,
        "what_matters",
        references={"locality_id": "locality"},
        personal=True,
        home=PEOPLE,
        intro="What matters to the person, in their words. Only the first box is needed.",
    ),
    Kind(
        "community_asset",
        "community_assets",
        "Community asset",
        m.CommunityAssetFields,
        "name",
        references={"locality_id": "locality"},
        home=PEOPLE,
    ),
    Kind(
        "relationship",
        "relationships",
        "Relationship",
        m.RelationshipFields,
        "party_a",
        references={"locality_id": "locality"},
        home=PEOPLE,
    ),
    Kind(
        "measure",
        "measures",
        "Measure",
        m.MeasureFields,
        "name",
        references={"owner_team_id": "team"},
        relations={"purpose_statements": "purpose_statement"},
        home=MISSION,
        intro="A measure derived from purpose shows whether things are getting better for people.",
        add_linked={"purpose_statement_ids": "Derive a measure from it"},
    ),
    Kind(
        "experiment",
        "experiments",
        "Experiment",
        m.ExperimentFields,
        "title",
        references={"locality_id": "locality", "team_id": "team"},
        relations={
            "purpose_statements": "purpose_statement",
            "measures": "measure",
            "stories": "story",
        },
        home=CYCLE,
        intro="Try a change in one place and learn from it: question, prediction, measure.",
        add_linked={
            "measure_ids": "Start an experiment using this measure",
            "purpose_statement_ids": "Start an experiment for it",
        },
    ),
    Kind(
        "redesign_decision",
        "redesign_decisions",
        "Redesign decision",
        m.RedesignDecisionFields,
        "title",
        relations={
            "experiments": "experiment",
            "measures": "measure",
            "stories": "story",
            "system_conditions": "system_condition",
            "purpose_statements": "purpose_statement",
        },
        home=CYCLE,
        intro="A change to the system, with the evidence behind it.",
        add_linked={
            "experiment_ids": "Record a redesign decision on this evidence",
            "system_condition_ids": "Record a redesign decision that changes it",
        },
    ),
    Kind("system_map", "system_maps", "System map", m.SystemMapFields, "name", home=MAP),
    Kind(
        "factor",
        "factors",
        "Factor",
        m.FactorFields,
        "name",
        references={"system_map_id": "system_map"},
        required_references=("system_map_id",),
        home=MAP,
        add_linked={"system_map_id": "Add a factor"},
    ),
    Kind(
        "causal_link",
        "causal_links",
        "Causal link",
        m.CausalLinkFields,
        "polarity",
        references={"system_map_id": "system_map", "cause_id": "factor", "effect_id": "factor"},
        required_references=("system_map_id", "cause_id", "effect_id"),
        home=MAP,
        add_linked={"system_map_id": "Add a causal link"},
    ),
    Kind(
        "demand",
        "demands",
        "Demand",
        m.DemandFields,
        "verbatim",
        references={"locality_id": "locality"},
        personal=True,
        home=CAPTURE,
        intro="A demand as it arrived: what the person said, in their words, and whether "
        "it was value or failure. Identifiers are masked before it is stored.",
    ),
    Kind(
        "masked_name",
        "masked_names",
        "Name to mask",
        m.MaskedNameFields,
        "name",
        personal=True,
        home=MASKED_NAMES,
    ),
)

#: Every kind by name, in dependency order (a kind only references earlier ones,
#: except a purpose statement's parent): export and import follow this order.
KINDS: dict[str, Kind] = {k.name: k for k in _ALL}
KINDS_BY_PLURAL: dict[str, Kind] = {k.plural: k for k in _ALL}
RECORDS: dict[str, type[m.Record]] = {k.name: m.record_model(k.fields) for k in _ALL}


def object_path(kind: str, object_id: str) -> str:
    """The page path of one object, e.g. ``/experiments/<id>``."""
    return f"/{KINDS[kind].plural}/{object_id}"


def api_path(kind: str, object_id: str | None = None) -> str:
    """The JSON API path of a kind, or of one object."""
    base = f"/api/{KINDS[kind].plural}"
    return base if object_id is None else f"{base}/{object_id}"


def title_of(kind: str, record: BaseModel) -> str:
    """A short human title for an object (its name, title or first words)."""
    value = str(getattr(record, KINDS[kind].title_field, "") or "")
    return value if len(value) <= 80 else value[:77] + "..."
