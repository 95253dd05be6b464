"""The import pipeline: raw batches -> mapping -> accepted events and rejects.

For each source file: a reader yields raw batches (source columns plus
``__line``); person identifiers are pseudonymised first, so nothing after that
point ever holds a clear identifier; the mapping is applied as Polars
expressions over the whole batch (no loop over rows); rows that fail a check
go to the rejects table with the field and the reason; the rest are appended
to the dataset. The mapping's filters drop the events it does not want
(counted per filter, never silently). Each file becomes one manifest entry
whose counts satisfy ``read == accepted + rejected + filtered``.

>>> import tempfile, pathlib
>>> from systemic.data.mapping import parse_mapping
>>> tmp = pathlib.Path(tempfile.mkdtemp())
>>> _ = (tmp / "calls.csv").write_text(
...     "who,what,when\\nA1,call,2024-01-02 09:00\\nA1,visit,not a date\\n")
>>> m = parse_mapping({"fields": {"person_id": "who", "activity": "what", "timestamp": "when"},
...     "constants": {"service": "Housing"}})
>>> [(e.read, e.accepted, e.rejected) for e in import_sources([tmp / "calls.csv"], m, tmp / "ds")]
[(2, 1, 1)]

A filter that keeps only the calls: the visit is filtered, not rejected.

>>> calls = parse_mapping({**m.model_dump(), "filters": [{"action": "keep", "activity": "call"}]})
>>> e = import_sources([tmp / "calls.csv"], calls, tmp / "ds2")[0]
>>> e.read, e.accepted, e.rejected, e.filtered, e.filters[0]["rows"]
(2, 1, 0, 1, 1)
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import difflib
import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from systemic.data.dataset import Dataset, SourceEntry, SourceWriter, create_dataset
from systemic.data.errors import SourceError
from systemic.data.linkage import lookup as linkage_lookup
from systemic.data.mapping import RULE_FIELDS, Mapping, load_mapping
from systemic.data.matching import (
    FILTER,
    SourceColumns,
    match_rows,
    resolve_resource_column,
    where_columns,
)
from systemic.data.pseudonymise import PseudonymKey, load_key
from systemic.data.readers import LINE, RawBatch, iter_raw, source_format
from systemic.data.schema import (
    ATTRIBUTE_PREFIX,
    CATEGORIES,
    REQUIRED_FIELDS,
    TIMESTAMP,
    attribute_column,
)
from systemic.data.timestamps import (
    parse_timestamp_column,
    parse_timestamps,
    timestamps_to_utc,
)
from systemic.data.withholding import (
    NO_COLUMN,
    NOT_ACCEPTED,
    VOCABULARY_EVENTS,
    shows_itself,
    shows_itself_expr,
    withheld,
    withheld_expr,
)

#: Called with (source file, rows read so far) while a file is imported.
ProgressCallback = Callable[[Path, int], None]

_REASON = "__reason"
_FIELD = "__field"
_CHECK = "__check"
_VALUE = "__value"
_PAIR = {"column": pl.String, "value": pl.String}
#: Where a reason names the failing value (shown, or its withheld marker).
VALUE = "{value}"

_DEFAULTS = {"kind": "other", "demand_class": "unknown", "preventable": "unknown"}


class _Codes:
    """Small integer codes for strings, in order of first appearance.

    A private Polars categorical dictionary, held only in memory: casting a
    column to it gives each distinct string a code, and strings new to it get
    the next codes, so "seen before" is "code below the count before".

    >>> codes = _Codes()
    >>> codes.of(pl.Series(["b", "a", "b"])).to_list(), codes.of(pl.Series(["c", "a"])).to_list()
    ([0, 1, 0], [2, 1])
    >>> codes.code("a"), codes.code("z")
    (1, None)
    """

    def __init__(self) -> None:
        self._categories = pl.Categories.random()
        self._dtype = pl.Categorical(self._categories)
        # Polars frees a categorical dictionary once no column uses it (and
        # would then hand out codes from 0 again): this empty column holds it.
        self._anchor = pl.Series("anchor", [], dtype=self._dtype)

    def of(self, values: pl.Series) -> pl.Series:
        """The strings' codes (null stays null); new strings are added."""
        return values.cast(self._dtype).to_physical()

    def code(self, value: str) -> int | None:
        """The code of a string already seen, else None (nothing is added)."""
        try:
            return int(self._categories[value])
        except KeyError:
            return None


