"""Classify contacts as value or failure demand from what the person said.

Two feature sets, one model: ``tfidf`` (word 1-2 grams and character 3-5
grams, which survive typos) and ``minilm`` (sentence embeddings, see
:mod:`systemic.demand.embed`), each with L2-regularised logistic regression.

Everything is *cross-fitted*: the labelled contacts are split into folds;
each labelled contact's probability comes from the model trained without its
fold (out-of-fold), and each unlabelled contact's probability is the mean of
the fold models. The out-of-fold probabilities give honest accuracy,
precision, recall and calibration, and they are what the estimate uses to
measure the classifier's error (:mod:`systemic.demand.estimate`).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> X = np.vstack([rng.normal(-1, 1, (60, 3)), rng.normal(1, 1, (60, 3))])
>>> y = np.array([0] * 60 + [1] * 60)
>>> labelled = np.arange(0, 120, 2)
>>> fit = cross_fit(X, labelled, y[labelled], folds=5, seed=1)
>>> fit.p_failure.shape, round(fit.metrics.accuracy, 2) >= 0.8
((120,), True)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

#: Feature sets the classifier can use.
FEATURES = ("tfidf", "minilm")


@dataclass(frozen=True)
class ClassMetrics:
    """Cross-validated quality of the classifier on the labelled contacts.

    ``confusion`` is [[value as value, value as failure], [failure as value,
    failure as failure]] (rows: the label; columns: the prediction at 0.5).
    ``expected_calibration_error``: mean gap between predicted probability and
    observed share of failure over ten probability bins, weighted by contacts.
    """

    labelled: int
    folds: int
    accuracy: float
    precision_failure: float | None
    recall_failure: float | None
    precision_value: float | None
    recall_value: float | None
    confusion: list[list[int]]
    brier: float
    expected_calibration_error: float

    def to_dict(self) -> dict[str, Any]:
        """Plain types for JSON."""
        return dict(self.__dict__)


@dataclass
class CrossFit:
    """Probabilities of failure for every contact, and the classifier's measured quality.

    ``p_failure``: one per contact (out-of-fold for labelled contacts, the fold
    models' mean for the others). ``labelled`` holds the labelled contacts'
    row numbers and ``y`` their labels (1 = failure).
    """

    p_failure: np.ndarray
    labelled: np.ndarray
    y: np.ndarray
    metrics: ClassMetrics

    @property
    def p_labelled(self) -> np.ndarray:
        """Out-of-fold probabilities of the labelled contacts (same order as ``y``)."""
        return self.p_failure[self.labelled]


def tfidf_features(texts: Sequence[str]) -> Any:
    """Sparse TF-IDF features of the texts (fitted on all of them: no labels are used)."""
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer

    docs = [t or "" for t in texts]
    words = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, lowercase=True)
    chars = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(3, 5), min_df=2, sublinear_tf=True, lowercase=True
    )
    return hstack([words.fit_transform(docs), chars.fit_transform(docs)]).tocsr()


def _model(c: float) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, max_iter=2000)


def _folds(y: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """Stratified fold number for each labelled contact."""
    rng = np.random.default_rng(seed)
    fold = np.empty(len(y), np.int64)
    for cls in (0, 1):
        idx = np.flatnonzero(y == cls)
        rng.shuffle(idx)
        fold[idx] = np.arange(len(idx)) % folds
    return fold


def cross_fit(
    features: Any,
    labelled: np.ndarray,
    y: np.ndarray,
    *,
    folds: int = 5,
    c: float = 4.0,
    seed: int = 0,
    self_training: bool = False,
) -> CrossFit:
    """Cross-fitted probabilities of failure for every row of ``features``.

    ``labelled`` are row numbers with labels ``y`` (1 = failure, 0 = value).
    ``self_training`` adds, in each fold, the unlabelled contacts its model is
    most sure of (p < 0.05 or > 0.95, at most four times the labels) as
    pseudo-labels, and fits again.
    """
    labelled = np.asarray(labelled, np.int64)
    y = np.asarray(y, np.int64)
    n = features.shape[0]
    if len(labelled) != len(y):
        raise ValueError("labelled and y must have the same length")
    counts = np.bincount(y, minlength=2)
    if counts.min() < 2:
        raise ValueError(
            f"the labels hold {counts[1]} failure and {counts[0]} value contacts: label at "
            "least two of each (ideally 100 or more in all) before classifying"
        )
    folds = int(min(folds, counts.min()))
    fold = _folds(y, folds, seed)
    is_labelled = np.zeros(n, bool)
    is_labelled[labelled] = True
    unlabelled = np.flatnonzero(~is_labelled)
    p = np.zeros(n, np.float64)
    # the fits are small (hundreds of labels): BLAS threads only wait for each other, and on
    # busy cores they spin (measured 2x the wall time of one thread in a whole study)
    with threadpool_limits(limits=1, user_api="blas"):
        _fit_folds(features, labelled, y, fold, folds, unlabelled, p, c, self_training)
    return CrossFit(p, labelled, y, class_metrics(y, p[labelled], folds))


def _fit_folds(
    features: Any,
    labelled: np.ndarray,
    y: np.ndarray,
    fold: np.ndarray,
    folds: int,
    unlabelled: np.ndarray,
    p: np.ndarray,
    c: float,
    self_training: bool,
) -> None:
    """Fit one model per fold; write out-of-fold and averaged probabilities into ``p``.

    Each fold's model scores every row in one pass: copying out the unlabelled
    rows (most of a large dataset) for each fold cost more than the scoring.
    """
    for k in range(folds):
        train = labelled[fold != k]
        test = labelled[fold == k]
        model = _model(c).fit(features[train], y[fold != k])
        if self_training and len(unlabelled):
            pu = model.predict_proba(features)[unlabelled, 1]
            sure = np.flatnonzero((pu < 0.05) | (pu > 0.95))
            sure = sure[np.argsort(-np.abs(pu[sure] - 0.5))][: 4 * len(train)]
            if len(sure):
                rows = np.concatenate([train, unlabelled[sure]])
                ys = np.concatenate([y[fold != k], (pu[sure] > 0.5).astype(np.int64)])
                weight = np.concatenate([np.ones(len(train)), np.full(len(sure), 0.5)])
                model = _model(c).fit(features[rows], ys, sample_weight=weight)
        scores = model.predict_proba(features)[:, 1]
        p[test] = scores[test]
        p[unlabelled] += scores[unlabelled] / folds


def class_metrics(y: np.ndarray, p: np.ndarray, folds: int = 0) -> ClassMetrics:
    """Accuracy, per-class precision and recall, confusion, Brier score and calibration error."""
    y = np.asarray(y, np.int64)
    pred = (np.asarray(p) >= 0.5).astype(np.int64)
    conf = [[int(((y == a) & (pred == b)).sum()) for b in (0, 1)] for a in (0, 1)]
    (tn, fp), (fn, tp) = conf

    def ratio(a: int, b: int) -> float | None:
        return a / b if b else None

    bins = np.minimum((np.asarray(p) * 10).astype(np.int64), 9)
    ece = 0.0
    for b in range(10):
        sel = bins == b
        if sel.any():
            ece += sel.sum() / len(y) * abs(float(p[sel].mean()) - float(y[sel].mean()))
    return ClassMetrics(
        labelled=len(y),
        folds=folds,
        accuracy=float((pred == y).mean()) if len(y) else float("nan"),
        precision_failure=ratio(tp, tp + fp),
        recall_failure=ratio(tp, tp + fn),
        precision_value=ratio(tn, tn + fn),
        recall_value=ratio(tn, tn + fp),
        confusion=conf,
        brier=float(np.mean((np.asarray(p) - y) ** 2)) if len(y) else float("nan"),
        expected_calibration_error=ece,
    )


def suggest_next(p_failure: np.ndarray, labelled: np.ndarray, k: int = 20) -> np.ndarray:
    """Row numbers of the ``k`` unlabelled contacts the classifier is least sure of.

    Most uncertain first (probability closest to 0.5); ties keep row order.

    >>> suggest_next(np.array([0.1, 0.52, 0.9, 0.45, 0.5]), labelled=np.array([4]), k=2)
    array([1, 3])
    """
    mask = np.ones(len(p_failure), bool)
    mask[np.asarray(labelled, np.int64)] = False
    rows = np.flatnonzero(mask)
    order = np.argsort(np.abs(p_failure[rows] - 0.5), kind="stable")
    return rows[order[:k]]
