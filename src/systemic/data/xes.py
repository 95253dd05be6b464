"""Read IEEE 1849 XES event logs, plain or gzip, as a stream of event batches.

Two readers give the same rows. Files written one element per line (as
OpenXES, ProM, pm4py and most tools write them) take a fast path: expat reads
the header, then Polars splits, checks and pivots the trace lines, which must
each be one element of a small vocabulary (``<trace>``, ``<event>``, a
``<string key=".." value=".."/>``-style attribute, a comment) with text that
is well-formed XML. Anything else (several elements on a line, nested
attributes inside traces, a DOCTYPE, an encoding other than UTF-8, any
malformed XML) sends the file to a general reader driving expat callbacks
directly, which reports faults with their line and column. Memory stays
flat as files grow: a chunk of the file, the current trace and one batch of
rows are held at a time.

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
import concurrent.futures
import gzip
import io
import os
import re
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast
from xml.parsers import expat

import polars as pl

from systemic.data.errors import SourceError

#: Column holding the line where each ``<event>`` starts.
LINE_COLUMN = "__line"

#: Prefix of trace-attribute columns.
CASE_PREFIX = "case:"

#: Bytes read from the (decompressed) file per parser call.
CHUNK_BYTES = 1 << 20

#: Bytes the line-oriented fast path tokenises at a time.
LINE_CHUNK_BYTES = 4 << 20

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
    return _read_batches(Path(path), batch_rows, summary or XesSummary(), apply_globals)


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
        fh.close()
        return cast(IO[bytes], gzip.open(path, "rb"))  # closing it closes the file
    return fh


class _XesReader:
    """One pass over one file: expat callbacks fill a buffer of event rows."""

    def __init__(
        self,
        path: Path,
        batch_rows: int,
        summary: XesSummary,
        apply_globals: bool,
        data: bytes | None = None,
    ) -> None:
        self.path = path
        self.batch_rows = batch_rows
        self.summary = summary
        self.apply_globals = apply_globals
        self.data = data
        self.event_defaults: dict[str, str] = {}
        self.trace_defaults: dict[str, str] = {}

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
        event_defaults = self.event_defaults
        trace_defaults = self.trace_defaults
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
                opened: dict[str, str] = {}
                state["trace"] = opened
                state["trace_events"] = 0
                state["trace_first"] = -1
                state["trace_line"] = parser.CurrentLineNumber
                stack.append((_TRACE, CASE_PREFIX, opened))
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

        opened = io.BytesIO(self.data) if self.data is not None else _open_decompressed(path)
        with opened as fh:
            first = _read(fh, CHUNK_BYTES, path)
            _check_start(first, path)
            chunk = first
            while True:
                final = not chunk
                _parse(parser, chunk, final, path)
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
                    yield _frame(out)
                if final:
                    break
                chunk = _read(fh, CHUNK_BYTES, path)
        if not state["root"]:
            raise SourceError("no <log> element found", path=str(path), hint=_NOT_XES_HINT)
        if rows:
            yield _frame(rows)


def _parse(parser: expat.XMLParserType, chunk: bytes, final: bool, path: Path) -> None:
    """Feed expat, turning its errors into SourceError with line and (1-based) column."""
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


def _check_start(first: bytes, path: Path) -> None:
    if not first.strip():
        raise SourceError(
            "the file is empty" if not first else "the file holds only white space",
            path=str(path),
            hint=_NOT_XES_HINT,
        )
    _check_looks_like_xml(first, path)


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


# --- the driver: line-oriented fast path, expat for everything else ----------


def _read_batches(
    path: Path, batch_rows: int, summary: XesSummary, apply_globals: bool
) -> Iterator[pl.DataFrame]:
    """Batches from the fast path, or from expat when the layout needs it.

    Both give the same rows (tests compare them). If the fast path meets a
    layout it does not handle after it has yielded batches, expat re-reads
    the file from the start and skips the events already given.
    """
    given = 0
    try:
        for frame in _line_batches(path, batch_rows, summary, apply_globals):
            given += frame.height
            summary.batches += 1
            yield frame
        return
    except _NeedsExpat:
        pass
    given_batches = summary.batches
    summary.traces = summary.events = summary.empty_traces = summary.events_outside_traces = 0
    summary.log_attributes.clear()
    summary.empty_trace_rows.clear()
    summary.batches = given_batches
    skip = given
    for frame in _XesReader(path, batch_rows, summary, apply_globals).batches():
        if skip:
            if frame.height <= skip:
                skip -= frame.height
                continue
            frame = frame.slice(skip)
            skip = 0
        summary.batches += 1
        yield frame


class _NeedsExpat(Exception):  # noqa: N818 - a signal, not an error
    """The file's layout is outside what the line-oriented fast path reads."""


