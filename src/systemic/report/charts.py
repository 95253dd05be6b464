"""Render Vega-Lite specs to inline SVG for the report (offline, via vl-convert)."""

from __future__ import annotations

from typing import Any


def to_svg(spec: dict[str, Any]) -> str:
    """An SVG string of a Vega-Lite spec; no network is used."""
    import vl_convert as vlc

    return vlc.vegalite_to_svg(spec)
