"""Read IEEE 1849 XES event logs, plain or gzip, as a stream of event batches.

The reader drives expat directly (``xml.parsers.expat``): it is the fastest
streaming parser in the standard library that also tells where each element
starts, so every event row carries its line. Memory stays flat as files grow:
only the current trace's attributes and one batch of rows are held at a time.

Each yielded batch is a Polars DataFrame, every column ``String`` except
``__line``:

- ``__line`` (Int64): the line where the ``<event>`` element starts;
- ``case:<key>``: each trace attribute, repeated on every event of the trace
  (e.g. ``case:concept:name``, ``case:department``);
- ``<key>``: each event attribute by its key (``concept:name``,
  ``time:timestamp``, ``lifecycle:transition``, ``org:resource``, ...).

Values are kept exactly as written in the file: dates stay ISO 8601 text with
their offset, numbers and booleans stay text. Parsing them is the mapping's
job, so that a bad value becomes a reject with its line, not a lost row.

Naming rules (nothing in the file is lost):

- a nested attribute (a child of an attribute, a ``list`` or ``container``
  item, XES 2.0 ``<values>`` included) is named ``<parent key>:<child key>``,
  e.g. ``cost:currency`` or ``case:meta:total``; a ``list`` or ``container``
  has no value of its own, only its items become columns;
- when a key repeats within one event or trace (lists allow that), the
  second value is named ``<key>#2``, the third ``<key>#3``, and so on;
- an attribute element without a ``key`` is named by its type (``string``).

Global defaults: ``<global scope="event">`` (the default scope) and
``<global scope="trace">`` declare, per the standard, attributes every event
or trace has, with a default value. With ``apply_globals=True`` (default) an
event or trace that lacks such a key gets the declared value. Pass
``apply_globals=False`` to see only what each element states itself.

Extensions, classifiers and log-level attributes do not become columns (log
attributes are kept in :class:`XesSummary`). Events directly under ``<log>``
(outside any trace) become rows without ``case:`` columns and are counted.
A trace without events produces no row: it is counted and kept in
:class:`XesSummary` (pass one in to receive it).

Different batches may have different columns (an attribute may first appear
late in the file): concatenate them with ``pl.concat(batches,
how="diagonal")``, as :func:`read_xes` does.

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "tiny.xes"
>>> _ = path.write_text('''<log xes.version="1.0">
...  <trace><string key="concept:name" value="case-1"/>
...   <event><string key="concept:name" value="Register"/>
...          <date key="time:timestamp" value="2024-01-02T09:00:00+01:00"/></event>
...  </trace>
... </log>''')
>>> summary = XesSummary()
>>> batch = next(iter_xes(path, summary=summary))
>>> batch.select("__line", "case:concept:name", "concept:name").row(0)
(3, 'case-1', 'Register')
>>> summary.traces, summary.events
(1, 1)
"""

from __future__ import annotations

import bisect
import gzip
import os
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from xml.parsers import expat

import polars as pl

from systemic.data.errors import SourceError

#: Column holding the line where each ``<event>`` starts.
LINE_COLUMN = "__line"

#: Prefix of trace-attribute columns.
CASE_PREFIX = "case:"

#: Bytes read from the (decompressed) file per parser call.
CHUNK_BYTES = 1 << 20

_GZIP_MAGIC = b"\x1f\x8b"

# Element kinds kept on the parser's stack.
_LOG, _TRACE, _EVENT, _GLOBAL, _ATTR, _OTHER = range(6)

_ATTRIBUTE_TAGS = frozenset(
    {"string", "date", "int", "float", "boolean", "id", "list", "container"}
)

_NOT_XES_HINT = (
    "give an XES event log (IEEE 1849: an XML file whose root element is <log>, "
    "optionally gzip-compressed); for CSV or Parquet use that format instead"
)


@dataclass
class XesSummary:
    """What a read found beyond the event rows; filled in as the read goes.

    ``empty_trace_rows`` holds, for each trace without events, its line and
    its ``case:`` attributes (the row it would have given), so that an
    importer can report it: no event row exists for it.
    """

    traces: int = 0
    events: int = 0
    empty_traces: int = 0
    events_outside_traces: int = 0
    batches: int = 0
    xes_version: str | None = None
    log_attributes: dict[str, str] = field(default_factory=dict)
    empty_trace_rows: list[dict[str, Any]] = field(default_factory=list)


