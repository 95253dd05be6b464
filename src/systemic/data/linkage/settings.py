"""The linkage settings file: which columns identify people, and how to compare them.

A settings file is TOML, validated on load; every error names the key and the
fix. The smallest useful file names, for each source, its record-id column and
which of its columns hold the identifying fields::

    [sources.housing]               # a file named housing.csv (any extension)
    record_id = "tenancy_ref"
    columns = { forename = "First name", surname = "Surname",
                date_of_birth = "DOB", postcode = "Post code",
                address = ["Address 1", "Address 2"] }

    [sources.default]               # any other file
    record_id = "id"
    columns = { forename = "forename", surname = "surname" }

A field whose name is one of :data:`KINDS` (``forename``, ``surname``,
``date_of_birth``, ``postcode``, ``address``, ``phone``, ``email``,
``nhs_number``, ``ni_number``) is cleaned and compared as that kind with no
more said. Anything else is declared in ``[fields]`` with its kind, and any
field's cleaning and comparison can be changed there::

    [fields]
    date_of_birth = { formats = ["dd/mm/yyyy", "yyyy-mm-dd"] }
    suburb = { kind = "text" }
    nhs_number = { reliable = true }   # a shared key: used as training labels

Blocking rules (which pairs are compared at all) and the model's training
have defaults for UK people data built from the fields present; a team can
override them::

    [linkage]
    link_type = "link_and_dedupe"   # link_only | dedupe_only
    threshold = "auto"              # or a match probability such as 0.9
    review_band = [0.5, 0.99]       # pairs in this band go to clerical review
    blocking = [["surname", "date_of_birth"], ["postcode", "forename"]]
    address_fields = ["house_number", "address", "postcode"]  # compared as one

>>> s = parse_link_settings({"sources": {"default": {"record_id": "id",
...     "columns": {"forename": "fn", "surname": "sn", "date_of_birth": "dob"}}}})
>>> s.fields["date_of_birth"].kind, s.blocking_rules()[0]
('date_of_birth', ['forename', 'surname'])
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from systemic.data.errors import SystemicDataError
from systemic.data.mapping import strftime_format
from systemic.data.toml_config import load_toml, validate_toml

#: The page that lists the settings' keys.
_DOCS = "docs/linkage.md"

#: Kinds of identifying field, each with its own cleaning and comparison.
KINDS: tuple[str, ...] = (
    "forename",
    "surname",
    "date_of_birth",
    "postcode",
    "address",
    "phone",
    "email",
    "nhs_number",
    "ni_number",
    "identifier",
    "text",
)

#: How a field may be compared; ``default`` is the kind's own comparison.
COMPARISONS: tuple[str, ...] = (
    "default",
    "exact",
    "levenshtein",
    "jaro_winkler",
    "name",
    "date",
    "postcode",
    "email",
)

#: Date patterns tried in order when a date of birth is read (readable tokens as
#: in mapping files: ``dd/mm/yyyy``; a day-first pattern also reads a date that
#: is only valid with day and month swapped, see :mod:`.cleaning`).
DEFAULT_DATE_FORMATS: tuple[str, ...] = ("yyyy-mm-dd", "dd/mm/yyyy", "dd-mm-yyyy", "yyyymmdd")

#: Default blocking rules for UK people data, tried in order; a rule is kept
#: when every field it names is present. Each catches pairs the others miss
#: when one field has an error (a typo in the surname, a swapped date, a move).
DEFAULT_BLOCKING: tuple[tuple[str, ...], ...] = (
    ("nhs_number",),
    ("ni_number",),
    ("email",),
    ("phone",),
    ("forename", "surname"),
    ("surname", "date_of_birth"),
    ("forename", "date_of_birth"),
    ("date_of_birth", "postcode"),
    ("surname", "postcode"),
    ("forename", "postcode"),
)

#: Default blocking rules for expectation maximisation: each session estimates
#: the m probabilities of the fields it does not block on. Not the postcode:
#: among records sharing a postcode, household members (same surname and
#: address, another forename and date of birth) are common enough for
#: expectation maximisation to take them for the same person, and learn that a
#: person's forename and date of birth often differ (on a test set with
#: households, m of "forename differs" came out at 0.19 against 0.02).
DEFAULT_TRAINING: tuple[tuple[str, ...], ...] = (
    ("forename", "surname"),
    ("date_of_birth",),
)

#: Added when the default rules leave a field untrained (one that all of them block on).
FALLBACK_TRAINING: tuple[tuple[str, ...], ...] = (("postcode",), ("surname",))


class LinkSettingsError(SystemicDataError):
    """The linkage settings file is invalid: the message names the key and the fix."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldSettings(_Strict):
    """How one identifying field is cleaned and compared."""

    kind: Literal[KINDS] | None = None  # type: ignore[valid-type]
    compare: Literal[COMPARISONS] = "default"  # type: ignore[valid-type]
    thresholds: list[float] | None = None
    formats: list[str] | None = None
    nicknames: bool = True
    uk_postcode: bool = True
    term_frequency: bool = True
    reliable: bool = False

    @field_validator("formats")
    @classmethod
    def _formats(cls, v: list[str] | None) -> list[str] | None:
        if v is not None:
            if not v:
                raise ValueError("give at least one date format, e.g. formats = ['dd/mm/yyyy']")
            for f in v:
                strftime_format(f)
        return v