class Pseudonymiser:
    """Pseudonymises columns, hashing each distinct identifier once per import.

    Identifiers are held (only in memory, never written) as :class:`_Codes`:
    each gets a small integer code, new identifiers the next codes, and only
    those are hashed. The pseudonyms sit in a column indexed by code, so a batch is
    mapped by one gather. It also serves the lookups that clean malformed
    records of identifiers before they are kept.

    >>> from systemic.data.pseudonymise import PseudonymKey
    >>> key = PseudonymKey(b"0123456789abcdef0123456789abcdef")
    >>> ps = Pseudonymiser(key)
    >>> out = ps.series(pl.Series("id", ["A1", " A1 ", "", None, "B2"]))
    >>> out.to_list()[:2] == [key.pseudonym("A1")] * 2, out.to_list()[2:4]
    (True, [None, None])
    >>> ps.get("B2") == key.pseudonym("B2"), ps.get("C3")
    (True, None)
    """

    def __init__(self, key: PseudonymKey) -> None:
        self.key = key
        self._codes = _Codes()
        # The pseudonym of the identifier with code i sits at row i (blank: null).
        self._pseudonyms = pl.Series("v", [], dtype=pl.String)

    def series(self, values: pl.Series) -> pl.Series:
        """The column's pseudonyms; blanks and nulls become null."""
        stripped = values.cast(pl.String).str.strip_chars()
        codes = self._codes.of(stripped)
        known = self._pseudonyms.len()
        fresh = (
            pl.DataFrame({"code": codes, "id": stripped})
            .filter(pl.col("code") >= known)
            .unique("code")
        )
        if fresh.height:
            self._learn(fresh["code"], fresh["id"].to_list())
        return self._pseudonyms.gather(codes).alias(values.name)

    def _learn(self, codes: pl.Series, identifiers: list[str]) -> None:
        """Hash the identifiers behind codes new to this pseudonymiser."""
        known = self._pseudonyms.len()
        hashed = self.key.pseudonyms(identifiers)
        blank = [not i for i in identifiers]
        values = pl.Series(hashed, dtype=pl.String)
        if any(blank):  # a blank identifier is no one: its pseudonym is null
            values = values.scatter([i for i, b in enumerate(blank) if b], None)
        size = int(codes.max()) + 1  # type: ignore[arg-type]
        extension = pl.Series("v", [None] * (size - known), dtype=pl.String)
        self._pseudonyms = pl.concat([self._pseudonyms, extension.scatter(codes - known, values)])

    def get(self, identifier: str) -> str | None:
        """The pseudonym of an identifier seen in this import, else None."""
        code = self._codes.code(identifier.strip())
        return None if code is None or code >= self._pseudonyms.len() else self._pseudonyms[code]

    def remember(self, identifier: str) -> str:
        """The pseudonym of ``identifier``, which is learnt if it is new."""
        self.series(pl.Series([identifier]))
        found = self.get(identifier)
        assert found is not None, "a blank identifier has no pseudonym"
        return found

    def __bool__(self) -> bool:
        return bool(self._pseudonyms.len())


@dataclass
class _SourceRun:
    """State carried across the batches of one source file."""

    path: Path
    source_id: str
    mapping: Mapping
    pseudonymiser: Pseudonymiser
    now: dt.datetime
    seen_event_ids: _SeenIds = field(default_factory=lambda: _SeenIds())
    checked_columns: bool = False
    malformed: list[pl.DataFrame] = field(default_factory=list)
    rejected: list[pl.DataFrame] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    dropped: set[str] = field(default_factory=set)
    notes: dict[str, object] = field(default_factory=dict)
    match_columns: SourceColumns = field(default_factory=SourceColumns)
    filtered: list[_FilterTally] = field(default_factory=list)


#: How many source lines, activities and lifecycles a filter's tally keeps for inspection.
FILTER_EXAMPLES = 10


@dataclass
class _FilterTally:
    """What one filter removed from one source: counts and where, no identifiers."""

    rows: int = 0
    first_lines: list[int] = field(default_factory=list)
    activities: dict[str, int] = field(default_factory=dict)
    lifecycles: dict[str, int] = field(default_factory=dict)

    def add(self, removed: pl.DataFrame) -> None:
        """Count removed rows (columns ``__line``, ``__f_activity``, maybe ``__f_lifecycle``)."""
        self.rows += removed.height
        room = FILTER_EXAMPLES - len(self.first_lines)
        if room > 0:
            self.first_lines += removed[LINE].head(room).to_list()
        by = (("__f_activity", self.activities), ("__f_lifecycle", self.lifecycles))
        for column, counts in by:
            if column not in removed.columns:
                continue
            for value, n in removed[column].fill_null("(missing)").value_counts().iter_rows():
                counts[value] = counts.get(value, 0) + n

    def entry(self, label: str, action: str) -> dict[str, object]:
        """The manifest's record of the filter: the most frequent values only."""

        def top(counts: dict[str, int]) -> dict[str, int]:
            ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
            return dict(ranked[:FILTER_EXAMPLES])

        return {
            "filter": label,
            "action": action,
            "rows": self.rows,
            "first_lines": self.first_lines,
            "activities": top(self.activities),
            "distinct_activities": len(self.activities),
            "lifecycles": top(self.lifecycles),
        }


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(8 * 1024 * 1024):
            h.update(chunk)
    return h.hexdigest()


def _missing_column(run: _SourceRun, column: str, key: str, columns: list[str]) -> SourceError:
    close = difflib.get_close_matches(column, columns, n=3)
    hint = f"did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    shown = ", ".join(repr(c) for c in columns[:30]) + (" ..." if len(columns) > 30 else "")
    return SourceError(
        f"the mapping's {key} names column {column!r}, which the source does not have "
        f"(it has {shown})",
        path=str(run.path),
        field=key,
        hint=(hint + " " if hint else "") + "fix the column name in the mapping",
    )


def _check_columns(run: _SourceRun, columns: list[str]) -> None:
    m = run.mapping
    for name, col in m.fields.items():
        if col not in columns:
            raise _missing_column(run, col, f"fields.{name}", columns)
    for col in m.privacy.identifiers:
        if col not in columns:
            raise _missing_column(run, col, "privacy.identifiers", columns)
    for col in m.attributes.drop:
        if col not in columns:
            raise _missing_column(run, col, "attributes.drop", columns)
    for section, items in (("rules", m.rules), ("filters", m.filters)):
        for i, item in enumerate(items, 1):
            for col in item.where or {}:
                if col not in columns:
                    raise _missing_column(run, col, f"{section} #{i}.where", columns)
            if item.resource is not None and m.source.resource_column is not None:
                if m.source.resource_column not in columns:
                    key = "source.resource_column"
                    raise _missing_column(run, m.source.resource_column, key, columns)
            elif item.resource is not None and run.match_columns.resource is None:
                raise SourceError(
                    f"the mapping's {section} #{i}.resource matches the resource, but the "
                    "source has neither an 'org:resource' nor a 'resource' column",
                    path=str(run.path),
                    field=f"{section} #{i}.resource",
                    hint="name the column that says who did the work: "
                    "[source] resource_column = '<source column>'",
                )


