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
    "Manifest",
    "MappingError",
    "PseudonymKey",
    "PseudonymKeyError",
    "SourceEntry",
    "SourceError",
    "SystemicDataError",
    "conform_events",
    "create_dataset",
    "load_key",
    "open_dataset",
    "write_dataset",
]
