"""Errors raised by the measures layer.

Messages say what was wrong, where (file, line, column) and what to do.
"""

from __future__ import annotations

from systemic.data.errors import SourceError


class MeasuresError(Exception):
    """Base class for problems that stop a measure from being computed."""


class SeriesError(SourceError, MeasuresError):
    """A series file or table cannot be read as a time series.

    It carries the file, line and column (see :class:`systemic.data.SourceError`).
    """


class SPCOptionError(MeasuresError, ValueError):
    """An SPC option is invalid (unknown rule set, rebase date after the series, ...)."""
