"""Feedback loops on a system map: found with networkx, classified by sign.

A loop is *reinforcing* when it has an even number of negative links (a change
comes back amplified) and *balancing* when the number is odd (it comes back
opposed).

>>> links = [("a", "b", "+"), ("b", "a", "-"), ("b", "c", "+"), ("c", "b", "+")]
>>> [(l.factors, l.kind) for l in find_loops(links)]
[(('a', 'b'), 'balancing'), (('b', 'c'), 'reinforcing')]
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import networkx as nx

LoopKind = Literal["reinforcing", "balancing"]


@dataclass(frozen=True)
class Loop:
    """One feedback loop: its factors in causal order, starting at the smallest id."""

    factors: tuple[str, ...]
    polarities: tuple[str, ...]
    delayed: bool

    @property
    def negative_links(self) -> int:
        """How many links in the loop are negative."""
        return self.polarities.count("-")

    @property
    def kind(self) -> LoopKind:
        """Reinforcing (even number of '-') or balancing (odd)."""
        return "reinforcing" if self.negative_links % 2 == 0 else "balancing"


def _rotate(cycle: list[str]) -> list[str]:
    start = cycle.index(min(cycle))
    return cycle[start:] + cycle[:start]


def find_loops(
    links: Iterable[tuple[str, str, str] | tuple[str, str, str, bool]],
    max_length: int | None = None,
) -> list[Loop]:
    """Every simple feedback loop in signed links ``(cause, effect, polarity[, delay])``.

    Loops are returned in a stable order (by length, then factors). A pair of
    factors has at most one link (the store enforces it); a later duplicate wins.
    """
    graph = nx.DiGraph()
    for link in links:
        cause, effect, polarity = link[0], link[1], link[2]
        if polarity not in ("+", "-"):
            raise ValueError(f"polarity of {cause}->{effect} must be '+' or '-', got {polarity!r}")
        delay = bool(link[3]) if len(link) > 3 else False  # type: ignore[misc]
        graph.add_edge(cause, effect, polarity=polarity, delay=delay)
    loops = []
    for cycle in nx.simple_cycles(graph, length_bound=max_length):
        ordered = _rotate(list(cycle))
        pairs = list(zip(ordered, ordered[1:] + ordered[:1], strict=True))
        loops.append(
            Loop(
                factors=tuple(ordered),
                polarities=tuple(graph.edges[p]["polarity"] for p in pairs),
                delayed=any(graph.edges[p]["delay"] for p in pairs),
            )
        )
    return sorted(loops, key=lambda loop: (len(loop.factors), loop.factors))
