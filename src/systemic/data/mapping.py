"""The mapping file: how a source's columns become the service-data model.

A mapping is a small TOML file, validated on load. Every error names the key
that is wrong and says how to fix it. A complete example::

    [source]
    name = "Housing repairs line"   # shown in the manifest and `inspect`
    format = "csv"                  # csv | parquet | xes (default: from the extension)

    [csv]
    delimiter = ";"
    encoding = "utf-8"              # utf-8 (BOM or not), latin-1, cp1252, utf-16 ...
    rename = { "Tenant Ref" = "tenant" }   # header mapping: source header -> name used below

    [fields]                        # model field -> source column
    person_id = "tenant"
    activity = "what"
    timestamp = "when"
    locality = "ward"
    text = "said"

    [constants]                     # model field -> the same value on every row
    service = "Housing"
    channel = "phone"

    [defaults]                      # value used when the mapped column is empty
    locality = "unknown"

    [timestamp]
    formats = ["dd/mm/yyyy HH:MM", "iso"]   # tried in order
    zone = "Europe/London"          # zone of timestamps written without an offset
    future_tolerance = "1d"         # later than now + this is rejected

    [privacy]
    identifiers = ["tenant", "nhs_number"]  # pseudonymised wherever they appear
    keep_text = true                # keep `text` verbatim (default: dropped)

    [[rules]]                       # set kind, demand_type, demand_class, preventable
    activity = "Chase repair"       # exact activity name(s) ...
    kind = "contact"
    demand_class = "failure"
    preventable = "yes"

    [[rules]]
    pattern = "(?i)^report"         # ... or a regular expression on the activity
    channel = ["phone", "web"]      # and (every matcher must match) the channel
    kind = "contact"
    demand_class = "value"

    [[filters]]                     # events that are not demand: counted, not imported
    action = "keep"                 # keep only the events that match
    lifecycle = "complete"

    [[filters]]
    action = "drop"                 # drop the events that match
    where = { team = "Test team" }  # any source column

>>> m = Mapping.model_validate({"fields": {"person_id": "id", "activity": "a",
...     "timestamp": "t"}, "constants": {"service": "Housing"}})
>>> m.source_columns()
['id', 'a', 't']
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from systemic.data.errors import MappingError
from systemic.data.schema import CATEGORIES, MODEL_FIELDS, REQUIRED_FIELDS
from systemic.data.toml_config import KeyedError, load_toml, validate_toml

#: The page that lists a mapping's keys.
_DOCS = "docs/data.md"

#: Fields a rule may set on the events it matches.
RULE_FIELDS: tuple[str, ...] = ("kind", "demand_type", "demand_class", "preventable")

#: Named timestamp formats. ``iso`` accepts ISO 8601 with ``T`` or a space,
#: optional fractions of a second, and ``Z``, ``+01:00`` or ``+0100`` offsets
#: (timestamps without an offset are read in ``zone``); ``date`` is a day.
NAMED_FORMATS = ("iso", "date")

_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d|w)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_TOKENS = (
    ("yyyy", "%Y"),
    ("yy", "%y"),
    ("mm", "%m"),
    ("dd", "%d"),
    ("HH", "%H"),
    ("MM", "%M"),
    ("SS", "%S"),
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceSection(_Strict):
    """Where the data come from."""

    name: str | None = None
    format: Literal["csv", "parquet", "xes"] | None = None
    #: The column a rule's or filter's ``resource`` matches (who did the work);
    #: by default ``org:resource`` or else ``resource``, whichever the source has.
    resource_column: str | None = None


class CsvSection(_Strict):
    """How to read a CSV file."""

    delimiter: str = ","
    quote: str = '"'
    encoding: str = "utf-8"
    header: bool = True
    columns: list[str] | None = None
    rename: dict[str, str] = Field(default_factory=dict)
    #: Take off the ``'`` that ``systemic export`` puts before formula-like text.
    restore_formulas: bool = False

    @field_validator("delimiter", "quote")
    @classmethod
    def _one_char(cls, v: str) -> str:
        if v == "\\t":
            v = "\t"
        if len(v) != 1:
            raise ValueError("must be a single character (use '\\t' for tab)")
        return v

    @model_validator(mode="after")
    def _header_or_columns(self) -> CsvSection:
        if not self.header and not self.columns:
            raise ValueError(
                "csv.header = false needs csv.columns = [...] naming the file's columns in order"
            )
        return self


class TimestampSection(_Strict):
    """How to read timestamps and which are impossible."""

    formats: list[str] = Field(default_factory=lambda: ["iso"])
    zone: str = "UTC"
    future_tolerance: str = "1d"
    earliest_year: int = 1900

    @field_validator("formats")
    @classmethod
    def _formats(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("give at least one format, e.g. formats = ['iso']")
        return [strftime_format(f) if f not in NAMED_FORMATS else f for f in v]

    @field_validator("zone")
    @classmethod
    def _zone(cls, v: str) -> str:
        import zoneinfo

        try:
            zoneinfo.ZoneInfo(v)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {v!r}: use an IANA name such as 'Europe/London' or 'UTC'"
            ) from exc
        return v

    @field_validator("future_tolerance")
    @classmethod
    def _tolerance(cls, v: str) -> str:
        duration_seconds(v)
        return v


class PrivacySection(_Strict):
    """Which columns identify people, and whether free text is kept."""

    identifiers: list[str] = Field(default_factory=list)
    keep_text: bool = False
    already_pseudonymised: bool = False


class AttributesSection(_Strict):
    """Source columns not kept as attributes (recorded in the manifest)."""

    drop: list[str] = Field(default_factory=list)


class PersonSection(_Strict):
    """People from a link table (``systemic link``) instead of a shared identifier.

    ``fields.person_id`` then names the record-id column; each id is replaced
    by its person key from ``links`` before pseudonymisation.
    """

    links: str
    source: str | None = None


def _as_list(value: str | int | list[str | int]) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


class Match(_Strict):
    """What a rule or a filter matches on. Every matcher given must match.

    A matcher takes one value or a list of values (any of them). ``activity``
    is the exact activity name and ``pattern`` a regular expression searched
    in it; ``lifecycle`` (case-insensitive), ``service`` and ``channel`` are
    the mapped fields' values; ``resource`` is the source's resource column
    (``[source] resource_column``, else ``org:resource`` or ``resource``);
    ``where`` maps any source column to its value(s), ``""`` matching an
    empty cell.

    >>> Match(lifecycle="complete", where={"org:group": ["G1", "G2"]}).describe()
    "lifecycle = 'complete' and org:group in ['G1', 'G2']"
    """

    activity: str | list[str] | None = None
    pattern: str | None = None
    lifecycle: str | list[str] | None = None
    resource: str | list[str] | None = None
    service: str | list[str] | None = None
    channel: str | list[str] | None = None
    where: dict[str, str | int | list[str | int]] | None = None

    @field_validator("activity", "lifecycle", "resource", "service", "channel", mode="before")
    @classmethod
    def _one_or_list(cls, v: Any) -> Any:
        if v is None or isinstance(v, str):
            return v
        if isinstance(v, list) and v and all(isinstance(x, str) for x in v):
            return v
        raise ValueError(
            "give one value or a non-empty list of values, e.g. 'complete' or ['start', 'complete']"
        )

    @field_validator("where", mode="before")
    @classmethod
    def _where(cls, v: Any) -> Any:
        if v is None:
            return v
        if not isinstance(v, dict) or not v:
            raise ValueError(
                'give a table of source column = value(s), e.g. where = { "org:group" = "Group 1" }'
            )
        for column, value in v.items():
            scalar = isinstance(value, str | int) and not isinstance(value, bool)
            listed = (
                isinstance(value, list)
                and value
                and all(isinstance(x, str | int) and not isinstance(x, bool) for x in value)
            )
            if not (scalar or listed):
                raise KeyedError(
                    (column,),
                    "give one value or a non-empty list of values (text or whole numbers); "
                    "'' matches an empty cell",
                )
        return v

    @model_validator(mode="after")
    def _check_match(self) -> Match:
        if self.activity is not None and self.pattern is not None:
            raise ValueError(
                "give at most one of activity = '<exact name>' or pattern = '<regex>' "
                "(both match the activity name)"
            )
        if self.pattern is not None:
            _check_pattern(self.pattern)
        return self

    def matchers(self) -> list[str]:
        """The matchers this rule or filter sets, in :data:`MATCHERS` order."""
        return [name for name in MATCHERS if getattr(self, name) is not None]

    def values(self, name: str) -> list[str]:
        """The values one matcher accepts (``activity``, ``lifecycle`` ...), as text."""
        value = getattr(self, name)
        return [] if value is None else _as_list(value)

    def where_values(self) -> dict[str, list[str]]:
        """Each ``where`` column with the values it accepts, as text."""
        return {c: _as_list(v) for c, v in (self.where or {}).items()}

    def describe(self) -> str:
        """The matchers in words, e.g. ``lifecycle = 'complete'``."""

        def one(name: str, values: list[str]) -> str:
            return f"{name} = {values[0]!r}" if len(values) == 1 else f"{name} in {values!r}"

        parts = []
        for name in MATCHERS:
            if name == "pattern" and self.pattern is not None:
                parts.append(f"activity matches {self.pattern!r}")
            elif name == "where":
                parts += [one(c, v) for c, v in self.where_values().items()]
            elif getattr(self, name) is not None:
                parts.append(one(name, self.values(name)))
        return " and ".join(parts)


def _check_pattern(pattern: str) -> None:
    """Patterns run in Polars' regex engine, which has no look-around or back-references."""
    import polars as pl

    try:
        re.compile(pattern)
    except re.error as exc:
        raise KeyedError(("pattern",), f"{pattern!r} is not a valid regex: {exc}") from exc
    try:
        pl.Series([""]).str.contains(pattern)
    except pl.exceptions.ComputeError as exc:
        detail = str(exc).split("error: ")[-1].split("\n")[0]
        raise KeyedError(
            ("pattern",),
            f"{pattern!r} is not a regex the importer can run ({detail}): rewrite it without "
            "look-around or back-references, or list the activities with activity = [...]",
        ) from exc