#: Lines that open a trace (in the trace region a line is one element).
_FIRST_TRACE = re.compile(rb"(?m)^[ \t]*<trace[\s/>]")
_TRACE_END = b"</trace>"
_DECLARED_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")

# Line codes of the trace region.
_A, _EO, _EC, _EE, _TO, _TC, _TE, _COMMENT, _ODD = range(9)
_ELEMENT_CODES = {
    "<event>": _EO,
    "</event>": _EC,
    "<event/>": _EE,
    "<trace>": _TO,
    "</trace>": _TC,
    "<trace/>": _TE,
}
_SIMPLE_ATTRIBUTE_HEADS = [
    f"<{t} key=" for t in ("string", "date", "int", "float", "boolean", "id")
]


def _line_batches(
    path: Path, batch_rows: int, summary: XesSummary, apply_globals: bool
) -> Iterator[pl.DataFrame]:
    """The fast path for XES written one element per line (as OpenXES, ProM,
    pm4py and most tools write it): no Python call per element; Polars
    tokenises, checks and pivots the lines. Raises _NeedsExpat for anything
    outside its vocabulary, malformed XML included."""
    with _open_decompressed(path) as fh:
        data = _read(fh, CHUNK_BYTES, path)
        _check_start(data, path)
        match = _FIRST_TRACE.search(data)
        while match is None:
            more = _read(fh, CHUNK_BYTES, path)
            if not more:
                raise _NeedsExpat
            data += more
            match = _FIRST_TRACE.search(data)
        header, pending = data[: match.start()], data[match.start() :]
        declared = _DECLARED_ENCODING.match(header)
        if (
            b"<!DOCTYPE" in header
            or (declared and declared.group(1).lower() not in (b"utf-8", b"utf8"))
            or header.startswith((b"\xff\xfe", b"\xfe\xff"))
        ):
            raise _NeedsExpat
        # The header (log attributes, globals) is small: expat reads it (and so
        # checks it) with the root closed after it.
        head_summary = XesSummary()
        head = _XesReader(path, batch_rows, head_summary, apply_globals, data=header + b"</log>")
        try:
            if any(frame.height for frame in head.batches()):
                raise _NeedsExpat  # events outside traces
        except SourceError:
            # The cut before the first trace is not a clean one (e.g. "<trace"
            # inside a comment): the general reader reads the file as it is.
            raise _NeedsExpat from None
        summary.xes_version = head_summary.xes_version
        summary.log_attributes.update(head_summary.log_attributes)
        event_defaults, trace_defaults = head.event_defaults, head.trace_defaults

        next_line = header.count(b"\n") + 1
        traces_before = 0
        waiting: list[pl.DataFrame] = []
        waiting_rows = 0
        # Regions become rows on two threads (Polars works without the GIL), one
        # region ahead of the one taken; results are taken in file order, and
        # trace and line numbers made global here.
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            ahead: deque[concurrent.futures.Future[_RegionRows]] = deque()
            regions = _regions(fh, pending, path)
            while True:
                region = next(regions, None)
                if region is not None:
                    ahead.append(pool.submit(_region_rows, region, event_defaults, trace_defaults))
                    if len(ahead) < 2:
                        continue
                if not ahead:
                    break
                frame, empties, traces, lines = ahead.popleft().result()
                for row in empties:
                    row[LINE_COLUMN] += next_line
                if frame.height:
                    frame = frame.with_columns(
                        pl.col(LINE_COLUMN) + next_line, pl.col("__trace") + traces_before
                    )
                next_line += lines
                traces_before += traces
                summary.traces += traces
                summary.empty_traces += len(empties)
                summary.empty_trace_rows.extend(empties)
                summary.events += frame.height
                if frame.height:
                    waiting.append(frame)
                    waiting_rows += frame.height
                while waiting_rows >= batch_rows:
                    out, rest = _cut_batch(waiting, batch_rows)
                    waiting, waiting_rows = ([rest], rest.height) if rest.height else ([], 0)
                    yield _clean(out)
    if waiting:
        yield _clean(pl.concat(waiting, how="diagonal") if len(waiting) > 1 else waiting[0])


