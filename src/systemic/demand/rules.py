"""How well learn's inferred-failure rules agree with what people actually said.

learn infers failure demand from event patterns when no class is recorded
(:data:`systemic.learn.SIGNAL_RULES`). Here every contact's class is set
aside, the rules run on the whole event log, and each rule's verdict on the
*labelled* contacts is compared with the label: precision (of the contacts
the rule calls failure, the share labelled failure) and recall (of the
contacts labelled failure, the share the rule finds), each with a Wilson
interval. A contact counts for the rule learn attributes it to (the first
that fires, in learn's order); ``any rule`` is the inferred class itself.

This module depends on learn's public names ``annotate_events``,
``SIGNAL_RULES``, the input column ``source_row`` and the annotated
columns ``is_contact`` and ``failure_signal``.
"""

from __future__ import annotations

import polars as pl

from systemic.demand.estimate import wilson_interval

ANY_RULE = "any rule"


def rule_agreement(
    events: pl.DataFrame | pl.LazyFrame,
    labels: pl.DataFrame,
    *,
    id_column: str = "event_id",
    config: object | None = None,
    people: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Precision and recall of each inferred-failure rule against labelled contacts.

    ``events``: the event log learn reads (with ``id_column`` identifying
    each event); ``labels``: id, demand_class (value or failure) for some of
    its contact events. Returns rule, description, labelled (labelled
    contacts), fired (of those, the rule fired), true_positive, precision
    (+ low/high), recall (+ low/high); null where undefined.
    """
    from systemic.learn import SIGNAL_RULES, annotate_events

    lf = events.lazy()
    names = lf.collect_schema().names()
    if id_column not in names:
        raise ValueError(f"the events have no {id_column!r} column to match labels to")
    # learn keeps only its own columns, so each event's id travels as its source_row
    # (a row number in stored order, which keeps learn's tie order within a source)
    frame = lf.with_columns(pl.lit(None, pl.String).alias("demand_class")).collect()
    frame = frame.with_columns(pl.int_range(pl.len(), dtype=pl.Int64).alias("source_row"))
    id_of = frame.select(pl.col("source_row"), pl.col(id_column).cast(pl.String).alias("id"))
    annotated = annotate_events(frame.drop(id_column), config, people=people)  # type: ignore[arg-type]
    judged = (
        annotated.select(pl.col("source_row").cast(pl.Int64), "is_contact", "failure_signal")
        .join(id_of, on="source_row", how="left")
        .filter(pl.col("is_contact"))
        .join(
            labels.select(pl.col("id").cast(pl.String), "demand_class"),
            on="id",
            how="inner",
        )
        .with_columns((pl.col("demand_class") == "failure").alias("_failure"))
    )
    n = judged.height
    positives = int(judged["_failure"].sum())
    rows = []
    for rule, description in [*SIGNAL_RULES.items(), (ANY_RULE, "inferred failure by any rule")]:
        fired = (
            judged["failure_signal"].is_not_null()
            if rule == ANY_RULE
            else (judged["failure_signal"] == rule).fill_null(False)
        )
        k = int(fired.sum())
        tp = int((fired & judged["_failure"]).sum())
        p_lo, p_hi = wilson_interval(tp, k) if k else (None, None)
        r_lo, r_hi = wilson_interval(tp, positives) if positives else (None, None)
        rows.append(
            {
                "rule": rule,
                "description": description,
                "labelled": n,
                "fired": k,
                "true_positive": tp,
                "precision": tp / k if k else None,
                "precision_low": p_lo,
                "precision_high": p_hi,
                "recall": tp / positives if positives else None,
                "recall_low": r_lo,
                "recall_high": r_hi,
            }
        )
    return pl.DataFrame(rows)
