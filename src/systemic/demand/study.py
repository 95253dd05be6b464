"""A demand study end to end: labels + words -> classified contacts and the failure share.

:func:`run_study` takes the contacts (id, text and any of service, channel,
locality) and a labelled random sample, classifies every unlabelled contact
(cross-fitted, :mod:`systemic.demand.classify`), and estimates the
failure-demand share overall and by each dimension, from the labels alone
and from the classifier corrected for its error
(:mod:`systemic.demand.estimate`). It returns a :class:`DemandStudy`; writing
files is :mod:`systemic.demand.outputs`.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from systemic.demand.classify import ClassMetrics, CrossFit, cross_fit, suggest_next
from systemic.demand.estimate import (
    ShareEstimate,
    corrected_share,
    labelled_share,
    labels_for_width,
    wilson_interval,
)
from systemic.demand.inputs import DIMENSIONS, DemandInputError

#: Fewest labels in a group for a classifier-corrected estimate of that group.
MIN_GROUP_LABELS = 20
#: Interval widths the study says how many more labels would reach.
TARGET_WIDTHS = (0.1, 0.05, 0.02)


@dataclass
class DemandStudy:
    """What a demand study found, every figure with the numbers it was made from.

    ``contacts``: id, the dimensions, ``demand_class`` (label, or the
    classifier's at p >= 0.5), ``p_failure`` (1 or 0 for labelled contacts,
    the classifier's probability otherwise) and ``source`` (labelled or
    classified). ``estimate`` is the classifier-corrected share of all
    contacts, ``labelled_only`` the share in the labelled sample (Wilson).
    ``by`` has one table per dimension (group, contacts, labelled,
    labelled_failure, labelled_share/low/high, share/low/high). ``pareto``:
    failure demand types among labelled failure contacts with Wilson
    intervals; ``what_failed`` likewise. ``labels_needed``: interval width ->
    more labels needed (labels only, and classifier-corrected).
    """

    contacts: pl.DataFrame
    estimate: ShareEstimate
    labelled_only: ShareEstimate
    metrics: ClassMetrics
    features: str
    by: dict[str, pl.DataFrame]
    pareto: pl.DataFrame
    what_failed: pl.DataFrame
    suggestions: pl.DataFrame
    labels_needed: list[dict[str, Any]]
    rejected_labels: pl.DataFrame = field(default_factory=pl.DataFrame)

    def to_dict(self) -> dict[str, Any]:
        """The study's figures as plain types (``estimate.json``)."""
        return {
            "failure_demand_share": self.estimate.share,
            "interval_95": [self.estimate.low, self.estimate.high],
            "labelled": self.estimate.labelled,
            "contacts": self.estimate.contacts,
            "method": self.estimate.method,
            "classifier": {
                "features": self.features,
                "model": "logistic regression, cross-fitted",
                "cross_validated_accuracy": self.metrics.accuracy,
                **self.metrics.to_dict(),
            },
            "classifier_correction": self.estimate.correction,
            "classified_share_uncorrected": self.estimate.classified_share,
            "labelled_sample": self.labelled_only.to_dict(),
            "labels_needed": self.labels_needed,
            "rejected_labels": self.rejected_labels.height,
            "by": {k: v.to_dicts() for k, v in self.by.items()},
            "pareto": self.pareto.to_dicts(),
            "what_failed": self.what_failed.to_dicts(),
        }


def features_for(
    texts: list[str], features: str, cache_dir: str | os.PathLike[str] | None = None
) -> Any:
    """The feature matrix of the texts: ``tfidf`` or ``minilm`` (cached by content)."""
    if features == "tfidf":
        from systemic.demand.classify import tfidf_features

        return tfidf_features(texts)
    if features == "minilm":
        from systemic.demand.embed import embed_cached

        return embed_cached(texts, cache_dir)
    raise DemandInputError(f"unknown features {features!r}: use tfidf or minilm")


def _share_table(
    keys: pl.Series, y_all: np.ndarray, is_labelled: np.ndarray, fit: CrossFit, seed: int
) -> pl.DataFrame:
    rows = []
    # group codes, not string comparisons: one pass over the contacts per group
    keys = keys.fill_null("(not recorded)").cast(pl.String)
    groups = sorted(keys.unique().to_list())
    codes = keys.replace_strict(groups, list(range(len(groups))), return_dtype=pl.Int64)
    codes = codes.to_numpy()
    for code, g in enumerate(groups):
        sel = codes == code
        lab = sel & is_labelled
        n_l = int(lab.sum())
        k_l = int(y_all[lab].sum()) if n_l else 0
        row: dict[str, Any] = {
            "group": g,
            "contacts": int(sel.sum()),
            "labelled": n_l,
            "labelled_failure": k_l,
            "labelled_share": k_l / n_l if n_l else None,
            "labelled_low": None,
            "labelled_high": None,
            "share": None,
            "low": None,
            "high": None,
        }
        if n_l:
            row["labelled_low"], row["labelled_high"] = wilson_interval(k_l, n_l)
        if n_l >= MIN_GROUP_LABELS:
            est = corrected_share(
                y_all[lab], fit.p_failure[lab], fit.p_failure[sel & ~is_labelled], seed=seed
            )
            row["share"], row["low"], row["high"] = est.share, est.low, est.high
        rows.append(row)
    schema = {
        "group": pl.String,
        "contacts": pl.Int64,
        "labelled": pl.Int64,
        "labelled_failure": pl.Int64,
        **{
            c: pl.Float64
            for c in ("labelled_share", "labelled_low", "labelled_high", "share", "low", "high")
        },
    }
    return pl.DataFrame(rows, schema=schema).sort("contacts", descending=True)


