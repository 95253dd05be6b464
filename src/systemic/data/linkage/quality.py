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

import math
from typing import Any

import polars as pl

#: Thresholds offered to choose from (match probability).
CANDIDATE_THRESHOLDS: tuple[float, ...] = (0.5, 0.8, 0.9, 0.95, 0.99, 0.999)


def threshold_table(
    pairs: pl.DataFrame, candidates: list[float] | tuple[float, ...]
) -> list[dict[str, Any]]:
    """Pairs kept, expected precision, recall and F1 at each candidate threshold."""
    p = pairs["match_probability"]
    expected_matches = float(p.sum())
    rows = []
    for t in candidates:
        kept = p.filter(p >= t)
        n = kept.len()
        hits = float(kept.sum()) if n else 0.0
        precision = hits / n if n else 1.0
        recall = hits / expected_matches if expected_matches else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        rows.append(
            {
                "threshold": t,
                "pairs": n,
                "expected_precision": precision,
                "expected_recall": recall,
                "expected_f1": f1,
            }
        )
    return rows


def choose_threshold(table: list[dict[str, Any]]) -> float:
    """The candidate with the best expected F1 (the higher threshold on a tie).

    >>> choose_threshold([{"threshold": 0.5, "expected_f1": 0.9},
    ...                   {"threshold": 0.9, "expected_f1": 0.9}])
    0.9
    """
    best = max(table, key=lambda r: (round(r["expected_f1"], 6), r["threshold"]))
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
