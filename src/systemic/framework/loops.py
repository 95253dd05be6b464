"""Feedback loops on a system map: found with networkx, classified by sign, named.

A loop is *reinforcing* when it has an even number of negative links (a change
comes back amplified) and *balancing* when the number is odd (it comes back
opposed).

>>> links = [("a", "b", "+"), ("b", "a", "-"), ("b", "c", "+"), ("c", "b", "+")]
>>> [(l.factors, l.kind) for l in find_loops(links)]
[(('a', 'b'), 'balancing'), (('b', 'c'), 'reinforcing')]

Names are stable: a loop keeps the name it was given when it first appeared, and
a new loop takes the next number of its kind, never a name used before.

>>> first = name_loops(find_loops(links))
>>> [loop.name for loop in first.loops]
['R1', 'B1']
>>> links += [("c", "d", "+"), ("d", "c", "+")]
>>> [loop.name for loop in name_loops(find_loops(links), first.names).loops]
['R1', 'R2', 'B1']
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import networkx as nx

from systemic.framework.model import LoopKind, LoopName

#: Loops of more factors than this are not listed: a map of 80 factors and 150
#: links can hold tens of thousands of long loops, which nobody can read or name.
MAX_LOOP_FACTORS = 8


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


@dataclass(frozen=True)
class NamedLoop:
    """A loop with its name, its factors read from the earliest-added one."""

    name: str
    loop: Loop
    factors: tuple[str, ...]

    @property
    def kind(self) -> LoopKind:
        """Reinforcing or balancing."""
        return self.loop.kind

    @property
    def delayed(self) -> bool:
        """Whether any link in the loop has a delay."""
        return self.loop.delayed


@dataclass(frozen=True)
class LoopNaming:
    """The map's loops with their names, and every name given so far (what to store)."""

    loops: list[NamedLoop]
    names: list[LoopName]
    new_names: int


_NUMBERED = re.compile(r"^([RB])(\d+)$")


def name_loops(
    loops: Sequence[Loop],
    known: Sequence[LoopName] = (),
    order: Sequence[str] = (),
) -> LoopNaming:
    """Name loops, keeping the names in ``known`` and giving new loops new names.

    ``known`` holds the names given before (stored with the map). A loop found
    there under the same factors and kind keeps its name; a new one takes the
    next free ``R``/``B`` number, never one used before (not even by a loop that
    has since gone, which keeps its name should it come back). New loops are
    numbered by length, then by how early their factors were added (``order``:
    factor ids, earliest first; ids not in it count as latest, by id).

    >>> from systemic.framework.model import LoopName
    >>> old = [LoopName(name="R7", kind="reinforcing", factors=["a", "b"])]
    >>> naming = name_loops(find_loops([("a", "b", "+"), ("b", "a", "+")]), old)
    >>> [(loop.name, loop.factors) for loop in naming.loops], naming.new_names
    ([('R7', ('a', 'b'))], 0)
    """
    rank = {factor: n for n, factor in enumerate(order)}

    def position(factor: str) -> tuple[int, str]:
        return (rank.get(factor, len(rank)), factor)

    by_key = {(tuple(entry.factors), entry.kind): entry.name for entry in known}
    taken = {"R": 0, "B": 0}
    for entry in known:
        match = _NUMBERED.match(entry.name)
        if match:
            taken[match[1]] = max(taken[match[1]], int(match[2]))
    names = list(known)
    fresh = [loop for loop in loops if (loop.factors, loop.kind) not in by_key]
    fresh.sort(
        key=lambda loop: (len(loop.factors), sorted(map(position, loop.factors)), loop.factors)
    )
    for loop in fresh:
        letter = loop.kind[0].upper()
        taken[letter] += 1
        name = f"{letter}{taken[letter]}"
        by_key[(loop.factors, loop.kind)] = name
        names.append(LoopName(name=name, kind=loop.kind, factors=list(loop.factors)))
    named = []
    for loop in loops:
        start = min(range(len(loop.factors)), key=lambda i: position(loop.factors[i]))
        reading = loop.factors[start:] + loop.factors[:start]
        named.append(NamedLoop(by_key[(loop.factors, loop.kind)], loop, reading))
    named.sort(key=_display_order)
    return LoopNaming(named, names, len(fresh))


def _display_order(loop: NamedLoop) -> tuple[int, int, str]:
    match = _NUMBERED.match(loop.name)
    kind_first = 0 if loop.kind == "reinforcing" else 1
    return (kind_first, int(match[2]) if match else 10**9, loop.name)
