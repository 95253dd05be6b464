"""Errors raised by the data layer.

Every message says what was wrong, where (file, line, field) and what to do.
Row-level problems never raise: they become rejects with a reason.
"""

from __future__ import annotations


class SystemicDataError(Exception):
    """Base class for problems with data that stop an import or a read."""


class MappingError(SystemicDataError):
    """The mapping file is invalid: the message names the key and the fix."""


class SourceError(SystemicDataError):
    """A source file cannot be read as a whole (structure, encoding, XML).

    Attributes give the location so that callers can show it.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        column: int | None = None,
        field: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.path = path
        self.line = line
        self.column = column
        self.field = field
        self.hint = hint
        where = []
        if path:
            where.append(str(path))
        if line is not None:
            where.append(f"line {line}")
        if column is not None:
            where.append(f"column {column}")
        if field:
            where.append(f"field {field!r}")
        text = (", ".join(where) + ": " if where else "") + message
        if hint:
            text += f". What to do: {hint}"
        super().__init__(text)


class DatasetError(SystemicDataError):
    """A dataset folder is missing, incomplete or of an unknown schema version."""


class PseudonymKeyError(SystemicDataError):
    """The pseudonymisation key is missing, unreadable or too short."""
