"""System maps to and from Kumu's JSON (the "blueprint" and project-backup shape).

Kumu keeps a map as ``elements`` (each with a label and attributes),
``connections`` (``from``/``to`` an element) and, in a project backup, ``maps``
with each element's position. :func:`to_kumu` writes that shape from a map view
and its layout; :func:`from_kumu` reads either the simple blueprint
(``{"label": "A"}``, ``{"from": "A", "to": "B", "type": "+"}``) or a backup
(``_id`` and ``attributes``), and says why it refused anything it could not use:
a connection with no polarity, or one naming an element that is not there, is
rejected with its reason, never guessed.

>>> doc = {"elements": [{"label": "Failure demand", "element type": "demand"},
...                     {"label": "Workload", "tags": ["front door"]}],
...        "connections": [{"from": "Failure demand", "to": "Workload", "type": "+"},
...                        {"from": "Workload", "to": "Nowhere", "type": "+"}]}
>>> read = from_kumu(doc)
>>> [(f.name, f.kind, f.tags) for f in read.factors]
[('Failure demand', 'demand', []), ('Workload', None, ['front door'])]
>>> [(link.cause, link.effect, link.polarity) for link in read.links]
[('Failure demand', 'Workload', '+')]
>>> read.rejected
['connection 2 (Workload → Nowhere): "to" names no element in the file']
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from systemic.framework.map_layout import MapLayout
from systemic.framework.views import MapView

#: Words Kumu users write for a factor's kind (element type), lower-cased.
_KINDS = {
    "system condition": "system_condition",
    "system_condition": "system_condition",
    "demand": "demand",
    "capacity": "capacity",
    "outcome": "outcome",
}
_LEVELS = {
    "purpose": "purpose",
    "mission": "purpose",
    "paradigm": "paradigm",
    "organisation": "organisation",
    "organization": "organisation",
    "people": "people",
}
_SIGNS = {
    "+": "+",
    "positive": "+",
    "same": "+",
    "s": "+",
    "-": "-",
    "−": "-",
    "negative": "-",
    "opposite": "-",
    "o": "-",
}


class KumuFormatError(ValueError):
    """The file is not a Kumu map at all (not an object with ``elements``)."""


@dataclass
class KumuFactor:
    """A factor read from a Kumu element (``key`` is its id in the file)."""

    key: str
    name: str
    description: str = ""
    kind: str | None = None
    level: str | None = None
    tags: list[str] = field(default_factory=list)
    position: tuple[float, float] | None = None


@dataclass
class KumuLink:
    """A signed link read from a Kumu connection (``cause``/``effect`` are factor keys)."""

    cause: str
    effect: str
    polarity: str
    delay: bool = False
    evidence: str = ""


@dataclass
class KumuMap:
    """What was read, and each thing refused with its reason (nothing silently dropped)."""

    name: str
    factors: list[KumuFactor]
    links: list[KumuLink]
    rejected: list[str]


def _attributes(item: Mapping[str, Any]) -> dict[str, Any]:
    """An item's attributes: the backup's ``attributes`` over the blueprint's top level."""
    flat = {str(k).lower(): v for k, v in item.items() if k != "attributes"}
    nested = item.get("attributes")
    if isinstance(nested, Mapping):
        flat.update({str(k).lower(): v for k, v in nested.items()})
    return flat


def _tags(value: Any) -> list[str]:
    if isinstance(value, str):
        parts = value.split("|")
    elif isinstance(value, list):
        parts = [str(v) for v in value]
    else:
        parts = []
    return [p.strip() for p in parts if p.strip()]


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"true", "yes", "1", "delay", "delayed"}
    return bool(value)


