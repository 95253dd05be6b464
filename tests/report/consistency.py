"""Read a report's HTML as a reader would and check each caption against its chart.

The chart's data are read from the SVG itself (each mark's ``aria-label``,
which is what a screen reader announces), not from the objects the report
was built from: a caption that says "common cause only" over a chart with
special-cause points, a direction, a count or a mean the chart does not
show, or a funnel caption that hides its widening, is a problem.

:func:`report_problems` returns the problems found (an empty list for a report
that tells one story).
"""

from __future__ import annotations

import html as html_lib
import math
import re
from collections import Counter

#: Caption words for each point label the chart draws.
KIND_WORDS = {
    "improvement": "Improvement",
    "concern": "Concern",
    "high (neutral)": "Neutral (high)",
    "low (neutral)": "Neutral (low)",
}
LATEST_WORDS = {"common cause": "Common cause"} | {
    f"special cause ({w})": label for w, label in KIND_WORDS.items()
}
DIRECTION = {
    "lower is better": "decrease",
    "higher is better": "increase",
    "neither way is better": "neutral",
}
SPC_CAPTION = re.compile(
    r"\((?P<weeks>\d+) weeks(?:, (?P<gaps>\d+) left as gaps)?; (?P<better>[a-z ]+)\): "
    r"(?P<body>.*?)\. The latest week: (?P<latest>[^.]*?)\. "
    r"Mean (?P<mean>[\d,.]+)(?P<unit>%| days| contacts)\.(?P<notes>.*)$",
    re.S,
)
SNAKE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")
Z_95 = 1.959963984540054


def _text(fragment: str) -> str:
    return html_lib.unescape(re.sub(r"<[^>]+>", "", fragment)).strip()


def figures(page: str) -> list[tuple[str, str, list[str]]]:
    """(title, caption, aria-labels of the chart) of every figure in the report."""
    out = []
    for fig in re.findall(r"<figure>(.*?)</figure>", page, re.S):
        caption = re.search(
            r'<figcaption><strong>(.*?)</strong><span class="reading">(.*?)</span>', fig, re.S
        )
        assert caption, fig[-500:]
        labels = [html_lib.unescape(a) for a in re.findall(r'aria-label="([^"]*)"', fig)]
        out.append((_text(caption.group(1)), _text(caption.group(2)), labels))
    return out


def _fields(label: str) -> dict[str, str]:
    return dict(part.split(": ", 1) for part in label.split("; ") if ": " in part)


def _subtitles(labels: list[str]) -> str:
    return " ".join(a for a in labels if a.startswith("Subtitle text"))


def spc_problems(title: str, caption: str, labels: list[str]) -> list[str]:
    problems: list[str] = []
    kinds = [_fields(a)["point"] for a in labels if "; point: " in a]
    found = SPC_CAPTION.search(caption)
    if not found:
        return [f"{title}: the caption does not say what the chart shows: {caption!r}"]
    if int(found["weeks"]) != len(kinds):
        problems.append(f"{title}: caption says {found['weeks']} weeks, chart draws {len(kinds)}")
    subtitle = _subtitles(labels)
    better = DIRECTION.get(found["better"])
    if f"improvement: {better}" not in subtitle:
        problems.append(f"{title}: caption says {found['better']!r}, chart says {subtitle!r}")
    counts = Counter(kinds)
    special = {k: n for k, n in counts.items() if k != "Common cause"}
    body = found["body"]
    if body.startswith("common cause only"):
        if special:
            problems.append(f"{title}: caption says common cause only; chart has {special}")
    else:
        claim = re.fullmatch(r"special cause at (\d+) of (\d+) points \((.*)\)", body)
        if not claim:
            problems.append(f"{title}: unreadable claim {body!r}")
        else:
            said = {
                KIND_WORDS[w]: int(n)
                for n, w in (part.split(" ", 1) for part in claim.group(3).split(", "))
            }
            if said != special or int(claim.group(1)) != sum(special.values()):
                problems.append(f"{title}: caption says {said}, chart draws {special}")
            if int(claim.group(2)) != len(kinds):
                problems.append(f"{title}: caption counts {claim.group(2)} points of {len(kinds)}")
    if kinds and LATEST_WORDS.get(found["latest"]) != kinds[-1]:
        problems.append(f"{title}: latest week {found['latest']!r}, chart's last is {kinds[-1]}")
    means = [float(_fields(a)["mean"]) for a in labels if "; mean: " in a]
    if means:
        shown = float(found["mean"].replace(",", ""))
        drawn = means[-1] * (100 if found["unit"] == "%" else 1)
        if abs(shown - drawn) > 0.05 + 1e-9:
            problems.append(f"{title}: caption's mean {shown}, chart's {drawn:.3f}")
    for note in re.findall(r"[^.]+\.", found["notes"]):
        if note.strip().rstrip(".") not in subtitle:
            problems.append(f"{title}: the note {note.strip()!r} is not on the chart")
    return problems


