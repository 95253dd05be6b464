"""From scored pairs to people: threshold, review decisions, connected components.

A person is a connected component of the graph whose nodes are source records
and whose edges are the pairs at or above the threshold, with the pairs a
reviewer rejected taken out and the pairs a reviewer confirmed put in. Each
person gets a key derived from the record ids of its first record, never from
any identifying field.

>>> import polars as pl
>>> records = pl.DataFrame({"source": ["a", "a", "b", "b"], "record_id": ["1", "2", "x", "y"]})
>>> pairs = pl.DataFrame({"source_l": ["a"], "record_id_l": ["1"], "source_r": ["b"],
...     "record_id_r": ["x"], "match_probability": [0.97]})
>>> people = form_people(records, pairs, threshold=0.9)
>>> people.group_by("person_key").len()["len"].sort().to_list()
[1, 1, 2]
"""

from __future__ import annotations

import hashlib

import numpy as np
import polars as pl
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

PAIR_KEYS = ["source_l", "record_id_l", "source_r", "record_id_r"]


def person_key(source: str, record_id: str) -> str:
    """A person's key: a digest of the source and record id of the person's first record.

    The same first record gives the same key in every run, so keys are stable
    when extracts are relinked. The key is pseudonymised again at import.

    >>> k = person_key("housing", "T-1")
    >>> k.startswith("p-"), len(k), k == person_key("housing", "T-1")
    (True, 22, True)
    """
    return "p-" + hashlib.sha256(f"{source}\x1f{record_id}".encode()).hexdigest()[:20]


def canonical_pairs(pairs: pl.DataFrame) -> pl.DataFrame:
    """Each pair written with its smaller (source, record_id) on the left.

    >>> df = pl.DataFrame({"source_l": ["b"], "record_id_l": ["1"], "source_r": ["a"],
    ...     "record_id_r": ["9"]})
    >>> canonical_pairs(df).row(0)
    ('a', '9', 'b', '1')
    """
    swap = (pl.col("source_l") > pl.col("source_r")) | (
        (pl.col("source_l") == pl.col("source_r")) & (pl.col("record_id_l") > pl.col("record_id_r"))
    )
    # One with_columns: every expression reads the columns as they were.
    return pairs.with_columns(
        *[
            pl.when(swap).then(pl.col(f"{a}_{y}")).otherwise(pl.col(f"{a}_{x}")).alias(f"{a}_{x}")
            for a in ("source", "record_id")
            for x, y in (("l", "r"), ("r", "l"))
        ]
    )


def form_people(
    records: pl.DataFrame,
    pairs: pl.DataFrame,
    *,
    threshold: float,
    decisions: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Each record's person key (``source``, ``record_id``, ``person_key``, ``cluster_size``).

    ``records`` lists every source record (``source``, ``record_id``);
    ``pairs`` the scored pairs; ``decisions`` the reviewed pairs with a
    ``decision`` of ``confirm`` or ``reject``.
    """
    edges = pairs.filter(pl.col("match_probability") >= threshold).select(PAIR_KEYS)
    if decisions is not None and decisions.height:
        confirmed = decisions.filter(pl.col("decision") == "confirm").select(PAIR_KEYS)
        rejected = decisions.filter(pl.col("decision") == "reject").select(PAIR_KEYS)
        edges = pl.concat([edges.join(rejected, on=PAIR_KEYS, how="anti"), confirmed]).unique()
    nodes = records.select("source", "record_id").with_row_index("node")
    left = edges.join(
        nodes.rename({"source": "source_l", "record_id": "record_id_l", "node": "a"}),
        on=["source_l", "record_id_l"],
    ).join(
        nodes.rename({"source": "source_r", "record_id": "record_id_r", "node": "b"}),
        on=["source_r", "record_id_r"],
    )
    n = nodes.height
    a = left["a"].to_numpy().astype(np.int64)
    b = left["b"].to_numpy().astype(np.int64)
    graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    out = nodes.with_columns(pl.Series("cluster", labels))
    # The key comes from the cluster's first record in (source, record_id) order.
    first = (
        out.sort("source", "record_id")
        .group_by("cluster", maintain_order=True)
        .agg(
            pl.first("source").alias("_s"),
            pl.first("record_id").alias("_r"),
            pl.len().alias("cluster_size"),
        )
    )
    first = first.with_columns(
        pl.struct("_s", "_r")
        .map_elements(lambda r: person_key(r["_s"], r["_r"]), return_dtype=pl.String)
        .alias("person_key")
    )
    return (
        out.join(first.select("cluster", "person_key", "cluster_size"), on="cluster")
        .sort("node")
        .select("source", "record_id", "person_key", "cluster_size")
    )


def best_probability(records: pl.DataFrame, pairs: pl.DataFrame, people: pl.DataFrame) -> pl.Series:
    """Each record's match probability: its strongest pair inside its own person.

    A record alone in its person has the probability of its strongest pair
    with anyone (how close it came to being linked), or 0 if it had none.
    """
    both = pl.concat(
        [
            pairs.select(
                pl.col("source_l").alias("source"),
                pl.col("record_id_l").alias("record_id"),
                pl.col("source_r").alias("other_source"),
                pl.col("record_id_r").alias("other_id"),
                "match_probability",
            ),
            pairs.select(
                pl.col("source_r").alias("source"),
                pl.col("record_id_r").alias("record_id"),
                pl.col("source_l").alias("other_source"),
                pl.col("record_id_l").alias("other_id"),
                "match_probability",
            ),
        ]
    )
    keyed = people.select("source", "record_id", "person_key")
    both = both.join(keyed, on=["source", "record_id"]).join(
        keyed.rename(
            {"source": "other_source", "record_id": "other_id", "person_key": "other_key"}
        ),
        on=["other_source", "other_id"],
    )
    inside = (
        both.filter(pl.col("person_key") == pl.col("other_key"))
        .group_by("source", "record_id")
        .agg(pl.max("match_probability").alias("inside"))
    )
    anyone = both.group_by("source", "record_id").agg(pl.max("match_probability").alias("anyone"))
    joined = (
        people.select("source", "record_id", "cluster_size")
        .join(inside, on=["source", "record_id"], how="left")
        .join(anyone, on=["source", "record_id"], how="left")
    )
    prob = (
        pl.when(pl.col("cluster_size") > 1)
        .then(pl.col("inside"))
        .otherwise(pl.col("anyone"))
        .fill_null(0.0)
    )
    return joined.select(prob.alias("match_probability"))["match_probability"]