def _text(col: str) -> pl.Expr:
    s = pl.col(col).cast(pl.String).str.strip_chars()
    return pl.when(s.str.len_bytes() > 0).then(s).otherwise(None)


def _blanks_to_null(mapped: pl.DataFrame, names: list[str]) -> pl.DataFrame:
    """Make empty (stripped) text null, touching only the columns that have some.

    One cheap pass finds the columns with an empty value; most have none, and
    then nothing is copied.
    """
    if not names or not mapped.height:
        return mapped
    flags = mapped.select(
        [(pl.col(f"__f_{n}").str.len_bytes() == 0).any().alias(n) for n in names]
    ).row(0)
    fix = [n for n, flag in zip(names, flags, strict=True) if flag]
    return mapped.with_columns(
        [
            pl.when(pl.col(f"__f_{n}").str.len_bytes() > 0)
            .then(pl.col(f"__f_{n}"))
            .otherwise(None)
            .alias(f"__f_{n}")
            for n in fix
        ]
    )


def _derive(m: Mapping, f: dict[str, pl.Expr], ruled: set[str]) -> dict[str, pl.Expr]:
    """Expressions for kind, demand type, demand class and preventable.

    A mapped column wins where it has a value; then the first rule that
    matches (its answer is the column ``__r_<field>``, see
    :func:`systemic.data.matching.match_rows`); categories fall back to the
    model's default.
    """
    derived: dict[str, pl.Expr] = {}
    for name in RULE_FIELDS:
        column = f.get(name)
        if column is not None and name in CATEGORIES and name not in m.constants:
            column = column.str.to_lowercase()  # rule values are validated lower case
        parts = [column] if column is not None else []
        if name in ruled:
            parts.append(pl.col(f"__r_{name}"))
        if name in CATEGORIES:
            parts.append(pl.lit(_DEFAULTS[name], pl.String))
        if parts:
            derived[name] = parts[0] if len(parts) == 1 else pl.coalesce(parts)
    return derived


def _apply_filters(mapped: pl.DataFrame, removed_by: pl.Series, run: _SourceRun) -> pl.DataFrame:
    """The rows no filter removes; the removed ones are tallied per filter."""
    n_removed = removed_by.count()
    if not n_removed:
        return mapped
    tallied = [c for c in (LINE, "__f_activity", "__f_lifecycle") if c in mapped.columns]
    removed = mapped.select(tallied).with_columns(removed_by.alias(FILTER)).drop_nulls(FILTER)
    for (index,), part in removed.partition_by(FILTER, as_dict=True).items():
        run.filtered[int(index)].add(part)
    return mapped.filter(removed_by.is_null())


