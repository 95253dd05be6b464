"""A workspace database with something in every kind of table, for the trust tests."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from systemic.demo.workspace import DemoEvidence, seed_demo_workspace
from systemic.store import Store, repository
from systemic.store.accounts import create_token, create_user, record_event, set_role
from systemic.store.repository import create_workspace

EVIDENCE = DemoEvidence(
    localities={"Northgate": 12000, "Eastfield": 9000},
    experiment_locality="Northgate",
    experiment_start=dt.date(2026, 1, 5),
    experiment_end=dt.date(2026, 3, 30),
    failure_demand_share=0.4,
    median_hand_offs=3.0,
    experiment_verdict="improved",
)


def populate(store: Store) -> dict[str, str]:
    """Seed the demo workspace, a second workspace, users, a token and audit events."""
    seeded = seed_demo_workspace(store, EVIDENCE)
    with store.session() as s:
        other = create_workspace(s, name="NHS trust", slug="trust")
        story = repository.create(
            s,
            seeded.workspace_id,
            "story",
            {
                "title": "Mrs K's week",
                "text": "Seven calls, nobody came — «urgent»",
                "consent": True,
            },
            actor="amira",
        )
        create_user(s, "amira", "four words make a phrase", display_name="Amira Q")
        set_role(s, "amira", seeded.workspace_id, "admin")
        set_role(s, "amira", other.id, "viewer")
        create_token(s, "amira", "nightly")
        record_event(
            s,
            actor="amira",
            action="export",
            workspace_id=seeded.workspace_id,
            after={"nested": {"list": [1, 2.5, None, "ü"]}},
        )
        s.commit()
        s.execute(
            text("UPDATE story SET retain_until = :d WHERE id = :i"),
            {"d": dt.date(2026, 6, 30), "i": story.id},
        )
        s.commit()
    return {"workspace": seeded.workspace_id, "story": story.id}
