"""The service-data model, datasets, importers and pseudonymisation.

``systemic.data`` imports nothing else from systemic: every other capability
reads and writes datasets through this package.
"""

from systemic.data.dataset import (
    Dataset,
    Manifest,
    SourceEntry,
    create_dataset,
    open_dataset,
    write_dataset,
)
from systemic.data.errors import (
    DatasetError,
    MappingError,
    PseudonymKeyError,
    SourceError,
    SystemicDataError,
)
from systemic.data.export import export_events, export_mapping
from systemic.data.importer import import_file, import_sources
from systemic.data.inspect import DatasetSummary, inspect_dataset
from systemic.data.mapping import Mapping, load_mapping, parse_mapping
from systemic.data.pseudonymise import PseudonymKey, load_key
from systemic.data.schema import (
    EVENT_SCHEMA,
    MODEL_FIELDS,
    REQUIRED_FIELDS,
    SCHEMA_VERSION,
    conform_events,
)

__all__ = [
    "EVENT_SCHEMA",
    "MODEL_FIELDS",
    "REQUIRED_FIELDS",
    "SCHEMA_VERSION",
    "Dataset",
    "DatasetError",
    "DatasetSummary",
    "Manifest",
    "Mapping",
    "MappingError",
    "PseudonymKey",
    "PseudonymKeyError",
    "SourceEntry",
    "SourceError",
    "SystemicDataError",
    "conform_events",
    "create_dataset",
    "export_events",
    "export_mapping",
    "import_file",
    "import_sources",
    "inspect_dataset",
    "load_key",
    "load_mapping",
    "open_dataset",
    "parse_mapping",
    "write_dataset",
]
