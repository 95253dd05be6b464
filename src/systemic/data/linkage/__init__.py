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

from systemic.data.linkage.run import LinkResult, apply_review, link_files, read_decisions
from systemic.data.linkage.settings import (
    LinkSettings,
    LinkSettingsError,
    load_link_settings,
    parse_link_settings,
)

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
