"""Property: any workspace content survives export -> import -> export unchanged."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from systemic.store import export_workspace, import_workspace, open_store
from systemic.store import repository as repo

text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40
).filter(lambda s: s.strip())
finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
series = st.lists(
    st.builds(lambda d, v: {"period": d.isoformat(), "value": v}, st.dates(), finite), max_size=4
)
measures = st.lists(
    st.fixed_dictionaries(
        {
            "name": text,
            "target": st.none() | finite,
            "series": series,
            "kind": st.sampled_from(["outcome", "process", "demand"]),
        }
    ),
    max_size=4,
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(names=st.lists(text, max_size=4), measures=measures, statement=text)
def test_round_trip_of_arbitrary_content(names, measures, statement) -> None:  # type: ignore[no-untyped-def]
    source, target = open_store("sqlite://"), open_store("sqlite://")
    with source.session() as s:
        ws = repo.create_workspace(s, "W", "w", seed=False)
        purpose = repo.create(s, ws.id, "purpose_statement", {"text": statement})
        for name in names:
            repo.create(s, ws.id, "locality", {"name": name})
        for fields in measures:
            repo.create(s, ws.id, "measure", {**fields, "purpose_statement_ids": [purpose.id]})
        s.commit()
        document = json.loads(json.dumps(export_workspace(s, "w")))
    with target.session() as s:
        import_workspace(s, document)
        s.commit()
        assert export_workspace(s, "w") == document
    source.dispose()
    target.dispose()
