"""Errors raised by the measures layer.

Messages say what was wrong, where (file, line, column) and what to do.
"""

from __future__ import annotations


class MeasuresError(Exception):
    """Base class for problems that stop a measure from being computed."""


class SeriesError(MeasuresError, ValueError):
    """A series file or table cannot be read as a time series.

    ``path``, ``line`` (1-based, the header is line 1), ``field`` and ``hint``
    are kept as attributes so that callers can show them.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        field: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.path, self.line, self.field, self.hint = path, line, field, hint
        where = [str(p) for p in (path,) if p]
        if line is not None:
            where.append(f"line {line}")
        if field:
            where.append(f"column {field!r}")
        text = (", ".join(where) + ": " if where else "") + message
        if hint:
            text += f". What to do: {hint}"
        super().__init__(text)


class SPCOptionError(MeasuresError, ValueError):
    """An SPC option is invalid (unknown rule set, rebase date after the series, ...)."""
