"""The failure-demand share, with intervals that say how sure we can be.

Two estimates, both from a *random* sample of labelled contacts:

- **labelled sample alone**: the share of failure among the labelled
  contacts, with a Wilson 95% interval (:func:`wilson_interval`);
- **classifier, corrected for its error** (a model-assisted *difference
  estimator*, the same idea as adjusted classify-and-count): add up the
  classifier's probabilities of failure over the unlabelled contacts, then
  correct that sum by the classifier's mean error measured on the labelled
  contacts (label minus out-of-fold probability). The labelled contacts count
  with their own labels. Because the labelled contacts are a random sample
  and their probabilities come from models that never saw them, the
  correction removes the classifier's bias however good or bad it is; a good
  classifier only makes the interval narrower. The 95% interval is a
  bootstrap over the labelled contacts, so it carries both the sample's
  error and the classifier's error (:func:`corrected_share`).

The share is of the contacts in hand (a finite population): the labelled
ones are known exactly, and the interval covers what is unknown about the
rest.

>>> lo, hi = wilson_interval(81, 263)
>>> round(lo, 4), round(hi, 4)
(0.2553, 0.3662)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

Z95 = 1.959963984540054


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a proportion (Newcombe 1998, method 3).

    >>> wilson_interval(0, 20)[1] > 0.15
    True
    """
    if n <= 0:
        raise ValueError("a share needs at least one contact")
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class ShareEstimate:
    """A failure-demand share over ``contacts`` contacts, with its 95% interval.

    ``method`` is ``labelled_sample`` (Wilson) or ``classifier_corrected``
    (difference estimator with a bootstrap interval). ``labelled`` contacts
    carry a label. ``correction`` (classifier only) is the mean of label minus
    probability on the labelled contacts: how far the raw classifier is off.
    """

    share: float
    low: float
    high: float
    contacts: int
    labelled: int
    method: str
    correction: float | None = None
    classified_share: float | None = None

    @property
    def width(self) -> float:
        """Width of the 95% interval."""
        return self.high - self.low

    def to_dict(self) -> dict[str, float | int | str | None]:
        """Plain types for JSON."""
        return {
            "share": self.share,
            "interval_95": [self.low, self.high],
            "contacts": self.contacts,
            "labelled": self.labelled,
            "method": self.method,
            "correction": self.correction,
            "classified_share": self.classified_share,
        }


def labelled_share(y: np.ndarray, contacts: int | None = None) -> ShareEstimate:
    """Share of failure among the labelled contacts, Wilson interval.

    >>> e = labelled_share(np.array([1, 0, 1, 1]))
    >>> e.share, e.method
    (0.75, 'labelled_sample')
    """
    y = np.asarray(y)
    n = len(y)
    k = int(y.sum())
    lo, hi = wilson_interval(k, n)
    return ShareEstimate(k / n, lo, hi, contacts or n, n, "labelled_sample")


def corrected_share(
    y: np.ndarray,
    p_labelled: np.ndarray,
    p_unlabelled: np.ndarray,
    *,
    resamples: int = 2000,
    seed: int = 0,
) -> ShareEstimate:
    """Failure share of all contacts from labels plus the classifier, corrected for its error.

    ``y`` (1 = failure) and ``p_labelled`` (out-of-fold probabilities) are the
    labelled contacts; ``p_unlabelled`` the probabilities of the others.
    Share = (labelled failures + sum of unlabelled probabilities + unlabelled
    contacts x mean(y - p_labelled)) / all contacts. The interval is the
    2.5th-97.5th percentile over bootstrap resamples of the labelled contacts,
    each adding the unlabelled contacts' own scatter around the correction (the
    share is of *these* contacts, and the unlabelled ones' errors are unknown
    too): its variance is about m^2 s^2 / n + m s^2, with s the SD of y - p.

    >>> y = np.array([1, 1, 0, 0, 1, 0, 1, 0])
    >>> p = np.array([0.9, 0.6, 0.2, 0.1, 0.7, 0.4, 0.8, 0.3])
    >>> e = corrected_share(y, p, np.array([0.5, 0.5]))
    >>> round(e.share, 3), abs(round(e.correction, 3))
    (0.5, 0.0)
    """
    y = np.asarray(y, np.float64)
    p_l = np.asarray(p_labelled, np.float64)
    p_u = np.asarray(p_unlabelled, np.float64)
    n, m = len(y), len(p_u)
    if n < 2:
        raise ValueError("the corrected estimate needs at least two labelled contacts")
    total = n + m
    residual = y - p_l
    base = y.sum() + p_u.sum()
    share = (base + m * residual.mean()) / total
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(resamples, n))
    drawn = residual[idx]
    # Each resample redraws the labelled contacts (the error in the measured correction) and
    # then the unlabelled contacts' own errors around it: their total is a sum of m
    # residuals from the resample, whose spread is sqrt(m) x the resample's SD.
    spread = np.sqrt(m) * drawn.std(axis=1, ddof=1) * rng.standard_normal(resamples)
    boot = (base + m * drawn.mean(axis=1) + spread) / total
    lo, hi = np.quantile(boot, [0.025, 0.975])
    return ShareEstimate(
        float(share),
        float(max(0.0, lo)),
        float(min(1.0, hi)),
        total,
        n,
        "classifier_corrected",
        correction=float(residual.mean()),
        classified_share=float((y.sum() + p_u.sum()) / total),
    )


def labels_for_width(
    width: float,
    *,
    contacts: int,
    labelled: int,
    share: float,
    residual_sd: float | None = None,
) -> int | None:
    """How many more random labels would bring the 95% interval down to ``width``.

    Without ``residual_sd`` the answer is for the labelled sample alone
    (normal approximation to Wilson: 2 x 1.96 x sqrt(p(1-p)/n)); with it, for
    the classifier-corrected estimate (2 x 1.96 x sd x sqrt(m^2/n + m) /
    contacts, m = unlabelled contacts: the variance :func:`corrected_share`'s
    bootstrap draws). None when even labelling every contact would not do it (the
    corrected interval always shrinks to zero, the sample-alone one only as n
    grows).

    >>> labels_for_width(0.1, contacts=10_000, labelled=100, share=0.5)
    285
    """
    if width <= 0:
        raise ValueError("width must be positive")

    def w(n: int) -> float:
        if residual_sd is None:
            return 2 * Z95 * math.sqrt(max(share * (1 - share), 1e-12) / n)
        m = contacts - n
        return 2 * Z95 * residual_sd * math.sqrt(m * m / n + m) / contacts

    if w(max(labelled, 1)) <= width:
        return 0
    lo, hi = max(labelled, 1), contacts
    if w(hi) > width:
        return None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if w(mid) <= width:
            hi = mid
        else:
            lo = mid
    return hi - labelled
