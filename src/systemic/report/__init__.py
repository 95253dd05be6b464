"""Reports people would rather look at than read: one self-contained HTML file.

Build a :class:`ReportDocument` (compute), then :func:`render_html` it
(present).
"""

from systemic.report.document import Figure, KeyFigure, ReportDocument, Section, Table
from systemic.report.html import render_html, write_html

__all__ = [
    "Figure",
    "KeyFigure",
    "ReportDocument",
    "Section",
    "Table",
    "render_html",
    "write_html",
]
