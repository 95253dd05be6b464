"""Unit costs: what an event costs, from a TOML table the user supplies.

A unit-cost table names a currency, a price year and rows that give the cost
of an event by ``service``, ``kind`` or ``activity`` (or a pair of them), each
with its own ``source`` and ``year``::

    currency = "GBP"
    year = 2023
    title = "Example unit costs"

    [[cost]]
    service = "Adult social care"
    kind = "assessment"
    cost = 250.0
    unit = "per assessment"
    source = "PSSRU Unit Costs of Health and Social Care 2023"
    year = 2023

An event's own ``cost`` always wins. Otherwise the most specific row that
matches applies, in this order: service and activity, activity, service and
kind, kind, service. An optional ``hand_off_cost`` adds a cost per hand-off
(the work of passing a person on).

>>> table = UnitCostTable.model_validate({"currency": "GBP", "year": 2023,
...     "cost": [{"kind": "contact", "cost": 10.0, "source": "local estimate", "year": 2023}]})
>>> table.rows_at_level(("kind",)).height
1
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from systemic.learn.engine import ENGINE

#: Matching keys from the most to the least specific.
LEVELS: tuple[tuple[str, ...], ...] = (
    ("service", "activity"),
    ("activity",),
    ("service", "kind"),
    ("kind",),
    ("service",),
)


class UnitCostError(ValueError):
    """A unit-cost table is missing, unreadable or invalid (the message names the key)."""


class UnitCost(BaseModel):
    """One row: the cost of an event matched by service, kind and/or activity."""

    model_config = ConfigDict(extra="forbid")

    service: str | None = None
    kind: str | None = None
    activity: str | None = None
    cost: float = Field(ge=0)
    unit: str | None = None
    source: str = Field(min_length=1)
    year: int = Field(ge=1900, le=2100)
    approximate: bool = False
    note: str | None = None

    @model_validator(mode="after")
    def _matches_something(self) -> UnitCost:
        keys = tuple(k for k in ("service", "activity", "kind") if getattr(self, k) is not None)
        if not keys:
            raise ValueError("give at least one of service, kind or activity")
        if not any(set(keys) == set(level) for level in LEVELS):
            raise ValueError(
                f"matches on {keys}; use service+activity, activity, service+kind, kind or service"
            )
        return self

    @property
    def level(self) -> tuple[str, ...]:
        keys = {k for k in ("service", "activity", "kind") if getattr(self, k) is not None}
        return next(level for level in LEVELS if set(level) == keys)


class UnitCostTable(BaseModel):
    """A whole unit-cost table: currency, price year and rows."""

    model_config = ConfigDict(extra="forbid")

    currency: str = Field(min_length=1)
    year: int = Field(ge=1900, le=2100)
    title: str | None = None
    note: str | None = None
    hand_off_cost: float | None = Field(default=None, ge=0)
    cost: list[UnitCost] = Field(default_factory=list)

    @model_validator(mode="after")
    def _no_duplicates(self) -> UnitCostTable:
        seen: dict[tuple[str | None, ...], int] = {}
        for i, row in enumerate(self.cost):
            key = (row.service, row.kind, row.activity)
            if key in seen:
                raise ValueError(
                    f"cost[{i}] matches the same events as cost[{seen[key]}] ({key}); keep one"
                )
            seen[key] = i
        return self

    def rows_at_level(self, level: tuple[str, ...]) -> pl.DataFrame:
        """The rows that match on exactly ``level``'s keys, with their cost."""
        rows = [r for r in self.cost if r.level == level]
        data: dict[str, list[object]] = {k: [getattr(r, k) for r in rows] for k in level}
        data["_unit_cost"] = [r.cost for r in rows]
        schema: dict[str, pl.DataType] = {k: pl.String() for k in level}
        schema["_unit_cost"] = pl.Float64()
        return pl.DataFrame(data, schema=schema)


def load_unit_costs(path: str | os.PathLike[str]) -> UnitCostTable:
    """Read and validate a unit-cost TOML file.

    Errors name the file and the key, e.g. ``cost[3].year``.
    """
    p = Path(path)
    try:
        body = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise UnitCostError(
            f"{p}: unit-cost file not found; give the path of a TOML table"
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise UnitCostError(f"{p}: not valid TOML ({exc}); fix the syntax at that line") from exc
    except UnicodeDecodeError as exc:
        raise UnitCostError(
            f"{p}: byte {exc.start} is not UTF-8; save the unit-cost file as UTF-8"
        ) from None
    try:
        return UnitCostTable.model_validate(body)
    except ValidationError as exc:
        problems = "; ".join(
            f"{_path(err['loc']) or '(top level)'}: {err['msg']}" for err in exc.errors()
        )
        raise UnitCostError(f"{p}: invalid unit-cost table: {problems}") from exc


def _path(loc: tuple[object, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def with_unit_costs(events: pl.DataFrame, table: UnitCostTable | None) -> pl.DataFrame:
    """Fill each event's ``cost`` from the table where the event has none.

    Needs the columns ``service``, ``kind``, ``activity`` and ``cost``. The
    table is matched once per distinct (service, kind, activity), then the
    costs join back to the events.
    """
    if table is None or not table.cost:
        return events
    keys = ["service", "kind", "activity"]
    combos = events.lazy().select(keys).unique()
    text = combos.with_columns([pl.col(k).cast(pl.String).alias(f"_{k}") for k in keys])
    found: list[str] = []
    for i, level in enumerate(LEVELS):
        rows = table.rows_at_level(level)
        if rows.height == 0:
            continue
        name = f"_unit_cost_{i}"
        rows = rows.rename({k: f"_{k}" for k in level} | {"_unit_cost": name})
        text = text.join(rows.lazy(), on=[f"_{k}" for k in level], how="left")
        found.append(name)
    costs = (
        text.select(*keys, pl.coalesce([pl.col(n) for n in found]).alias("_unit_cost"))
        .with_columns(_combo=_combo_hash(keys))
        .collect(engine=ENGINE)
    )
    if costs["_combo"].n_unique() == costs.height:
        # one integer key per distinct (service, kind, activity), looked up
        # in place: no join, so the event columns are not copied
        unit = _combo_hash(keys).replace_strict(
            costs["_combo"], costs["_unit_cost"], default=None, return_dtype=pl.Float64
        )
        return events.with_columns(pl.coalesce(pl.col("cost"), unit).alias("cost"))
    joined = events.lazy().join(  # pragma: no cover - a 64-bit hash collision
        costs.lazy().drop("_combo"), on=keys, how="left", nulls_equal=True, maintain_order="left"
    )
    return (  # pragma: no cover
        joined.with_columns(pl.coalesce("cost", "_unit_cost").alias("cost"))
        .drop("_unit_cost")
        .collect(engine=ENGINE)
    )


def _combo_hash(keys: list[str]) -> pl.Expr:
    # categorical codes hash as integers (cheap); text is hashed as text
    return pl.struct([pl.col(k).to_physical() for k in keys]).hash(seed=7)
