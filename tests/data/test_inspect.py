"""inspect_dataset against hand-counted small data."""

from __future__ import annotations

import datetime as dt

from systemic.data import import_sources, inspect_dataset

from .conftest import mapping


def test_summary_counts(write, tmp_path):
    src = write(
        "s.csv",
        "who,what,when\n"
        "A,call,2024-01-02 09:00\n"
        "A,visit,2024-01-05 09:00\n"
        "B,call,2024-01-03 09:00\n"
        "C,call,never\n"
        "C,call,later\n"
        "D,call\n",
    )
    import_sources([src], mapping(timestamp={"zone": "UTC"}), tmp_path / "d")
    s = inspect_dataset(tmp_path / "d")
    assert (s.events, s.people, s.read, s.rejected) == (3, 2, 6, 3)
    assert s.first == dt.datetime(2024, 1, 2, 9, tzinfo=dt.UTC)
    assert s.last == dt.datetime(2024, 1, 5, 9, tzinfo=dt.UTC)
    assert s.activities.rows() == [("call", 2), ("visit", 1)]
    assert s.services.rows() == [("Housing", 3)]
    # the two unparseable timestamps share one reason once their values are hidden
    reasons = {(f, r): n for f, r, n in s.reject_reasons.iter_rows()}
    assert (
        reasons[("timestamp", "timestamp '…' does not match the format(s) iso, %d/%m/%Y %H:%M")]
        == 2
    )
    assert sum(reasons.values()) == 3
