"""Record linkage: the records of silos that share no identifier, linked to people.

Runs inside the organisation, on the clear identifying fields, before anything
is pseudonymised or shared. Splink's Fellegi-Sunter model (DuckDB by default,
Spark as an option) is trained without labels; what comes out holds record ids,
person keys, probabilities and counts, never a clear identifier. The importer
can then use the link table instead of a shared ``person_id`` column
(``[person] links = "DIR/links.csv"`` in a mapping), pseudonymising the person
key with the same keyed HMAC as any identifier.

See docs/linkage.md.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from systemic.data.linkage.run import LinkResult, apply_review, link_files, read_decisions
    from systemic.data.linkage.settings import (
        LinkSettings,
        LinkSettingsError,
        load_link_settings,
        parse_link_settings,
    )

# Loaded on first use: the importer needs only ``lookup`` (a link table read with
# Polars), and linking itself needs the 'link' extra (Splink, SciPy).
_HOME = {
    "LinkResult": "run",
    "apply_review": "run",
    "link_files": "run",
    "read_decisions": "run",
    "LinkSettings": "settings",
    "LinkSettingsError": "settings",
    "load_link_settings": "settings",
    "parse_link_settings": "settings",
}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(import_module(f"systemic.data.linkage.{_HOME[name]}"), name)
    raise AttributeError(f"module 'systemic.data.linkage' has no attribute {name!r}")


__all__ = [
    "LinkResult",
    "LinkSettings",
    "LinkSettingsError",
    "apply_review",
    "link_files",
    "load_link_settings",
    "parse_link_settings",
    "read_decisions",
]
