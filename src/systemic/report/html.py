"""Render a :class:`ReportDocument` as one self-contained HTML file.

Charts are inline SVG and the styles are inline, so the file works offline,
can be emailed, and prints well to PDF (one section per page where it fits).

>>> from systemic.report.document import ReportDocument
>>> html = render_html(ReportDocument(title="Demo town", summary=["A point."]))
>>> "<h1>Demo town</h1>" in html and "http" not in html.split("<body")[0]
True
"""

from __future__ import annotations

import re
from pathlib import Path

import jinja2
from markupsafe import Markup

from systemic.report.document import ReportDocument

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("systemic.report", "templates"),
    autoescape=jinja2.select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)

# SVG from vl-convert is trusted (we built it) but may carry an XML prolog
# or a DOCTYPE that must not sit inside HTML.
_PROLOG = re.compile(r"<\?xml[^>]*>\s*|<!DOCTYPE[^>]*>\s*", re.I)


def _inline_svg(svg: str) -> Markup:
    return Markup(_PROLOG.sub("", svg))


def render_html(document: ReportDocument) -> str:
    """The report as an HTML string (no external resources)."""
    template = _ENV.get_template("report.html")
    return template.render(doc=document, inline_svg=_inline_svg)


def write_html(document: ReportDocument, path: str | Path) -> Path:
    """Write the report to ``path`` (parents created) and return the path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_html(document), encoding="utf-8")
    return out