_RegionRows = tuple[pl.DataFrame, list[dict[str, Any]], int, int]


def _regions(fh: IO[bytes], pending: bytes, path: Path) -> Iterator[bytes]:
    """Runs of whole traces (whole lines), then a check of what follows the last."""
    at_end = False
    while not at_end:
        more = _read(fh, LINE_CHUNK_BYTES, path)
        at_end = not more
        pending += more
        last = pending.rfind(_TRACE_END)
        cut = pending.find(b"\n", last) + 1 if last >= 0 else 0
        if cut <= 0:
            if not at_end:
                continue
            cut = 0
        region, pending = pending[:cut], pending[cut:]
        if region:
            if b"\r" in region and region.count(b"\r") != region.count(b"\r\n"):
                raise _NeedsExpat  # lone CR line breaks
            yield region
    if _strip_comments(pending).strip() != b"</log>":
        raise _NeedsExpat  # not just the end of the log after the traces


def _region_rows(
    region: bytes, event_defaults: dict[str, str], trace_defaults: dict[str, str]
) -> _RegionRows:
    """:func:`_region_frame` numbered from line 0 and trace 0 (made global by the caller)."""
    try:
        return _region_frame(region, 0, 0, event_defaults, trace_defaults)
    except pl.exceptions.PolarsError:
        # e.g. bytes that are not UTF-8: the general reader finds and reports
        # the fault with its line and column.
        raise _NeedsExpat from None


def _strip_comments(data: bytes) -> bytes:
    """Remove well-formed comments (no "--" inside, not ending in "-")."""
    return re.sub(rb"<!--(?:(?!--).)*(?<!-)-->|<!---->", b"", data, flags=re.S)