def funnel_problems(title: str, caption: str, labels: list[str], threshold: int) -> list[str]:
    problems: list[str] = []
    # The first field is the x axis (the denominator, under the axis' title).
    points = [
        {**f, "denominator": next(iter(f.values()))}
        for f in (_fields(a) for a in labels if "; position: " in a)
    ]
    subtitle = _subtitles(labels)
    target = re.search(r"target ([\d.]+)", subtitle)
    assert target, subtitle
    p0 = float(target.group(1))
    outside = [p["locality"] for p in points if p["position"] != "within"]
    said = re.search(r"Outside the 95% limits: ([^.]*)\.", caption)
    if said and sorted(said.group(1).split(", ")) != sorted(outside):
        problems.append(f"{title}: caption names {said.group(1)}, chart has {outside}")
    if not said and outside:
        problems.append(f"{title}: caption names no locality outside; chart has {outside}")
    widening = re.search(r"(limits (?:widened|from chance)[^;']*|no overdispersion[^']*)", subtitle)
    if not widening:
        problems.append(f"{title}: the chart does not say whether its limits were widened")
    elif widening.group(1)[1:] not in caption:
        problems.append(f"{title}: the caption does not say {widening.group(1)!r}")
    chance = re.search(r"From chance alone \(limits not widened\), (\d+|none) ", caption)
    if chance:
        # An independent check: the unwidened 95% limits from the chart's own points.
        beyond = sum(
            abs(float(p["value"]) - p0) > Z_95 * math.sqrt(p0 * (1 - p0) / float(p["denominator"]))
            for p in points
        )
        expected = 0 if chance.group(1) == "none" else int(chance.group(1))
        if expected != beyond:
            problems.append(f"{title}: {expected} outside by chance in words, {beyond} by sum")
    for p in points:
        n = float(p["denominator"])
        x = round(float(p["value"]) * n)
        if 0 < n < threshold or 0 < x < threshold:
            problems.append(f"{title}: {p['locality']} shows a count under {threshold}")
    return problems


def sentences(page: str) -> list[str]:
    """The report's sentences: summary points, paragraphs and captions."""
    summary = re.search(r'<div class="summary".*?</div>', page, re.S)
    items = re.findall(r"<li>(.*?)</li>", summary.group(0), re.S) if summary else []
    paragraphs = re.findall(r"<p>(.*?)</p>", page, re.S)
    readings = re.findall(r'<span class="reading">(.*?)</span>', page, re.S)
    return [_text(s) for s in [*items, *paragraphs, *readings]]


def report_problems(page: str, threshold: int = 5) -> list[str]:
    """Every disagreement between a report's words and its charts (none is the aim)."""
    problems: list[str] = []
    for title, caption, labels in figures(page):
        if any("; point: " in a for a in labels):
            problems += spc_problems(title, caption, labels)
        elif any("; position: " in a for a in labels):
            problems += funnel_problems(title, caption, labels, threshold)
    for sentence in sentences(page):
        for token in SNAKE.findall(sentence):
            problems.append(f"a code name in a sentence: {token!r} in {sentence[:80]!r}")
    return problems
