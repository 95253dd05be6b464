"""Small-number suppression for every count that leaves the team.

Counts from 1 to ``threshold - 1`` (default 1-4) are shown as ``"<5"``
(*primary* suppression). Because published tables add up to totals that are
also published (a column sums to the overall total; a row's parts sum to the
row's total), one hidden cell could be worked out by subtraction. So when a
column (or a row's set of parts) has exactly one hidden cell, the next
smallest cell of that column (or row) is hidden too and shown as ``"*"``
(*secondary* suppression). This repeats until no hidden cell can be derived.
Zeros are shown: a zero reveals nobody.

Values derived from suppressed counts (shares, medians, costs) are hidden
with them: name them in ``linked``.

The result is a table of text, ready for CSV, a report or a web page.

>>> import polars as pl
>>> t = pl.DataFrame({"locality": ["North", "South", "East"], "contacts": [120, 3, 40]})
>>> suppress_counts(t, ["contacts"])["contacts"].to_list()
['120', '<5', '*']

This module imports nothing else from systemic, so that ``learn``,
``measures``, ``report`` and ``web`` can all use it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

#: Counts below this are hidden unless the caller says otherwise.
DEFAULT_THRESHOLD = 5

#: Shown in place of a count hidden because it could be derived from totals.
SECONDARY_MARK = "*"

_HIDDEN = "_hidden_"
_PRIMARY = "_primary_"
_UNSEEN = "_unseen_"


def primary_mark(threshold: int = DEFAULT_THRESHOLD) -> str:
    """The text shown for a small count, e.g. ``"<5"``.

    >>> primary_mark(10)
    '<10'
    """
    return f"<{threshold}"


@dataclass(frozen=True)
class RowTotal:
    """Within each row, ``parts`` add up to ``total`` (both may be published)."""

    total: str
    parts: tuple[str, ...]


def suppress_counts(
    frame: pl.DataFrame,
    counts: Sequence[str],
    *,
    threshold: int = DEFAULT_THRESHOLD,
    by: Sequence[str] = (),
    groups: Sequence[Sequence[str]] = (),
    row_totals: Sequence[RowTotal] = (),
    linked: Mapping[str, Sequence[str]] | None = None,
    unpublished: Mapping[str, str] | None = None,
) -> pl.DataFrame:
    """Hide small counts and any count from which a hidden one could be derived.

    ``counts`` are count columns; each is taken to sum (within groups of
    ``by``) to a published total. ``groups`` name further sets of rows
    whose counts are tied by one sum (each a list of columns: the rows
    sharing their values are one set; a row with a null in them is in no
    set), e.g. the weeks of a month beside the month's own row: within each
    set, no count may be the only one hidden. ``row_totals`` say which
    columns of a row add up to another. ``unpublished`` maps a count column
    to a boolean column that is true where that count is not published (it
    comes back null): a reader cannot see it, so it protects the sums it is
    in as a hidden count does; and if it is small, no sum may give it away.
    ``linked`` maps a derived column (a share, a median, a cost) to the
    count columns it depends on: it is hidden (null) when any of them is
    hidden. Other columns pass through unchanged. Count and linked
    columns come back as text.

    >>> import polars as pl
    >>> t = pl.DataFrame({"service": ["A", "B"], "contacts": [7, 9], "failure": [2, 6],
    ...                   "value": [5, 3]})
    >>> out = suppress_counts(t, ["contacts", "failure", "value"],
    ...                       row_totals=[RowTotal("contacts", ("failure", "value"))])
    >>> out.select("failure", "value").rows()
    [('<5', '*'), ('*', '<5')]
    """
    if threshold < 1:
        raise ValueError(f"suppression threshold must be at least 1, got {threshold}")
    counts = list(counts)
    linked = dict(linked or {})
    groups = [list(g) for g in groups]
    missing = [
        c
        for c in [*counts, *by, *(c for g in groups for c in g), *linked]
        if c not in frame.columns
    ]
    unpublished = dict(unpublished or {})
    missing += [c for c in unpublished if c not in counts]
    missing += [m for m in unpublished.values() if m not in frame.columns]
    for rt in row_totals:
        missing += [c for c in (rt.total, *rt.parts) if c not in counts]
    if missing:
        raise ValueError(f"suppress_counts: column(s) {missing} are not count columns of the table")
    by = list(by)

    work = (
        frame.with_columns([pl.col(c).cast(pl.Int64).alias(c) for c in counts])
        .with_columns(
            [
                ((pl.col(c) > 0) & (pl.col(c) < threshold)).fill_null(False).alias(_PRIMARY + c)
                for c in counts
            ]
        )
        .with_columns(
            [
                (
                    pl.col(unpublished[c]).fill_null(False) if c in unpublished else pl.lit(False)
                ).alias(_UNSEEN + c)
                for c in counts
            ]
        )
        .with_columns(
            [(pl.col(_PRIMARY + c) | pl.col(_UNSEEN + c)).alias(_HIDDEN + c) for c in counts]
        )
    )
    if work.height:
        work = _secondary(work, counts, by, groups, row_totals)
    primary = primary_mark(threshold)
    out = []
    for c in counts:
        out.append(
            pl.when(pl.col(_UNSEEN + c))
            .then(pl.lit(None, pl.String))
            .when(pl.col(_PRIMARY + c))
            .then(pl.lit(primary))
            .when(pl.col(_HIDDEN + c))
            .then(pl.lit(SECONDARY_MARK))
            .otherwise(pl.col(c).cast(pl.String))
            .alias(c)
        )
    for derived, sources in linked.items():
        hidden = pl.any_horizontal([pl.col(_HIDDEN + s) for s in sources])
        out.append(
            pl.when(hidden)
            .then(pl.lit(None, pl.String))
            .otherwise(pl.col(derived).cast(pl.String))
            .alias(derived)
        )
    helper = [c for c in work.columns if c.startswith((_HIDDEN, _PRIMARY, _UNSEEN))]
    return work.with_columns(out).drop(helper)


def _secondary(
    work: pl.DataFrame,
    counts: list[str],
    by: list[str],
    groups: list[list[str]],
    row_totals: Sequence[RowTotal],
) -> pl.DataFrame:
    # Each pass hides at most one more cell per column group and per row;
    # repeat until nothing changes (a hidden cell can expose another line).
    # ``by`` keeps rows with a null key together; ``groups`` leave them out.
    # A set needs another hidden cell when its one unknown is a secret: a small
    # count or a hidden one, not an unpublished count that is not small.
    windows = [(by or None, pl.lit(True))] + [
        (g, pl.all_horizontal([pl.col(k).is_not_null() for k in g])) for g in groups
    ]
    for _ in range(4 * (len(counts) + work.height) * len(windows) + 4):
        before = _hidden_count(work, counts)
        for c in counts:
            for window, member in windows:
                hidden = pl.col(_HIDDEN + c)
                unknown = (hidden & member).sum()
                secret = (_secret(c) & member).sum()
                n_hidden = unknown.over(window) if window else unknown
                n_secret = secret.over(window) if window else secret
                # Prefer the smallest non-zero visible cell; zeros only if none.
                key = (
                    pl.when(member & ~hidden & (pl.col(c) > 0))
                    .then(pl.col(c).cast(pl.Float64))
                    .when(member & ~hidden)
                    .then(pl.lit(float("inf")))
                    .otherwise(None)
                )
                rank = key.rank("ordinal").over(window) if window else key.rank("ordinal")
                pick = (member & (n_hidden == 1) & (n_secret == 1) & (rank == 1)).fill_null(False)
                work = work.with_columns((hidden | pick).alias(_HIDDEN + c))
        for rt in row_totals:
            cols = [rt.total, *rt.parts]
            n_hidden = pl.sum_horizontal([pl.col(_HIDDEN + c).cast(pl.Int32) for c in cols])
            n_secret = pl.sum_horizontal([_secret(c).cast(pl.Int32) for c in cols])
            keys = [
                pl.when(~pl.col(_HIDDEN + c) & (pl.col(c) > 0))
                .then(pl.col(c).cast(pl.Float64))
                .when(~pl.col(_HIDDEN + c))
                .then(pl.lit(float("inf")))
                .otherwise(None)
                for c in cols
            ]
            smallest = pl.min_horizontal(keys)
            taken = pl.lit(False)
            exprs = []
            # Parts first, then the total, so that a total stays visible when it can.
            for c, key in [*zip(cols[1:], keys[1:], strict=True), (cols[0], keys[0])]:
                pick = (
                    (n_hidden == 1) & (n_secret == 1) & (key == smallest).fill_null(False) & ~taken
                )
                exprs.append((pl.col(_HIDDEN + c) | pick.fill_null(False)).alias(_HIDDEN + c))
                taken = taken | pick.fill_null(False)
            work = work.with_columns(exprs)
        if _hidden_count(work, counts) == before:
            break
    return work


def _secret(c: str) -> pl.Expr:
    """Hidden and not merely unpublished: small, or hidden to protect a small count."""
    return pl.col(_HIDDEN + c) & (~pl.col(_UNSEEN + c) | pl.col(_PRIMARY + c))


def _hidden_count(work: pl.DataFrame, counts: list[str]) -> int:
    return int(sum(work[_HIDDEN + c].sum() for c in counts))


def is_suppressed(value: object, threshold: int = DEFAULT_THRESHOLD) -> bool:
    """Whether a published cell was hidden (primary or secondary).

    >>> is_suppressed("<5"), is_suppressed("*"), is_suppressed("12")
    (True, True, False)
    """
    return value in (primary_mark(threshold), SECONDARY_MARK)


__all__ = [
    "DEFAULT_THRESHOLD",
    "SECONDARY_MARK",
    "RowTotal",
    "is_suppressed",
    "primary_mark",
    "suppress_counts",
]
