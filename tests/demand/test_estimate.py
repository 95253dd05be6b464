"""The estimate's intervals against references, and their coverage on the corpus."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy.stats import binomtest

from systemic.demand.classify import cross_fit
from systemic.demand.corpus import load_corpus
from systemic.demand.estimate import (
    corrected_share,
    labelled_share,
    labels_for_width,
    wilson_interval,
)


@pytest.mark.parametrize("k,n", [(81, 263), (15, 148), (0, 20), (1, 29), (150, 300), (300, 300)])
def test_wilson_matches_scipy(k: int, n: int) -> None:
    ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    lo, hi = wilson_interval(k, n)
    assert lo == pytest.approx(ci.low, abs=1e-9)
    assert hi == pytest.approx(ci.high, abs=1e-9)


def test_newcombe_published_example() -> None:
    # Newcombe (1998), Statistics in Medicine 17:857, table I, 81/263, method 3
    lo, hi = wilson_interval(81, 263)
    assert (round(lo, 4), round(hi, 4)) == (0.2553, 0.3662)


def test_corrected_share_removes_a_biased_classifier() -> None:
    # a classifier that says 0.9 for everything: the correction brings it back to the truth
    rng = np.random.default_rng(3)
    truth = rng.random(5000) < 0.3
    labelled = rng.choice(5000, 400, replace=False)
    mask = np.zeros(5000, bool)
    mask[labelled] = True
    p = np.full(5000, 0.9)
    e = corrected_share(truth[labelled].astype(int), p[labelled], p[~mask])
    assert e.classified_share > 0.85
    assert e.low <= truth.mean() <= e.high
    # with a constant classifier the estimate is the labelled share (difference estimator)
    assert e.share == pytest.approx(
        (truth[labelled].sum() + (~mask).sum() * truth[labelled].mean()) / 5000
    )


def test_a_perfect_classifier_gives_the_exact_share() -> None:
    y = np.array([1, 0, 1, 1, 0])
    e = corrected_share(y, y.astype(float), np.array([1.0, 0.0, 0.0]))
    assert e.share == pytest.approx(4 / 8)
    assert e.width == pytest.approx(0.0)


def test_labels_for_width_reaches_the_width() -> None:
    more = labels_for_width(0.05, contacts=100_000, labelled=300, share=0.4)
    n = 300 + more
    assert 2 * 1.96 * np.sqrt(0.4 * 0.6 / n) <= 0.05 < 2 * 1.96 * np.sqrt(0.4 * 0.6 / (n - 1))
    assert labels_for_width(0.5, contacts=1000, labelled=300, share=0.4) == 0
    corrected = labels_for_width(0.05, contacts=10_000, labelled=300, share=0.4, residual_sd=0.3)
    assert corrected < more
    with pytest.raises(ValueError):
        labels_for_width(0, contacts=10, labelled=1, share=0.5)


def test_labelled_share() -> None:
    e = labelled_share(np.array([1] * 30 + [0] * 70), contacts=1000)
    assert (e.share, e.labelled, e.contacts) == (0.3, 100, 1000)
    assert (e.low, e.high) == wilson_interval(30, 100)


@pytest.fixture(scope="module")
def held_out() -> tuple[object, np.ndarray]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    corpus = load_corpus().filter(pl.col("part") == "held_out")
    x = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True).fit_transform(
        corpus["text"].to_list()
    )
    return x.tocsr(), (corpus["demand_class"] == "failure").to_numpy().astype(np.int64)


@pytest.mark.slow
def test_interval_covers_the_true_share_in_repeated_samples(held_out) -> None:  # type: ignore[no-untyped-def]
    """The Done-when: 95% intervals from 300 random labels cover the held-out part's
    true share in at least 93 of 100 repeated samples (cheap classifier: word TF-IDF)."""
    x, y = held_out
    truth = y.mean()
    covered = 0
    widths = []
    for rep in range(100):
        rng = np.random.default_rng(1000 + rep)
        labelled = rng.choice(len(y), 300, replace=False)
        fit = cross_fit(x, labelled, y[labelled], folds=3, seed=rep)
        mask = np.zeros(len(y), bool)
        mask[labelled] = True
        e = corrected_share(
            y[labelled], fit.p_labelled, fit.p_failure[~mask], resamples=500, seed=rep
        )
        covered += e.low <= truth <= e.high
        widths.append(e.width)
    assert covered >= 93, f"covered {covered} of 100"
    # and the classifier earns its keep: narrower than the labels alone (Wilson, 300)
    lo, hi = wilson_interval(int(truth * 300), 300)
    assert np.mean(widths) < hi - lo
