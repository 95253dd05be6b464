"""What every new workspace starts with: the failure-demand spiral as a system map.

Services designed in silos pass people between them and close cases early;
unmet need returns as failure demand, which stretches services, which tighten
thresholds and cut prevention, which brings more crisis demand and stretches
services further: a reinforcing loop. The map is ordinary data, so teams edit it.

>>> [f for f, _ in SPIRAL_FACTORS][:2]
['Silo design', 'Hand-offs and premature closure']
"""

from __future__ import annotations

SPIRAL_MAP_NAME = "Failure-demand spiral"
SPIRAL_MAP_DESCRIPTION = (
    "Starting map seeded in every workspace: how silo design feeds failure demand. "
    "Edit it to match what your own demand study shows."
)

#: (name, description) of each factor.
SPIRAL_FACTORS: tuple[tuple[str, str], ...] = (
    ("Silo design", "Services designed and managed separately, each to its own targets."),
    (
        "Hand-offs and premature closure",
        "People passed between services; cases closed before the need is met.",
    ),
    ("Failure demand", "Demand caused by a failure to do something or do it right."),
    ("Stretched services", "Capacity absorbed by repeat and avoidable work."),
    (
        "Tighter thresholds and less prevention",
        "Eligibility raised and early help cut to ration stretched capacity.",
    ),
    ("Crisis demand", "Needs that arrive later, bigger and more urgent."),
)

#: (cause, effect, polarity, delay) between factor names.
SPIRAL_LINKS: tuple[tuple[str, str, str, bool], ...] = (
    ("Silo design", "Hand-offs and premature closure", "+", False),
    ("Hand-offs and premature closure", "Failure demand", "+", False),
    ("Failure demand", "Stretched services", "+", False),
    ("Stretched services", "Tighter thresholds and less prevention", "+", False),
    ("Tighter thresholds and less prevention", "Crisis demand", "+", True),
    ("Crisis demand", "Stretched services", "+", False),
    ("Stretched services", "Hand-offs and premature closure", "+", False),
)
