"""Charts render offline to sized PNG and SVG with the Making Data Count colours."""

from __future__ import annotations

import struct
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from systemic.measures import xmr_chart
from systemic.measures.chart import COLOURS, chart_spec, write_chart


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def test_chart_renders_png_and_svg(tmp_path: Path) -> None:
    values = [5.0, 7, 6, 8, 4, 5, 7, 6, None, 8, 4, 5, 6, 30, 2]
    frame = pl.DataFrame(
        {"date": [date(2024, 1, 1) + timedelta(weeks=i) for i in range(15)], "value": values}
    )
    result = xmr_chart(frame, target=12, improvement="decrease")
    svg, png = write_chart(result, tmp_path, title="Repeat calls per week")
    width, height = png_size(png)
    assert width >= 1200 and height >= 600
    assert png.stat().st_size > 10_000
    text = svg.read_text()
    assert text.startswith("<svg") and "Repeat calls per week" in text
    # the concern dot (30, decrease is better) is drawn in orange, the target in red
    assert COLOURS["special_cause_concern"].lower() in text.lower()
    assert "#de1b1b" in text.lower()


def test_icons_are_in_the_spec() -> None:
    frame = pl.DataFrame(
        {
            "date": [date(2024, 1, 1) + timedelta(weeks=i) for i in range(6)],
            "value": [5.0, 7, 6, 8, 4, 40],
        }
    )
    spec = chart_spec(xmr_chart(frame, target=100))
    icon_rows = [layer["data"]["values"] for layer in spec["layer"] if "data" in layer]
    glyphs = {row["name"]: row["glyph"] for rows in icon_rows for row in rows if "name" in row}
    # improvement high (increase is better) and a target beyond the upper limit: fail
    assert glyphs == {"variation": "H", "assurance": "F"}


def test_rebase_and_markers_are_drawn_as_vertical_rules() -> None:
    frame = pl.DataFrame(
        {"date": [date(2024, 1, 1) + timedelta(weeks=i) for i in range(8)],
         "value": [5.0, 7, 6, 8, 4, 9, 8, 9]}
    )  # fmt: skip
    result = xmr_chart(frame, rebase=[date(2024, 1, 29)])
    spec = chart_spec(result, markers=[date(2024, 2, 12)])
    rules = [
        layer for layer in spec["layer"]
        if layer.get("mark", {}).get("type") == "rule" and "at" in str(layer.get("data"))
    ]  # fmt: skip
    assert [row["at"] for row in rules[0]["data"]["values"]] == [
        "2024-01-29 00:00:00", "2024-02-12"
    ]  # fmt: skip
