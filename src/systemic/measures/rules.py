"""Special-cause rules of the Making Data Count method, on one run of points.

The rules read a point against its own centre line, process limits and
two-sigma lines, so the same code serves XmR and attribute charts. Each point
gets at most one label, in this order of precedence:

1. ``outside_limits``: strictly above the upper or below the lower limit;
2. ``trend``: part of 7 points each strictly higher (or lower) than the one
   before (a tie breaks it);
3. ``two_in_three``: 2 of 3 consecutive points, all three strictly on the same
   side of the centre, lie between the two-sigma line and the limit. Under
   ``mdc`` (NHSRplotthedots 0.2) a point beyond the limit does not count;
   under ``mdc-excel-2023`` it counts. Only the points in the band are flagged;
4. ``run``: part of 7 or more points strictly on one side of the centre (a
   point on the centre breaks the run).

Rules never look across a gap: callers pass one unbroken run of points
(within one rebase group, between missing values).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

RuleSet = Literal["mdc", "mdc-excel-2023"]
Improvement = Literal["increase", "decrease", "neutral"]

RULE_SETS: tuple[str, ...] = ("mdc", "mdc-excel-2023")
IMPROVEMENTS: tuple[str, ...] = ("increase", "decrease", "neutral")
POINT_TYPES: tuple[str, ...] = (
    "common_cause",
    "special_cause_improvement",
    "special_cause_concern",
    "special_cause_neutral_high",
    "special_cause_neutral_low",
)
TREND_LENGTH = 7
RUN_LENGTH = 7


def _part_of_window(hit: np.ndarray, width: int) -> np.ndarray:
    """Mark every point covered by a window of ``width`` ending where ``hit`` is true."""
    covered = np.zeros(hit.size, dtype=bool)
    for back in range(width):
        covered[: hit.size - back] |= hit[back:]
    return covered


def _trend(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points in a trend of 7, and each such point's direction (+1 up, -1 down)."""
    n = y.size
    part = np.zeros(n, dtype=bool)
    direction = np.zeros(n, dtype=int)
    if n < TREND_LENGTH:
        return part, direction
    step = np.sign(np.diff(y)).astype(int)  # step[i] = sign(y[i+1] - y[i])
    windows = sliding_window_view(step, TREND_LENGTH - 1)
    ends = np.zeros(n, dtype=bool)  # window of 7 points ending at index i
    ends[TREND_LENGTH - 1 :] = (np.all(windows == 1, axis=1)) | (np.all(windows == -1, axis=1))
    part = _part_of_window(ends, TREND_LENGTH)
    left = np.concatenate([[0], step])  # direction into the point
    right = np.concatenate([step, [0]])  # direction out of the point
    next_part = np.concatenate([part[1:], [False]])
    # A point shared by two trends (a peak) takes the direction of the later one.
    use_right = part & next_part & (right != 0)
    direction = np.where(use_right, right, left)
    direction = np.where(part & (direction == 0), right, direction)
    return part, direction


def _two_in_three(side: np.ndarray, counts: np.ndarray, in_band: np.ndarray) -> np.ndarray:
    """Points in the band that belong to a qualifying window of three."""
    n = side.size
    if n < 3:
        return np.zeros(n, dtype=bool)
    side_w = sliding_window_view(side, 3)
    count_w = sliding_window_view(counts.astype(int), 3)
    qualifies = (np.abs(side_w.sum(axis=1)) == 3) & (count_w.sum(axis=1) >= 2)
    starts = np.concatenate([qualifies, [False, False]])
    in_window = starts.copy()
    in_window[1:] |= starts[:-1]
    in_window[2:] |= starts[:-2]
    return in_window & in_band


def _run(side: np.ndarray) -> np.ndarray:
    n = side.size
    if n < RUN_LENGTH:
        return np.zeros(n, dtype=bool)
    windows = sliding_window_view(side, RUN_LENGTH)
    same = np.all(windows == windows[:, :1], axis=1) & (windows[:, 0] != 0)
    ends = np.zeros(n, dtype=bool)
    ends[RUN_LENGTH - 1 :] = same
    return _part_of_window(ends, RUN_LENGTH)


def detect_special_causes(
    y: np.ndarray,
    centre: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    lower_two_sigma: np.ndarray,
    upper_two_sigma: np.ndarray,
    rules: RuleSet = "mdc",
) -> tuple[list[str | None], np.ndarray]:
    """Label each point of one unbroken run with the rule it breaks.

    Returns the rule names (``None`` for common cause) and the signal's side:
    +1 for a high signal (above the centre, or an increasing trend), -1 for low.

    >>> import numpy as np
    >>> y = np.array([1.0, 2, 3, 4, 5, 6, 7])
    >>> c = np.full(7, 4.0)
    >>> rules, side = detect_special_causes(y, c, c - 10, c + 10, c - 6, c + 6)
    >>> rules[0], int(side[0])
    ('trend', 1)
    """
    if rules not in RULE_SETS:
        raise ValueError(f"unknown rule set {rules!r}; choose one of {', '.join(RULE_SETS)}")
    y = np.asarray(y, dtype=float)
    with np.errstate(invalid="ignore"):
        side = np.sign(y - centre).astype(int)
        outside = (y > upper) | (y < lower)
        beyond_two = (y > upper_two_sigma) | (y < lower_two_sigma)
    in_band = beyond_two & ~outside
    counts = beyond_two if rules == "mdc-excel-2023" else in_band
    trend, trend_direction = _trend(y)
    two_three = _two_in_three(side, counts, in_band)
    run = _run(side)

    conditions = [outside, trend, two_three, run]
    names = np.select(conditions, ["outside_limits", "trend", "two_in_three", "run"], "")
    signal = np.select(conditions, [side, trend_direction, side, side], 0).astype(int)
    labels: list[str | None] = [str(name) if name else None for name in names]
    return labels, signal


def point_types(signal: np.ndarray, improvement: Improvement) -> list[str]:
    """Turn signal sides into Making Data Count point types.

    >>> import numpy as np
    >>> point_types(np.array([1, -1, 0]), "decrease")
    ['special_cause_concern', 'special_cause_improvement', 'common_cause']
    """
    if improvement not in IMPROVEMENTS:
        raise ValueError(
            f"unknown improvement direction {improvement!r}; choose one of "
            f"{', '.join(IMPROVEMENTS)}"
        )
    if improvement == "neutral":
        names = {1: "special_cause_neutral_high", -1: "special_cause_neutral_low"}
    else:
        good = 1 if improvement == "increase" else -1
        names = {good: "special_cause_improvement", -good: "special_cause_concern"}
    return [names.get(int(s), "common_cause") for s in signal]
