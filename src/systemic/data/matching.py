"""Rules and filters: which events they match, evaluated once per distinct key.

A mapping's rules set categories and its filters drop events, both by what
they match (:class:`~systemic.data.mapping.Match`): the activity, a pattern,
the lifecycle, the resource, the service, the channel or any source column.
The columns they read form a *key*; a source has few distinct keys (a few
hundred activities, a handful of lifecycles), so every rule and filter is
evaluated once per distinct key, never once per row, and the answers are
spread back to the rows.

The importer calls :func:`match_rows` on a mapped batch, whose model fields
are the columns ``__f_<field>`` and whose source columns keep their names.

>>> import polars as pl
>>> from systemic.data.mapping import parse_mapping
>>> m = parse_mapping({"fields": {"person_id": "who", "activity": "what", "timestamp": "t",
...     "lifecycle": "life"}, "constants": {"service": "Housing"},
...     "rules": [{"pattern": "^Chase", "lifecycle": "complete", "demand_class": "failure"}],
...     "filters": [{"action": "keep", "lifecycle": "complete"}]})
>>> batch = pl.DataFrame({"__f_activity": ["Chase repair", "Chase repair", "Report"],
...     "__f_lifecycle": ["start", "COMPLETE", "complete"]})
>>> answers = match_rows(batch, m, SourceColumns())
>>> answers["__filter"].to_list(), answers["demand_class"].to_list()
([0, None, None], [None, 'failure', None])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from systemic.data.mapping import RULE_FIELDS, Mapping, Match

#: The column of :func:`match_rows`' answer holding the first filter that removes a row.
FILTER = "__filter"

#: Source columns a resource matcher looks for, in order, when the mapping names none.
RESOURCE_COLUMNS = ("org:resource", "resource")


@dataclass(frozen=True)
class SourceColumns:
    """Source columns that rules and filters read, resolved for one source."""

    resource: str | None = None


def resolve_resource_column(mapping: Mapping, columns: list[str]) -> str | None:
    """The column a ``resource`` matcher reads: the mapping's, else a standard name.

    Returns None when no rule or filter matches on the resource.

    >>> from systemic.data.mapping import parse_mapping
    >>> m = parse_mapping({"fields": {"person_id": "p", "activity": "a", "timestamp": "t"},
    ...     "constants": {"service": "S"}, "rules": [{"resource": "Ann", "kind": "contact"}]})
    >>> resolve_resource_column(m, ["p", "a", "t", "org:resource"])
    'org:resource'
    """
    if not any(item.resource is not None for item in _items(mapping)):
        return None
    if mapping.source.resource_column:
        return mapping.source.resource_column
    return next((c for c in RESOURCE_COLUMNS if c in columns), None)


def where_columns(mapping: Mapping) -> list[str]:
    """Every source column named by a rule's or filter's ``where``, without repeats."""
    seen: list[str] = []
    for item in _items(mapping):
        seen += [c for c in item.where or {} if c not in seen]
    return seen


def _items(mapping: Mapping) -> list[Match]:
    return [*mapping.rules, *mapping.filters]


def _text(column: str) -> pl.Expr:
    """A source column as stripped text, an empty or missing cell as ``""``."""
    return pl.col(column).cast(pl.String).str.strip_chars().fill_null("")


def _key_exprs(mapping: Mapping, columns: SourceColumns) -> dict[str, pl.Expr]:
    """The key: one expression per thing some rule or filter matches on."""
    used = {name for item in _items(mapping) for name in item.matchers()}
    keys: dict[str, pl.Expr] = {}
    if used & {"activity", "pattern"}:
        keys["activity"] = pl.col("__f_activity")
    if "lifecycle" in used:
        keys["lifecycle"] = pl.col("__f_lifecycle").str.strip_chars().str.to_lowercase()
    for name in ("service", "channel"):
        if name in used:
            keys[name] = pl.col(f"__f_{name}")
    if "resource" in used and columns.resource is not None:
        keys["resource"] = _text(columns.resource)
    for column in where_columns(mapping):
        keys[f"where:{column}"] = _text(column)
    return keys


def _condition(item: Match, keys: dict[str, str]) -> pl.Expr:
    """True where every matcher of ``item`` matches (over key columns named in ``keys``)."""
    parts: list[pl.Expr] = []
    if item.activity is not None:
        parts.append(pl.col(keys["activity"]).is_in(item.values("activity")))
    if item.pattern is not None:
        parts.append(pl.col(keys["activity"]).str.contains(item.pattern))
    if item.lifecycle is not None:
        wanted = [v.strip().lower() for v in item.values("lifecycle")]
        parts.append(pl.col(keys["lifecycle"]).is_in(wanted))
    if item.resource is not None:  # the importer checked that the source has the column
        parts.append(pl.col(keys["resource"]).is_in(item.values("resource")))
    for name in ("service", "channel"):
        if getattr(item, name) is not None:
            parts.append(pl.col(keys[name]).is_in(item.values(name)))
    for column, values in item.where_values().items():
        parts.append(pl.col(keys[f"where:{column}"]).is_in([v.strip() for v in values]))
    return pl.all_horizontal([p.fill_null(False) for p in parts])


def _answers(mapping: Mapping, keys: dict[str, str]) -> dict[str, pl.Expr]:
    """Per distinct key: the first filter that removes it, and each rule field's value."""
    out: dict[str, pl.Expr] = {}
    chain: Any = None  # a when/then chain (Polars types it as several classes)
    for i, item in enumerate(mapping.filters):
        matched = _condition(item, keys)
        removed = ~matched if item.action == "keep" else matched
        index = pl.lit(i, pl.Int16)
        chain = pl.when(removed).then(index) if chain is None else chain.when(removed).then(index)
    if chain is not None:
        out[FILTER] = chain.otherwise(pl.lit(None, pl.Int16))
    for name in RULE_FIELDS:
        rules = [r for r in mapping.rules if getattr(r, name) is not None]
        chain = None
        for rule in rules:  # the first rule that matches and sets the field wins
            cond = _condition(rule, keys)
            value = pl.lit(getattr(rule, name), pl.String)
            chain = pl.when(cond).then(value) if chain is None else chain.when(cond).then(value)
        if chain is not None:
            out[name] = chain.otherwise(pl.lit(None, pl.String))
    return out


def match_rows(
    mapped: pl.DataFrame, mapping: Mapping, columns: SourceColumns
) -> dict[str, pl.Series]:
    """For each row of ``mapped``: the filter that removes it and what the rules set.

    Each answer has one value per row of ``mapped``, in order: :data:`FILTER`
    (Int16: the index of the first filter that removes the row, null when the
    row is kept) when the mapping has filters, and, for each rule field some
    rule sets, its value (null where no rule sets it). Empty when the mapping
    has neither rules nor filters.
    """
    expressions = _key_exprs(mapping, columns)
    if not expressions:
        return {}
    keys = {name: f"__k{i}" for i, name in enumerate(expressions)}
    rows = mapped.select([e.alias(keys[n]) for n, e in expressions.items()])
    answers = _answers(mapping, keys)
    table = rows.unique().with_columns(**answers)
    key_columns = list(keys.values())
    if len(key_columns) == 1:  # one key column: a lookup, cheaper than a join
        (key,) = key_columns
        return {
            name: rows[key]
            .replace_strict(table[key], table[name], default=None, return_dtype=table[name].dtype)
            .alias(name)
            for name in answers
        }
    joined = rows.join(table, on=key_columns, how="left", nulls_equal=True, maintain_order="left")
    return {name: joined[name] for name in answers}