def from_kumu(doc: Any, name: str = "Imported from Kumu") -> KumuMap:
    """Read a Kumu JSON document (parsed) into factors, links and what was refused."""
    if not isinstance(doc, Mapping) or not isinstance(doc.get("elements"), list):
        raise KumuFormatError(
            'a Kumu JSON export is an object with an "elements" list (and "connections"); '
            "export the map from Kumu as JSON and try again"
        )
    maps = doc.get("maps") if isinstance(doc.get("maps"), list) else []
    first_map = maps[0] if maps and isinstance(maps[0], Mapping) else {}
    positions: dict[str, tuple[float, float]] = {}
    for placed in first_map.get("elements", []) or []:
        if isinstance(placed, Mapping) and isinstance(placed.get("position"), Mapping):
            where = placed["position"]
            try:
                positions[str(placed.get("element"))] = (float(where["x"]), float(where["y"]))
            except (KeyError, TypeError, ValueError):
                continue
    factors: list[KumuFactor] = []
    rejected: list[str] = []
    keys: dict[str, str] = {}  # id or label in the file -> factor key
    for number, item in enumerate(doc["elements"], start=1):
        if not isinstance(item, Mapping):
            rejected.append(f"element {number}: not an object")
            continue
        attrs = _attributes(item)
        label = str(attrs.get("label") or "").strip()
        if not label:
            rejected.append(f"element {number}: it has no label")
            continue
        key = str(item.get("_id") or item.get("id") or label)
        if key in keys or label in keys:
            rejected.append(f"element {number} ({label}): a second element with this id or label")
            continue
        kind_text = str(attrs.get("element type") or attrs.get("type") or "").strip()
        kind = _KINDS.get(kind_text.lower())
        tags = _tags(attrs.get("tags"))
        if kind_text and kind is None:
            tags.append(kind_text)  # an element type we have no kind for stays as a tag
        level_text = str(attrs.get("level") or "").strip().lower()
        factors.append(
            KumuFactor(
                key=key,
                name=label,
                description=str(attrs.get("description") or ""),
                kind=kind,
                level=_LEVELS.get(level_text),
                tags=tags,
                position=positions.get(key),
            )
        )
        keys[key] = key
        keys.setdefault(label, key)
    links: list[KumuLink] = []
    seen: set[tuple[str, str]] = set()
    for number, item in enumerate(doc.get("connections") or [], start=1):
        if not isinstance(item, Mapping):
            rejected.append(f"connection {number}: not an object")
            continue
        attrs = _attributes(item)
        ends = str(item.get("from", "?")), str(item.get("to", "?"))
        what = f"connection {number} ({ends[0]} → {ends[1]})"
        if ends[0] not in keys:
            rejected.append(f'{what}: "from" names no element in the file')
            continue
        if ends[1] not in keys:
            rejected.append(f'{what}: "to" names no element in the file')
            continue
        cause, effect = keys[ends[0]], keys[ends[1]]
        sign_text = str(
            attrs.get("connection type") or attrs.get("type") or attrs.get("polarity") or ""
        )
        polarity = _SIGNS.get(sign_text.strip().lower())
        if polarity is None:
            rejected.append(
                f"{what}: no polarity; give its connection type as + or - "
                f"(found {sign_text or 'nothing'!r})"
            )
            continue
        if cause == effect:
            rejected.append(f"{what}: a factor cannot cause itself")
            continue
        if (cause, effect) in seen:
            rejected.append(f"{what}: these two elements are already connected")
            continue
        seen.add((cause, effect))
        links.append(
            KumuLink(
                cause,
                effect,
                polarity,
                delay=_truthy(attrs.get("delay")) or "delay" in _tags(attrs.get("tags")),
                evidence=str(attrs.get("description") or ""),
            )
        )
    map_name = str(first_map.get("name") or name).strip() or name
    return KumuMap(map_name, factors, links, rejected)


def to_kumu(view: MapView, layout: MapLayout) -> dict[str, Any]:
    """A map as a Kumu project-backup JSON document (elements, connections, positions).

    Kumu reads it back with each factor where it sat here; :func:`from_kumu` reads it
    back into the same factors and links.
    """
    elements, connections, placed = [], [], []
    for factor in view.factors:
        attributes: dict[str, Any] = {"label": factor.name}
        if factor.kind:
            attributes["element type"] = factor.kind.replace("_", " ")
        if factor.description:
            attributes["description"] = factor.description
        if factor.level:
            attributes["level"] = factor.level
        if factor.tags:
            attributes["tags"] = list(factor.tags)
        elements.append({"_id": f"elem-{factor.id}", "attributes": attributes})
        x, y = layout.positions[factor.id]
        placed.append({"element": f"elem-{factor.id}", "position": {"x": x, "y": y}})
    for link in view.links:
        attributes = {"connection type": link.polarity, "confidence": link.confidence}
        if link.delay:
            attributes["delay"] = True
        if link.evidence:
            attributes["description"] = link.evidence
        connections.append(
            {
                "_id": f"conn-{link.id}",
                "from": f"elem-{link.cause_id}",
                "to": f"elem-{link.effect_id}",
                "direction": "directed",
                "attributes": attributes,
            }
        )
    return {
        "elements": elements,
        "connections": connections,
        "maps": [
            {
                "name": view.system_map.name,
                "elements": placed,
                "connections": [{"connection": c["_id"]} for c in connections],
            }
        ],
    }
