"""The classifier's cross-fitting, metrics (against scikit-learn) and suggestions."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix, precision_score, recall_score

from systemic.demand.classify import class_metrics, cross_fit, suggest_next


def test_metrics_match_scikit_learn() -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 200)
    p = np.clip(y * 0.6 + rng.random(200) * 0.5, 0, 1)
    m = class_metrics(y, p)
    pred = (p >= 0.5).astype(int)
    assert m.confusion == confusion_matrix(y, pred, labels=[0, 1]).tolist()
    assert m.precision_failure == pytest.approx(precision_score(y, pred))
    assert m.recall_failure == pytest.approx(recall_score(y, pred))
    assert m.precision_value == pytest.approx(precision_score(y, pred, pos_label=0))
    assert m.recall_value == pytest.approx(recall_score(y, pred, pos_label=0))
    assert m.brier == pytest.approx(np.mean((p - y) ** 2))


def test_labelled_probabilities_are_out_of_fold() -> None:
    # labels that are pure noise: out-of-fold accuracy must be near chance, even though a
    # model fitted on all of them would memorise them (many features, few rows)
    rng = np.random.default_rng(2)
    x = rng.normal(size=(200, 150))
    y = rng.integers(0, 2, 200)
    fit = cross_fit(x, np.arange(200), y, c=100.0, seed=0)
    assert 0.35 < fit.metrics.accuracy < 0.65


def test_too_few_labels_of_a_class_is_an_error() -> None:
    with pytest.raises(ValueError, match="label at least two of each"):
        cross_fit(np.eye(4), np.arange(4), np.array([1, 1, 1, 0]))


def test_suggestions_are_most_uncertain_first_and_unlabelled() -> None:
    p = np.array([0.5, 0.9, 0.45, 0.05, 0.51])
    assert suggest_next(p, np.array([0]), k=3).tolist() == [4, 2, 1]
