"""HTML forms for workspace objects, described from the domain model's fields.

Each kind's pydantic *fields* model says what a control should be: a ``Literal``
is a choice, ``bool`` a tick box, ``date`` a date, a reference (``locality_id``)
a choice of existing objects, a relation (``measure_ids``) a set of tick boxes.
This module turns that into :class:`Control` descriptions for the templates,
and turns a submitted form back into the dict the model validates; problems come
back as messages per field, in plain words, to show on the form.

>>> from systemic.framework.kinds import KINDS
>>> [c.name for c in form_controls(KINDS["principle"])]
['name', 'description']
>>> parse_form(KINDS["principle"], {"name": "  Local by default "}).values["name"]
'  Local by default '
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from systemic.framework.kinds import Kind

#: What each field is called on a form, in the domain's words (field name -> label).
LABELS: dict[str, str] = {
    "text": "Statement, in the words used",
    "voice": "Voice",
    "said_by": "Who said it",
    "said_where": "Where it was said",
    "consent": "Consent given to record and use these words",
    "retain_until": "Keep until (then deleted)",
    "level": "Level",
    "locality_id": "Locality",
    "parent_id": "Part of (broader statement)",
    "status": "Status",
    "name": "Name",
    "description": "Description",
    "kind": "Kind",
    "owner": "Owner",
    "changeable_locally": "Can be changed locally",
    "judgement": "Effect on purpose",
    "effect": "Demand or behaviour it causes",
    "evidence": "Evidence",
    "proposal": "Proposal",
    "principle_ids": "Principles it works against",
    "story_ids": "Stories",
    "population": "Population",
    "boundary": "Boundary",
    "members": "Members",
    "services": "Services covered",
    "purpose_statement_ids": "Purpose statements",
    "decision_kind": "Kind of decision",
    "made": "Where the decision is made",
    "reason": "Why",
    "title": "Title",
    "told_by": "Told by",
    "told_on": "Date told",
    "what_matters": "What matters to the person, in their words",
    "strengths": "Strengths",
    "agreed_actions": "Agreed actions",
    "person_holds_record": "The person holds this record",
    "held_on": "Date of conversation",
    "party_a": "First party",
    "party_b": "Second party",
    "observations": "Trust and power over time",
    "definition": "Operational definition",
    "data_source": "Data source",
    "series": "Uploaded series",
    "series_name": "Series",
    "owner_team_id": "Owner team",
    "target": "Target",
    "question": "Question we want to answer",
    "prediction": "What we predict will happen",
    "change_idea": "Change we will try",
    "team_id": "Team",
    "start_date": "Start date",
    "end_date": "End date",
    "result": "Result",
    "decision": "Decision",
    "measure_ids": "Measures",
    "object_changed": "What was changed",
    "change": "The change",
    "decided_by": "Decided by",
    "decided_on": "Date decided",
    "review_date": "Review date",
    "experiment_ids": "Experiments (evidence)",
    "system_map_id": "System map",
    "cause_id": "Cause",
    "effect_id": "Effect",
    "polarity": "Polarity",
    "delay": "There is a delay",
    "confidence": "Confidence",
    "tags": "Tags",
}

#: Short help under a control, where the model's own description is not enough.
HELP: dict[str, str] = {
    "members": "One per line.",
    "services": "One per line.",
    "strengths": "One per line.",
    "agreed_actions": "One per line.",
    "evidence": "One per line: what it is | link (the link is optional).",
    "series": "One per line: date, value — for example 2026-01-01, 42.",
    "observations": (
        "One per line: date, trust 1–5, with or over, note — "
        "for example 2026-03-01, 4, with, met weekly."
    ),
    "target": "Optional. The audit flags targets on activity or volume: they drive the number, "
    "not the purpose.",
    "consent": "Tick only when the person agreed to their words being recorded and used.",
    "retain_until": (
        "Optional. After this date `systemic retention run` deletes it for good; "
        "leave empty to keep it until someone deletes it."
    ),
    "polarity": "+ means the effect moves the same way as the cause; − the opposite way.",
    "tags": "One per line. The system map can show just the factors with a tag.",
}

#: Words shown for choice values, where the stored value is not plain English.
CHOICE_LABELS: dict[str, str] = {
    "I": "I (a person)",
    "We": "We (a group or community)",
    "organisation": "The organisation",
    "political_decision": "political decision",
    "measure_or_target": "measure or target",
    "funding_rule": "funding rule",
    "it_system": "IT system",
    "+": "+ same direction",
    "-": "− opposite direction",
    "none": "none yet",
    "learn": "a learn result",
    "series": "an uploaded series",
    "with": "power with",
    "over": "power over",
}

#: Free-text fields that deserve a multi-line box.
LONG_TEXT = {
    "text",
    "description",
    "effect",
    "proposal",
    "definition",
    "question",
    "prediction",
    "change_idea",
    "result",
    "change",
    "what_matters",
    "reason",
    "boundary",
}

ControlType = Literal[
    "text", "textarea", "select", "checkbox", "date", "number", "choices", "lines"
]


@dataclass
class Option:
    """One choice in a select or a set of tick boxes."""

    value: str
    label: str


@dataclass
class Control:
    """One form control: what the template needs to draw it."""

    name: str
    label: str
    type: ControlType
    required: bool = False
    help: str = ""
    options: list[Option] = field(default_factory=list)
    #: For a select: whether a blank choice is offered (the field is optional).
    blank: str = ""
    step: str = ""
    #: Which kind a reference or relation points to (to list its objects).
    target_kind: str = ""


@dataclass
class ParsedForm:
    """A submitted form: the values to validate and any problems found reading it."""

    values: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)


def _unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    """``X | None`` -> (X, True); anything else -> (annotation, False)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(annotation)) == 2:
            return args[0], True
    return annotation, False