def apply_mapping(raw: pl.DataFrame, run: _SourceRun) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Map one raw batch (identifiers already pseudonymised) to events and rejects.

    The happy path is kept cheap: every check is first evaluated as one
    combined predicate; which check failed, and the reason text, are worked
    out only for the rows that failed it.
    """
    m = run.mapping
    schema = raw.schema
    # Identifier columns come out of the pseudonymiser stripped, blanks null.
    clean = set() if m.privacy.already_pseudonymised else set(m.identifier_columns())
    exprs: dict[str, pl.Expr] = {}
    blank: list[str] = []
    for name, col in m.fields.items():
        if name == "timestamp" and schema[col] == pl.String:
            # Parsed here, one format after another, only where still needed.
            ts = parse_timestamp_column(raw[col], m.timestamp.formats, m.timestamp.zone)
            exprs[name] = pl.lit(ts)
        elif name == "timestamp":
            exprs[name] = timestamps_to_utc(
                pl.col(col), schema[col], m.timestamp.formats, m.timestamp.zone
            )
        elif name == "cost":
            exprs[name] = (
                pl.col(col).cast(pl.String).str.strip_chars().cast(pl.Float64, strict=False)
            )
        elif col in clean and schema[col] == pl.String:
            exprs[name] = pl.col(col)
        else:
            exprs[name] = pl.col(col).cast(pl.String).str.strip_chars()
            blank.append(name)
    for name, value in m.constants.items():
        exprs[name] = pl.lit(value).cast(
            TIMESTAMP if name == "timestamp" else (pl.Float64 if name == "cost" else pl.String)
        )
    if "text" in exprs and not m.privacy.keep_text:
        del exprs["text"]
        blank = [b for b in blank if b != "text"]
    mapped = raw.with_columns(**{f"__f_{k}": v for k, v in exprs.items()})
    mapped = _blanks_to_null(mapped, blank)
    if m.defaults:
        fills: dict[str, pl.Expr] = {}
        for name, value in m.defaults.items():
            fill = pl.lit(value).cast(pl.Float64 if name == "cost" else pl.String)
            fills[name] = pl.coalesce(pl.col(f"__f_{name}"), fill) if name in exprs else fill
        mapped = mapped.with_columns(**{f"__f_{k}": v for k, v in fills.items()})
        exprs.update(fills)
    f = {k: pl.col(f"__f_{k}") for k in exprs}

    # Rules and filters, evaluated once per distinct key (activity, lifecycle ...).
    answers = match_rows(mapped, m, run.match_columns)
    removed_by = answers.pop(FILTER, None)
    mapped = mapped.with_columns([v.alias(f"__r_{k}") for k, v in answers.items()])
    if removed_by is not None:
        mapped = _apply_filters(mapped, removed_by, run)
    # Categories: a mapped column wins where it has a value, then rules, then defaults.
    derived = _derive(m, f, set(answers))
    mapped = mapped.with_columns(**{f"__f_{k}": v for k, v in derived.items()})
    f.update({k: pl.col(f"__f_{k}") for k in derived})

    # Checks, first failing wins: (condition, field, reason, value). A reason that
    # names the failing value says {value}, and the value goes alongside: whether
    # it is shown or withheld is decided when the source's rejects are finished
    # (see systemic.data.withholding).
    checks: list[tuple[pl.Expr, str, pl.Expr, pl.Expr | None]] = []
    missing_timestamp = -1
    for name in REQUIRED_FIELDS:
        where = f'column "{m.fields[name]}"' if name in m.fields else "the constant"
        if name == "timestamp":
            raw_ts = pl.col(m.fields["timestamp"]).cast(pl.String).str.strip_chars()
            missing_timestamp = len(checks)
            checks.append(
                (
                    raw_ts.is_null() | (raw_ts.str.len_bytes() == 0),
                    name,
                    pl.lit(f"missing timestamp: {where} is empty"),
                    None,
                )
            )
            fmts = ", ".join(m.timestamp.formats)
            local = parse_timestamps(raw_ts, m.timestamp.formats, "UTC")
            checks.append(
                (
                    f[name].is_null(),
                    name,
                    pl.when(local.is_not_null())
                    .then(
                        # It parsed in one of the formats: a date and time, shown.
                        pl.format(
                            "timestamp '{}' does not exist in zone {} (the clocks went forward)",
                            raw_ts,
                            pl.lit(m.timestamp.zone),
                        )
                    )
                    .otherwise(pl.lit(f"timestamp {VALUE} does not match the format(s) {fmts}")),
                    pl.when(local.is_not_null()).then(None).otherwise(raw_ts),
                )
            )
        else:
            checks.append(
                (f[name].is_null(), name, pl.lit(f"missing {name}: {where} is empty"), None)
            )
    earliest = dt.datetime(m.timestamp.earliest_year, 1, 1, tzinfo=dt.UTC)
    latest = run.now + dt.timedelta(seconds=m.future_tolerance_seconds())
    checks.append(
        (
            f["timestamp"] < pl.lit(earliest).cast(TIMESTAMP),
            "timestamp",
            pl.format(
                "impossible timestamp {}: before {}",
                f["timestamp"].dt.to_string("%Y-%m-%d %H:%M:%S"),
                pl.lit(str(m.timestamp.earliest_year)),
            ),
            None,
        )
    )
    checks.append(
        (
            f["timestamp"] > pl.lit(latest).cast(TIMESTAMP),
            "timestamp",
            pl.format(
                "impossible timestamp {}: in the future beyond the tolerance of {} "
                "(set timestamp.future_tolerance to accept it)",
                f["timestamp"].dt.to_string("%Y-%m-%d %H:%M:%S"),
                pl.lit(m.timestamp.future_tolerance),
            ),
            None,
        )
    )
    for name, allowed in CATEGORIES.items():
        checks.append(
            (
                ~f[name].is_in(list(allowed)),
                name,
                pl.lit(f"{name} {VALUE} is not one of " + ", ".join(allowed)),
                f[name],
            )
        )
    if "cost" in m.fields:
        raw_cost = _text(m.fields["cost"])
        checks.append(
            (
                raw_cost.is_not_null() & f["cost"].is_null(),
                "cost",
                pl.lit(f"cost {VALUE} is not a number"),
                raw_cost,
            )
        )
    # One predicate over all rows: does any check fail? A missing timestamp
    # also fails to parse, so that check needs no pass of its own here.
    any_failed = pl.any_horizontal(
        [c.fill_null(False) for i, (c, *_) in enumerate(checks) if i != missing_timestamp]
    )
    bad = mapped.select(any_failed.alias("bad")).to_series()
    failed_rows = bad.arg_true()
    check_column = pl.repeat(None, mapped.height, dtype=pl.Int16, eager=True).alias(_CHECK)
    if failed_rows.len():
        # The number of the first failing check, for the failed rows only.
        first: pl.Expr = pl.lit(None, pl.Int16)
        for i in reversed(range(len(checks))):
            first = (
                pl.when(checks[i][0].fill_null(False)).then(pl.lit(i, pl.Int16)).otherwise(first)
            )
        which = mapped.filter(bad).select(first.alias(_CHECK)).to_series()
        check_column = check_column.scatter(failed_rows, which)
    mapped = mapped.with_columns(check_column)
    if "event_id" in f:
        checks.append(
            (
                pl.lit(True),
                "event_id",
                pl.lit("duplicate event_id: an earlier row of this source has the same id"),
                None,
            )
        )
        mapped = _duplicate_event_ids(mapped, run, len(checks) - 1)

    n_failed = mapped[_CHECK].count()
    rejected = mapped.filter(pl.col(_CHECK).is_not_null()) if n_failed else mapped.clear()
    if rejected.height:
        # One small frame per failed check (a nested when/then over string
        # functions panicked in Polars 2.1 on a filtered frame).
        by_check: list[pl.DataFrame] = []
        for i in rejected[_CHECK].unique().sort().to_list():
            _, name, text, failing = checks[i]
            part = rejected.filter(pl.col(_CHECK) == i).rechunk()
            said = pl.lit(None, pl.String) if failing is None else failing.cast(pl.String)
            by_check.append(
                part.with_columns(
                    text.alias(_REASON), pl.lit(name).alias(_FIELD), said.alias(_VALUE)
                )
            )
        combined: pl.DataFrame = pl.concat(by_check)
        rejected = combined.sort(LINE)
    else:
        rejected = rejected.with_columns(
            pl.lit(None, pl.String).alias(_REASON),
            pl.lit(None, pl.String).alias(_FIELD),
            pl.lit(None, pl.String).alias(_VALUE),
        )

    consumed = set(m.fields.values()) | run.dropped
    attrs = [c for c in raw.columns if c != LINE and c not in consumed]
    # Only the output columns are filtered (copied), never the raw batch.
    events = mapped.select(
        [pl.col(f"__f_{k}").alias(k) for k in f]
        + [pl.lit(run.source_id).alias("source"), pl.col(LINE).alias("source_row")]
        + [pl.col(c).alias(attribute_column(c)) for c in attrs]
    )
    if n_failed:
        events = events.filter(mapped[_CHECK].is_null())
    return events, _rejects(rejected, raw.columns, run)


class _SeenIds:
    """The event ids accepted so far in one source, as :class:`_Codes`.

    An id accepted in an earlier batch is exactly one whose code is below the
    count before this batch: the check costs one pass over the batch, not a
    pass over every id seen so far.
    """

    def __init__(self) -> None:
        self._codes = _Codes()
        self.count = 0

    def duplicates(self, ids: pl.Series) -> pl.Series:
        """True for each id accepted before, or earlier in ``ids``; then all are seen."""
        codes = self._codes.of(ids)
        repeated = (codes < self.count) | ~codes.is_first_distinct()
        if codes.len():
            self.count = max(self.count, int(codes.max()) + 1)  # type: ignore[arg-type]
        return repeated


def _duplicate_event_ids(mapped: pl.DataFrame, run: _SourceRun, check: int) -> pl.DataFrame:
    ok = (mapped[_CHECK].is_null() & mapped["__f_event_id"].is_not_null()).arg_true()
    if ok.len() == 0:
        return mapped
    repeated = run.seen_event_ids.duplicates(mapped["__f_event_id"].gather(ok))
    rows = ok.filter(repeated)
    if rows.len() == 0:
        return mapped
    flagged = mapped[_CHECK].scatter(rows, pl.Series([check] * rows.len(), dtype=pl.Int16))
    return mapped.with_columns(flagged.alias(_CHECK))


def _rejects(rejected: pl.DataFrame, columns: list[str], run: _SourceRun) -> pl.DataFrame:
    shown = [c for c in columns if c != LINE and not c.startswith("__") and c not in run.dropped]
    text_col = run.mapping.text_column()
    if text_col and not run.mapping.privacy.keep_text:
        shown = [c for c in shown if c != text_col]
    # Kept as columns until the end of the source, when every identifier of
    # the source is known and can be replaced wherever it appears.
    return rejected.select(
        pl.col(LINE).alias("line"),
        pl.col(_FIELD).alias("field"),
        pl.col(_REASON).alias("reason"),
        pl.col(_VALUE).alias("value"),
        pl.struct([pl.col(c).cast(pl.String) for c in shown]).alias("row")
        if shown
        else pl.lit(None).alias("row"),
    )


def _finish_rejects(
    frames: list[pl.DataFrame], run: _SourceRun, accepted: pl.LazyFrame | None
) -> pl.DataFrame:
    """Rejected rows as JSON, each value shown only when it cannot be part of a name.

    The record may have its values shifted (an unquoted comma in a name) and
    still have the right number of fields, so no column can be trusted to hold
    what its header says. Identifier columns are already pseudonymised; a clear
    identifier of this source found in another column is replaced by its
    pseudonym; every other value is shown only if it passes the rule of
    :mod:`systemic.data.withholding` (a date or time, a small number, or a value
    its column holds in ``accepted``, the source's accepted events), else it is
    replaced by a marker with its shape. The failing value named in a reason
    follows the same rule.
    """
    frames = [f for f in frames if f.height]
    if not frames:
        return pl.DataFrame()
    rejected = pl.concat(frames, how="diagonal_relaxed") if len(frames) > 1 else frames[0]
    m = run.mapping
    rows = (
        rejected["row"].struct.unnest()
        if isinstance(rejected.schema["row"], pl.Struct)
        else pl.DataFrame()
    )
    identifiers = set(m.identifier_columns())
    empty = pl.Series("v", [], dtype=pl.String)
    pseudonyms = pl.concat(
        [empty, *(rows[c].drop_nulls().rename("v") for c in identifiers & set(rows.columns))]
    )
    if rows.width and run.pseudonymiser:
        values = pl.concat([rows[c].drop_nulls() for c in rows.columns]).unique()
        found = {v: run.pseudonymiser.get(v) for v in values.to_list()}
        lookup = {v: p for v, p in found.items() if p is not None}
        if lookup:
            rows = rows.with_columns(pl.all().replace(lookup))
            pseudonyms = pl.concat([pseudonyms, pl.Series("v", list(lookup.values()))])
    pseudonyms = pseudonyms.unique()
    # The failing values named in reasons, by source column.
    failing = (
        rejected.select("field", pl.col("value").cast(pl.String))
        .drop_nulls("value")
        .unique()
        .with_columns(pl.col("field").replace_strict(m.fields, default=None).alias("column"))
    )
    candidates: dict[str, pl.Series] = {}
    for c in rows.columns:
        if c not in identifiers:
            values = rows[c].drop_nulls().unique().rename("v")
            candidates[c] = values.filter(~values.is_in(pseudonyms.implode()))
    for (column,), part in (
        failing.drop_nulls("column").partition_by("column", as_dict=True).items()
    ):
        extra = part["value"].rename("v")
        candidates[str(column)] = pl.concat([candidates.get(str(column), empty), extra]).unique()
    shown = _shown_values(candidates, run, accepted)
    # Markers are worked out once per distinct withheld value, then put in place.
    replaced = []
    for c in rows.columns:
        if c in identifiers or c not in candidates:
            continue
        hidden = candidates[c].filter(~candidates[c].is_in(shown[c].implode()))
        if hidden.len():
            markers = pl.DataFrame({"v": hidden}).select(withheld_expr(pl.col("v"), _why(c, m)))
            replaced.append(pl.col(c).replace(hidden, markers.to_series()))
    rows = rows.with_columns(replaced)
    if failing.height:
        shown_pairs = pl.concat(
            [
                pl.DataFrame({"column": [c] * len(v), "value": v}, schema=_PAIR)
                for c, v in shown.items()
            ]
            or [pl.DataFrame(schema=_PAIR)]
        ).with_columns(pl.lit(True).alias("shown"))
        # Category values not in their list are few (distinct values only).
        hints = pl.DataFrame(
            [
                (f, v, _closest(f, v))
                for f, v in failing.filter(pl.col("field").is_in(list(CATEGORIES)))
                .select("field", "value")
                .iter_rows()
            ],
            schema={"field": pl.String, "value": pl.String, "hint": pl.String},
            orient="row",
        )
        said = (
            failing.join(shown_pairs, on=["column", "value"], how="left")
            .join(hints, on=["field", "value"], how="left")
            .with_columns(
                pl.when(pl.col("shown").fill_null(False))
                .then(pl.format("'{}'", pl.col("value")))
                .otherwise(withheld_expr(pl.col("value"), hint=pl.col("hint")))
                .alias("said")
            )
            .select("field", "value", "said")
        )
        rejected = rejected.with_columns(pl.col("value").cast(pl.String)).join(
            said, on=["field", "value"], how="left", maintain_order="left"
        )
        rejected = rejected.with_columns(
            pl.col("reason").str.replace(VALUE, pl.col("said").fill_null("?"), literal=True)
        )
    row = pl.Series("row", rows.to_struct()).struct.json_encode() if rows.width else "{}"
    return rejected.select(
        pl.lit(run.source_id).alias("source"),
        pl.lit(str(run.path)).alias("file"),
        pl.col("line"),
        pl.col("field"),
        pl.col("reason"),
        pl.lit(row).alias("row") if isinstance(row, str) else row,
    )


def _why(column: str, m: Mapping) -> str:
    """Why a value of ``column`` is withheld."""
    if column == m.fields.get("timestamp"):
        return "not a date or time"
    if column == m.fields.get("cost"):
        return "not a number"
    return NOT_ACCEPTED


def _closest(field: str, value: str) -> str:
    """For a category value not in its list, the closest allowed one (from the
    list, not the data), which says what to fix without showing the value."""
    close = difflib.get_close_matches(value, CATEGORIES.get(field, ()), n=1, cutoff=0.6)
    return f"; closest allowed: '{close[0]}'" if close else ""


def _event_columns(column: str, m: Mapping, dropped: set[str]) -> list[tuple[str, str]]:
    """Where the events keep a source column's values, and how to compare with them:
    ``strip`` (mapped fields are stripped), ``lower`` (categories), ``number``
    (cost) or ``text`` (attributes, kept as read)."""
    if column in set(m.identifier_columns()) or column in dropped:
        return []
    mapped = [name for name, c in m.fields.items() if c == column]
    if not mapped:
        return [(attribute_column(column), "text")]
    out = []
    for name in mapped:
        if name == "timestamp" or (name == "text" and not m.privacy.keep_text):
            continue
        out.append(
            (name, "number" if name == "cost" else "lower" if name in CATEGORIES else "strip")
        )
    return out


def _shown_values(
    candidates: dict[str, pl.Series], run: _SourceRun, accepted: pl.LazyFrame | None
) -> dict[str, pl.Series]:
    """Which of a rejected record's values may be shown, by source column.

    A value whose shape says it is no name
    (:func:`~systemic.data.withholding.shows_itself_expr`), one that parses as a
    timestamp in the timestamp column, and one its column holds in the source's
    accepted events. The events are read only here, once, and only the columns
    that have candidates: the import's hot path pays nothing, and a source with
    no rejects nothing at all. Everything is done column-wise, so thousands of
    rejects cost what a few do.
    """
    m = run.mapping
    ts = m.fields.get("timestamp")
    shown: dict[str, pl.Series] = {}
    rest: dict[str, pl.DataFrame] = {}
    for c, values in candidates.items():
        safe = shows_itself_expr(pl.col("v"))
        if c == ts:
            parsed = parse_timestamps(pl.col("v").str.strip_chars(), m.timestamp.formats, "UTC")
            safe = safe | parsed.is_not_null()
        flagged = pl.DataFrame({"v": values}).with_columns(safe.fill_null(False).alias("safe"))
        shown[c] = flagged.filter("safe")["v"]
        rest[c] = flagged.filter(~pl.col("safe")).select("v")
    if accepted is None:
        return shown
    names = set(accepted.collect_schema().names())
    queries: list[tuple[str, pl.DataFrame, pl.Expr]] = []
    for c, unsure in rest.items():
        for event_column, how in _event_columns(c, m, run.dropped):
            if event_column not in names or not unsure.height:
                continue
            if how == "number":
                key = pl.col("v").str.strip_chars().cast(pl.Float64, strict=False)
                held = pl.col(event_column).cast(pl.Float64)
            else:
                key = pl.col("v").str.strip_chars() if how != "text" else pl.col("v")
                key = key.str.to_lowercase() if how == "lower" else key
                held = pl.col(event_column).cast(pl.String)
            keyed = unsure.with_columns(key.alias("key")).drop_nulls("key")
            if keyed.height:
                queries.append((c, keyed, held.filter(held.is_in(keyed["key"].implode()))))
    if not queries:
        return shown
    found = (
        accepted.select(
            [q.unique().implode().alias(f"q{i}") for i, (_, _, q) in enumerate(queries)]
        )
        .collect(engine="streaming")
        .row(0)
    )
    for (c, keyed, _), held in zip(queries, found, strict=True):
        matched = keyed.filter(pl.col("key").is_in(pl.Series(held).implode()))["v"]
        shown[c] = pl.concat([shown[c], matched]).unique()
    return shown


def _split_record(text: str, delim: str, quote: str) -> list[str]:
    """A malformed record's values; one the csv module cannot parse (a quote left
    open across lines) is split at every delimiter instead."""
    import csv

    try:
        return next(csv.reader([text], delimiter=delim, quotechar=quote), [])
    except csv.Error:
        return text.split(delim)


def _malformed_rejects(run: _SourceRun, accepted: pl.LazyFrame | None) -> pl.DataFrame:
    """Records with the wrong number of fields, with the same rule as other rejects.

    The record cannot be trusted to have its identifier where the header says.
    Values in an identifier's position are learnt as identifiers, and every
    identifier seen in this source is replaced by its pseudonym wherever it
    sits. Any other value could be (part of) one: a name split at its comma
    ("Smith, Johnathan") in a record that is also cut short, or an extra value
    after it, shifts the fields in ways no count can undo. So every other value
    is withheld with its shape (:mod:`systemic.data.withholding`), unless it
    is a date or time, a small number, or a value the column at its position
    holds in the accepted records; a value beyond the header's last column has
    no column and is withheld unless its shape shows it.
    """
    if not run.malformed:
        return pl.DataFrame()
    bad = pl.concat(run.malformed)
    m = run.mapping
    delim, quote = m.csv.delimiter, m.csv.quote
    identifiers = set(m.identifier_columns())
    id_positions = {i for i, c in enumerate(run.header) if c in identifiers}
    key = run.pseudonymiser
    parsed = [
        _split_record(text, delim, quote)
        for text in bad["__text"].to_list()  # malformed records are few: record by record
    ]
    declared = m.privacy.already_pseudonymised
    # Values in an identifier's position are identifiers: learn them first, so
    # that they are replaced wherever else they appear.
    if not declared:
        for tokens in parsed:
            for i in id_positions:
                if i < len(tokens) and tokens[i].strip():
                    key.remember(tokens[i])
    n = len(run.header)
    tokens_at: dict[str, set[str]] = {}
    for tokens in parsed:
        for i, tok in enumerate(tokens[:n]):
            if i not in id_positions and not key.get(tok):
                tokens_at.setdefault(run.header[i], set()).add(tok)
    candidates = {c: pl.Series("v", sorted(v), dtype=pl.String) for c, v in tokens_at.items()}
    shown = {c: set(v.to_list()) for c, v in _shown_values(candidates, run, accepted).items()}
    rows = []
    for tokens in parsed:
        cleaned = []
        for i, tok in enumerate(tokens):
            column = run.header[i] if i < n else None
            if declared and i in id_positions:
                cleaned.append(tok)  # the source's own pseudonym
            elif pseudonym := key.get(tok):
                cleaned.append(pseudonym)
            elif column is None:
                cleaned.append(tok if shows_itself(tok) else withheld(tok, NO_COLUMN))
            elif tok in shown.get(column, ()) or not tok.strip():
                cleaned.append(tok)
            else:
                # A value holding a line end swallowed the records after it (a
                # quote left open): their identifiers are in it, so it is withheld.
                cleaned.append(withheld(tok, _why(column, m)))
        rows.append(delim.join(cleaned))
    return bad.select(
        pl.lit(run.source_id).alias("source"),
        pl.lit(str(run.path)).alias("file"),
        pl.col(LINE).alias("line"),
        pl.lit("(record)").alias("field"),
        pl.format(
            "{} fields where the header has " + str(n) + ": a value may hold an unquoted "
            "delimiter, or the record was cut short",
            pl.col("__fields"),
        ).alias("reason"),
        pl.Series("row", rows, dtype=pl.String),
    )


class _BackgroundWriter:
    """Writes event batches on one other thread, at most one batch behind.

    Polars releases the GIL while it writes Parquet, so the next batch is
    read, pseudonymised and mapped meanwhile. Parts keep their order.
    """

    def __init__(self, writer: SourceWriter, pool: concurrent.futures.ThreadPoolExecutor) -> None:
        self.writer, self.pool = writer, pool
        self.pending: concurrent.futures.Future[int] | None = None

    def write_events(self, events: pl.DataFrame) -> None:
        self.wait()
        self.pending = self.pool.submit(self.writer.write_events, events)

    def wait(self) -> None:
        if self.pending is not None:
            self.pending.result()  # re-raises a failed write here
            self.pending = None


def _read_ahead(
    batches: Iterator[RawBatch], pool: concurrent.futures.ThreadPoolExecutor
) -> Iterator[RawBatch]:
    """The same batches, the next one read on another thread meanwhile.

    Polars parses without the GIL, so reading the next chunk overlaps with
    mapping this one (and the writer writing the last). A reader's error is
    raised here, in order, as if read in place.
    """
    pending = pool.submit(next, batches, None)
    while (batch := pending.result()) is not None:
        pending = pool.submit(next, batches, None)
        yield batch


def _import_batch(batch: RawBatch, run: _SourceRun, writer: _BackgroundWriter) -> int:
    raw = batch.frame
    run.notes.update(batch.notes)
    if batch.malformed.height:
        run.malformed.append(batch.malformed)
    if not run.checked_columns:
        columns = [c for c in raw.columns if c != LINE]
        run.header = columns
        run.match_columns = SourceColumns(resolve_resource_column(run.mapping, columns))
        _check_columns(run, columns)
        run.dropped = set(run.mapping.attributes.drop)
        run.filtered = [_FilterTally() for _ in run.mapping.filters]
        run.checked_columns = True
    else:
        needed = [*run.mapping.fields.values(), *where_columns(run.mapping)]
        if run.match_columns.resource is not None:
            needed.append(run.match_columns.resource)
        missing = list(dict.fromkeys(c for c in needed if c not in raw.columns))
        if missing:  # e.g. an XES attribute absent from every event of this batch
            raw = raw.with_columns([pl.lit(None, pl.String).alias(c) for c in missing])
    if run.mapping.person is not None:  # record ids -> person keys from a link table
        col = run.mapping.fields["person_id"]
        source = linkage_lookup.source_for(run.mapping.person, run.path)
        raw = raw.with_columns(
            linkage_lookup.person_keys(raw[col], run.mapping.person.links, source)
        )
    if not run.mapping.privacy.already_pseudonymised:
        ids = [c for c in run.mapping.identifier_columns() if c in raw.columns]
        raw = raw.with_columns([run.pseudonymiser.series(raw[c]) for c in ids])
    if raw.height:
        events, rejects = apply_mapping(raw, run)
        writer.write_events(events)
        run.rejected.append(rejects)
    return raw.height + batch.malformed.height


def import_file(
    path: str | Path,
    mapping: Mapping,
    dataset: Dataset,
    *,
    key: PseudonymKey | None = None,
    name: str | None = None,
    on_progress: ProgressCallback | None = None,
    pseudonymiser: Pseudonymiser | None = None,
    allow_duplicate: bool = False,
) -> SourceEntry:
    """Import one file as one source of ``dataset``; returns its manifest entry.

    A file whose content (SHA-256) is already a source of the dataset is
    refused, and nothing is written, unless ``allow_duplicate``: importing
    the same extract twice would count every event twice.
    """
    path = Path(path)
    if not path.exists():
        raise SourceError("file not found", path=str(path), hint="check the path")
    fmt = source_format(path, mapping.source.format)
    pseudonymiser = pseudonymiser or Pseudonymiser(key or load_key())
    entry = SourceEntry(
        id=dataset.next_source_id(),
        name=name or mapping.source.name or path.name,
        format=fmt,
        size_bytes=path.stat().st_size,
        mapping=mapping.model_dump(mode="json"),
        mapping_sha256=mapping.digest(),
    )
    run = _SourceRun(path, entry.id, mapping, pseudonymiser, dt.datetime.now(dt.UTC))
    read = 0
    # Hash the file on another thread while it is parsed (hashlib releases the GIL).
    with (
        concurrent.futures.ThreadPoolExecutor(max_workers=1) as hashing,
        concurrent.futures.ThreadPoolExecutor(max_workers=1) as writing,
        concurrent.futures.ThreadPoolExecutor(max_workers=1) as reading,
    ):
        digest = hashing.submit(_sha256, path)
        checked = allow_duplicate
        with dataset.append_source(entry) as writer:
            background = _BackgroundWriter(writer, writing)
            try:
                for batch in _read_ahead(iter_raw(path, fmt, mapping.csv), reading):
                    if not checked and digest.done():  # refuse a duplicate early
                        _refuse_duplicate(path, digest.result(), dataset)
                        checked = True
                    read += _import_batch(batch, run, background)
                    if on_progress:
                        on_progress(path, read)
            finally:
                background.wait()
            if not checked:
                _refuse_duplicate(path, digest.result(), dataset)
            if not run.checked_columns:
                raise SourceError(
                    "the file holds no records", path=str(path), hint="check the file"
                )
            accepted = writer.written_events()
            if accepted is not None:  # a column's vocabulary shows in the first events
                accepted = accepted.head(VOCABULARY_EVENTS)
            malformed = _malformed_rejects(run, accepted)
            writer.write_rejects(_finish_rejects(run.rejected, run, accepted))
            if malformed.height:
                writer.write_rejects(malformed)
            entry.read = read
            entry.filters = [
                tally.entry(item.label(), item.action or "")
                for item, tally in zip(mapping.filters, run.filtered, strict=True)
            ]
            entry.filtered = sum(tally.rows for tally in run.filtered)
            entry.sha256 = digest.result()
            entry.notes = {
                "key_fingerprint": pseudonymiser.key.fingerprint,
                "timestamp_zone": mapping.timestamp.zone,
                "text": "kept" if mapping.privacy.keep_text else "not kept",
                "columns_dropped": sorted(run.dropped),
                "attributes": [
                    attribute_column(c)
                    for c in run.header
                    if c not in set(mapping.fields.values()) | run.dropped
                ],
                **run.notes,
            }
            if mapping.person is not None:
                entry.notes.update(linkage_lookup.linkage_notes(mapping.person, path))
    return entry


def _refuse_duplicate(path: Path, sha256: str, dataset: Dataset) -> None:
    for source in dataset.manifest.sources:
        if source.sha256 == sha256:
            raise SourceError(
                f"this file is already in the dataset as source {source.id} "
                f"({source.name!r}, imported {source.imported_at}): the same content "
                "imported again would count every event twice, so nothing was written",
                path=str(path),
                hint="import only new extracts, or pass --allow-duplicate "
                "(allow_duplicate=True) if the same file really holds new events",
            )


def import_sources(
    sources: Sequence[str | Path] | str | Path,
    mapping: Mapping | str | Path,
    into: str | Path | Dataset,
    *,
    key: PseudonymKey | None = None,
    on_progress: ProgressCallback | None = None,
    allow_duplicate: bool = False,
) -> list[SourceEntry]:
    """Import files into a dataset (created if need be), one manifest entry each.

    ``mapping`` is a :class:`Mapping` or the path of a mapping TOML file. The
    same key gives the same pseudonyms in every source, so journeys link. A
    file already imported (same SHA-256) is refused unless ``allow_duplicate``.
    """
    m = mapping if isinstance(mapping, Mapping) else load_mapping(mapping)
    ds = into if isinstance(into, Dataset) else create_dataset(into)
    paths: Iterable[str | Path] = [sources] if isinstance(sources, str | Path) else sources
    pseudonymiser = Pseudonymiser(key or load_key())
    return [
        import_file(
            p,
            m,
            ds,
            on_progress=on_progress,
            pseudonymiser=pseudonymiser,
            allow_duplicate=allow_duplicate,
        )
        for p in paths
    ]


__all__ = ["ATTRIBUTE_PREFIX", "Pseudonymiser", "apply_mapping", "import_file", "import_sources"]
