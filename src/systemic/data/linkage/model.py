"""The Fellegi-Sunter model: Splink settings built from ours, trained and scored.

Splink does the work (blocking, comparison vectors, expectation maximisation,
match weights) in DuckDB by default, or in Spark when a session is given. This
module turns :class:`LinkSettings` into Splink's settings, trains the model
without labels (or from a shared reliable key), and returns the scored pairs
with record ids, probabilities and comparison levels only: no clear values
leave the engine.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from systemic.data.linkage.clusters import canonical_pairs
from systemic.data.linkage.quality import blocking_recall, exact_m_probabilities
from systemic.data.linkage.records import RECORD_ID, SOURCE, nickname_column
from systemic.data.linkage.settings import FieldSettings, LinkSettings

#: Recall assumed for the deterministic rules that estimate the prior
#: probability that two records match (Splink's estimate is scaled up by it).
DETERMINISTIC_RECALL = 0.7

#: The prior used when the exact rules find no pair (Splink's own default), and the
#: most it may be (a prior of 1 makes every pair a match and training impossible).
FALLBACK_PRIOR = 1e-4
MAX_PRIOR = 0.5

#: Share of comparison levels left untrained past which the model is called a guess.
UNTRAINED_SHARE = 0.25

#: Share of true matches whose dates of birth have day and month swapped (a
#: fixed m probability: keying errors of this kind are a few in a thousand).
SWAPPED_DATE_M = 0.005


@dataclass
class ScoredPairs:
    """What a trained model says: pairs, parameters, blocking counts."""

    pairs: pl.DataFrame
    parameters: dict[str, Any]
    blocking: list[dict[str, Any]]
    training: list[str] = field(default_factory=list)
    #: What the model could not learn from these data, in words (empty when all went well).
    warnings: list[str] = field(default_factory=list)
    #: The model's estimate of the share of true matches the blocking rules compare.
    blocking_recall: float | None = None


def _levels_for(name: str, f: FieldSettings) -> Any:
    """The Splink comparison for one field."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    compare = f.compare
    if compare == "default":
        compare = {
            "forename": "name",
            "surname": "name",
            "date_of_birth": "date",
            "postcode": "postcode" if f.uk_postcode else "levenshtein",
            "address": "jaro_winkler",
            "email": "email",
            "text": "levenshtein",
        }.get(str(f.kind), "identifier")
    if compare == "exact":
        return cl.ExactMatch(name).configure(term_frequency_adjustments=f.term_frequency)
    if compare == "levenshtein":
        t = [int(x) for x in f.thresholds or [1, 2]]
        return cl.LevenshteinAtThresholds(name, t)
    if compare == "jaro_winkler":
        return cl.JaroWinklerAtThresholds(name, f.thresholds or [0.95, 0.88, 0.7])
    if compare == "email":
        return cl.EmailComparison(name)
    if compare == "postcode":
        return cl.PostcodeComparison(name)
    if compare == "identifier":
        levels = [
            cll.NullLevel(name),
            cll.ExactMatchLevel(name),
            cll.DamerauLevenshteinLevel(name, 1).configure(
                label_for_charts="One character wrong or two swapped"
            ),
            cll.ElseLevel(),
        ]
        return cl.CustomComparison(levels, output_column_name=name)
    if compare == "name":
        thresholds = f.thresholds or [0.92, 0.88, 0.7]
        exact = cll.ExactMatchLevel(name)
        if f.term_frequency:
            exact = exact.configure(tf_adjustment_column=name)
        levels = [cll.NullLevel(name), exact]
        if f.kind == "forename" and f.nicknames:
            nick = nickname_column(name)
            levels.append(
                cll.ArrayIntersectLevel(nick, 1).configure(
                    label_for_charts="Nickname of the same name"
                )
            )
        levels += [cll.JaroWinklerLevel(name, t) for t in thresholds]
        levels.append(cll.ElseLevel())
        return cl.CustomComparison(levels, output_column_name=name)
    if compare == "date":
        year, month, day = (f"substr({name}_{{s}}, {a}, {b})" for a, b in ((1, 4), (6, 2), (9, 2)))
        swapped = (
            f"{year.format(s='l')} = {year.format(s='r')} and "
            f"{month.format(s='l')} = {day.format(s='r')} and "
            f"{day.format(s='l')} = {month.format(s='r')}"
        )
        levels = [
            cll.NullLevel(name),
            cll.ExactMatchLevel(name).configure(label_for_charts="Exact match"),
            # Fixed, not trained: a data set may hold too few swaps for EM to see,
            # and an untrained level would then count a swap as strong evidence
            # against a match (FEBRL has none; m came out at 1e-13).
            cll.CustomLevel(swapped, label_for_charts="Day and month swapped").configure(
                m_probability=SWAPPED_DATE_M, fix_m_probability=True
            ),
            cll.LevenshteinLevel(name, 1).configure(label_for_charts="One digit wrong"),
            cll.AbsoluteDateDifferenceLevel(
                name, threshold=1, metric="month", input_is_string=True
            ).configure(label_for_charts="Within a month"),
            cll.AbsoluteDateDifferenceLevel(
                name, threshold=1, metric="year", input_is_string=True
            ).configure(label_for_charts="Within a year"),
            cll.AbsoluteDateDifferenceLevel(
                name, threshold=10, metric="year", input_is_string=True
            ).configure(label_for_charts="Within ten years"),
            cll.ElseLevel(),
        ]
        return cl.CustomComparison(levels, output_column_name=name)
    raise AssertionError(compare)