def _set_elsewhere(info: Any) -> bool:
    """Whether a field is set elsewhere (``SET_ON_MAP``, ``SET_ON_EXPERIMENT``), not on a form."""
    extra = info.json_schema_extra
    return isinstance(extra, dict) and extra.get("set_on") is not None


def _list_item(annotation: Any) -> Any | None:
    if typing.get_origin(annotation) is list:
        return typing.get_args(annotation)[0]
    return None


def form_controls(
    kind: Kind, choices: Mapping[str, Sequence[Option]] | None = None
) -> list[Control]:
    """The controls of a kind's form, in the model's field order.

    ``choices`` gives, per target kind name, the existing objects to pick from
    for references and relations (e.g. ``{"locality": [Option(id, name)]}``).
    """
    choices = choices or {}
    controls: list[Control] = []
    relation_fields = kind.relation_fields
    for name, info in kind.fields.model_fields.items():
        if _set_elsewhere(info):
            continue
        annotation, optional = _unwrap_optional(info.annotation)
        label = LABELS.get(name) or info.title or name.replace("_", " ").capitalize()
        help_text = HELP.get(name) or (info.description or "")
        if help_text.rstrip(".") == label.rstrip("."):
            help_text = ""
        required = info.is_required() and name not in relation_fields
        if name in kind.references:
            target = kind.references[name]
            controls.append(
                Control(
                    name,
                    label,
                    "select",
                    required=name in kind.required_references,
                    help=help_text,
                    options=list(choices.get(target, [])),
                    blank="" if name in kind.required_references else "— none —",
                    target_kind=target,
                )
            )
        elif name in relation_fields:
            target = relation_fields[name]
            controls.append(
                Control(
                    name,
                    label,
                    "choices",
                    help=help_text,
                    options=list(choices.get(target, [])),
                    target_kind=target,
                )
            )
        elif typing.get_origin(annotation) is Literal:
            values = [str(v) for v in typing.get_args(annotation)]
            controls.append(
                Control(
                    name,
                    label,
                    "select",
                    required=info.is_required(),
                    help=help_text,
                    options=[Option(v, CHOICE_LABELS.get(v, v.replace("_", " "))) for v in values],
                    blank="— not yet —" if optional else "",
                )
            )
        elif annotation is bool:
            controls.append(Control(name, label, "checkbox", help=help_text))
        elif annotation is date:
            controls.append(Control(name, label, "date", required=required, help=help_text))
        elif annotation in (int, float):
            step = "1" if annotation is int else "any"
            controls.append(
                Control(name, label, "number", required=required, help=help_text, step=step)
            )
        elif _list_item(annotation) is not None:
            controls.append(Control(name, label, "lines", help=help_text or "One per line."))
        else:
            control_type: ControlType = "textarea" if name in LONG_TEXT else "text"
            controls.append(Control(name, label, control_type, required=required, help=help_text))
    return controls


