"""Errors of the workspace store; the API turns them into 404 and 422 responses."""

from __future__ import annotations

from typing import Any


class StoreError(Exception):
    """Base class of workspace store errors."""


class NotFoundError(StoreError, LookupError):
    """No object of this kind with this id in this workspace."""

    def __init__(self, kind: str, object_id: str) -> None:
        self.kind = kind
        self.object_id = object_id
        super().__init__(f"no {kind.replace('_', ' ')} with id {object_id!r} in this workspace")


class NoSuchWorkspaceError(NotFoundError):
    """The database holds no workspace that fits; the message lists those it holds."""

    def __init__(self, message: str) -> None:
        self.kind, self.object_id = "workspace", ""
        StoreError.__init__(self, message)


class InvalidObjectError(StoreError, ValueError):
    """The object's fields are invalid; ``errors`` name each field and what is wrong.

    Each error is a dict ``{"loc": (field, ...), "msg": str, "type": str}``, the
    shape pydantic and FastAPI use.
    """

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        self.errors = errors
        text = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'object'}: {e['msg']}" for e in errors)
        super().__init__(text)

    @classmethod
    def field(cls, field: str, message: str, kind: str = "value_error") -> InvalidObjectError:
        """One problem with one field."""
        return cls([{"loc": (field,), "msg": message, "type": kind}])


class WorkspaceConflictError(StoreError):
    """A workspace with this id or slug already exists (e.g. on import)."""


class ImportFormatError(StoreError, ValueError):
    """The document is not a systemic workspace export; the message says which key is wrong."""


class DatabaseUnavailableError(StoreError):
    """The database cannot be opened or migrated; the message names it (without password)."""
