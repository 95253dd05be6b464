"""The experiment timeline of the learning-cycle page: a pure function, checked by hand."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

from systemic.web.pages.levels import experiment_timeline


def test_timeline_places_bars_by_date():
    experiments = [
        SimpleNamespace(id="a", title="A", start_date=date(2026, 1, 1), end_date=date(2026, 1, 31)),
        SimpleNamespace(id="b", title="B", start_date=date(2026, 1, 16), end_date=None),
        SimpleNamespace(id="c", title="Undated", start_date=None, end_date=None),
    ]
    timeline = experiment_timeline(experiments, today=date(2026, 2, 10))
    # The axis runs 1 Jan to 10 Feb (B is open, so it runs to today): 40 days.
    assert (timeline.start, timeline.end) == (date(2026, 1, 1), date(2026, 2, 10))
    a, b = timeline.bars
    assert (a["left"], a["width"], a["open"]) == (0.0, 75.0, False)  # 30 of 40 days
    assert (b["left"], b["width"], b["open"]) == (37.5, 62.5, True)  # from day 15 to 40
    assert timeline.today == 100.0
    assert experiment_timeline([]).bars == []