#: What rules and filters can match on.
MATCHERS: tuple[str, ...] = (
    "activity",
    "pattern",
    "lifecycle",
    "resource",
    "service",
    "channel",
    "where",
)

_NO_MATCHER = (
    "needs at least one of activity, pattern, lifecycle, resource, service, channel "
    "or where, saying which events it applies to"
)


class Rule(Match):
    """Set kind, demand type, demand class or preventable on the events that match."""

    kind: str | None = None
    demand_type: str | None = None
    demand_class: str | None = None
    preventable: str | None = None

    @model_validator(mode="after")
    def _check(self) -> Rule:
        if not self.matchers():
            raise ValueError(f"a rule {_NO_MATCHER}, e.g. activity = 'Chase repair'")
        if all(getattr(self, f) is None for f in RULE_FIELDS):
            raise ValueError(f"a rule must set at least one of {', '.join(RULE_FIELDS)}")
        for name, allowed in CATEGORIES.items():
            value = getattr(self, name)
            if value is not None and value not in allowed:
                raise ValueError(f"{name} = {value!r} is not one of {', '.join(allowed)}")
        return self


class Filter(Match):
    """Keep only the events that match (``keep``), or drop them (``drop``).

    Filtered rows are not events and not rejects: each source's manifest
    entry counts them per filter, so that read = accepted + rejected + filtered.

    >>> Filter(action="keep", lifecycle="complete").label()
    "keep only lifecycle = 'complete'"
    """

    action: Literal["keep", "drop"] | None = None
    name: str | None = None

    @model_validator(mode="after")
    def _check(self) -> Filter:
        if self.action is None:
            raise KeyedError(
                ("action",),
                "missing: say what the filter does, action = 'keep' (keep only the events "
                "that match) or action = 'drop' (drop the events that match)",
            )
        if not self.matchers():
            raise ValueError(f"a filter {_NO_MATCHER}, e.g. lifecycle = 'complete'")
        return self

    def label(self) -> str:
        """The filter's name, or what it does in words (shown in the manifest)."""
        if self.name:
            return self.name
        return ("keep only " if self.action == "keep" else "drop ") + self.describe()


