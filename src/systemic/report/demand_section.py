"""The report's demand-study section: the failure share with its interval, what fails, and
how far learn's inferred figures can be trusted.

Every sentence is written from the same :class:`~systemic.demand.study.DemandStudy`
and rule table as the charts beside it. Counts leave the team suppressed
(1-4 shown as "<5"), and shares made from hidden counts are hidden with them.
"""

from __future__ import annotations

import polars as pl

from systemic.data.disclosure import DEFAULT_THRESHOLD, suppress_counts
from systemic.demand.charts import pareto_chart, share_chart
from systemic.demand.study import DemandStudy
from systemic.report.charts import to_svg
from systemic.report.document import Figure, KeyFigure, Section, Table


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.0f}%"


def _interval(lo: float | None, hi: float | None) -> str:
    return "n/a" if lo is None or hi is None else f"{100 * lo:.0f}% to {100 * hi:.0f}%"


def demand_section(
    study: DemandStudy, rules: pl.DataFrame | None = None, *, threshold: int = DEFAULT_THRESHOLD
) -> Section:
    """A report section for a demand study (and learn's rules against its labels)."""
    e, alone, m = study.estimate, study.labelled_only, study.metrics
    section = Section(
        id="demand-study",
        title="Demand study: what people said",
        intro=(
            f"Staff wrote down what people said at {e.contacts:,} contacts; the team classified a "
            f"random {e.labelled:,} of them as value or failure demand, and a classifier trained "
            "on those labels classified the rest. The share below is corrected for the "
            "classifier's own error, measured on the labelled contacts, and its interval "
            "includes both that error and the chance of the sample."
        ),
    )
    section.key_figures += [
        KeyFigure(
            "failure demand",
            _pct(e.share),
            f"of {e.contacts:,} contacts; 95% interval {_interval(e.low, e.high)}",
        ),
        KeyFigure(
            "labelled sample alone",
            _pct(alone.share),
            f"{alone.labelled:,} labels; 95% interval {_interval(alone.low, alone.high)}",
        ),
        KeyFigure(
            "classifier accuracy",
            _pct(m.accuracy),
            f"cross-validated on the {m.labelled:,} labels ({study.features})",
        ),
    ]
    needed = next((n for n in study.labels_needed if n["width"] == 0.05), None)
    if needed and needed["classifier_corrected"]:
        section.paragraphs.append(
            f"The interval is {100 * e.width:.0f} points wide; about "
            f"{needed['classifier_corrected']:,} more randomly chosen labels would bring it "
            "down to 5 points."
        )
    if "locality" in study.by:
        table = study.by["locality"]
        shown = table.filter(pl.col("share").is_not_null())
        widest = shown.sort(pl.col("high") - pl.col("low"), descending=True).head(1)
        reading = "Each point is a locality's failure-demand share with its 95% interval."
        if widest.height:
            r = widest.row(0, named=True)
            reading += (
                f" The widest is {r['group']} ({_interval(r['low'], r['high'])}, "
                f"from {r['labelled']} labels): where intervals overlap, the data cannot say "
                "which locality has more failure demand."
            )
        section.figures.append(
            Figure(
                "Failure demand by locality",
                reading,
                to_svg(share_chart(table, "locality", e.share)),
            )
        )
    pub = suppress_counts(
        study.pareto.select("demand_type", "labelled", "share", "low", "high"),
        ["labelled"],
        threshold=threshold,
        linked={"share": ["labelled"], "low": ["labelled"], "high": ["labelled"]},
    ).with_columns(pl.col(c).cast(pl.Float64, strict=False) for c in ("share", "low", "high"))
    visible = pub.filter(pl.col("share").is_not_null())
    if visible.height:
        top = visible.row(0, named=True)
        section.figures.append(
            Figure(
                "What the failure demand is",
                f"The largest type of failure demand among the labelled contacts is "
                f"{top['demand_type']}: {_pct(top['share'])} of failure demand "
                f"(95% interval {_interval(top['low'], top['high'])}). Types with fewer than "
                f"{threshold} labelled contacts are not shown.",
                to_svg(pareto_chart(visible)),
            )
        )
        section.tables.append(
            Table(
                "Failure demand by type (labelled contacts)",
                pub.with_columns(
                    pl.col("share").map_elements(_pct, return_dtype=pl.String).fill_null("n/a"),
                    pl.struct("low", "high")
                    .map_elements(lambda r: _interval(r["low"], r["high"]), return_dtype=pl.String)
                    .alias("95% interval"),
                ).drop("low", "high"),
                note="Shares of labelled failure contacts; counts 1-4 shown as <5.",
            )
        )
    if rules is not None and rules.height:
        any_rule = rules.filter(pl.col("rule") == "any rule")
        if any_rule.height:
            r = any_rule.row(0, named=True)
            if r["fired"] >= threshold and r["true_positive"] >= threshold:
                section.paragraphs.append(
                    "learn infers failure demand from event patterns where no class is "
                    f"recorded. Against the {r['labelled']:,} labelled contacts, its rules called "
                    f"{r['fired']:,} contacts failure, of which {_pct(r['precision'])} were "
                    "(precision, 95% interval "
                    f"{_interval(r['precision_low'], r['precision_high'])}), and found "
                    f"{_pct(r['recall'])} of the failure demand (recall, "
                    f"{_interval(r['recall_low'], r['recall_high'])}). Inferred figures "
                    "elsewhere in this report should be read with that in mind."
                )
            else:
                section.paragraphs.append(
                    "learn's inference rules called too few labelled contacts failure to "
                    "judge their precision here."
                )
        # each rule's row is suppressed on its own (the 'any rule' row is their total,
        # published with its own small counts hidden)
        linked = {"precision": ["fired", "true_positive"], "recall": ["true_positive"]}
        cols = ["rule", "fired", "true_positive", "precision", "recall"]
        parts = [
            suppress_counts(
                rules.filter(pl.col("rule") != "any rule").select(cols),
                ["fired", "true_positive"],
                threshold=threshold,
                linked=linked,
            ),
            suppress_counts(
                any_rule.select(cols),
                ["fired", "true_positive"],
                threshold=threshold,
                linked=linked,
            ),
        ]
        shown_rules = pl.concat(parts).with_columns(
            pl.col(c)
            .cast(pl.Float64, strict=False)
            .map_elements(_pct, return_dtype=pl.String)
            .fill_null("n/a")
            for c in ("precision", "recall")
        )
        section.tables.append(
            Table(
                "learn's inferred-failure rules against the labels",
                shown_rules,
                note=(
                    "fired: labelled contacts the rule calls failure; true_positive: of those, "
                    "labelled failure. Precision = true_positive / fired; recall = "
                    "true_positive / labelled failure contacts. A contact counts for the first "
                    "rule that fires."
                ),
            )
        )
    return section
