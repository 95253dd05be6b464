"""Reading sources into cleaned identifying fields, one row per source record.

>>> import polars as pl
>>> from systemic.data.linkage.settings import parse_link_settings
>>> s = parse_link_settings({"sources": {"default": {"record_id": "ref",
...     "columns": {"forename": "First", "surname": "Last"}}}})
>>> raw = pl.DataFrame({"ref": ["H1"], "First": ["Bob "], "Last": ["SMITH"]})
>>> clean_records(raw, "housing", s, origin="housing.csv").rows()
[('housing', 'H1', 'bob', ['bert', 'bob', 'bobby', 'robert'], 'smith')]
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from systemic.data.errors import SourceError
from systemic.data.linkage import cleaning
from systemic.data.linkage.settings import DEFAULT_DATE_FORMATS, FieldSettings, LinkSettings

#: Columns every cleaned table starts with.
SOURCE = "source_dataset"
RECORD_ID = "unique_id"


def source_name(path: str | Path) -> str:
    """A source's name in the link table: its file name without the extension.

    >>> source_name("extracts/housing.2024.csv")
    'housing.2024'
    """
    return Path(path).name.rsplit(".", 1)[0] if "." in Path(path).name else Path(path).name


def nickname_column(name: str) -> str:
    """The column holding a forename field's canonical (nickname-resolved) form."""
    return f"{name}__nickname"


def _field_expr(name: str, f: FieldSettings, cols: list[str]) -> list[pl.Expr]:
    text = (
        pl.col(cols[0]).cast(pl.String)
        if len(cols) == 1
        else pl.concat_str(
            [pl.col(c).cast(pl.String) for c in cols], separator=" ", ignore_nulls=True
        )
    )
    kind = f.kind
    if kind in ("forename", "surname"):
        cleaned = cleaning.clean_name(text)
        if kind == "forename" and f.nicknames:
            return [
                cleaned.alias(name),
                cleaning.nickname_key(cleaned).alias(nickname_column(name)),
            ]
    elif kind == "date_of_birth":
        cleaned = cleaning.clean_date(text, f.formats or list(DEFAULT_DATE_FORMATS))
    elif kind == "postcode":
        cleaned = cleaning.clean_postcode(text, uk=f.uk_postcode)
    elif kind == "phone":
        cleaned = cleaning.clean_phone(text)
    elif kind == "email":
        cleaned = cleaning.clean_email(text)
    elif kind == "nhs_number":
        cleaned = cleaning.clean_nhs_number(text)
    elif kind == "ni_number":
        cleaned = cleaning.clean_ni_number(text)
    elif kind == "identifier":
        cleaned = cleaning.clean_identifier(text)
    else:  # address, text
        cleaned = cleaning.clean_text(text)
    return [cleaned.alias(name)]


def clean_records(
    raw: pl.DataFrame | pl.LazyFrame, source: str, settings: LinkSettings, *, origin: str
) -> pl.DataFrame:
    """One source's records as cleaned fields (missing fields are null).

    Raises :class:`SourceError` naming the file and column when a mapped
    column is absent, and when record ids are blank or repeated.
    """
    lazy = raw.lazy()
    header = lazy.collect_schema().names()
    src = settings.source_for(source)
    section = source if source in settings.sources else "default"
    for key, cols in [("record_id", [src.record_id])] + [
        (f"columns.{k}", v if isinstance(v, list) else [v]) for k, v in src.columns.items()
    ]:
        for c in cols:
            if c not in header:
                raise SourceError(
                    f"column {c!r} (settings key sources.{section}.{key}) is not in the file",
                    path=origin,
                    hint=f"the file's columns are {', '.join(header[:20])}; fix the settings",
                )
    exprs: list[pl.Expr] = [
        pl.lit(source).alias(SOURCE),
        pl.col(src.record_id).cast(pl.String).str.strip_chars().alias(RECORD_ID),
    ]
    for name, f in settings.fields.items():
        if name in src.columns:
            c = src.columns[name]
            exprs += _field_expr(name, f, c if isinstance(c, list) else [c])
        else:
            exprs.append(pl.lit(None, pl.String).alias(name))
            if f.kind == "forename" and f.nicknames:
                exprs.append(pl.lit(None, pl.List(pl.String)).alias(nickname_column(name)))
    out = lazy.select(exprs).collect()
    ids = out[RECORD_ID]
    blank = ids.is_null() | (ids.str.len_chars() == 0)
    if blank.any():
        line = int(blank.arg_max()) + 2  # header is line 1
        raise SourceError(
            f"{int(blank.sum())} record(s) have no record id",
            path=origin,
            line=line,
            field=src.record_id,
            hint="every record needs an id to be linked; fill it in or remove the row",
        )
    dup = ids.is_duplicated()
    if dup.any():
        line = int(dup.arg_max()) + 2
        raise SourceError(
            f"{int(dup.sum())} records share a record id with another record",
            path=origin,
            line=line,
            field=src.record_id,
            hint="the record-id column must be unique within a source: name another column",
        )
    return out