class SourceSettings(_Strict):
    """One source's record id and the columns that hold each field."""

    record_id: str
    columns: dict[str, str | list[str]]
    delimiter: str = ","
    encoding: str = "utf-8"

    @field_validator("columns")
    @classmethod
    def _columns(cls, v: dict[str, str | list[str]]) -> dict[str, str | list[str]]:
        if not v:
            raise ValueError("name at least one identifying column, e.g. { surname = 'Surname' }")
        for name, cols in v.items():
            if isinstance(cols, list) and not cols:
                raise ValueError(f"field {name!r} names no column: give one or more")
        return v


class LinkageSection(_Strict):
    """How records are paired, the model trained and clusters cut."""

    link_type: Literal["link_and_dedupe", "link_only", "dedupe_only"] = "link_and_dedupe"
    threshold: float | Literal["auto"] = "auto"
    review_band: tuple[float, float] = (0.5, 0.99)
    blocking: list[list[str]] | None = None
    training: list[list[str]] | None = None
    #: The fields that together say where a person lives (house number, street,
    #: town, postcode...), compared as one; None: the fields of kind address and postcode.
    address_fields: list[str] | None = None
    seed: int = 42
    u_sample_pairs: float = 2e6
    em_max_pairs: float = 5e6
    floor: float = 0.01

    @field_validator("threshold")
    @classmethod
    def _threshold(cls, v: float | str) -> float | str:
        if isinstance(v, float) and not 0 < v < 1:
            raise ValueError("a threshold is a match probability between 0 and 1, or 'auto'")
        return v

    @model_validator(mode="after")
    def _band(self) -> LinkageSection:
        low, high = self.review_band
        if not 0 <= low < high <= 1:
            raise ValueError(
                "review_band = [low, high] with 0 <= low < high <= 1, e.g. [0.5, 0.99]"
            )
        if not 0 < self.floor <= low:
            raise ValueError("floor must be above 0 and at most the review band's low end")
        return self