def _proportions(values: pl.Series, name: str) -> pl.DataFrame:
    """Each value's count and share of the series, Wilson interval, cumulative share."""
    values = values.fill_null("(not recorded)").replace("", "(not recorded)")
    n = values.len()
    counts = values.value_counts(name="labelled").sort(["labelled", name], descending=[True, False])
    if not n:
        return counts.with_columns(
            *(pl.lit(None, pl.Float64).alias(c) for c in ("share", "low", "high", "cumulative"))
        )
    lows, highs = zip(*(wilson_interval(int(k), n) for k in counts["labelled"]), strict=True)
    return counts.with_columns(
        (pl.col("labelled") / n).alias("share"),
        pl.Series("low", lows),
        pl.Series("high", highs),
        (pl.col("labelled").cum_sum() / n).alias("cumulative"),
    )


def run_study(
    contacts: pl.DataFrame,
    labels: pl.DataFrame,
    *,
    features: str = "tfidf",
    feature_matrix: Any = None,
    cache_dir: str | os.PathLike[str] | None = None,
    rejected_labels: pl.DataFrame | None = None,
    seed: int = 0,
    suggest: int = 50,
) -> DemandStudy:
    """Classify the contacts from the labelled sample and estimate the failure-demand share.

    ``contacts``: id, text and optional dimensions (from
    :func:`~systemic.demand.inputs.read_contacts`). ``labels``: id,
    demand_class, optional demand_type and what_failed (from
    :func:`~systemic.demand.inputs.read_labels`). ``feature_matrix`` skips
    featurising (rows in the contacts' order).

    >>> import polars as pl
    >>> words = {"failure": ["missed bin again", "still waiting repair", "nobody came"],
    ...          "value": ["new bin please", "book appointment", "report a repair"]}
    >>> rows = [(f"c{i}", words[c][i % 3], c) for i in range(60) for c in ("failure", "value")]
    >>> contacts = pl.DataFrame({"id": [f"{r[0]}{r[2]}" for r in rows],
    ...                          "text": [r[1] for r in rows]})
    >>> labels = pl.DataFrame({"id": contacts["id"][:40],
    ...                        "demand_class": [r[2] for r in rows][:40]})
    >>> s = run_study(contacts, labels, features="tfidf", suggest=0)
    >>> round(s.estimate.share, 2), s.estimate.labelled, s.metrics.accuracy
    (0.5, 40, 1.0)
    """
    ids = contacts["id"]
    labels = labels.with_columns(
        pl.lit(None, pl.String).alias(c)
        for c in ("demand_type", "what_failed")
        if c not in labels.columns
    )
    lab = labels.join(
        pl.DataFrame({"id": ids, "_row": np.arange(len(ids))}), on="id", how="inner"
    ).sort("_row")
    if lab.height < labels.height:
        raise DemandInputError(
            f"{labels.height - lab.height} labels have ids that are not among the contacts; "
            "read labels with read_labels(path, contacts['id']) to keep them as rejected"
        )
    rows = lab["_row"].to_numpy().astype(np.int64)
    y = (lab["demand_class"] == "failure").to_numpy().astype(np.int64)
    if feature_matrix is None:
        feature_matrix = features_for(contacts["text"].to_list(), features, cache_dir)
    fit = cross_fit(feature_matrix, rows, y, seed=seed)
    n = contacts.height
    is_labelled = np.zeros(n, bool)
    is_labelled[rows] = True
    y_all = np.zeros(n, np.int64)
    y_all[rows] = y
    p_shown = fit.p_failure.copy()
    p_shown[rows] = y
    out = contacts.drop("text").with_columns(
        pl.Series("demand_class", np.where(p_shown >= 0.5, "failure", "value")),
        pl.Series("p_failure", p_shown),
        pl.Series("source", np.where(is_labelled, "labelled", "classified")),
    )
    estimate = corrected_share(y, fit.p_labelled, fit.p_failure[~is_labelled], seed=seed)
    alone = labelled_share(y, contacts=n)
    by = {
        dim: _share_table(contacts[dim], y_all, is_labelled, fit, seed)
        for dim in DIMENSIONS
        if dim in contacts.columns
    }
    failures = lab.filter(pl.col("demand_class") == "failure")
    pareto = _proportions(failures["demand_type"].cast(pl.String), "demand_type")
    what_failed = _proportions(failures["what_failed"].cast(pl.String), "what_failed")
    sd = float(np.std(y - fit.p_labelled, ddof=1))
    needed = []
    for w in TARGET_WIDTHS:
        needed.append(
            {
                "width": w,
                "labelled_sample": labels_for_width(
                    w, contacts=n, labelled=len(y), share=alone.share
                ),
                "classifier_corrected": labels_for_width(
                    w, contacts=n, labelled=len(y), share=estimate.share, residual_sd=sd
                )
                if not math.isnan(sd)
                else None,
            }
        )
    nxt = suggest_next(fit.p_failure, rows, k=suggest) if suggest else np.array([], np.int64)
    suggestions = pl.DataFrame(
        {
            "id": ids.gather(nxt),
            "p_failure": fit.p_failure[nxt],
            "text": contacts["text"].gather(nxt),
        }
    )
    return DemandStudy(
        contacts=out,
        estimate=estimate,
        labelled_only=alone,
        metrics=fit.metrics,
        features=features,
        by=by,
        pareto=pareto,
        what_failed=what_failed,
        suggestions=suggestions,
        labels_needed=needed,
        rejected_labels=rejected_labels if rejected_labels is not None else pl.DataFrame(),
    )
