"""Keep the names of a system map's feedback loops as the map changes.

Whenever a causal link is added or changed, the map's loops are found again and
any loop seen for the first time is given the next free name, stored with the
map (``system_map.loop_names``). Names already given are never changed or
reused, so R1 stays R1 however many factors and links are added later (the rule
itself is :func:`systemic.framework.loops.name_loops`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from systemic.framework.loops import MAX_LOOP_FACTORS, find_loops, name_loops
from systemic.framework.model import LoopName
from systemic.store.orm import TABLES


def remember_loop_names(session: Session, workspace_id: str, map_id: str) -> int:
    """Name the map's new loops and store the names; returns how many were new."""
    maps: Any = TABLES["system_map"]
    factors: Any = TABLES["factor"]
    links: Any = TABLES["causal_link"]
    the_map = session.scalar(
        select(maps).where(maps.id == map_id, maps.workspace_id == workspace_id)
    )
    if the_map is None:
        return 0
    order = session.scalars(
        select(factors.id)
        .where(factors.system_map_id == map_id)
        .order_by(factors.created_at, factors.id)
    ).all()
    rows = session.execute(
        select(links.cause_id, links.effect_id, links.polarity, links.delay).where(
            links.system_map_id == map_id
        )
    ).all()
    loops = find_loops([tuple(row) for row in rows], max_length=MAX_LOOP_FACTORS)
    known = [LoopName.model_validate(entry) for entry in the_map.loop_names or []]
    naming = name_loops(loops, known, list(order))
    if naming.new_names:
        the_map.loop_names = [entry.model_dump(mode="json") for entry in naming.names]
        session.flush()
    return naming.new_names