class Mapping(_Strict):
    """A validated mapping. Load one with :func:`load_mapping`."""

    source: SourceSection = Field(default_factory=SourceSection)
    csv: CsvSection = Field(default_factory=CsvSection)
    fields: dict[str, str] = Field(default_factory=dict)
    constants: dict[str, str | float | int] = Field(default_factory=dict)
    defaults: dict[str, str | float | int] = Field(default_factory=dict)
    timestamp: TimestampSection = Field(default_factory=TimestampSection)
    privacy: PrivacySection = Field(default_factory=PrivacySection)
    attributes: AttributesSection = Field(default_factory=AttributesSection)
    rules: list[Rule] = Field(default_factory=list)
    filters: list[Filter] = Field(default_factory=list)
    person: PersonSection | None = None  # linkage: see systemic.data.linkage.lookup

    @field_validator("fields", "constants", "defaults")
    @classmethod
    def _model_fields(cls, v: dict[str, Any]) -> dict[str, Any]:
        for name in v:
            if name not in MODEL_FIELDS:
                raise ValueError(
                    f"{name!r} is not a field of the event model; use one of "
                    f"{', '.join(MODEL_FIELDS)} (other columns are kept as attributes anyway)"
                )
        return v

    @model_validator(mode="after")
    def _complete(self) -> Mapping:
        both = sorted(set(self.fields) & set(self.constants))
        if both:
            raise ValueError(f"{both} appear in both [fields] and [constants]: keep one of them")
        missing = [f for f in REQUIRED_FIELDS if f not in self.fields and f not in self.constants]
        if missing:
            raise ValueError(
                f"required field(s) {missing} are not mapped: add e.g. "
                f"[fields] {missing[0]} = '<source column>' or [constants] {missing[0]} = '<value>'"
            )
        if "person_id" in self.constants:
            raise ValueError(
                "person_id cannot be a constant: map it to the column that identifies people"
            )
        if "timestamp" in self.constants:
            raise ValueError("timestamp cannot be a constant: map it to a source column")
        for name, allowed in CATEGORIES.items():
            for section in (self.constants, self.defaults):
                value = section.get(name)
                if value is not None and value not in allowed:
                    raise ValueError(f"{name} = {value!r} is not one of {', '.join(allowed)}")
        self._check_matchers()
        return self

    def _check_matchers(self) -> None:
        """Matchers on a field need the field mapped; none can match an identifier."""
        mapped = set(self.fields) | set(self.constants) | set(self.defaults)
        identifiers = set(self.identifier_columns())
        for section, items in (("rules", self.rules), ("filters", self.filters)):
            for i, item in enumerate(items):
                for name in ("lifecycle", "service", "channel"):
                    if getattr(item, name) is not None and name not in mapped:
                        raise KeyedError(
                            (section, i, name),
                            f"{name} is not mapped, so it can never match: add "
                            f"[fields] {name} = '<source column>', or match the column with "
                            f"where = {{ '<source column>' = ... }}",
                        )
                for column in item.where or {}:
                    if column in identifiers and not self.privacy.already_pseudonymised:
                        raise KeyedError(
                            (section, i, "where", column),
                            "this column identifies people and is pseudonymised before rules "
                            "and filters run, so it can never match: match another column",
                        )

    # -- derived views ---------------------------------------------------------
    def source_columns(self) -> list[str]:
        """The source columns the fields read, in field order, without repeats."""
        seen: list[str] = []
        for col in self.fields.values():
            if col not in seen:
                seen.append(col)
        return seen

    def identifier_columns(self) -> list[str]:
        """Source columns holding person identifiers (the person_id column first)."""
        cols = [self.fields["person_id"]]
        cols += [c for c in self.privacy.identifiers if c not in cols]
        return cols

    def text_column(self) -> str | None:
        return self.fields.get("text")

    def future_tolerance_seconds(self) -> int:
        return duration_seconds(self.timestamp.future_tolerance)

    def digest(self) -> str:
        """sha256 of the mapping's canonical JSON (recorded in the manifest)."""
        return hashlib.sha256(self.model_dump_json().encode("utf-8")).hexdigest()


