"""The dataset report: figures match the tables they come from, small numbers stay hidden,
user text is escaped, and the file stands alone."""

from __future__ import annotations

import datetime as dt
import re

import polars as pl
import pytest
from typer.testing import CliRunner

from systemic.cli import app
from systemic.data import write_dataset
from systemic.report import render_html, write_html
from systemic.report.build import dataset_report, pct
from systemic.store import open_store, repository


def _town(tmp_path, small_locality_people: int = 3):
    """Two big localities and one tiny one; every contact classed by the user."""
    rows = []
    t0 = dt.datetime(2025, 1, 6, 9, tzinfo=dt.UTC)
    people = [("North", i) for i in range(60)] + [("South", i) for i in range(40)]
    people += [("Tiny", i) for i in range(small_locality_people)]
    for loc, i in people:
        pid = f"{loc}-{i}"
        for k in range(6):
            failure = (i + k) % (3 if loc == "North" else 4) == 0
            rows.append(
                {
                    "person_id": pid,
                    "service": ["Contact centre", "Housing", "Benefits"][k % 3],
                    "activity": "call",
                    "kind": "contact",
                    "demand_type": "chase" if failure else "new need",
                    "demand_class": "failure" if failure else "value",
                    "locality": loc,
                    "timestamp": t0 + dt.timedelta(days=7 * k + (i % 5)),
                }
            )
    events = pl.DataFrame(rows)
    ds = write_dataset(events, tmp_path / "town", source_name="hand-made town")
    return ds, events


def test_headline_figures_come_from_the_data(tmp_path):
    ds, events = _town(tmp_path)
    doc = dataset_report(ds.path)
    share = (events["demand_class"] == "failure").mean()  # independent of learn
    learn = next(s for s in doc.sections if s.id == "learn")
    figures = {k.label: k.value for k in learn.key_figures}
    assert figures["failure demand (classified)"] == pct(share)
    assert figures["contacts"] == f"{events.height:,}"
    assert figures["people"] == f"{events['person_id'].n_unique():,}"
    assert any(pct(share) in line for line in doc.summary)
    table = next(t for t in learn.tables if t.title == "By locality").frame
    north = table.filter(pl.col("locality") == "North").row(0, named=True)
    expect = events.filter(pl.col("locality") == "North")
    assert int(north["contacts"]) == expect.height
    assert int(north["failure_contacts"]) == (expect["demand_class"] == "failure").sum()


def test_small_numbers_are_suppressed_in_the_html(tmp_path):
    ds, _ = _town(tmp_path, small_locality_people=3)
    html = render_html(dataset_report(ds.path))
    # The tiny locality's 3 people must not appear as a number in its row.
    row = re.search(r"<tr><td>Tiny</td>(.*?)</tr>", html, re.S)
    assert row, "the tiny locality should still be listed"
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))
    assert cells[0] == "&lt;5"  # people
    assert "3" not in cells[:2]


def test_report_stands_alone(tmp_path):
    ds, _ = _town(tmp_path)
    path = write_html(dataset_report(ds.path), tmp_path / "r.html")
    html = path.read_text()
    assert "<svg" in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "<script" not in html and "<link" not in html
    assert "@media print" in html


def test_workspace_text_is_escaped(tmp_path):
    ds, _ = _town(tmp_path)
    db = tmp_path / "ws.db"
    store = open_store(db)
    hostile = "<script>alert('x')</script>"
    with store.session() as s:
        ws = repository.ensure_default_workspace(s)
        repository.create(
            s, ws.id, "story", {"title": "T", "text": hostile, "consent": True}, actor="t"
        )
        repository.create(
            s, ws.id, "purpose_statement", {"text": hostile + " I can stay home", "voice": "I"}
        )
        s.commit()
    store.dispose()
    html = render_html(dataset_report(ds.path, workspace=db))
    assert hostile not in html
    assert "&lt;script&gt;alert(" in html
    assert "I can stay home" in html


def test_stories_without_consent_are_left_out(tmp_path):
    ds, _ = _town(tmp_path)
    db = tmp_path / "ws.db"
    store = open_store(db)
    with store.session() as s:
        ws = repository.ensure_default_workspace(s)
        repository.create(s, ws.id, "story", {"title": "A", "text": "kept words", "consent": True})
        repository.create(s, ws.id, "story", {"title": "B", "text": "private words"})
        s.commit()
    store.dispose()
    html = render_html(dataset_report(ds.path, workspace=db))
    assert "kept words" in html
    assert "private words" not in html


def test_cli_writes_the_report(tmp_path):
    ds, _ = _town(tmp_path)
    out = tmp_path / "out" / "report.html"
    result = CliRunner().invoke(app, ["report", str(ds.path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.exists() and "Learn: the system as people meet it" in out.read_text()


def test_cli_names_a_missing_workspace(tmp_path):
    ds, _ = _town(tmp_path)
    result = CliRunner().invoke(
        app, ["report", str(ds.path), "--workspace", str(tmp_path / "nope.db")]
    )
    assert result.exit_code == 2
    assert "nope.db" in result.output


def test_cli_picks_one_of_several_workspaces_by_name(tmp_path):
    """A database with two workspaces and none named 'default': the error says how to pick
    one, and --workspace-name picks it."""
    ds, _ = _town(tmp_path)
    db = tmp_path / "ws.db"
    store = open_store(db)
    with store.session() as s:
        for name in ("Council", "Trust"):
            ws = repository.create_workspace(s, name, name.lower(), seed=False)
            repository.create(
                s, ws.id, "purpose_statement", {"text": f"I can stay home ({name})", "voice": "I"}
            )
        s.commit()
    store.dispose()
    out = tmp_path / "report.html"
    base = ["report", str(ds.path), "--workspace", str(db), "--out", str(out)]
    unclear = CliRunner().invoke(app, base)
    assert unclear.exit_code == 2
    assert "'council', 'trust'" in unclear.output and "--workspace-name" in unclear.output
    picked = CliRunner().invoke(app, [*base, "--workspace-name", "trust"])
    assert picked.exit_code == 0, picked.output
    html = out.read_text()
    assert "I can stay home (Trust)" in html and "(Council)" not in html
    alone = CliRunner().invoke(app, ["report", str(ds.path), "--workspace-name", "trust"])
    assert alone.exit_code == 2 and "give both" in alone.output


@pytest.mark.parametrize("value,expected", [(0.4234, "42%"), (None, "n/a")])
def test_pct(value, expected):
    assert pct(value) == expected