class LinkSettings(_Strict):
    """Validated linkage settings. Load them with :func:`load_link_settings`."""

    linkage: LinkageSection = Field(default_factory=LinkageSection)
    fields: dict[str, FieldSettings] = Field(default_factory=dict)
    sources: dict[str, SourceSettings]

    @model_validator(mode="after")
    def _complete(self) -> LinkSettings:
        if not self.sources:
            raise ValueError("add a [sources.<file name>] or [sources.default] section")
        declared = set(self.fields)
        used = {f for s in self.sources.values() for f in s.columns}
        fields = dict(self.fields)
        for name in sorted(used - declared):
            if name not in KINDS:
                raise ValueError(
                    f"field {name!r} has no kind: name it after one of {', '.join(KINDS)} "
                    f"or declare it, e.g. [fields] {name} = {{ kind = 'text' }}"
                )
            fields[name] = FieldSettings(kind=name)
        for name, f in list(fields.items()):
            if f.kind is None:
                if name not in KINDS:
                    raise ValueError(
                        f"fields.{name} has no kind: add kind = one of {', '.join(KINDS)}"
                    )
                fields[name] = f.model_copy(update={"kind": name})
        unused = sorted(declared - used)
        if unused:
            raise ValueError(
                f"fields {unused} are declared but no source names a column for them: "
                "map them in a source's columns or remove them"
            )
        object.__setattr__(self, "fields", fields)
        for rules, key in (
            (self.linkage.blocking, "blocking"),
            (self.linkage.training, "training"),
        ):
            for rule in rules or []:
                unknown = [f for f in rule if f not in fields]
                if unknown or not rule:
                    raise ValueError(
                        f"linkage.{key} rule {rule} names {unknown or 'no field'}: use fields "
                        f"the sources map ({', '.join(sorted(fields))})"
                    )
        parts = self.linkage.address_fields or []
        unknown = [f for f in parts if f not in fields]
        if unknown:
            raise ValueError(
                f"linkage.address_fields names {unknown}: use fields the sources map "
                f"({', '.join(sorted(fields))})"
            )
        personal = [f for f in parts if fields[f].kind in ("forename", "surname", "date_of_birth")]
        if personal:
            raise ValueError(
                f"linkage.address_fields names {personal}, which are not parts of an address: "
                "list only the fields that together say where a person lives"
            )
        if (
            self.linkage.link_type == "link_only"
            and len(self.sources) < 2
            and ("default" not in self.sources)
        ):
            raise ValueError("link_type = 'link_only' needs at least two sources")
        return self

    # -- derived views ---------------------------------------------------------
    def source_for(self, name: str) -> SourceSettings:
        """The settings of the file named ``name`` (without extension), else the default."""
        if name in self.sources:
            return self.sources[name]
        if "default" in self.sources:
            return self.sources["default"]
        raise LinkSettingsError(
            f"no [sources.{name}] section and no [sources.default]: add one naming the "
            f"record-id column and identifying columns of {name}"
        )

    def blocking_rules(self) -> list[list[str]]:
        """The blocking rules: the settings' own, else the defaults whose fields exist."""
        if self.linkage.blocking:
            return [list(r) for r in self.linkage.blocking]
        return _present(DEFAULT_BLOCKING, self.fields)

    def training_rules(self) -> list[list[str]]:
        """Blocking rules for EM training sessions."""
        if self.linkage.training:
            return [list(r) for r in self.linkage.training]
        rules = _present(DEFAULT_TRAINING, self.fields)
        for extra in _present(FALLBACK_TRAINING, self.fields):
            if rules and any(all(f in r for r in rules) for f in self.fields):
                rules.append(extra)  # a field every rule blocks on would stay untrained
        if not rules:  # no default field present: train on the first two blocking rules
            rules = self.blocking_rules()[:2]
        return rules

    def address_parts(self) -> list[str]:
        """The fields compared together as one address (empty: none are).

        The settings' own ``address_fields``, else every field of kind
        ``address`` or ``postcode``; fewer than two fields make no group.
        """
        if self.linkage.address_fields is not None:
            parts = list(self.linkage.address_fields)
        else:
            parts = [n for n, f in self.fields.items() if f.kind in ("address", "postcode")]
        return parts if len(parts) >= 2 else []

    def reliable_key(self) -> str | None:
        """The field marked ``reliable = true`` (a shared key used as training labels)."""
        keys = [n for n, f in self.fields.items() if f.reliable]
        return keys[0] if keys else None


def _present(
    rules: tuple[tuple[str, ...], ...], fields: dict[str, FieldSettings]
) -> list[list[str]]:
    by_kind: dict[str, str] = {}
    for name in sorted(
        fields, key=lambda n: n != fields[n].kind
    ):  # a field named as its kind first
        by_kind.setdefault(str(fields[name].kind), name)
    out = []
    for rule in rules:
        if all(k in by_kind for k in rule):
            out.append([by_kind[k] for k in rule])
    return out


def parse_link_settings(data: dict[str, Any], *, origin: str = "settings") -> LinkSettings:
    """Validate settings given as a dict (as read from TOML)."""
    return validate_toml(LinkSettings, data, origin=origin, error=LinkSettingsError, docs=_DOCS)


def load_link_settings(path: str | Path) -> LinkSettings:
    """Read and validate a linkage settings TOML file.

    Raises :class:`LinkSettingsError` naming the file, the key and the fix.
    """
    return load_toml(
        path,
        LinkSettings,
        error=LinkSettingsError,
        what="settings file",
        option="--settings",
        docs=_DOCS,
    )