#: The comparison that holds every part of the address, with the surname when there is one.
HOME = "surname_and_address"
ADDRESS = "whole_address"

#: Jaro-Winkler similarity from which two streets, or two surnames, are nearly the same.
NEARLY_THE_SAME = 0.88


def _home_levels(parts: dict[str, FieldSettings], surname: str | None) -> Any:
    """One comparison for the address's parts, and the surname with them if there is one.

    Compared field by field, a household member (same surname, same house
    number, street, town and postcode, another forename and date of birth)
    agrees on six fields that the model takes as independent evidence, and
    outweighs the fields that disagree: household members were linked as one
    person. Two things are wrong there. The parts of an address agree together,
    so they are one piece of evidence, not five. And among records of two
    different people, sharing a surname and sharing an address go together (a
    family), so the chance of both is far above the product of the two. Here
    the address is one comparison, and the surname is compared in the same
    one: "same surname at the same address" gets its own u probability,
    counted by random sampling like every other, so a household is weighed as
    often as households occur.
    """
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    names = list(parts)
    agree = " + ".join(f"(case when {n}_l = {n}_r then 1 else 0 end)" for n in names)
    given = " + ".join(
        f"(case when {n}_l is not null and {n}_r is not null then 1 else 0 end)" for n in names
    )
    key = [n for n, f in parts.items() if f.kind in ("address", "postcode")] or names
    key_agrees = "(" + " or ".join(f"{n}_l = {n}_r" for n in key) + ")"
    none_given = f"(({given}) = 0)"

    # Each level is built afresh where it is used (configure() changes a level in place).
    def same() -> Any:  # every part given agrees, or all but one, street or postcode among them
        return cll.CustomLevel(f"(({given}) - ({agree}) <= 1 and ({agree}) >= 2 and {key_agrees})")

    def close() -> Any:  # the street nearly the same, or the postcode one character off
        fuzzy = [
            cll.JaroWinklerLevel(n, NEARLY_THE_SAME)
            if f.kind == "address"
            else cll.LevenshteinLevel(n, 1)
            for n, f in parts.items()
            if f.kind in ("address", "postcode")
        ] or [cll.ExactMatchLevel(n) for n in names]
        return cll.Or(*fuzzy) if len(fuzzy) > 1 else fuzzy[0]

    # A part other than the street and postcode agreeing alone (the town, say): a level
    # of its own only when there is such a part (otherwise "nearly the same" holds it).
    others = [n for n in names if n not in key]

    def some() -> list[Any]:
        if not others:
            return []
        return [label(cll.CustomLevel(f"({agree}) >= 1"), "Some part of the address agrees")]

    def label(level: Any, text: str, **extra: Any) -> Any:
        return level.configure(label_for_charts=text, **extra)

    if surname is None:
        levels = [
            label(
                cll.CustomLevel(none_given), "No part of the address in both", is_null_level=True
            ),
            label(same(), "Same address"),
            label(close(), "Nearly the same address"),
            *some(),
            cll.ElseLevel(),
        ]
        return cl.CustomComparison(levels, output_column_name=ADDRESS)

    s_given = f"({surname}_l is not null and {surname}_r is not null)"

    def s_same() -> Any:
        return cll.ExactMatchLevel(surname)

    def s_close() -> Any:
        return cll.JaroWinklerLevel(surname, NEARLY_THE_SAME)

    tf = {"tf_adjustment_column": surname}
    levels = [
        label(
            cll.CustomLevel(f"(not {s_given}) and {none_given}"),
            "No surname or address in both",
            is_null_level=True,
        ),
        label(cll.And(s_same(), same()), "Same surname, same address", **tf),
        label(cll.And(s_same(), close()), "Same surname, nearly the same address", **tf),
        label(
            cll.And(s_close(), cll.Or(same(), close())),
            "Similar surname, same or nearly the same address",
        ),
        label(s_same(), "Same surname, another address (or none given)", **tf),
        label(cll.And(same(), cll.CustomLevel(s_given)), "Same address, another surname"),
        label(same(), "Same address, no surname to compare"),
        label(s_close(), "Similar surname, another address"),
        label(close(), "Nearly the same address, another surname"),
        *some(),
        cll.ElseLevel(),
    ]
    return cl.CustomComparison(levels, output_column_name=HOME)


