"""HTML forms for workspace objects, described from the domain model's fields.

Each kind's pydantic *fields* model says what a control should be: a ``Literal``
is a choice, ``bool`` a tick box, ``date`` a date, a reference (``locality_id``)
a choice of existing objects, a relation (``measure_ids``) a set of tick boxes, and
text with ``options_from`` a choice of what the workspace holds under that name
(``"learn_result"``: the learn results brought in), still allowing none.
What a control is called, its help, the words for its choices and whether text
gets a multi-line box are read from the field itself (``title``, ``description``,
``json_schema_extra={"choice_labels": ..., "long_text": True}``; see
``systemic.framework.model``), so a new field needs no edit here.
This module turns that into :class:`Control` descriptions for the templates,
and turns a submitted form back into the dict the model validates; problems come
back as messages per field, in plain words, to show on the form.

>>> from systemic.framework.kinds import KINDS
>>> [c.name for c in form_controls(KINDS["principle"])]
['name', 'description']
>>> parse_form(KINDS["principle"], {"name": "  Local by default "}).values["name"]
'  Local by default '
>>> [o.label for o in form_controls(KINDS["purpose_statement"])[1].options]
['I (a person)', 'We (a group or community)', 'The organisation']
>>> print(form_controls(KINDS["relationship"])[-1].help)  # doctest: +NORMALIZE_WHITESPACE
Trust (1 low to 5 high) and power (with or over) seen on a date. One per line: date,
trust 1–5, with or over (optional), note (optional) — for example 2026-03-01, 4, with,
met weekly.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from systemic.framework.kinds import Kind, choice_label

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
    #: For text picked from what the workspace holds: where its options come from.
    options_from: str = ""


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


def _options_from(info: Any) -> str | None:
    """Where a text field's choices come from (``options_from``), if it offers any."""
    extra = info.json_schema_extra
    return extra.get("options_from") if isinstance(extra, dict) else None


def options_sources(kind: Kind) -> list[str]:
    """The ``options_from`` names a kind's form draws choices from (to look them up).

    >>> from systemic.framework.kinds import KINDS
    >>> options_sources(KINDS["measure"]), options_sources(KINDS["principle"])
    (['learn_result'], [])
    """
    sources = (_options_from(info) for info in kind.fields.model_fields.values())
    return list(dict.fromkeys(s for s in sources if s))


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
        label = kind.field_title(name)
        help_text = kind.field_help(name)
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
                    options=[Option(v, choice_label(info, v)) for v in values],
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
        elif (source := _options_from(info)) is not None:
            controls.append(
                Control(
                    name,
                    label,
                    "select",
                    required=required,
                    help=help_text,
                    options=list(choices.get(source, [])),
                    blank="" if required else "— none —",
                    options_from=source,
                )
            )
        elif (item := _list_item(annotation)) is not None:
            help_text = _lines_help(item, info, help_text)
            controls.append(Control(name, label, "lines", help=help_text))
        else:
            control_type: ControlType = "textarea" if kind.long_text(name) else "text"
            controls.append(Control(name, label, control_type, required=required, help=help_text))
    return controls


def keep_stored_choices(controls: Sequence[Control], values: Mapping[str, Any]) -> None:
    """Offer a stored value that a workspace-filled choice does not list (a learn result
    not brought into this workspace, or no longer): saving the form must not clear it.

    >>> c = Control("learn_result", "Learn result", "select", options_from="learn_result")
    >>> keep_stored_choices([c], {"learn_result": "town"})
    >>> [(o.value, o.label) for o in c.options]
    [('town', 'town (not in this workspace)')]
    """
    for control in controls:
        value = values.get(control.name)
        if not control.options_from or not isinstance(value, str) or not value:
            continue
        if value not in {o.value for o in control.options}:
            control.options.append(Option(value, f"{value} (not in this workspace)"))


def _lines_help(item: Any, info: Any, help_text: str) -> str:
    """Help for a list typed one item a line: the field's own help, then how to write a
    line (for structured items: their fields in order, and the field's first example)."""
    if not (isinstance(item, type) and issubclass(item, BaseModel)):
        if "per line" in help_text.lower():
            return help_text
        return f"{help_text} One per line.".strip()
    separator = " | " if _separator(item) == "|" else ", "
    parts = [
        (f.title or n.replace("_", " ")) + ("" if f.is_required() else " (optional)")
        for n, f in item.model_fields.items()
    ]
    how = "One per line: " + separator.join(parts)
    if info.examples:
        first = info.examples[0][0]
        how += " — for example " + separator.join(str(v) for v in first.values())
    return f"{help_text} {how}.".strip()


def _separator(item: type[BaseModel]) -> str:
    """Structured lines are 'a, b, c'; a label and a link are 'what it is | link'."""
    return "|" if list(item.model_fields) == ["label", "href"] else ","


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
    separator = _separator(item)
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