def iter_xes(
    path: str | os.PathLike[str],
    batch_rows: int = 200_000,
    *,
    summary: XesSummary | None = None,
    apply_globals: bool = True,
) -> Iterator[pl.DataFrame]:
    """Stream the events of an XES file (plain or gzip) as DataFrame batches.

    Gzip is detected from the file's first bytes, not its name. Each batch
    holds at most ``batch_rows`` events and ends at a trace boundary, unless
    one trace alone is longer than a batch. Columns are described in the
    module docstring; batches may differ in columns, so combine them with
    ``pl.concat(batches, how="diagonal")``.

    Raises :class:`~systemic.data.errors.SourceError` (with ``path``,
    ``line``, ``column`` and a ``hint``) for malformed XML, a file that is not
    XES, an empty file or a damaged gzip stream. Columns in the error are
    1-based.

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "one.xes"
    >>> _ = path.write_text('<log><trace><event>'
    ...     '<string key="concept:name" value="Call"/></event></trace></log>')
    >>> [b["concept:name"].to_list() for b in iter_xes(path)]
    [['Call']]
    """
    if batch_rows < 1:
        raise ValueError("batch_rows must be at least 1")
    reader = _XesReader(Path(path), batch_rows, summary or XesSummary(), apply_globals)
    return reader.batches()


def read_xes(
    path: str | os.PathLike[str],
    *,
    summary: XesSummary | None = None,
    apply_globals: bool = True,
) -> pl.DataFrame:
    """Read a whole XES file into one DataFrame (batches concatenated diagonally).

    Convenient for small logs and tests; use :func:`iter_xes` for large ones.

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "two.xes"
    >>> _ = path.write_text('<log><trace><string key="concept:name" value="c1"/>'
    ...     '<event><string key="concept:name" value="Call"/></event>'
    ...     '<event><string key="concept:name" value="Visit"/></event></trace></log>')
    >>> read_xes(path)["concept:name"].to_list()
    ['Call', 'Visit']
    """
    batches = list(iter_xes(path, summary=summary, apply_globals=apply_globals))
    if not batches:
        return pl.DataFrame(schema={LINE_COLUMN: pl.Int64})
    return pl.concat(batches, how="diagonal")


def _open_decompressed(path: Path) -> IO[bytes]:
    """Open ``path`` for reading bytes, decompressing gzip if its magic says so."""
    try:
        fh: IO[bytes] = open(path, "rb")  # noqa: SIM115 - returned to the caller
    except FileNotFoundError:
        raise SourceError(
            "file not found", path=str(path), hint="check the path and file name"
        ) from None
    except IsADirectoryError:
        raise SourceError(
            "is a folder, not a file", path=str(path), hint="give the XES file itself"
        ) from None
    except OSError as exc:
        raise SourceError(
            f"cannot open: {exc.strerror or exc}", path=str(path), hint="check permissions"
        ) from None
    magic = fh.read(2)
    fh.seek(0)
    if magic == _GZIP_MAGIC:
        return gzip.GzipFile(fileobj=fh, mode="rb")  # closes with fh via _XesReader
    return fh