def _home(settings: LinkSettings) -> tuple[list[str], str | None]:
    """The fields in the home comparison (address parts, then the surname) and its surname."""
    parts = settings.address_parts()
    if not parts:
        return [], None
    surnames = [n for n, f in settings.fields.items() if f.kind == "surname"]
    surname = surnames[0] if len(surnames) == 1 else None
    return parts + ([surname] if surname else []), surname


def comparison_names(settings: LinkSettings) -> list[str]:
    """The comparisons' names: each field's own, the home's fields as one."""
    home, surname = _home(settings)
    names: list[str] = []
    for name in settings.fields:
        if name not in home:
            names.append(name)
        elif not any(n in names for n in (HOME, ADDRESS)):
            names.append(HOME if surname else ADDRESS)
    return names


def comparisons(settings: LinkSettings) -> list[Any]:
    """Splink's comparisons: one per field, the address's parts (and surname) as one."""
    parts = settings.address_parts()
    _, surname = _home(settings)
    return [
        _home_levels({p: settings.fields[p] for p in parts}, surname)
        if name in (HOME, ADDRESS)
        else _levels_for(name, settings.fields[name])
        for name in comparison_names(settings)
    ]


def splink_settings(settings: LinkSettings) -> Any:
    """Splink's settings for ours (comparisons, blocking rules, link type)."""
    from splink import SettingsCreator, block_on

    return SettingsCreator(
        link_type=settings.linkage.link_type,
        unique_id_column_name=RECORD_ID,
        source_dataset_column_name=SOURCE,
        comparisons=comparisons(settings),
        blocking_rules_to_generate_predictions=[
            block_on(*rule) for rule in settings.blocking_rules()
        ],
        retain_matching_columns=False,
        # Per-field weights (mw_) come with the intermediate columns; only ids, weights and
        # scores are read back (see _pairs_frame), never the _l/_r values.
        retain_intermediate_calculation_columns=True,
        additional_columns_to_retain=[],
    )


def _quiet_splink() -> None:
    # Splink logs progress at INFO, and some messages quote values. Its warnings (levels
    # not observed, parameters not trained) are read from the model instead and reported
    # in our words, in quality.json and by the command (see untrained_levels).
    for name in ("splink", "splink.internals"):
        logging.getLogger(name).setLevel(logging.ERROR)


def untrained_levels(model: dict[str, Any]) -> list[dict[str, Any]]:
    """The comparison levels whose m or u probability the training left unset.

    Splink scores such a level with a default guess, not with anything learnt
    from the data: with few records (or none agreeing) most levels end up so.

    >>> untrained_levels({"comparisons": [{"output_column_name": "surname",
    ...     "comparison_levels": [{"is_null_level": True},
    ...         {"label_for_charts": "Exact", "m_probability": 0.9, "u_probability": 0.01},
    ...         {"label_for_charts": "Else", "u_probability": 0.99}]}]})
    [{'field': 'surname', 'level': 'Else', 'missing': ['m']}]
    """
    out = []
    for c in model.get("comparisons", []):
        for level in c.get("comparison_levels", []):
            if level.get("is_null_level"):
                continue
            missing = [k for k in ("m", "u") if level.get(f"{k}_probability") is None]
            if missing:
                out.append(
                    {
                        "field": c.get("output_column_name"),
                        "level": level.get("label_for_charts") or level.get("sql_condition"),
                        "missing": missing,
                    }
                )
    return out


