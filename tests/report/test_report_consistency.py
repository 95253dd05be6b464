"""Reports tell one story: every caption agrees with its chart, and no caption or chart
label shows a number the tables suppress.

The checks read the HTML as a reader (or a screen reader) would: see
``tests/report/consistency.py``. The demo's report is checked in
``tests/demo/test_demo.py``; here, a town built to catch small numbers, and a
real shared log.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import polars as pl

from systemic.data import PseudonymKey, import_sources, write_dataset
from systemic.report import render_html
from systemic.report.build import dataset_report
from tests.report.consistency import report_problems

ROOT = Path(__file__).resolve().parents[2]
MONDAY = dt.datetime(2025, 1, 6, 9, tzinfo=dt.UTC)


def town_with_a_tiny_locality() -> pl.DataFrame:
    """Three localities of 30 contacts a week for 30 weeks; Tiny has one person, one
    contact after many hand-offs (the most hand-offs per episode of any locality)."""
    rows = []
    for week in range(30):
        for loc in ("North", "South", "East"):
            for i in range(30):
                rows.append(
                    {
                        "person_id": f"{loc}{(week * 30 + i) % 200}",
                        "locality": loc,
                        "service": ["Housing", "Benefits"][i % 2 if loc == "North" else 0],
                        "kind": "contact",
                        "demand_class": "failure" if (i + week) % 4 == 0 else "value",
                        "timestamp": MONDAY + dt.timedelta(weeks=week, hours=5 * i),
                    }
                )
    services = ["Housing", "Benefits", "Care", "Health", "Housing", "Care"]
    for i, service in enumerate(services):
        rows.append(
            {
                "person_id": "tiny-1",
                "locality": "Tiny",
                "service": service,
                "kind": "contact" if i == 0 else "case_step",
                "demand_class": "failure" if i == 0 else None,
                "timestamp": MONDAY + dt.timedelta(weeks=10, days=i),
            }
        )
    frame = pl.DataFrame(rows)
    return frame.with_columns(activity=pl.lit("call"))


def test_no_caption_or_chart_label_shows_a_suppressed_count(tmp_path: Path) -> None:
    ds = write_dataset(town_with_a_tiny_locality(), tmp_path / "town", source_name="town")
    page = render_html(dataset_report(ds.path))
    assert report_problems(page) == []
    # Tiny's one episode and one contact are suppressed in the tables: nowhere else
    # may they show, neither in a caption nor in a chart's labels.
    hand_offs = re.search(r"<strong>Hand-offs by locality</strong>(.*?)</span>", page, re.S)
    assert hand_offs and "Tiny" not in hand_offs.group(1)
    caption_at = page.index("<strong>Failure-demand share by locality")
    funnel = page[page.rindex("<figure>", 0, caption_at) : page.index("</figure>", caption_at)]
    assert "locality: Tiny" not in funnel
    assert not re.search(r'aria-label="contacts: 1;', funnel)
    # Tiny, and the locality hidden with it so that Tiny's count cannot be worked
    # out from the total, are named as left out.
    left_out = re.search(r"Left out, as their counts are suppressed: ([^.]*)\.", funnel)
    assert left_out and "Tiny" in left_out.group(1).split(", ")


def test_a_report_of_a_real_log_tells_one_story(real_data: Path, tmp_path: Path) -> None:
    dataset = tmp_path / "sepsis"
    import_sources(
        real_data / "sepsis.csv.gz",
        ROOT / "examples" / "mappings" / "sepsis.toml",
        dataset,
        key=PseudonymKey(b"report-tests-session-key-0123456789"),
    )
    doc = dataset_report(dataset)
    page = render_html(doc)
    measures = next(s for s in doc.sections if s.id == "measures")
    assert len(measures.figures) >= 2  # the log has no localities: all of it is charted
    assert report_problems(page) == []


def test_the_checker_catches_a_caption_that_contradicts_its_chart(tmp_path: Path) -> None:
    """The check itself can fail: a caption changed to claim what its chart does not show,
    or a funnel caption that drops its widening, is reported."""
    ds = write_dataset(town_with_a_tiny_locality(), tmp_path / "town", source_name="town")
    page = render_html(dataset_report(ds.path))
    assert report_problems(page) == []
    caption = re.search(r'<span class="reading">([^<]*\(\d+ weeks[^<]*)</span>', page)
    assert caption
    text = caption.group(1)
    claim = re.search(
        r": (common cause only: no point breaks a rule|special cause at [^.]*)\.", text
    )
    assert claim
    flipped = (
        "special cause at 1 of 2 points (1 improvement)"
        if claim.group(1).startswith("common")
        else "common cause only: no point breaks a rule"
    )
    lying = page.replace(text, text.replace(claim.group(1), flipped), 1)
    assert report_problems(lying)
    unwidened = re.sub(r" Limits widened [^.]*\.| No overdispersion found[^.]*\.", "", page)
    assert unwidened != page and report_problems(unwidened)