class _XesReader:
    """One pass over one file: expat callbacks fill a buffer of event rows."""

    def __init__(
        self, path: Path, batch_rows: int, summary: XesSummary, apply_globals: bool
    ) -> None:
        self.path = path
        self.batch_rows = batch_rows
        self.summary = summary
        self.apply_globals = apply_globals

    def batches(self) -> Iterator[pl.DataFrame]:
        path = self.path
        summary = self.summary
        batch_rows = self.batch_rows
        apply_globals = self.apply_globals

        parser = expat.ParserCreate()
        parser.buffer_text = False
        parser.ordered_attributes = False

        rows: list[dict[str, Any]] = []
        # Row indexes in ``rows`` where a trace's events begin: batches end there.
        trace_starts: list[int] = []
        # Stack of (kind, key prefix for child attributes, dict they go into).
        stack: list[tuple[int, str, dict[str, Any] | None]] = []
        event_defaults: dict[str, str] = {}
        trace_defaults: dict[str, str] = {}
        log_attributes = summary.log_attributes
        # The open trace: its attributes, the row index of its first event in
        # ``rows`` (or -1), its start line and how many attributes its events saw.
        state: dict[str, Any] = {
            "trace": None,
            "trace_case": {},
            "trace_first": -1,
            "trace_line": 0,
            "trace_seen": 0,
            "trace_events": 0,
            "root": False,
        }

        def where() -> dict[str, Any]:
            return {
                "path": str(path),
                "line": parser.CurrentLineNumber,
                "column": parser.CurrentColumnNumber + 1,
            }

        def local(name: str) -> str:
            return name.rpartition(":")[2] if ":" in name else name

        def start(name: str, attrs: dict[str, str]) -> None:
            if name in _ATTRIBUTE_TAGS or (":" in name and local(name) in _ATTRIBUTE_TAGS):
                _, prefix, target = stack[-1] if stack else (_OTHER, "", None)
                key = attrs.get("key")
                if key is None:
                    key = local(name)
                full = prefix + key
                if target is not None:
                    value = attrs.get("value")
                    if value is not None:
                        if full in target:
                            full = _next_free(target, full)
                        target[full] = value
                stack.append((_ATTR, full + ":", target))
                return
            tag = local(name) if ":" in name else name
            if tag == "event":
                top = stack[-1][0] if stack else _OTHER
                if top == _TRACE:
                    trace = state["trace"]
                    if state["trace_events"] == 0:
                        state["trace_case"] = (
                            {**trace_defaults, **trace} if trace_defaults else dict(trace)
                        )
                        state["trace_first"] = len(rows)
                        trace_starts.append(len(rows))
                        state["trace_seen"] = len(trace)
                    state["trace_events"] += 1
                elif top == _LOG:
                    summary.events_outside_traces += 1
                else:
                    inside = "another <event>" if top == _EVENT else "another element"
                    raise SourceError(
                        f"an <event> element inside {inside}",
                        **where(),
                        hint="events belong inside a <trace> (or directly inside <log>); "
                        "check that the previous <event> is closed",
                    )
                stack.append((_EVENT, "", {LINE_COLUMN: parser.CurrentLineNumber}))
            elif tag == "trace":
                if not stack or stack[-1][0] != _LOG:
                    raise SourceError(
                        "a <trace> element outside <log> or inside another element",
                        **where(),
                        hint="traces belong directly inside <log>; check that the "
                        "previous <trace> is closed",
                    )
                trace: dict[str, str] = {}
                state["trace"] = trace
                state["trace_events"] = 0
                state["trace_first"] = -1
                state["trace_line"] = parser.CurrentLineNumber
                stack.append((_TRACE, CASE_PREFIX, trace))
            elif tag == "log" and not stack:
                state["root"] = True
                summary.xes_version = attrs.get("xes.version")
                stack.append((_LOG, "", log_attributes))
            elif not stack:
                raise SourceError(
                    f"the root element is <{name}>, not <log>: this is not an XES file",
                    **where(),
                    hint=_NOT_XES_HINT,
                )
            elif tag == "global" and stack[-1][0] == _LOG:
                scope = attrs.get("scope", "event")
                if scope == "trace":
                    stack.append((_GLOBAL, CASE_PREFIX, trace_defaults if apply_globals else None))
                else:
                    stack.append((_GLOBAL, "", event_defaults if apply_globals else None))
            else:
                # extension, classifier, values, or anything unknown: its
                # attribute children (XES 2.0 <values>) keep the parent's naming.
                if tag == "values" and stack[-1][0] == _ATTR:
                    stack.append(stack[-1])
                else:
                    stack.append((_OTHER, "", None))

        def end(name: str) -> None:
            kind, _, target = stack.pop()
            if kind == _EVENT:
                assert target is not None
                owner = stack[-1][0]
                if owner == _TRACE:
                    if event_defaults:
                        rows.append({**state["trace_case"], **event_defaults, **target})
                    else:
                        rows.append({**state["trace_case"], **target})
                elif event_defaults:
                    rows.append({**event_defaults, **target})
                else:
                    rows.append(target)
                summary.events += 1
            elif kind == _TRACE:
                assert target is not None
                summary.traces += 1
                if state["trace_events"] == 0:
                    summary.empty_traces += 1
                    case = {**trace_defaults, **target} if trace_defaults else dict(target)
                    summary.empty_trace_rows.append({LINE_COLUMN: state["trace_line"], **case})
                elif len(target) != state["trace_seen"] and state["trace_first"] >= 0:
                    # Trace attributes written after its events still flow to
                    # every event of the trace still in this batch.
                    for row in rows[state["trace_first"] :]:
                        for key, value in target.items():
                            row.setdefault(key, value)
                state["trace"] = None
                state["trace_first"] = -1
                state["trace_events"] = 0

        parser.StartElementHandler = start
        parser.EndElementHandler = end

        with _open_decompressed(path) as fh:
            first = _read(fh, CHUNK_BYTES, path)
            if not first.strip():
                raise SourceError(
                    "the file is empty" if not first else "the file holds only white space",
                    path=str(path),
                    hint=_NOT_XES_HINT,
                )
            _check_looks_like_xml(first, path)
            chunk = first
            while True:
                final = not chunk
                try:
                    parser.Parse(chunk, final)
                except expat.ExpatError as exc:
                    raise SourceError(
                        f"malformed XML: {expat.ErrorString(exc.code)}",
                        path=str(path),
                        line=exc.lineno,
                        column=exc.offset + 1,
                        hint="the file is damaged or not well-formed XML; fix the element "
                        "at this position (or re-export the log) and import again",
                    ) from None
                except (LookupError, UnicodeError) as exc:
                    raise SourceError(
                        f"cannot decode the file: {exc}",
                        path=str(path),
                        line=parser.CurrentLineNumber,
                        column=parser.CurrentColumnNumber + 1,
                        hint="the XML declaration names an unknown encoding or the bytes do "
                        'not match it; save the file as UTF-8 (encoding="UTF-8")',
                    ) from None
                while len(rows) >= batch_rows:
                    # End the batch at the last trace boundary that fits, or
                    # split a trace longer than a whole batch.
                    i = bisect.bisect_right(trace_starts, batch_rows) - 1
                    cut = trace_starts[i] if i >= 0 and trace_starts[i] > 0 else batch_rows
                    out = rows[:cut]
                    del rows[:cut]
                    trace_starts[:] = [t - cut for t in trace_starts if t >= cut]
                    if state["trace_first"] >= 0:
                        state["trace_first"] = max(0, state["trace_first"] - cut)
                    summary.batches += 1
                    yield _frame(out)
                if final:
                    break
                chunk = _read(fh, CHUNK_BYTES, path)
        if not state["root"]:
            raise SourceError("no <log> element found", path=str(path), hint=_NOT_XES_HINT)
        if rows:
            summary.batches += 1
            yield _frame(rows)