def strftime_format(spec: str) -> str:
    """Turn a readable pattern like ``dd/mm/yyyy HH:MM`` into strftime.

    Lower-case ``mm`` is the month, upper-case ``MM`` the minute. A pattern
    that already contains ``%`` is taken as strftime as it is.

    >>> strftime_format("dd/mm/yyyy HH:MM")
    '%d/%m/%Y %H:%M'
    """
    if "%" in spec:
        return spec
    out, i = [], 0
    while i < len(spec):
        for token, code in _TOKENS:
            if spec.startswith(token, i):
                out.append(code)
                i += len(token)
                break
        else:
            out.append(spec[i])
            i += 1
    result = "".join(out)
    if "%" not in result:
        raise ValueError(
            f"timestamp format {spec!r} has no date parts: use 'iso', 'date', a pattern like "
            "'dd/mm/yyyy HH:MM' or a strftime format like '%d.%m.%Y %H:%M'"
        )
    return result


def duration_seconds(text: str) -> int:
    """Seconds in a duration such as ``90s``, ``15m``, ``2h``, ``1d``, ``1w``.

    >>> duration_seconds("2h")
    7200
    """
    m = _DURATION.match(text)
    if not m:
        raise ValueError(f"{text!r} is not a duration: write e.g. '1d', '12h', '30m'")
    return int(m.group(1)) * _UNIT_SECONDS[m.group(2)]


def parse_mapping(data: dict[str, Any], *, origin: str = "mapping") -> Mapping:
    """Validate a mapping given as a dict (as read from TOML)."""
    return validate_toml(Mapping, data, origin=origin, error=MappingError, docs=_DOCS)


def load_mapping(path: str | Path) -> Mapping:
    """Read and validate a mapping TOML file.

    Raises :class:`MappingError` naming the file, the key and the fix.
    """
    return load_toml(
        path, Mapping, error=MappingError, what="mapping file", option="--mapping", docs=_DOCS
    )
