"""Readers turn a source file into raw batches of source columns.

Every reader yields :class:`RawBatch` objects: a Polars frame of the source's
own columns plus ``__line`` (Int64: the line of the record in a CSV or XES
file, the row number in a Parquet file), and, for CSV, the records that had
the wrong number of fields (kept so that they can be rejected with their
line, never dropped).

The CSV reader has a fast path and a careful path. The fast path cuts the
file into large chunks at line ends, checks every line's field count with
vectorised string operations, and hands the good lines to Polars' parser
(all columns as text). When a quoted field spans lines, the rest of the file
is read by the careful path, Python's ``csv`` module, record by record.

>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "calls.csv"
>>> _ = p.write_text("who,what\\nA1,call\\nA2\\nA3,visit\\n")
>>> [b.frame.height for b in iter_csv(p)], [b.malformed.height for b in iter_csv(p)]
([2], [1])

Every reader is bounded by :class:`ReadLimits` (line length, field size,
decompressed size), so a hostile file fails in seconds with a clear error
instead of filling memory:

>>> q = pathlib.Path(tempfile.mkdtemp()) / "long.csv"
>>> _ = q.write_text("who,what\\nA1," + "x" * 5000 + "\\n")
>>> next(iter_csv(q, limits=ReadLimits(max_line_bytes=1000)))
Traceback (most recent call last):
...
systemic.data.errors.SourceError: ...line 2: a line longer than 1,000 bytes...
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import IO, Any

import polars as pl

from systemic.data.errors import SourceError
from systemic.data.mapping import CsvSection

LINE = "__line"

#: Bytes per CSV chunk on the fast path (memory per batch is a few times this).
CHUNK_BYTES = 64 * 1024 * 1024
#: Most lines per CSV chunk: a chunk of very short (or blank) lines is cut smaller,
#: since a line costs memory of its own (a Python string, a row) whatever its length.
CHUNK_LINES = 1_000_000
#: Rows per batch on the careful path and for Parquet.
BATCH_ROWS = 500_000
#: Events per batch from XES. XES rows are wide (every attribute a column) and
#: the import holds a few batches at once (read ahead, mapping, writing), so
#: smaller batches keep its memory nearly flat as the file grows (receipt log
#: x30 -> x90: 386 -> 494 MiB peak, against 449 -> 861 MiB with 500,000) at
#: the same speed.
XES_BATCH_ROWS = 100_000

MALFORMED_SCHEMA = {LINE: pl.Int64, "__text": pl.String, "__fields": pl.Int64}

#: Environment variables that override each limit (in bytes, or a ratio).
LIMIT_ENV = {
    "max_line_bytes": "SYSTEMIC_IMPORT_MAX_LINE_BYTES",
    "max_field_bytes": "SYSTEMIC_IMPORT_MAX_FIELD_BYTES",
    "max_decompressed_bytes": "SYSTEMIC_IMPORT_MAX_DECOMPRESSED_BYTES",
    "max_expansion": "SYSTEMIC_IMPORT_MAX_EXPANSION",
}


@dataclass(frozen=True)
class ReadLimits:
    """How big a source may be, so that a hostile file cannot exhaust memory or time.

    - ``max_line_bytes``: one CSV line (a record spanning lines counts as one);
    - ``max_field_bytes``: one value, in any format;
    - ``max_decompressed_bytes``: what a gzip file may expand to;
    - ``max_expansion``: how many times its own size a gzip file may expand once it
      has given 256 MiB (real extracts compress 5 to 30 times; a "zip bomb" far more).

    Defaults suit real extracts; each can be changed with an environment variable
    (:data:`LIMIT_ENV`), e.g. ``SYSTEMIC_IMPORT_MAX_FIELD_BYTES=4000000``.

    >>> ReadLimits().max_line_bytes, ReadLimits().max_field_bytes
    (4194304, 1048576)
    """

    max_line_bytes: int = 4 * 1024 * 1024
    max_field_bytes: int = 1024 * 1024
    max_decompressed_bytes: int = 64 * 1024**3
    max_expansion: int = 200

    @classmethod
    def from_env(cls) -> ReadLimits:
        """The defaults, with any limit set in the environment."""
        values: dict[str, int] = {}
        for f in fields(cls):
            raw = os.environ.get(LIMIT_ENV[f.name], "").strip().replace("_", "")
            if not raw:
                continue
            try:
                values[f.name] = int(raw)
            except ValueError:
                raise SourceError(
                    f"{LIMIT_ENV[f.name]}={raw!r} is not a whole number",
                    hint="give the limit in bytes (or a ratio for the expansion), e.g. 8000000",
                ) from None
            if values[f.name] <= 0:
                raise SourceError(
                    f"{LIMIT_ENV[f.name]}={raw!r} must be above 0", hint="give a positive limit"
                )
        return cls(**values)


def _too_long_line(path: Path, line: int, limits: ReadLimits) -> SourceError:
    return SourceError(
        f"a line longer than {limits.max_line_bytes:,} bytes: the file is not a CSV "
        "extract (or it is damaged), so nothing was imported",
        path=str(path),
        line=line,
        hint=f"check the file; if such long lines are real, raise {LIMIT_ENV['max_line_bytes']}",
    )


def check_field_sizes(frame: pl.DataFrame, path: Path, limits: ReadLimits) -> None:
    """Refuse a batch with a text value longer than ``limits.max_field_bytes``.

    >>> frame = pl.DataFrame({"note": ["ok", "x" * 20], LINE: [2, 3]})
    >>> check_field_sizes(frame, Path("a.csv"), ReadLimits(max_field_bytes=10))
    Traceback (most recent call last):
    ...
    systemic.data.errors.SourceError: a.csv, line 3, field 'note': a value of 20 bytes...
    """
    text = [c for c, t in frame.schema.items() if t in (pl.String, pl.Binary) and c != LINE]
    if not text or frame.height == 0:
        return
    longest = frame.select(
        [
            (pl.col(c).str.len_bytes() if frame.schema[c] == pl.String else pl.col(c).bin.size())
            .max()
            .alias(c)
            for c in text
        ]
    ).row(0)
    for column, size in zip(text, longest, strict=True):
        if size is not None and size > limits.max_field_bytes:
            lengths = (
                frame[column].str.len_bytes()
                if frame.schema[column] == pl.String
                else frame[column].bin.size()
            )
            row = int((lengths > limits.max_field_bytes).arg_true()[0])
            line = int(frame[LINE][row]) if LINE in frame.columns else None
            raise SourceError(
                f"a value of {size:,} bytes, over the limit of {limits.max_field_bytes:,}: "
                "nothing was imported",
                path=str(path),
                line=line,
                field=column,
                hint="check the file; if such long values are real, raise "
                f"{LIMIT_ENV['max_field_bytes']}",
            )


def _empty_malformed() -> pl.DataFrame:
    return pl.DataFrame(schema=MALFORMED_SCHEMA)


@dataclass
class RawBatch:
    """Source columns (all text for CSV and XES) with ``__line``; bad records aside."""

    frame: pl.DataFrame
    malformed: pl.DataFrame = field(default_factory=_empty_malformed)
    bytes_read: int = 0
    #: What the reader found beyond the rows (kept in the source's manifest notes).
    notes: dict[str, object] = field(default_factory=dict)


def source_format(path: Path, declared: str | None = None) -> str:
    """``csv``, ``parquet`` or ``xes``, from the mapping or the file name."""
    if declared:
        return declared
    name = path.name.lower().removesuffix(".gz")
    if name.endswith((".csv", ".tsv", ".txt")):
        return "csv"
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    if name.endswith(".xes"):
        return "xes"
    raise SourceError(
        "cannot tell the format from the file name",
        path=str(path),
        hint="name it .csv, .csv.gz, .parquet or .xes(.gz), or set [source] format in the mapping",
    )


def iter_raw(
    path: Path,
    fmt: str,
    csv_options: CsvSection | None = None,
    limits: ReadLimits | None = None,
) -> Iterator[RawBatch]:
    """Raw batches of any supported format, within ``limits`` (default: from the environment)."""
    limits = limits or ReadLimits.from_env()
    if fmt == "csv":
        yield from iter_csv(path, csv_options or CsvSection(), limits=limits)
    elif fmt == "parquet":
        for batch in iter_parquet(path):
            check_field_sizes(batch.frame, path, limits)
            yield batch
    elif fmt == "xes":
        from systemic.data.xes import XesSummary, iter_xes  # imported when needed

        # Traces without events give no row; the last batch carries their count and
        # lines into the manifest so that they are not lost silently (their
        # attributes are not kept: they may hold a person's identifier in clear).
        summary = XesSummary()
        previous: RawBatch | None = None
        for frame in iter_xes(path, batch_rows=XES_BATCH_ROWS, summary=summary):
            if previous is not None:
                yield previous
            previous = RawBatch(frame.with_columns(pl.col(LINE).cast(pl.Int64)))
            check_field_sizes(previous.frame, path, limits)
        if previous is not None:
            previous.notes = {
                "traces": summary.traces,
                "empty_traces": summary.empty_traces,
                "empty_trace_lines": [row[LINE] for row in summary.empty_trace_rows],
            }
            yield previous
    else:  # pragma: no cover - the mapping validates the format
        raise SourceError(f"unknown format {fmt!r}", path=str(path), hint="use csv, parquet or xes")


# -- Parquet -------------------------------------------------------------------


def iter_parquet(path: Path, batch_rows: int = BATCH_ROWS) -> Iterator[RawBatch]:
    """Parquet row groups as raw batches; ``__line`` is the 1-based row number."""
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a bad file
        raise SourceError(
            f"not a readable Parquet file ({exc})", path=str(path), hint="check the file is Parquet"
        ) from None
    start = 1
    batches = pf.iter_batches(batch_size=batch_rows)
    while True:
        try:
            batch = next(batches)
            frame = pl.from_arrow(batch)
        except StopIteration:
            return
        except Exception as exc:  # a damaged row group: pyarrow and polars raise several types
            raise SourceError(
                f"Parquet data after row {start - 1} cannot be read ({exc})",
                path=str(path),
                hint="the file is damaged: export it again from the source system",
            ) from None
        assert isinstance(frame, pl.DataFrame)
        frame, nested = _nested_as_json(frame)
        frame = frame.with_columns(
            pl.int_range(start, start + frame.height, dtype=pl.Int64).alias(LINE)
        )
        start += frame.height
        yield RawBatch(frame, notes={"nested_columns_as_json": nested} if nested else {})


def _nested_as_json(frame: pl.DataFrame) -> tuple[pl.DataFrame, list[str]]:
    """Lists, arrays and structs as JSON text (systemic's columns are flat).

    >>> out, nested = _nested_as_json(pl.DataFrame({"tags": [["a", "b"], None], "n": [1, 2]}))
    >>> out["tags"].to_list(), nested
    (['["a","b"]', None], ['tags'])
    """
    nested = [c for c, t in frame.schema.items() if t.is_nested()]
    if not nested:
        return frame, []
    encoded = []
    for c in nested:
        prefix = len(json.dumps({c: None}, separators=(",", ":"))) - len("null}")
        text = pl.struct(pl.col(c)).struct.json_encode().str.slice(prefix).str.head(-1)
        encoded.append(pl.when(pl.col(c).is_null()).then(None).otherwise(text).alias(c))
    return frame.with_columns(encoded), nested


# -- CSV -----------------------------------------------------------------------


class _BoundedGzip(io.RawIOBase):
    """A gzip file's content, refused once it expands past the limits (a "zip bomb")."""

    #: Expansion is judged only after this much, so small files are never refused.
    FLOOR = 256 * 1024 * 1024

    def __init__(self, path: Path, limits: ReadLimits) -> None:
        self.path, self.limits = path, limits
        self.inner = gzip.open(path, "rb")  # noqa: SIM115 - closed by close()
        self.compressed = max(1, path.stat().st_size)
        self.given = 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        data = self.inner.read(n)
        self.given += len(data)
        if self.given > self.limits.max_decompressed_bytes:
            raise SourceError(
                f"the gzip file expands past {self.limits.max_decompressed_bytes:,} bytes: "
                "nothing was imported",
                path=str(self.path),
                hint="split the extract, or raise "
                f"{LIMIT_ENV['max_decompressed_bytes']} if the file is real",
            )
        if self.given > self.FLOOR and self.given > self.compressed * self.limits.max_expansion:
            raise SourceError(
                f"the gzip file expands more than {self.limits.max_expansion} times its size "
                f"({self.compressed:,} bytes compressed): it looks like a decompression bomb, "
                "so nothing was imported",
                path=str(self.path),
                hint="check where the file came from; if it is real, raise "
                f"{LIMIT_ENV['max_expansion']}",
            )
        return data

    def close(self) -> None:
        self.inner.close()
        super().close()


def _open_binary(path: Path, limits: ReadLimits | None = None) -> IO[bytes]:
    fh = open(path, "rb")  # noqa: SIM115 - returned to the caller
    magic = fh.read(2)
    fh.seek(0)
    if magic == b"\x1f\x8b":
        fh.close()
        return _BoundedGzip(path, limits or ReadLimits())  # type: ignore[return-value]
    return fh


def _check_encoding(path: Path, encoding: str) -> str:
    hint = "set csv.encoding to one Python knows: 'utf-8', 'latin-1', 'cp1252', 'utf-16'"
    try:
        info = codecs.lookup(encoding)
    except LookupError:
        raise SourceError(
            f"unknown encoding {encoding!r}", path=str(path), field="csv.encoding", hint=hint
        ) from None
    # 'rot13', 'base64', 'zlib' ... are codecs Python knows, but not text encodings.
    if not getattr(info, "_is_text_encoding", True):
        raise SourceError(
            f"{encoding!r} is not a text encoding", path=str(path), field="csv.encoding", hint=hint
        )
    return info.name


def _decode(data: bytes, encoding: str, path: Path, first_line: int) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = first_line + data[: exc.start].count(b"\n")
        raise SourceError(
            f"bytes that are not valid {encoding} ({exc.reason})",
            path=str(path),
            line=line,
            field="csv.encoding",
            hint="set csv.encoding in the mapping to the file's encoding (often 'cp1252')",
        ) from None


def _header(path: Path, line_text: str, options: CsvSection) -> list[str]:
    names = next(csv.reader([line_text], delimiter=options.delimiter, quotechar=options.quote))
    names = [n.strip() or f"column_{i + 1}" for i, n in enumerate(names)]
    names = [options.rename.get(n, n) for n in names]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise SourceError(
            f"the header names column(s) {dupes} more than once",
            path=str(path),
            line=1,
            hint="give them distinct names with [csv] rename = {...} or fix the header",
        )
    return names


def iter_csv(
    path: str | Path,
    options: CsvSection | None = None,
    *,
    chunk_bytes: int | None = None,
    limits: ReadLimits | None = None,
) -> Iterator[RawBatch]:
    """Raw batches of a CSV file (plain or gzip, any delimiter, BOM or not)."""
    path = Path(path)
    limits = limits or ReadLimits.from_env()
    chunk_bytes = chunk_bytes or CHUNK_BYTES
    options = options or CsvSection()
    encoding = _check_encoding(path, options.encoding)
    utf8 = encoding in ("utf-8", "utf-8-sig")
    with _open_binary(path, limits) as fh:
        try:
            first = fh.read(chunk_bytes)
        except (OSError, EOFError) as exc:
            raise SourceError(f"cannot read the file ({exc})", path=str(path)) from None
        if utf8 and first.startswith(codecs.BOM_UTF8):
            first = first[len(codecs.BOM_UTF8) :]
        if not first.strip():
            raise SourceError(
                "the file is empty", path=str(path), hint="check you exported the right file"
            )
        if not utf8:
            # Other encodings are re-encoded to UTF-8 as they stream past, so that
            # chunks are cut on whole characters and the parser sees one encoding.
            fh.seek(0)
            text = io.TextIOWrapper(fh, encoding=encoding, newline="")
            stream: IO[bytes] = _Utf8Stream(text, path)  # type: ignore[assignment]
            first = stream.read(chunk_bytes)
            if first.startswith(codecs.BOM_UTF8):
                first = first[len(codecs.BOM_UTF8) :]
        else:
            stream = fh
        reader = _CsvChunks(path, stream, options, chunk_bytes, limits)
        for batch in reader.run(first):
            check_field_sizes(batch.frame, path, limits)
            if options.restore_formulas:
                from systemic.data.export import restore_formulas

                batch.frame = restore_formulas(batch.frame)
            yield batch


class _Utf8Stream:
    """Reads text in another encoding and hands it on as UTF-8 bytes."""

    def __init__(self, text: io.TextIOWrapper, path: Path) -> None:
        self.text, self.path = text, path

    def read(self, n: int) -> bytes:
        try:
            return self.text.read(max(1, n // 2)).encode("utf-8")
        except UnicodeDecodeError as exc:
            raise SourceError(
                f"bytes that are not valid {self.text.encoding} ({exc.reason})",
                path=str(self.path),
                field="csv.encoding",
                hint="set csv.encoding in the mapping to the file's encoding",
            ) from None


class _CsvChunks:
    """State of one CSV read: header, line counter, fast or careful mode."""

    def __init__(
        self, path: Path, fh: IO[bytes], options: CsvSection, chunk: int, limits: ReadLimits
    ) -> None:
        self.path, self.fh, self.options, self.limits = path, fh, options, limits
        self.encoding = "utf-8"
        self.chunk = chunk
        self.names: list[str] = []
        self.next_line = 1
        # Read from the file, not yet handed out (see _chunks and the ``left`` property).
        self._left: tuple[bytes, int, bytes] = (b"", 0, b"")
        q = re.escape(options.quote)
        self._quoted = re.compile(f"{q}[^{q}]*{q}").pattern

    def _read_more(self) -> bytes:
        try:
            return self.fh.read(self.chunk)
        except (OSError, EOFError) as exc:
            raise SourceError(
                f"the file is truncated or corrupt ({exc})",
                path=str(self.path),
                line=self.next_line,
                hint="export or download it again",
            ) from None

    def run(self, first: bytes) -> Iterator[RawBatch]:
        buf = first
        if self.options.header:
            end = buf.find(b"\n")
            while end < 0:
                if len(buf) > self.limits.max_line_bytes:
                    raise _too_long_line(self.path, 1, self.limits)
                more = self._read_more()
                if not more:
                    end = len(buf)
                    break
                buf += more
                end = buf.find(b"\n")
            if end > self.limits.max_line_bytes:
                raise _too_long_line(self.path, 1, self.limits)
            head = _decode(buf[:end], self.encoding, self.path, 1).rstrip("\r")
            if not head.strip():
                raise SourceError(
                    "the first line, which should name the columns, is empty",
                    path=str(self.path),
                    line=1,
                    hint="remove the blank lines above the header, or set csv.header = false "
                    "and name the columns in csv.columns",
                )
            self.names = _header(self.path, head, self.options)
            buf = buf[end + 1 :]
            self.next_line = 2
        else:
            assert self.options.columns is not None
            self.names = list(self.options.columns)
        for data in self._chunks(buf):
            self._check_line_lengths(data)
            if data[:1].isspace() and (data.count(b"\n") == len(data) or not data.strip()):
                # Blank lines only: nothing to parse.
                self.next_line += data.count(b"\n")
                continue
            batch = self._quick(data)
            if batch is not None:
                yield batch
                continue
            text = _decode(data, self.encoding, self.path, self.next_line)
            batch = self._fast(text, data, len(data))
            if batch is None:
                # A quoted field spans lines: read the rest record by record.
                rest = _RestText(text, self, self.left)
                yield from self._careful(rest)
                return
            yield batch

    def _check_line_lengths(self, data: bytes) -> None:
        """Refuse a line longer than the limit, at almost no cost.

        A line of more than L bytes holds a whole window of L/2 bytes at a multiple
        of L/2; so only a window without a line end (rare in a real file) needs its
        line measured.
        """
        limit = self.limits.max_line_bytes
        if len(data) <= limit:
            return
        half = max(1, limit // 2)
        for p in range(0, len(data), half):
            if data.find(b"\n", p, p + half) >= 0:
                continue
            start = data.rfind(b"\n", 0, p) + 1
            end = data.find(b"\n", p)
            end = len(data) if end < 0 else end
            if end - start > limit:
                raise _too_long_line(
                    self.path, self.next_line + data.count(b"\n", 0, start), self.limits
                )

    def _chunks(self, pending: bytes) -> Iterator[bytes]:
        """The rest of the file in pieces of whole lines, about a chunk each.

        Each piece is copied once at most: the part of a line left over from
        the last read is joined to the lines of the next read. What has been
        read but not yet handed out is in ``self.left`` at every yield, so a
        switch to the careful path carries on from there. A piece holds at most
        :data:`CHUNK_LINES` lines (see :meth:`_capped`).
        """
        while True:
            while len(pending) >= self.chunk // 2:
                cut = pending.rfind(b"\n", 0, self.chunk)
                if cut < 0:
                    break  # a line longer than a chunk: read on to its end
                data, pending = pending[: cut + 1], pending[cut + 1 :]
                yield from self._capped(data, pending)
            if len(pending) > self.limits.max_line_bytes and b"\n" not in pending:
                raise _too_long_line(self.path, self.next_line, self.limits)
            more = self._read_more()
            if not more:
                if pending:
                    yield from self._capped(pending, b"")
                self._left = (b"", 0, b"")
                return
            cut = more.rfind(b"\n")
            if cut < 0:
                pending += more
                continue
            if not pending:
                data = more if cut + 1 == len(more) else more[: cut + 1]
            else:
                data = b"".join((pending, memoryview(more)[: cut + 1]))
            pending = more[cut + 1 :]
            yield from self._capped(data, pending)

    @property
    def left(self) -> bytes:
        """Read from the file, not yet handed out (joined only when asked for)."""
        data, start, pending = self._left
        return data[start:] + pending if start < len(data) else pending

    def _capped(self, data: bytes, pending: bytes) -> Iterator[bytes]:
        """``data`` in pieces of at most :data:`CHUNK_LINES` whole lines.

        64 MiB of blank or one-letter lines is tens of millions of lines; split
        into one string (or row) each, that was gigabytes. Each piece's size is
        guessed from the lines left and halved until it holds few enough.
        """
        lines = data.count(b"\n")
        if lines <= CHUNK_LINES or lines == len(data):  # few lines, or blank lines only
            self._left = (b"", 0, pending)
            yield data
            return
        start = 0
        while start < len(data):
            size = max(1, (len(data) - start) * CHUNK_LINES // max(1, lines))
            while True:
                if start + size >= len(data):
                    end = len(data)
                else:
                    end = data.rfind(b"\n", start, start + size) + 1
                    if end <= start:  # one line longer than the guess: take it whole
                        end = data.find(b"\n", start) + 1 or len(data)
                        break
                if size == 1 or data.count(b"\n", start, end) <= CHUNK_LINES:
                    break
                size //= 2
            lines -= data.count(b"\n", start, end)
            self._left = (data, end, pending)
            yield data[start:end]
            start = end
        self._left = (b"", 0, pending)

    def _quick(self, data: bytes) -> RawBatch | None:
        """Parse a chunk whose every line is one good record; None if it is not so.

        Polars refuses a record with too many fields; one with too few would be
        padded with nulls. When there are as many records as lines and the last
        column has no gap, neither can have happened. Otherwise the delimiters
        are counted: those in the chunk minus those inside parsed values must be
        exactly (columns - 1) per record, with one record per line. Any doubt
        sends the chunk to the line-by-line check, which finds the bad lines.
        """
        delim = self.options.delimiter
        try:
            parsed = self._parse(data)
        except pl.exceptions.PolarsError:
            return None  # too many fields, bad UTF-8 ...: the slow path says where
        n_lines = data.count(b"\n")
        if parsed.height != n_lines:
            return None
        if data.endswith(b"\n") and parsed.get_column(self.names[-1]).null_count() == 0:
            # As many records as line ends (a lone CR ends no record in Polars),
            # so no value spans lines and each line is one record; too many
            # fields made Polars refuse the chunk, and too few would leave the
            # last column null. So nothing needs counting, quoted or not.
            return self._numbered(parsed, n_lines, len(data))
        inside_delims = 0
        if self.options.quote.encode("utf-8") in data:
            counts = parsed.select(
                pl.sum_horizontal(
                    pl.col(c).str.count_matches(delim, literal=True).sum() for c in self.names
                ).alias("d"),
                pl.sum_horizontal(
                    pl.col(c).str.count_matches("\n", literal=True).sum() for c in self.names
                ).alias("n"),
            ).row(0)
            if counts[1]:
                return None  # a value spans lines: line numbers need the careful path
            inside_delims = counts[0]
        separators = data.count(delim.encode("utf-8")) - inside_delims
        if separators != n_lines * (len(self.names) - 1):
            return None
        return self._numbered(parsed, n_lines, len(data))

    def _numbered(self, parsed: pl.DataFrame, n_lines: int, nbytes: int) -> RawBatch:
        first = self.next_line
        self.next_line += n_lines
        line = pl.int_range(first, first + n_lines, dtype=pl.Int64).alias(LINE)
        return RawBatch(parsed.with_columns(line), _empty_malformed(), nbytes)

    def _fast(self, text: str, data: bytes, nbytes: int) -> RawBatch | None:
        lines = pl.Series("t", text.split("\n"), dtype=pl.String)
        if text.endswith("\n"):
            lines = lines.head(lines.len() - 1)
        lines = lines.str.strip_suffix("\r")
        q = self.options.quote
        has_quotes = q in text
        if has_quotes and (lines.str.count_matches(q, literal=True) % 2 != 0).any():
            return None
        stripped = lines.str.replace_all(self._quoted, "") if has_quotes else lines
        n = len(self.names)
        frame = pl.DataFrame(
            {
                LINE: pl.int_range(
                    self.next_line, self.next_line + lines.len(), dtype=pl.Int64, eager=True
                ),
                "__text": lines,
                "__fields": stripped.str.count_matches(self.options.delimiter, literal=True).cast(
                    pl.Int64
                )
                + 1,
            }
        )
        self.next_line += lines.len()
        blank = frame["__text"].str.strip_chars() == ""
        bad = ~blank & (frame["__fields"] != n)
        malformed = frame.filter(bad)
        good = frame.filter(~bad & ~blank)
        if good.height == 0:
            return RawBatch(self._empty(), malformed, nbytes)
        if malformed.height == 0 and not blank.any():
            payload = data
        else:
            payload = ("\n".join(good["__text"].to_list()) + "\n").encode("utf-8")
        parsed = self._parse(payload)
        if parsed.height != good.height:
            raise SourceError(  # pragma: no cover - the line check should make this impossible
                f"parsed {parsed.height} records where {good.height} lines were expected",
                path=str(self.path),
                line=int(good[LINE][0]),
                hint="report this file to the systemic developers",
            )
        parsed = parsed.with_columns(good[LINE])
        return RawBatch(parsed, malformed, nbytes)

    def _parse(self, payload: bytes) -> pl.DataFrame:
        return pl.read_csv(
            io.BytesIO(payload),
            has_header=False,
            new_columns=self.names,
            schema={c: pl.String for c in self.names},
            separator=self.options.delimiter,
            quote_char=self.options.quote,
            infer_schema=False,
        )

    def _empty(self) -> pl.DataFrame:
        return pl.DataFrame(schema={**{c: pl.String for c in self.names}, LINE: pl.Int64})

    def _careful(self, rest: _RestText) -> Iterator[RawBatch]:
        n = len(self.names)
        reader = csv.reader(rest, delimiter=self.options.delimiter, quotechar=self.options.quote)
        rows: list[list[str | None]] = []
        lines: list[int] = []
        bad: list[tuple[int, str, int]] = []
        start = self.next_line
        prev_end = start - 1
        for record in self._records(reader, start):
            line = prev_end + 1
            prev_end = start - 1 + reader.line_num
            if not record or (len(record) == 1 and not record[0].strip()):
                continue
            if len(record) != n:
                joined = self.options.delimiter.join(record)
                bad.append((line, joined, len(record)))
                continue
            rows.append([v if v != "" else None for v in record])
            lines.append(line)
            if len(rows) >= BATCH_ROWS:
                yield self._careful_batch(rows, lines, bad)
                rows, lines, bad = [], [], []
        if rows or bad:
            yield self._careful_batch(rows, lines, bad)

    def _records(self, reader: Any, start: int) -> Iterator[list[str]]:
        """The csv module's records; a quote left open names its line instead of a traceback."""
        previous = csv.field_size_limit(self.limits.max_field_bytes)
        try:
            while True:
                line = start + reader.line_num  # where the next record begins
                try:
                    record = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    if "field larger than field limit" in str(exc):
                        raise SourceError(
                            f"a value longer than {self.limits.max_field_bytes:,} characters "
                            "(often a quote that is never closed): nothing was imported",
                            path=str(self.path),
                            line=line,
                            hint="close the quote in the file, or set csv.quote to a "
                            "character the file does not use; if such long values are real, "
                            f"raise {LIMIT_ENV['max_field_bytes']}",
                        ) from None
                    raise SourceError(
                        f"the CSV cannot be read here ({exc})",
                        path=str(self.path),
                        line=line,
                        hint="check the quotes on this line, or set csv.quote to a character "
                        "the file does not use",
                    ) from None
                yield record
        finally:
            csv.field_size_limit(previous)

    def _careful_batch(
        self, rows: list[list[str | None]], lines: list[int], bad: list[tuple[int, str, int]]
    ) -> RawBatch:
        frame = pl.DataFrame(rows, schema={c: pl.String for c in self.names}, orient="row")
        frame = frame.with_columns(pl.Series(LINE, lines, dtype=pl.Int64))
        malformed = pl.DataFrame(bad, schema=MALFORMED_SCHEMA, orient="row")
        return RawBatch(frame, malformed.select(list(MALFORMED_SCHEMA)))


class _RestText:
    """The rest of the file as text lines: the chunk in hand, then the stream."""

    def __init__(self, text: str, reader: _CsvChunks, left: bytes = b"") -> None:
        self.reader = reader
        self.pending = io.StringIO(text)
        self.left = left  # bytes read after the chunk in hand
        self.decoder = codecs.getincrementaldecoder(reader.encoding)()

    def __iter__(self) -> Iterator[str]:
        yield from self.pending
        tail = ""
        while True:
            more, self.left = (self.left, b"") if self.left else (self.reader._read_more(), b"")
            if not more:
                tail += self.decoder.decode(b"", final=True)
                if tail:
                    yield tail
                return
            try:
                tail += self.decoder.decode(more)
            except UnicodeDecodeError as exc:
                raise SourceError(
                    f"bytes that are not valid {self.reader.encoding} ({exc.reason})",
                    path=str(self.reader.path),
                    field="csv.encoding",
                    hint="set csv.encoding in the mapping to the file's encoding",
                ) from None
            # Line by line, never one list of every line in the read (64 MiB of
            # short lines inside an open quote would be tens of millions of strings).
            start = 0
            end = tail.find("\n")
            while end >= 0:
                yield tail[start : end + 1]
                start = end + 1
                end = tail.find("\n", start)
            tail = tail[start:]
            if len(tail) > self.reader.limits.max_line_bytes:
                raise _too_long_line(self.reader.path, self.reader.next_line, self.reader.limits)
