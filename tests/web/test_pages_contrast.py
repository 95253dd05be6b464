"""Colour contrast of the shipped style sheet and map, by the WCAG 2 formula.

The formula is checked against published reference points first: black on
white is 21:1 and #767676 on white is the lightest grey that passes AA (4.54:1).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from systemic.report import system_map_svg

CSS = Path(__file__).resolve().parents[2] / "src/systemic/web/static/systemic.css"
AA_TEXT = 4.5


def luminance(colour: str) -> float:
    value = colour.lstrip("#")
    channels = [int(value[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_formula_matches_published_reference_points():
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)
    assert contrast("#777777", "#ffffff") < AA_TEXT


def variables() -> dict[str, str]:
    return dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", CSS.read_text()))


@pytest.mark.parametrize(
    ("foreground", "background"),
    [
        ("text", "#ffffff"),
        ("muted", "#ffffff"),
        ("muted", "soft"),  # table headers and timeline rows
        ("link", "#ffffff"),
        ("link", "#fafbfc"),  # links inside audit findings
        ("link-visited", "#ffffff"),
        ("error", "#ffffff"),
        ("good", "#ffffff"),
        ("good", "#e8f3ec"),  # the "Saved." banner's border colour family
        ("text", "#e8f3ec"),
        ("#ffffff", "link"),  # button text
        ("#ffffff", "#084783"),  # button hover
        ("#ffffff", "error"),
        ("#ffffff", "warning"),
        ("#ffffff", "info"),
        ("#ffffff", "#1f2a37"),  # navigation
        ("#d9dee5", "#1f2a37"),  # workspace name in the header
        ("text", "focus"),  # focused links
        ("reinforcing", "#ffffff"),
        ("balancing", "#ffffff"),
    ],
)
def test_style_sheet_colours_meet_wcag_aa(foreground: str, background: str):
    named = variables()
    fg = named.get(foreground, foreground)
    bg = named.get(background, background)
    assert contrast(fg, bg) >= AA_TEXT, (foreground, background, contrast(fg, bg))


@pytest.mark.parametrize(
    "colour",
    [
        system_map_svg.REINFORCING_COLOUR,
        system_map_svg.BALANCING_COLOUR,
        system_map_svg.LINK_COLOUR,
        system_map_svg.FACTOR_STROKE,
    ],
)
def test_map_colours_meet_wcag_aa_on_white(colour: str):
    assert contrast(colour, system_map_svg.FACTOR_FILL) >= AA_TEXT