def _read(fh: IO[bytes], size: int, path: Path) -> bytes:
    try:
        return fh.read(size)
    except (OSError, EOFError, zlib.error) as exc:
        raise SourceError(
            f"the gzip stream is damaged ({exc})",
            path=str(path),
            hint="the compressed file is truncated or corrupt; download or export it again",
        ) from None


def _check_looks_like_xml(first: bytes, path: Path) -> None:
    """Refuse early, with a clear hint, input that cannot be XML at all."""
    head = first.lstrip()
    for bom in (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"):
        if head.startswith(bom):
            return
    if not head.startswith(b"<"):
        line = first[: len(first) - len(head)].count(b"\n") + 1
        raise SourceError(
            "this is not XML (it does not start with '<'), so not an XES file",
            path=str(path),
            line=line,
            column=1,
            hint=_NOT_XES_HINT,
        )


def _next_free(target: dict[str, Any], key: str) -> str:
    n = 2
    while f"{key}#{n}" in target:
        n += 1
    return f"{key}#{n}"


def _frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Rows (dicts) to a frame: ``__line`` first, ``case:`` columns, then events'."""
    keys: dict[str, None] = {}
    for row in rows[:1]:
        keys.update(dict.fromkeys(row))
    union = set().union(*rows)
    if len(union) != len(keys):
        for row in rows:
            if len(keys) == len(union):
                break
            keys.update(dict.fromkeys(row))
    names = sorted(keys, key=_column_rank(list(keys)))
    schema: dict[str, pl.DataType] = {
        name: (pl.Int64() if name == LINE_COLUMN else pl.String()) for name in names
    }
    return pl.from_dicts(rows, schema=schema)


def _column_rank(order: list[str]) -> Callable[[str], tuple[int, int]]:
    position = {name: i for i, name in enumerate(order)}

    def rank(name: str) -> tuple[int, int]:
        group = 0 if name == LINE_COLUMN else 1 if name.startswith(CASE_PREFIX) else 2
        return group, position[name]

    return rank
