"""What a report holds, independent of how it is rendered.

A :class:`ReportDocument` is a title, a short summary at the top, and
sections that walk the framework's four levels and the two steps of the
cycle. Each :class:`Figure` carries its chart (an SVG string) and a one-line
reading; each :class:`Table` carries rows that are already published (small
numbers suppressed). Rendering is a separate function
(:func:`systemic.report.render_html`).

>>> doc = ReportDocument(title="Town", summary=["Half of contacts are failure demand."])
>>> doc.sections.append(Section(id="learn", title="Learn", intro="From the person's view."))
>>> [s.id for s in doc.sections]
['learn']
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import polars as pl


@dataclass
class Figure:
    """A chart with its one-line reading (what a reader should take from it).

    ``chart`` is the computed object both were made from (an SPC or funnel
    result), kept so that the reading can be checked against the chart.
    """

    title: str
    reading: str
    svg: str
    chart: object = None


@dataclass
class Table:
    """A small published table (every cell as text, small numbers already suppressed)."""

    title: str
    frame: pl.DataFrame
    note: str = ""
    #: True when every cell is already text formatted for reading (shown as it is).
    formatted: bool = False

    def rows(self) -> list[list[str]]:
        if self.formatted:
            return [["" if v is None else str(v) for v in row] for row in self.frame.iter_rows()]
        return [["" if v is None else _cell(v) for v in row] for row in self.frame.iter_rows()]


def _cell(value: object) -> str:
    if isinstance(value, str):
        # Published tables hold text (so that "<5" can stand in a count column);
        # numbers among them are formatted for reading.
        try:
            number = float(value.replace(",", ""))
        except ValueError:
            return value
        value = int(number) if number.is_integer() and "." not in value else number
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


@dataclass
class KeyFigure:
    """A headline number with its label, shown as a tile."""

    label: str
    value: str
    detail: str = ""


@dataclass
class Section:
    """One part of the report: a level of the framework or a step of the cycle."""

    id: str
    title: str
    intro: str = ""
    key_figures: list[KeyFigure] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    paragraphs: list[str] = field(default_factory=list)


@dataclass
class ReportDocument:
    """The whole report."""

    title: str
    subtitle: str = ""
    summary: list[str] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    generated: str = field(
        default_factory=lambda: dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    )