def _cut_batch(waiting: list[pl.DataFrame], batch_rows: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split off one batch ending at the last trace start within ``batch_rows``."""
    frame = pl.concat(waiting, how="diagonal") if len(waiting) > 1 else waiting[0]
    trace = pl.col("__trace")
    starts = frame.select(pl.arg_where(trace.ne_missing(trace.shift(1))))
    candidates = [s for s in starts.to_series().to_list() if 0 < s <= batch_rows]
    cut = candidates[-1] if candidates else batch_rows
    return frame.slice(0, cut), frame.slice(cut)


def _clean(frame: pl.DataFrame) -> pl.DataFrame:
    """Drop the internal trace number and columns this batch has no value in."""
    frame = frame.drop("__trace")
    counts = frame.null_count().row(0)
    keep = [
        name
        for name, nulls in zip(frame.columns, counts, strict=True)
        if name == LINE_COLUMN or nulls < frame.height
    ]
    return frame.select(keep) if len(keep) < frame.width else frame


def _region_frame(
    region: bytes,
    first_line: int,
    traces_before: int,
    event_defaults: dict[str, str],
    trace_defaults: dict[str, str],
) -> tuple[pl.DataFrame, list[dict[str, Any]], int, int]:
    """Rows of a run of whole traces written one element per line.

    Returns the event rows (with ``__trace``), the empty traces' rows, the
    number of traces and the number of lines. Raises _NeedsExpat for any line outside the simple
    vocabulary (nested attributes, several elements on a line, ...).
    """
    # Splitting each line at '"' (no quoting) gives, for the usual attribute
    # line <string key="K" value="V"/>, the fields: '<string key=', K,
    # ' value=', V, '/>'. The CSV reader does this in parallel, blank lines kept.
    fields = [f"field_{i}" for i in range(6)]
    parts = (
        pl.read_csv(
            io.BytesIO(b'"""""\n' + region),
            has_header=False,
            separator='"',
            quote_char=None,
            infer_schema=False,
            truncate_ragged_lines=True,
            new_columns=fields,
            empty_string_is_null=False,
            eol_char="\n",
        )
        .slice(1)
        .with_row_index("line", offset=first_line)
    )
    n_lines = parts.height
    parts_lazy = parts.lazy().with_columns(pl.col("field_0").str.strip_chars().alias("s"))
    s = pl.col("s")
    is_attribute = (
        s.is_in(_SIMPLE_ATTRIBUTE_HEADS)
        & (pl.col("field_2") == " value=")
        & (pl.col("field_4").str.strip_chars() == "/>")
        & (pl.col("field_5") == "")
    )
    # Element lines are looked up (one hash per line, not one comparison per
    # tag); comment lines are only looked for when the region has a comment.
    element = s.replace_strict(_ELEMENT_CODES, default=_ODD, return_dtype=pl.Int8)
    if b"<!--" in region:
        comment = (
            s.str.starts_with("<!--")
            & s.str.ends_with("-->")
            & (s.str.len_bytes() >= 7)
            & ~s.str.slice(4).str.head(-3).str.contains("--", literal=True)
            & ~s.str.slice(4).str.head(-3).str.ends_with("-")
        )
        element = pl.when(comment).then(pl.lit(_COMMENT, pl.Int8)).otherwise(element)
    code = pl.when(is_attribute).then(pl.lit(_A, pl.Int8)).otherwise(element).alias("code")
    c = pl.col("code")
    delta = pl.when(c.is_in([_TO, _EO])).then(1).when(c.is_in([_TC, _EC])).then(-1).otherwise(0)
    d = pl.col("depth")
    k, v = pl.col("key"), pl.col("value")
    tokens = (
        parts_lazy.filter(s != "")
        .select("line", code, pl.col("field_1").alias("key"), pl.col("field_3").alias("value"))
        .filter(c != _COMMENT)
        .with_columns(
            depth=delta.cum_sum().shift(1, fill_value=0),
            trace=c.is_in([_TO, _TE]).cum_sum().cast(pl.Int64) + traces_before,
            event=c.is_in([_EO, _EE]).cum_sum().cast(pl.Int64),
        )
        .with_columns(
            misplaced=(c == _ODD)
            | ((c == _A) & (k.str.contains(_NOT_IN_VALUES) | v.str.contains(_NOT_IN_VALUES)))
            | (c.is_in([_TO, _TE]) & (d != 0))
            | (c.is_in([_EO, _EE]) & (d != 1))
            | ((c == _A) & ~d.is_in([1, 2]))
            | ((c == _TC) & (d != 1))
            | ((c == _EC) & (d != 2))
        )
        .collect()
    )
    check = tokens.select(pl.col("misplaced").any(), delta.sum()).row(0)
    if check[0] or check[1] != 0:
        raise _NeedsExpat

    traces = tokens.filter(c.is_in([_TO, _TE])).select("trace", "line")
    events = tokens.filter(c.is_in([_EO, _EE])).select(
        pl.col("line").cast(pl.Int64).alias(LINE_COLUMN), "trace", "event"
    )
    attributes = tokens.filter(c == _A).select((d == 2).alias("of_event"), "trace", "event", k, v)
    attributes = attributes.with_columns(
        _unescape_series(attributes["key"]), _unescape_series(attributes["value"])
    )
    trace_wide, trace_long = _wide(attributes.filter(~pl.col("of_event")), "trace")
    trace_wide = trace_wide.rename({k: CASE_PREFIX + k for k in trace_wide.columns if k != "trace"})
    event_wide, _ = _wide(attributes.filter(pl.col("of_event")), "event")
    case_table = traces.join(trace_wide, on="trace", how="left")
    # Trace-scope defaults come from the header reader already named "case:...".
    for name, value in trace_defaults.items():
        case_table = case_table.with_columns(
            pl.col(name).fill_null(value)
            if name in case_table.columns
            else pl.lit(value).alias(name)
        )
    rows = events.join(case_table.drop("line"), on="trace", how="left").join(
        event_wide, on="event", how="left"
    )
    for key, value in event_defaults.items():
        rows = rows.with_columns(
            pl.col(key).fill_null(value) if key in rows.columns else pl.lit(value).alias(key)
        )
    # Case columns in the order their keys first appear on traces with events
    # (keys only empty traces have give no column: no event row carries them).
    with_events = [
        CASE_PREFIX + k
        for k in trace_long.filter(pl.col("trace").is_in(events["trace"].implode()))
        .get_column("key")
        .unique(maintain_order=True)
        .to_list()
    ]
    first_seen = {k: i for i, k in enumerate(with_events)}
    own_case = sorted(
        (k for k in trace_wide.columns if k in first_seen and k not in trace_defaults),
        key=first_seen.__getitem__,
    )
    case_columns = list(trace_defaults) + own_case
    own_event = [k for k in event_wide.columns if k != "event" and k not in event_defaults]
    event_columns = list(event_defaults) + own_event
    rows = rows.select(
        LINE_COLUMN,
        *case_columns,
        *event_columns,
        pl.col("trace").alias("__trace"),
    ).with_columns(pl.col(n).cast(pl.String) for n in case_columns + event_columns)
    empty = case_table.join(events, on="trace", how="anti").sort("trace")
    empties = [
        {
            LINE_COLUMN: row["line"],
            **{k: v for k, v in row.items() if k.startswith(CASE_PREFIX) and v is not None},
        }
        for row in empty.to_dicts()
    ]
    return rows, empties, traces.height, n_lines


