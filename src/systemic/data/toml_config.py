"""Read a TOML file and validate it into a pydantic model, with errors a person can act on.

The mapping file (:mod:`systemic.data.mapping`) and the linkage settings
(:mod:`systemic.data.linkage.settings`) are read this way. Every problem
names the file, the key as written in the file (``rules #2.kind`` is the
second ``[[rules]]`` table's ``kind``) and what to do; all the problems of a
file are reported at once, one a line.

>>> from pydantic import BaseModel, ConfigDict
>>> class Repairs(BaseModel):
...     model_config = ConfigDict(extra="forbid")
...     service: str
...     days: int = 7
>>> validate_toml(Repairs, {"service": "Housing", "days": [7], "colour": "red"},
...               origin="repairs.toml", error=ValueError, docs="docs/data.md")
Traceback (most recent call last):
...
ValueError: repairs.toml: key days: Input should be a valid integer
repairs.toml: key colour: unknown key: check the spelling (see docs/data.md for the keys)
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)

_AT_LINE = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")


class KeyedError(ValueError):
    """A validation problem with a key below where it was found.

    ``key`` is the path from the model that raised it, e.g.
    ``("rules", 1, "lifecycle")``; :func:`validate_toml` names it.
    """

    def __init__(self, key: tuple[int | str, ...], message: str) -> None:
        super().__init__(message)
        self.key = key


def key_path(loc: tuple[int | str, ...]) -> str:
    """A key path as the user wrote it.

    >>> key_path(("rules", 1, "kind")), key_path(("timestamp", "zone"))
    ('rules #2.kind', 'timestamp.zone')
    """
    text = ""
    for p in loc:
        if isinstance(p, int):
            text += f" #{p + 1}"
        else:
            text += ("." if text else "") + str(p)
    return text


def _problem(err: Any, docs: str) -> tuple[str, str]:
    loc = tuple(err["loc"])
    cause = err.get("ctx", {}).get("error")
    if isinstance(cause, KeyedError):
        loc += cause.key
    msg = err["msg"].removeprefix("Value error, ")
    given = err.get("input")
    if err["type"] == "extra_forbidden":
        msg = f"unknown key: check the spelling (see {docs} for the keys)"
    elif err["type"] == "missing":
        msg = f"required key is missing: add it (see {docs})"
    elif err["type"] == "literal_error":
        expected = err.get("ctx", {}).get("expected", "")
        msg = f"{given!r} is not allowed: write {expected}"
    elif isinstance(given, str | int | float | bool) and err["type"] != "value_error":
        msg = f"{msg} (found {given!r})"
    return key_path(loc), msg


def validate_toml(
    model: type[M], data: dict[str, Any], *, origin: str, error: type[Exception], docs: str
) -> M:
    """Validate ``data`` (as read from TOML) into ``model``.

    Raises ``error`` with one line per problem: ``ORIGIN: key KEY: what is
    wrong and what to do`` (``docs`` is the page that lists the keys).
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            key, msg = _problem(err, docs)
            lines.append(f"{origin}: key {key or '(top level)'}: {msg}")
        raise error("\n".join(lines)) from None


def read_toml(
    path: str | Path, *, error: type[Exception], what: str, option: str
) -> dict[str, Any]:
    """The TOML file at ``path`` as a dict.

    Raises ``error`` naming the file (and for bad syntax, the line) and what
    to do when it is missing, not UTF-8 or not TOML. ``what`` names the file
    in messages (``mapping file``); ``option`` is where its path was given
    (``--mapping``).
    """
    p = Path(path)
    if not p.exists():
        raise error(f"{p}: {what} not found: check the path given to {option}")
    try:
        return tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        reason = str(exc)
        at = _AT_LINE.search(reason)
        where = f" at line {at.group(1)}, column {at.group(2)}" if at else ""
        reason = _AT_LINE.sub("", reason)
        raise error(f"{p}: not valid TOML{where} ({reason}): fix the syntax at that line") from None
    except UnicodeDecodeError as exc:
        raise error(f"{p}: byte {exc.start} is not UTF-8: save the {what} as UTF-8") from None


def load_toml(
    path: str | Path,
    model: type[M],
    *,
    error: type[Exception],
    what: str,
    option: str,
    docs: str,
) -> M:
    """Read the TOML file at ``path`` and validate it into ``model`` (see the module)."""
    data = read_toml(path, error=error, what=what, option=option)
    return validate_toml(model, data, origin=str(Path(path)), error=error, docs=docs)


__all__ = ["KeyedError", "key_path", "load_toml", "read_toml", "validate_toml"]