def local_spark_session(cores: int = 2) -> Any:
    """A local Spark session with Splink's similarity functions (needs Java 17).

    For a cluster, build the session as the cluster needs and add the jar at
    ``splink.backends.spark.similarity_jar_location()`` to ``spark.jars``.
    """
    import sys

    from pyspark.sql import SparkSession
    from splink.backends.spark import similarity_jar_location

    return (
        SparkSession.builder.master(f"local[{cores}]")
        .appName("systemic-link")
        # Python workers run in this interpreter, which has pyarrow.
        .config("spark.pyspark.python", sys.executable)
        .config("spark.jars", similarity_jar_location())
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")  # the CLI prints its own status
        .config("spark.sql.shuffle.partitions", str(max(cores * 2, 2)))
        .getOrCreate()
    )


def database(backend: str = "duckdb", spark: Any = None) -> Any:
    """A Splink database API: DuckDB in this process, or the given Spark session."""
    if backend == "spark":
        import tempfile

        from splink.internals.spark.database_api import SparkAPI

        if spark is None:
            raise ValueError("the spark backend needs a Spark session (spark=...)")
        if not spark.sparkContext.getCheckpointDir():  # Splink checkpoints tables
            spark.sparkContext.setCheckpointDir(tempfile.mkdtemp(prefix="systemic-spark-"))
        return SparkAPI(spark_session=spark)
    import duckdb
    from splink.internals.duckdb.database_api import DuckDBAPI

    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET enable_progress_bar = false")  # the CLI prints its own status
    return DuckDBAPI(connection=con)


