"""The registry of object kinds: names, fields, references and links.

One table drives the store, the JSON API, export/import and the audit, so a
new kind is added in one place.

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
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel

from systemic.framework import model as m


@dataclass(frozen=True)
class Kind:
    """One kind of workspace object.

    ``references`` maps a single-id field to the kind it points to;
    ``relations`` maps a relation name (the target's plural) to the target kind,
    stored in the field ``<target>_ids``. ``personal`` marks kinds that hold
    people's own words (their text is withheld from viewers and from the audit
    trail, and removed from history when the object is deleted).
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


_ALL = (
    Kind(
        "locality",
        "localities",
        "Locality",
        m.LocalityFields,
        "name",
    ),
    Kind(
        "purpose_statement",
        "purpose_statements",
        "Purpose statement",
        m.PurposeStatementFields,
        "text",
        references={"locality_id": "locality", "parent_id": "purpose_statement"},
    ),
    Kind("principle", "principles", "Principle", m.PrincipleFields, "name"),
    Kind(
        "team",
        "teams",
        "Team",
        m.TeamFields,
        "name",
        references={"locality_id": "locality"},
        relations={"purpose_statements": "purpose_statement"},
    ),
    Kind(
        "decision_right",
        "decision_rights",
        "Decision right",
        m.DecisionRightFields,
        "decision_kind",
        references={"locality_id": "locality"},
        required_references=("locality_id",),
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
    ),
    Kind(
        "system_condition",
        "system_conditions",
        "System condition",
        m.SystemConditionFields,
        "name",
        relations={"principles": "principle", "stories": "story"},
    ),
    Kind(
        "conversation",
        "conversations",
        "Conversation",
        m.ConversationFields,
        "what_matters",
        references={"locality_id": "locality"},
        personal=True,
    ),
    Kind(
        "community_asset",
        "community_assets",
        "Community asset",
        m.CommunityAssetFields,
        "name",
        references={"locality_id": "locality"},
    ),
    Kind(
        "relationship",
        "relationships",
        "Relationship",
        m.RelationshipFields,
        "party_a",
        references={"locality_id": "locality"},
    ),
    Kind(
        "measure",
        "measures",
        "Measure",
        m.MeasureFields,
        "name",
        references={"owner_team_id": "team"},
        relations={"purpose_statements": "purpose_statement"},
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
    ),
    Kind("system_map", "system_maps", "System map", m.SystemMapFields, "name"),
    Kind(
        "factor",
        "factors",
        "Factor",
        m.FactorFields,
        "name",
        references={"system_map_id": "system_map"},
        required_references=("system_map_id",),
    ),
    Kind(
        "causal_link",
        "causal_links",
        "Causal link",
        m.CausalLinkFields,
        "polarity",
        references={"system_map_id": "system_map", "cause_id": "factor", "effect_id": "factor"},
        required_references=("system_map_id", "cause_id", "effect_id"),
    ),
    Kind(
        "demand",
        "demands",
        "Demand",
        m.DemandFields,
        "verbatim",
        references={"locality_id": "locality"},
        personal=True,
    ),
    Kind("masked_name", "masked_names", "Name to mask", m.MaskedNameFields, "name", personal=True),
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
