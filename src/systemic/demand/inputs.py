"""Read the contacts (what people said) and the labelled sample, with clear errors.

Contacts come from a CSV file or a systemic dataset (contact events with a
``text``); labels from a CSV with ``id`` and ``demand_class`` (value or
failure), and optionally ``demand_type`` and ``what_failed``. Nothing is
dropped silently: a label that cannot be used is kept in ``rejected`` with
its line and the reason.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import polars as pl

#: Contact attributes a study breaks the share down by, when the contacts have them.
DIMENSIONS = ("service", "channel", "locality")

#: What failed, for failure demand (the capture sheet's words).
WHAT_FAILED = ("not_done", "not_done_right", "chasing_progress", "not_understood", "sent_elsewhere")


class DemandInputError(ValueError):
    """Input a demand study cannot use; the message names the file, line, field and fix."""


@dataclass
class Labels:
    """Usable labels (id, demand_class, demand_type, what_failed) and rejected rows."""

    frame: pl.DataFrame
    rejected: pl.DataFrame


def _read_csv(path: Path) -> pl.DataFrame:
    if not path.exists():
        raise DemandInputError(f"{path}: no such file")
    try:
        return pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
    except pl.exceptions.PolarsError as exc:
        raise DemandInputError(f"{path}: not a readable CSV file ({exc})") from exc


def read_contacts(
    source: str | os.PathLike[str], *, text: str = "text", id: str = "id"
) -> pl.DataFrame:
    """Contacts as ``id``, ``text`` and whichever of service, channel, locality, received exist.

    ``source`` is a CSV file or a dataset folder (its contact events that carry
    text; ``id`` defaults to ``event_id`` there). Ids must be unique.
    """
    path = Path(source)
    if path.is_dir():
        from systemic.data import open_dataset

        events = open_dataset(path).events()
        names = events.collect_schema().names()
        if text not in names:
            raise DemandInputError(f"{path}: the dataset has no {text!r} field")
        id_col = id if id in names else "event_id"
        if "kind" in names:
            events = events.filter(pl.col("kind") == "contact")
        frame = events.filter(pl.col(text).is_not_null()).collect()
        where = f"{path}"
        frame = frame.rename({id_col: "id"}) if id_col != "id" else frame
        if "timestamp" in frame.columns:
            frame = frame.with_columns(
                pl.col("timestamp").dt.date().cast(pl.String).alias("received")
            )
    else:
        frame = _read_csv(path)
        where = f"{path}"
        for col, what in ((id, "--id"), (text, "--text")):
            if col not in frame.columns:
                raise DemandInputError(
                    f"{path}: no column {col!r} (the {what} option); columns are "
                    f"{', '.join(frame.columns)}"
                )
        frame = frame.rename({id: "id"} if id != "id" else {})
    if text != "text":
        frame = frame.rename({text: "text"})
    frame = frame.with_columns(pl.col("id").cast(pl.String), pl.col("text").cast(pl.String))
    missing = frame.with_row_index("_row").filter(pl.col("id").is_null() | (pl.col("id") == ""))
    if missing.height:
        line = int(missing["_row"][0]) + 2
        raise DemandInputError(
            f"{where}, line {line}: field 'id' is empty ({missing.height} rows without an id); "
            "every contact needs an id so labels can be matched to it"
        )
    dup = frame.group_by("id").len().filter(pl.col("len") > 1)
    if dup.height:
        raise DemandInputError(
            f"{where}: {dup.height} ids appear more than once (e.g. {dup['id'][0]!r}); "
            "each contact needs its own id"
        )
    keep = ["id", "text", *[c for c in (*DIMENSIONS, "received") if c in frame.columns]]
    return frame.select(keep).with_columns(pl.col("text").fill_null(""))


def read_labels(path: str | os.PathLike[str], contact_ids: pl.Series | None = None) -> Labels:
    """The labelled sample; rows that cannot be used go to ``rejected`` with a reason.

    Needs columns ``id`` and ``demand_class`` (value or failure, any case).
    A label whose id is not among ``contact_ids``, or that repeats an id with
    a different class, is rejected.
    """
    path = Path(path)
    raw = _read_csv(path)
    for col in ("id", "demand_class"):
        if col not in raw.columns:
            raise DemandInputError(
                f"{path}: no column {col!r}; a labels file needs 'id' and 'demand_class' "
                "(value or failure), optionally 'demand_type' and 'what_failed'"
            )
    frame = raw.with_row_index("line", offset=2).select(
        "line",
        pl.col("id").str.strip_chars(),
        pl.col("demand_class").str.strip_chars().str.to_lowercase(),
        (pl.col("demand_type") if "demand_type" in raw.columns else pl.lit(None, pl.String))
        .str.strip_chars()
        .alias("demand_type"),
        (pl.col("what_failed") if "what_failed" in raw.columns else pl.lit(None, pl.String))
        .str.strip_chars()
        .str.to_lowercase()
        .str.replace_all(" ", "_")
        .alias("what_failed"),
    )
    reason = (
        pl.when(pl.col("id").is_null() | (pl.col("id") == ""))
        .then(pl.lit("field 'id' is empty"))
        .when(~pl.col("demand_class").is_in(["value", "failure"]).fill_null(False))
        .then(pl.lit("field 'demand_class' must be value or failure"))
        .when(
            pl.col("what_failed").is_not_null()
            & (pl.col("what_failed") != "")
            & ~pl.col("what_failed").is_in(list(WHAT_FAILED))
        )
        .then(pl.lit(f"field 'what_failed' must be one of {', '.join(WHAT_FAILED)}"))
    )
    if contact_ids is not None:
        reason = reason.when(~pl.col("id").is_in(contact_ids.implode())).then(
            pl.lit("no contact has this id")
        )
    valid = pl.col("demand_class").is_in(["value", "failure"]).fill_null(False)
    conflict = pl.col("demand_class").filter(valid).n_unique().over("id") > 1
    reason = reason.when(conflict).then(pl.lit("the same id is labelled both value and failure"))
    checked = frame.with_columns(reason.alias("reason"))
    good = checked.filter(pl.col("reason").is_null()).unique(
        "id", keep="first", maintain_order=True
    )
    rejected = checked.filter(pl.col("reason").is_not_null()).with_columns(
        pl.lit(str(path)).alias("file")
    )
    return Labels(good.drop("line", "reason"), rejected.select("file", "line", "id", "reason"))
