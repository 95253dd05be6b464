"""What the linkage is worth: the model's parameters, the people formed, thresholds.

Every figure here is computed from the model and the scored pairs; none needs
a clear identifier, so ``quality.json`` can be shared with the link table.

The expected precision and recall at a threshold are the model's own estimate:
of the scored pairs at or above it, the mean match probability (precision),
and the share of all the model's expected matches among scored pairs that lie
at or above it (recall). They hold if the model is right; pairs that no
blocking rule brought together are not counted, so recall is an upper bound.

>>> import polars as pl
>>> pairs = pl.DataFrame({"match_probability": [0.999, 0.98, 0.6, 0.2]})
>>> t = threshold_table(pairs, [0.5, 0.9])
>>> [(r["threshold"], r["pairs"], round(r["expected_precision"], 3)) for r in t]
[(0.5, 3, 0.86), (0.9, 2, 0.99)]
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import polars as pl

#: Thresholds offered to choose from (match probability).
CANDIDATE_THRESHOLDS: tuple[float, ...] = (0.5, 0.8, 0.9, 0.95, 0.99, 0.999)

#: Blocking rules over more fields than this get no recall estimate (2**n patterns).
MAX_BLOCKING_FIELDS = 16


def threshold_table(
    pairs: pl.DataFrame,
    candidates: list[float] | tuple[float, ...],
    *,
    blocking_recall: float | None = None,
) -> list[dict[str, Any]]:
    """Pairs kept, expected precision, recall and F1 at each candidate threshold.

    A figure with nothing to estimate from is None: precision where no pair is
    kept, recall where the model expects no match among the scored pairs.

    ``expected_recall_of_scored`` is the share of the expected matches among
    scored pairs that are kept; ``expected_recall`` multiplies it by
    ``blocking_recall`` (the share of true matches the blocking rules compare
    at all, see :func:`blocking_recall`) when that is known.
    """
    p = pairs["match_probability"]
    expected_matches = float(p.sum())
    rows = []
    for t in candidates:
        kept = p.filter(p >= t)
        n = kept.len()
        hits = float(kept.sum()) if n else 0.0
        # No pair kept, or no match expected: nothing to estimate (None, not a vacuous 1).
        precision = hits / n if n else None
        of_scored = hits / expected_matches if expected_matches else None
        recall = (
            of_scored * blocking_recall
            if of_scored is not None and blocking_recall is not None
            else of_scored
        )
        f1 = 2 * precision * recall / (precision + recall) if precision and recall else None
        rows.append(
            {
                "threshold": t,
                "pairs": n,
                "expected_precision": precision,
                "expected_recall": recall,
                "expected_recall_of_scored": of_scored,
                "expected_f1": f1,
            }
        )
    return rows


def blocking_recall(
    rules: list[list[str]],
    exact_m: dict[str, float | None],
    present: dict[tuple[str, str], dict[str, float]],
    weights: dict[tuple[str, str], float],
) -> float | None:
    """The model's estimate of the share of true matches that some blocking rule compares.

    A true pair is compared when, for some rule, every field of the rule is
    present in both records and agrees exactly. For a pair of sources the
    chance that a field does is the share of records holding it in each source
    times the field's m probability of exact agreement; fields are taken as
    independent (the model's own assumption), and the rules' union is summed
    over every pattern of agreeing fields. Sources pairs are weighted by
    ``weights`` (the model's expected matches between them).

    ``rules``: the blocking rules (field names); ``exact_m``: each field's m
    probability of exact agreement (None if untrained: no estimate);
    ``present``: for each pair of sources, each field's share of pairs with the
    field in both records.

    >>> round(blocking_recall([["a"], ["b"]], {"a": 0.9, "b": 0.5},
    ...     {("x", "y"): {"a": 1.0, "b": 1.0}}, {("x", "y"): 1.0}), 3)
    0.95
    >>> round(blocking_recall([["a", "b"]], {"a": 0.9, "b": 0.5},
    ...     {("x", "y"): {"a": 0.5, "b": 1.0}}, {("x", "y"): 1.0}), 3)
    0.225
    """
    fields = sorted({f for rule in rules for f in rule})
    if not fields or len(fields) > MAX_BLOCKING_FIELDS:
        return None
    if any(exact_m.get(f) is None for f in fields):
        return None
    total_weight = sum(weights.values())
    if not total_weight:
        return None
    recall = 0.0
    for pair, weight in weights.items():
        agree = [present[pair].get(f, 0.0) * float(exact_m[f] or 0.0) for f in fields]
        covered = 0.0
        for pattern in itertools.product((False, True), repeat=len(fields)):
            agreeing = {f for f, a in zip(fields, pattern, strict=True) if a}
            if any(set(rule) <= agreeing for rule in rules):
                chance = 1.0
                for q, a in zip(agree, pattern, strict=True):
                    chance *= q if a else 1.0 - q
                covered += chance
        recall += weight / total_weight * covered
    return recall


def exact_m_probabilities(model: dict[str, Any]) -> dict[str, float | None]:
    """Each comparison's m probability of its first (exact agreement) level."""
    out: dict[str, float | None] = {}
    for c in model.get("comparisons", []):
        levels = [lv for lv in c.get("comparison_levels", []) if not lv.get("is_null_level")]
        out[str(c.get("output_column_name"))] = levels[0].get("m_probability") if levels else None
    return out


def choose_threshold(table: list[dict[str, Any]]) -> float:
    """The candidate with the best expected F1 (the higher threshold on a tie).

    >>> choose_threshold([{"threshold": 0.5, "expected_f1": 0.9},
    ...                   {"threshold": 0.9, "expected_f1": 0.9}])
    0.9
    """
    best = max(table, key=lambda r: (round(r["expected_f1"] or 0.0, 6), r["threshold"]))
    return float(best["threshold"])


def parameters(model: dict[str, Any]) -> dict[str, Any]:
    """The m and u probabilities and match weight of every comparison level."""
    comparisons = []
    for c in model.get("comparisons", []):
        levels = []
        for level in c.get("comparison_levels", []):
            if level.get("is_null_level"):
                levels.append({"level": level.get("label_for_charts", "null"), "null": True})
                continue
            m, u = level.get("m_probability"), level.get("u_probability")
            weight = math.log2(m / u) if m and u else None
            levels.append(
                {
                    "level": level.get("label_for_charts") or level.get("sql_condition"),
                    "m_probability": m,
                    "u_probability": u,
                    "match_weight": weight,
                    "term_frequency_adjusted": bool(level.get("tf_adjustment_column")),
                }
            )
        comparisons.append({"field": c.get("output_column_name"), "levels": levels})
    prior = model.get("probability_two_random_records_match")
    return {
        "probability_two_random_records_match": prior,
        "prior_match_weight": math.log2(prior / (1 - prior)) if prior else None,
        "comparisons": comparisons,
    }


def people_summary(people: pl.DataFrame) -> dict[str, Any]:
    """People formed, records per source and the distribution of cluster sizes."""
    sizes = people.group_by("person_key").agg(pl.first("cluster_size").alias("size"))
    dist = sizes.group_by("size").len().sort("size")
    spans = people.group_by("person_key").agg(pl.col("source").n_unique().alias("n"))
    return {
        "records": people.height,
        "people": sizes.height,
        "records_per_source": dict(people.group_by("source").len().sort("source").iter_rows()),
        "cluster_sizes": {str(s): int(n) for s, n in dist.iter_rows()},
        "largest_cluster": int(sizes["size"].max() or 0),
        "people_in_more_than_one_source": int((spans["n"] > 1).sum()),
    }