def parse_form(kind: Kind, form: Mapping[str, Any]) -> ParsedForm:
    """Read a submitted form (a multi-dict or plain dict) into field values.

    Empty optional inputs become ``None``; unticked boxes ``False``; line lists are
    split; structured lines (evidence, series, observations) are read into dicts,
    with a message naming the line when one cannot be read.
    """
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    relation_fields = kind.relation_fields

    def get_all(name: str) -> list[str]:
        getlist = getattr(form, "getlist", None)
        if getlist is not None:
            return [str(v) for v in getlist(name)]
        value = form.get(name)
        if value is None:
            return []
        return [str(v) for v in value] if isinstance(value, list) else [str(value)]

    for name, info in kind.fields.model_fields.items():
        if _set_elsewhere(info):
            continue  # e.g. a factor's place: set by dragging it on the map, kept on save
        annotation, optional = _unwrap_optional(info.annotation)
        raw_values = get_all(name)
        raw = raw_values[0] if raw_values else ""
        if name in relation_fields:
            values[name] = [v for v in raw_values if v]
        elif annotation is bool:
            values[name] = raw.lower() in {"on", "true", "1", "yes"}
        elif (item := _list_item(annotation)) is not None:
            lines = [line.strip() for line in raw.splitlines() if line.strip()]
            if item is str:
                values[name] = lines
            else:
                parsed, problem = _parse_structured_lines(item, lines)
                values[name] = parsed
                if problem:
                    errors[name] = problem
        elif not raw_values and not info.is_required():
            continue  # not on the form: keep the stored value (or the default)
        elif raw.strip() == "" and (optional or name in kind.references):
            values[name] = None
        elif raw.strip() == "" and info.default == "":
            values[name] = ""  # a cleared text box clears the text
        elif raw.strip() == "" and not info.is_required():
            continue  # an empty choice: keep the default
        else:
            values[name] = raw
    return ParsedForm(values, errors)


def _parse_structured_lines(item: type[BaseModel], lines: list[str]) -> tuple[list[dict], str]:
    """Read 'a, b, c' or 'a | b' lines into dicts for the item model's fields."""
    names = list(item.model_fields)
    separator = "|" if names == ["label", "href"] else ","
    rows: list[dict] = []
    for number, line in enumerate(lines, start=1):
        parts = [part.strip() for part in line.split(separator, maxsplit=len(names) - 1)]
        required = [n for n in names if item.model_fields[n].is_required()]
        if len(parts) < len(required):
            expected = f" {separator} ".join(required)
            return rows, f"Line {number} ({line!r}): expected {expected}."
        row = dict(zip(names, parts, strict=False))
        try:
            item.model_validate(row)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            return rows, f"Line {number} ({line!r}): {where} — {first['msg'].lower()}."
        rows.append(row)
    return rows, ""


def errors_by_field(error: ValidationError | Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Plain messages per field from a pydantic error or its list of problems.

    A problem with the whole object (no field) is filed under ``__all__``.
    """
    problems = error.errors() if isinstance(error, ValidationError) else error
    messages: dict[str, str] = {}
    for problem in problems:
        location = problem.get("loc") or ()
        name = str(location[0]) if location else "__all__"
        message = str(problem.get("msg", "is not valid"))
        message = message.removeprefix("Value error, ")
        if problem.get("type") == "missing" or message == "must not be empty":
            message = "This is needed."
        elif problem.get("type") == "literal_error":
            message = "Choose one of the options."
        elif problem.get("type") == "reference_error":
            message = f"That choice no longer exists ({message}); choose again."
        elif problem.get("type", "").startswith(("date_", "float_", "int_")):
            message = _NUMBER_OR_DATE.get(problem["type"].split("_")[0], message)
        messages.setdefault(name, message[:1].upper() + message[1:])
    return messages


_NUMBER_OR_DATE = {
    "date": "Enter a date, for example 2026-03-31.",
    "float": "Enter a number, for example 42 or 3.5.",
    "int": "Enter a whole number, for example 1200.",
}


def form_values(record: BaseModel | Mapping[str, Any] | None) -> dict[str, Any]:
    """Values to pre-fill a form from a stored object (lists joined back into lines)."""
    if record is None:
        return {}
    data = record.model_dump(mode="json") if isinstance(record, BaseModel) else dict(record)
    out: dict[str, Any] = {}
    for name, value in data.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            separator = " | " if set(value[0]) == {"label", "href"} else ", "
            out[name] = "\n".join(
                separator.join(str(v) for v in row.values() if v not in ("", None)) for row in value
            )
        elif isinstance(value, list) and name.endswith("_ids"):
            out[name] = [str(v) for v in value]
        elif isinstance(value, list):
            out[name] = "\n".join(str(v) for v in value)
        elif value is None:
            out[name] = ""
        else:
            out[name] = value
    return out