def score(
    tables: list[pl.DataFrame],
    settings: LinkSettings,
    *,
    backend: str = "duckdb",
    spark: Any = None,
) -> ScoredPairs:
    """Train the model on the cleaned tables and score every blocked pair.

    Pairs under ``settings.linkage.floor`` are not returned (they are never
    links, nor in the review band).
    """
    from splink import Linker, block_on
    from splink.internals.exceptions import EMTrainingException

    _quiet_splink()
    db = database(backend, spark)
    if backend == "spark":
        registered = [
            db.register(spark.createDataFrame(t.to_arrow()), table_name=f"source_{i}")
            for i, t in enumerate(tables)
        ]
    else:
        registered = [
            db.register(t.to_arrow(), table_name=f"source_{i}") for i, t in enumerate(tables)
        ]
    linker = Linker(registered, splink_settings(settings))
    link = settings.linkage
    training: list[str] = []

    # The prior: exact agreement on the strongest fields, assumed to find 70% of matches.
    strong = [n for n in ("forename", "surname", "date_of_birth") if n in settings.fields]
    deterministic = []
    if key := settings.reliable_key():
        deterministic.append(block_on(key))
    if len(strong) >= 2:
        deterministic.append(block_on(*strong))
    if not deterministic:
        deterministic = [block_on(*r) for r in settings.blocking_rules() if len(r) >= 2][:1] or [
            block_on(*settings.blocking_rules()[0])
        ]
    warnings: list[str] = []
    try:
        linker.training.estimate_probability_two_random_records_match(
            deterministic, recall=DETERMINISTIC_RECALL
        )
        training.append(
            f"prior from {len(deterministic)} exact rule(s), recall assumed {DETERMINISTIC_RECALL}"
        )
    except ValueError:  # more exact agreements than 70% recall allows: a very small file
        _set_prior(linker, MAX_PRIOR)
        training.append(f"prior set to {MAX_PRIOR}: most pairs agree exactly on its rule")
        warnings.append(
            "most pairs of records agree exactly on the prior's rule (too few records to "
            f"estimate how often two records match): the prior is set to {MAX_PRIOR}"
        )
    prior = linker.misc.save_model_to_json().get("probability_two_random_records_match")
    if not prior or prior > MAX_PRIOR:
        # 0 (no pair agrees exactly) would make every weight minus infinity; 1 every pair
        # a match. Neither can be trained on: a fixed prior is used, and said.
        fallback = FALLBACK_PRIOR if not prior else MAX_PRIOR
        _set_prior(linker, fallback)
        training[-1] = f"prior set to {fallback} (the exact rules gave {prior})"
        warnings.append(
            f"{'no pair' if not prior else 'almost every pair'} of records agrees exactly on "
            f"the prior's rule, so the prior could not be estimated: it is set to {fallback}"
        )
    linker.training.estimate_u_using_random_sampling(max_pairs=link.u_sample_pairs, seed=link.seed)
    training.append(f"u from random sampling ({link.u_sample_pairs:.0e} pairs, seed {link.seed})")
    if key := settings.reliable_key():
        linker.training.estimate_m_from_label_column(key)
        training.append(f"m from the shared key {key!r} as labels")
    else:
        for rule in settings.training_rules():
            # A sample of at most em_max_pairs blocked pairs: at a million records a
            # training rule can block tens of millions, and EM needs far fewer.
            # A session that fails leaves the linker's model changed (the comparisons it
            # blocks on taken out, its own prior): the model before it is put back.
            before = linker._settings_obj.core_model_settings.copy()
            try:
                linker.training.estimate_parameters_using_expectation_maximisation(
                    block_on(*rule),
                    estimate_without_term_frequencies=True,
                    max_pairs=link.em_max_pairs,
                )
            except EMTrainingException:  # no two records agree on the rule
                linker._settings_obj.core_model_settings = before
                training.append(f"no pairs to train on when blocking on {rule}: skipped")
                warnings.append(
                    f"no two records agree on {' and '.join(rule)}, so expectation "
                    "maximisation blocked on it could not run"
                )
                continue
            except ValueError as error:
                # Splink 5 refuses an m probability that underflows (below 1e-300), which EM
                # reaches when no likely match falls in a level: the session is dropped, and
                # the levels only it would have trained are reported as untrained below.
                if "below the minimum allowed" not in str(error):
                    raise
                linker._settings_obj.core_model_settings = before
                training.append(f"expectation maximisation blocked on {rule} diverged: skipped")
                warnings.append(
                    f"expectation maximisation blocked on {' and '.join(rule)} drove an m "
                    "probability to zero (no likely match at one of its levels), so its "
                    "session was dropped"
                )
                continue
            training.append(f"m by expectation maximisation, blocking on {rule}")

    predictions = linker.inference.predict(threshold_match_probability=link.floor)
    pairs = _pairs_frame(predictions, settings)
    model = linker.misc.save_model_to_json()
    untrained = untrained_levels(model)
    if untrained:
        names = sorted({str(u["field"]) for u in untrained})
        levels = sum(
            not level.get("is_null_level")
            for c in model.get("comparisons", [])
            for level in c.get("comparison_levels", [])
        )
        message = (
            f"{len(untrained)} of {levels} comparison levels ({', '.join(names)}) were not seen "
            "in training: pairs at those levels are scored with Splink's default guesses "
            "(model.untrained_levels lists them)"
        )
        if len(untrained) >= UNTRAINED_SHARE * levels:
            message += (
                "; with so much untrained, the match probabilities and the expected precision "
                "and recall are guesses, not estimates: link more records, or review every pair"
            )
        warnings.append(message)
    counts = linker.blocking_analysis.count_comparisons_from_blocking_rules(
        record_sample_proportion=1.0
    )
    blocking = [
        {
            "rule": rule,
            "new_comparisons": int(r["marginal_comparison_count"]),
            "cumulative_comparisons": int(r["cumulative_comparison_count"]),
            "possible_comparisons": int(r["total_possible_comparison_count"]),
        }
        for rule, r in zip(settings.blocking_rules(), counts, strict=True)
    ]
    predictions.drop_table_from_database_and_remove_from_cache()
    recall = _blocking_recall(tables, pairs, model, settings)
    if recall is None:
        warnings.append(
            "the share of true matches that the blocking rules compare could not be estimated "
            "(a field's exact agreement is untrained): expected recall counts only the pairs "
            "compared"
        )
    return ScoredPairs(
        pairs=pairs.drop("match_key"),
        parameters=model,
        blocking=blocking,
        training=training,
        warnings=warnings,
        blocking_recall=recall,
    )