#: File name endings read as CSV, and as Parquet.
CSV_SUFFIXES = (".csv", ".tsv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")


def read_source(path: str | Path, settings: LinkSettings) -> pl.DataFrame:
    """Read one source (CSV or Parquet) and clean it (every column read as text).

    Raises :class:`SourceError` for a file that is missing, empty, holds no
    records, or is neither CSV nor Parquet; no message quotes the file's content.
    """
    p = Path(path)
    if not p.exists():
        raise SourceError("file not found", path=str(p), hint="check the path")
    name = source_name(p)
    src = settings.source_for(name)
    suffix = p.suffix.lower()
    if suffix not in CSV_SUFFIXES + PARQUET_SUFFIXES:
        raise SourceError(
            f"is not a file to link: its name ends in {suffix or 'no extension'!r}",
            path=str(p),
            hint="give CSV files (.csv, .tsv, .txt) or Parquet files (.parquet); "
            "export a spreadsheet as CSV first",
        )
    if p.stat().st_size == 0:
        raise SourceError(
            "is empty: it has no header line and no records",
            path=str(p),
            hint="export the extract again, or leave the file out",
        )
    if suffix in PARQUET_SUFFIXES:
        try:
            raw = pl.scan_parquet(p)
            # Every column as text, as a CSV would be read.
            raw = raw.select(pl.all().cast(pl.String))
            raw.collect_schema()
        except (pl.exceptions.PolarsError, OSError):
            raise SourceError(
                "cannot be read as Parquet",
                path=str(p),
                hint="check that the file is a whole Parquet file (written by pandas, "
                "Polars, Spark or DuckDB)",
            ) from None
        return _clean_source(raw, name, settings, p)
    try:
        if src.encoding.lower().replace("-", "") == "utf8":
            raw = pl.scan_csv(p, infer_schema=False, separator=src.delimiter, encoding="utf8")
        else:
            text = p.read_bytes().decode(src.encoding)
            raw = pl.read_csv(
                text.encode("utf-8"), infer_schema=False, separator=src.delimiter
            ).lazy()
        return _clean_source(raw, name, settings, p)
    except pl.exceptions.NoDataError:
        raise SourceError(
            "is empty: it has no header line and no records",
            path=str(p),
            hint="export the extract again, or leave the file out",
        ) from None
    except (pl.exceptions.ComputeError, UnicodeDecodeError, LookupError):
        raise SourceError(
            # Polars' message can quote a row: it is not repeated, as rows hold clear data.
            f"cannot be read as CSV in {src.encoding}",
            path=str(p),
            hint="check the delimiter and encoding in the settings' source section "
            "(e.g. encoding = 'cp1252' for a file saved by Excel)",
        ) from None


def _clean_source(raw: pl.LazyFrame, name: str, settings: LinkSettings, path: Path) -> pl.DataFrame:
    out = clean_records(raw, name, settings, origin=str(path))
    if out.height == 0:
        raise SourceError(
            "holds no records (a header line only)",
            path=str(path),
            line=2,
            hint="export the extract again, or leave the file out",
        )
    return out