def _wide(long: pl.DataFrame, owner: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(owner, key, value) rows to one row per owner; repeated keys get #2, #3.

    Returns the wide table and the long rows with their final keys.
    """
    long = long.select(owner, "key", "value")
    if long.height == 0:
        return pl.DataFrame(schema={owner: pl.Int64}), long
    try:
        return long.pivot(on="key", index=owner, values="value", aggregate_function=None), long
    except pl.exceptions.ComputeError:
        pass  # a key repeats within one element (lists allow it)
    repeat = pl.int_range(pl.len()).over(owner, "key")
    long = long.with_columns(
        pl.when(repeat == 0)
        .then(pl.col("key"))
        .otherwise(pl.col("key") + "#" + (repeat + 1).cast(pl.String))
    )
    try:
        return long.pivot(on="key", index=owner, values="value", aggregate_function=None), long
    except pl.exceptions.ComputeError:
        raise _NeedsExpat from None  # a numbered key clashes with a key written so


_ENTITY = re.compile(r"&(#x[0-9A-Fa-f]+|#[0-9]+|lt|gt|amp|quot|apos);")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}


#: An ampersand that does not start one of the references above.
_LOOSE_AMPERSAND = re.compile(r"&(?!(?:#x[0-9A-Fa-f]+|#[0-9]+|lt|gt|amp|quot|apos);)")

#: What XML 1.0 forbids in an attribute value as written (and U+FFFE, U+FFFF).
_NOT_IN_VALUES = r"[<\x00-\x08\x0B\x0C\x0E-\x1F\x{FFFE}\x{FFFF}]"


def _entity(match: re.Match[str]) -> str:
    ref = match.group(1)
    if ref[0] != "#":
        return _NAMED[ref]
    code = int(ref[2:], 16) if ref[1] in "xX" else int(ref[1:])
    if not (
        code in (0x9, 0xA, 0xD)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    ):
        raise _NeedsExpat  # a reference to a character XML does not allow
    return chr(code)


def _unescape_series(values: pl.Series) -> pl.Series:
    if values.str.contains("\t", literal=True).any():
        values = values.str.replace_all("\t", " ", literal=True)
    marked = values.str.contains("&", literal=True).fill_null(False)
    if not marked.any():
        return values
    where = marked.arg_true()
    written = values.gather(where).to_list()
    if any(_LOOSE_AMPERSAND.search(v) for v in written):
        raise _NeedsExpat  # not well-formed: the general reader reports where
    fixed = [_ENTITY.sub(_entity, v) for v in written]
    return values.scatter(where, fixed)