def _blocking_recall(
    tables: list[pl.DataFrame], pairs: pl.DataFrame, model: dict[str, Any], settings: LinkSettings
) -> float | None:
    """The share of true matches the blocking rules compare, from the model and the data."""
    rules = settings.blocking_rules()
    fields = sorted({f for rule in rules for f in rule})
    shares = {
        str(t[SOURCE][0]): {f: float(t[f].is_not_null().mean() or 0.0) for f in fields}
        for t in tables
        if t.height
    }
    link_type = settings.linkage.link_type
    source_pairs = [
        (a, b)
        for a, b in itertools.combinations_with_replacement(sorted(shares), 2)
        if (a != b or link_type != "link_only") and (a == b or link_type != "dedupe_only")
    ]
    # Where the model expects the matches to be: its summed match probability per pair of
    # sources among the scored pairs (each pair of sources alike when there are none).
    expected = {
        (a, b): float(p)
        for a, b, p in pairs.group_by("source_l", "source_r")
        .agg(pl.col("match_probability").sum())
        .iter_rows()
    }
    weights = {pair: expected.get(pair, 0.0) for pair in source_pairs}
    if not any(weights.values()):
        weights = dict.fromkeys(source_pairs, 1.0)
    present = {(a, b): {f: shares[a][f] * shares[b][f] for f in fields} for a, b in source_pairs}
    exact_m = exact_m_probabilities(model)
    for f in fields:
        if f not in exact_m:  # a part of the home comparison: no m of its own
            exact_m[f] = part_agreement(tables, pairs, f, rules)
    return blocking_recall(rules, exact_m, present, weights)


def part_agreement(
    tables: list[pl.DataFrame], pairs: pl.DataFrame, field: str, rules: list[list[str]]
) -> float | None:
    """The m probability that ``field`` agrees exactly, for a field compared inside another.

    Estimated from the scored pairs, each counted by its match probability,
    among those where both records hold the field. Only pairs found by a
    blocking rule without the field are counted: a rule on the field finds
    only pairs that agree on it. None when no such pair holds the field.
    """
    keys = [str(i) for i, rule in enumerate(rules) if field not in rule]
    found = pairs.filter(pl.col("match_key").cast(pl.String).is_in(keys))
    if not found.height:
        return None
    values = pl.concat([t.select(SOURCE, RECORD_ID, field) for t in tables if t.height])
    joined = found.join(
        values.rename({SOURCE: "source_l", RECORD_ID: "record_id_l", field: "l"}),
        on=["source_l", "record_id_l"],
    ).join(
        values.rename({SOURCE: "source_r", RECORD_ID: "record_id_r", field: "r"}),
        on=["source_r", "record_id_r"],
    )
    both = joined.filter(pl.col("l").is_not_null() & pl.col("r").is_not_null())
    weight = float(both["match_probability"].sum())
    if weight <= 0:
        return None
    agree = float(both.filter(pl.col("l") == pl.col("r"))["match_probability"].sum())
    return agree / weight


def _columns(predictions: Any) -> list[str]:
    """The column names of Splink's predictions table (no rows read)."""
    empty = predictions.db_api._execute_sql_against_backend(
        f"select * from {predictions.physical_name} limit 0"
    )
    return list(empty.columns)


def _set_prior(linker: Any, prior: float) -> None:
    """Fix the prior probability that two random records match (Splink 5 has no setter)."""
    linker._settings_obj._probability_two_random_records_match = prior


def _pairs_frame(predictions: Any, settings: LinkSettings) -> pl.DataFrame:
    """The scored pairs as Polars: ids, probability, weight and each field's level."""
    # Splink leaves out the weight column of a comparison it has no parameters for (with
    # too few records to train on): such a field's weight is read as missing.
    present = set(_columns(predictions))
    gammas = [
        f"mw_{n}" if f"mw_{n}" in present else f"cast(null as double) as mw_{n}"
        for n in comparison_names(settings)
    ]
    cols = [
        f"{SOURCE}_l",
        f"{RECORD_ID}_l",
        f"{SOURCE}_r",
        f"{RECORD_ID}_r",
        "match_weight",
        "match_probability",
        *gammas,
        "match_key",
    ]
    sql = f"select {', '.join(cols)} from {predictions.physical_name}"
    arrow = predictions.db_api._execute_sql_against_backend(sql)
    if hasattr(arrow, "toArrow"):  # a Spark DataFrame (Spark 4)
        arrow = arrow.toArrow()
    elif hasattr(arrow, "to_arrow_table"):  # a DuckDB relation (a table even with no rows)
        arrow = arrow.to_arrow_table()
    elif hasattr(arrow, "arrow"):
        arrow = arrow.arrow()
    frame = pl.from_arrow(arrow)
    assert isinstance(frame, pl.DataFrame)
    return canonical_pairs(
        frame.rename(
            {
                f"{SOURCE}_l": "source_l",
                f"{RECORD_ID}_l": "record_id_l",
                f"{SOURCE}_r": "source_r",
                f"{RECORD_ID}_r": "record_id_r",
            }
        )
    )
