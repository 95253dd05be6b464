"""Captured demand feeds the demand study: export, then ``systemic demand estimate``.

Demands captured in a workspace (from the shipped corpus's held-out part, half
of them classified while capturing) are exported with ``systemic demand capture
export``; the estimate reads the two files, every captured demand is a contact,
the classified ones are its labels, and the labels say what was captured.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from systemic.cli import app
from systemic.demand.corpus import load_corpus
from systemic.store import open_store
from systemic.store.demand_capture import captured_demand_tables, captured_today
from systemic.store.repository import create, create_workspace, pick_workspace

runner = CliRunner()
CHANNELS = {"phone": "phone", "email": "email", "web form": "web", "face to face": "face_to_face"}


def _capture(database: Path, n: int = 240) -> pl.DataFrame:
    """``n`` held-out contacts captured in workspace 'anytown'; every other one classified."""
    corpus = load_corpus().filter(pl.col("part") == "held_out").head(n)
    store = open_store(database)
    with store.session() as session:
        ws = create_workspace(session, "Anytown", "anytown", seed=False)
        north = create(session, ws.id, "locality", {"name": "North"})
        create(session, ws.id, "masked_name", {"name": "Okafor"})
        for i, row in enumerate(corpus.iter_rows(named=True)):
            classified = i % 2 == 0
            create(
                session,
                ws.id,
                "demand",
                {
                    "verbatim": row["text"] + (" ring 07700 900123, Mrs Okafor" if i == 0 else ""),
                    "channel": CHANNELS.get(row["channel"], "other"),
                    "service": row["service"],
                    "locality_id": north.id if i % 3 == 0 else None,
                    "received_at": datetime(2026, 5, 1, 9, tzinfo=UTC) + timedelta(minutes=i),
                    "demand_class": row["demand_class"] if classified else None,
                    "demand_type": row["demand_type"] if classified else "",
                    "what_failed": row["what_failed"] if classified else None,
                },
                object_id=f"{i:032x}",
                actor="sam",
            )
        session.commit()
    store.dispose()
    return corpus


def test_the_tables_hold_every_capture_and_the_classes_given(tmp_path: Path) -> None:
    corpus = _capture(tmp_path / "ws.db", n=30)
    store = open_store(tmp_path / "ws.db")
    with store.session() as session:
        ws_id = pick_workspace(session, "anytown").id
        contacts, labels = captured_demand_tables(session, ws_id)
        # Captured today (by the clock of this test run): all 30 were made just now.
        assert captured_today(session, ws_id, datetime.now(UTC), actor="sam") == 30
        assert captured_today(session, ws_id, datetime.now(UTC), actor="someone else") == 0
    store.dispose()
    assert contacts.height == 30 and labels.height == 15
    assert contacts["id"][0] == f"{0:032x}"
    assert contacts["text"][0].endswith("ring [phone], Mrs [name]")
    assert contacts["locality"].to_list()[:4] == ["North", "", "", "North"]
    assert contacts["received"][1] == "2026-05-01T09:01:00+00:00"
    expected = corpus.with_row_index("i").filter(pl.col("i") % 2 == 0)
    assert labels["demand_class"].to_list() == expected["demand_class"].to_list()
    assert labels["what_failed"].to_list() == expected["what_failed"].fill_null("").to_list()


def test_export_then_estimate(tmp_path: Path) -> None:
    database = tmp_path / "ws.db"
    _capture(database)
    out = tmp_path / "captured"
    exported = runner.invoke(
        app,
        ["demand", "capture", "export", "--db", str(database), "-w", "anytown", "--out", str(out)],
    )
    assert exported.exit_code == 0, exported.output
    assert "240 captured contacts" in exported.output and "120 labels" in exported.output
    study = tmp_path / "study"
    estimated = runner.invoke(
        app,
        [
            "demand",
            "estimate",
            str(out / "contacts.csv"),
            "--labels",
            str(out / "labels.csv"),
            "--out",
            str(study),
            "--no-charts",
        ],
    )
    assert estimated.exit_code == 0, estimated.output
    estimate = json.loads((study / "estimate.json").read_text())
    assert (estimate["contacts"], estimate["labelled"]) == (240, 120)
    rows = pl.read_csv(study / "contacts.csv")
    labelled = rows.filter(pl.col("source") == "labelled")
    given = pl.read_csv(out / "labels.csv").select("id", pl.col("demand_class").alias("given"))
    joined = labelled.join(given, on="id")
    assert joined.height == 120 and (joined["demand_class"] == joined["given"]).all()


def test_an_empty_workspace_says_what_to_do(tmp_path: Path) -> None:
    store = open_store(tmp_path / "ws.db")
    with store.session() as session:
        create_workspace(session, "Anytown", "anytown", seed=False)
        session.commit()
    store.dispose()
    result = runner.invoke(
        app,
        ["demand", "capture", "export", "--db", str(tmp_path / "ws.db"), "--out", str(tmp_path)],
    )
    assert result.exit_code == 2
    assert "no captured demand yet" in result.output and "/capture" in result.output


def test_words_are_masked_on_import_and_kept_out_of_the_audit_trail(tmp_path: Path) -> None:
    from sqlalchemy import select

    from systemic.store.accounts import AuditEvent
    from systemic.store.transfer import export_workspace, import_workspace

    store = open_store(tmp_path / "ws.db")
    with store.session() as session:
        ws = create_workspace(session, "Anytown", "anytown", seed=False)
        create(session, ws.id, "demand", {"verbatim": "ask for Mr Idris on 07700 900123"})
        session.commit()
        document = export_workspace(session, "anytown")
        trail = [e.after for e in session.scalars(select(AuditEvent))]
    store.dispose()
    assert "Idris" in document["objects"]["demand"][0]["verbatim"]  # not listed yet
    assert "07700" not in str(document["objects"]) and "Idris" not in str(trail)
    # A hand-edited document with clear words and a name to mask: masked on the way in.
    document["objects"]["demand"][0]["verbatim"] = "ask for Mr Idris on 07700 900123"
    stamps = {k: document["objects"]["demand"][0][k] for k in ("workspace_id", "created_at")}
    document["objects"]["masked_name"] = [
        {"id": "9" * 32, "name": "Idris", "updated_at": stamps["created_at"], **stamps}
    ]
    other = open_store(tmp_path / "other.db")
    with other.session() as session:
        import_workspace(session, document)
        session.commit()
        imported = export_workspace(session, "anytown")
    other.dispose()
    [demand] = imported["objects"]["demand"]
    assert demand["verbatim"] == "ask for Mr [name] on [phone]"
    # The history brought in holds the words too: masked with the same names.
    assert "Idris" in str(document["history"])
    assert "Idris" not in str(imported["history"]) and "07700" not in str(imported["history"])


def test_a_name_listed_later_is_masked_in_what_is_already_stored(tmp_path: Path) -> None:
    from sqlalchemy import select

    from systemic.store.accounts import AuditEvent
    from systemic.store.repository import get, history, update

    store = open_store(tmp_path / "ws.db")
    with store.session() as session:
        ws = create_workspace(session, "Anytown", "anytown", seed=False)
        other = create_workspace(session, "Elsewhere", "elsewhere", seed=False)
        said = create(session, ws.id, "demand", {"verbatim": "Mrs Okafor rang again"})
        update(session, ws.id, "demand", said.id, {"what_matters": "Okafor wants to stay home"})
        kept = create(session, other.id, "demand", {"verbatim": "Mrs Okafor rang"})
        assert "Okafor" in str([h.as_dict() for h in history(session, ws.id)])
        name = create(session, ws.id, "masked_name", {"name": "Mrs Okafor"})
        assert get(session, ws.id, "demand", said.id).verbatim == "[name] rang again"
        # "Okafor" alone is not the listed name: left until the list says so.
        assert get(session, ws.id, "demand", said.id).what_matters == "Okafor wants to stay home"
        update(session, ws.id, "masked_name", name.id, {"name": "Okafor"})
        session.commit()
        assert get(session, ws.id, "demand", said.id).what_matters == "[name] wants to stay home"
        words = [h.as_dict() for h in history(session, ws.id) if h.kind == "demand"]
        assert len(words) == 2 and "Okafor" not in str(words)
        trail = session.scalars(select(AuditEvent).where(AuditEvent.object_kind == "demand"))
        assert "Okafor" not in str([(e.before, e.after) for e in trail])
        # Another workspace's list is its own.
        assert get(session, other.id, "demand", kept.id).verbatim == "Mrs Okafor rang"
    store.dispose()


def test_retention_deletes_a_captured_demand_after_its_date(tmp_path: Path) -> None:
    from datetime import date

    from systemic.store.repository import history, list_objects
    from systemic.store.retention import run_retention

    store = open_store(tmp_path / "ws.db")
    with store.session() as session:
        ws = create_workspace(session, "Anytown", "anytown", seed=False)
        kept = create(session, ws.id, "demand", {"verbatim": "a", "retain_until": "2027-06-01"})
        create(session, ws.id, "demand", {"verbatim": "b", "retain_until": "2027-01-01"})
        session.commit()
    report = run_retention(store.engine, today=date(2027, 3, 1))
    assert report.counts()["demand"] == 1
    with store.session() as session:
        assert [d.id for d in list_objects(session, ws.id, "demand")] == [kept.id]
        assert {h.object_id for h in history(session, ws.id, kind="demand")} == {kept.id}
    store.dispose()


def test_many_capturing_at_once_lose_nothing_and_store_a_form_once(store) -> None:  # type: ignore[no-untyped-def]
    """Eight people capture at once, each also sending one form twice at the same moment:
    every capture is stored, each form once (on SQLite and PostgreSQL)."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from systemic.store.demand_capture import capture_demand, new_capture_key
    from systemic.store.repository import list_objects

    with store.session() as session:
        ws_id = create_workspace(session, "Anytown", "anytown", seed=False).id
        session.commit()
    people, each = 8, 5
    start = Barrier(people * 2)
    twice = [new_capture_key() for _ in range(people)]

    def capture(person: int, copy: int) -> list[bool]:
        start.wait()
        stored = []
        with store.session() as session:
            if copy == 0:
                for n in range(each):
                    said = {"verbatim": f"person {person} contact {n}", "demand_class": "value"}
                    done = capture_demand(
                        session, ws_id, said, new_capture_key(), actor=f"p{person}"
                    )
                    stored.append(done.stored)
            said = {"verbatim": f"person {person} sent this twice"}
            stored.append(capture_demand(session, ws_id, said, twice[person]).stored)
        return stored

    with ThreadPoolExecutor(people * 2) as pool:
        results = list(
            pool.map(lambda a: capture(*a), [(p, c) for p in range(people) for c in (0, 1)])
        )
    with store.session() as session:
        demands = list_objects(session, ws_id, "demand")
    texts = sorted(d.verbatim for d in demands)
    assert len(demands) == people * each + people
    assert len(set(texts)) == len(texts)
    # Each form sent twice was stored by exactly one of its two requests.
    for person in range(people):
        firsts = [results[2 * person][-1], results[2 * person + 1][-1]]
        assert sorted(firsts) == [False, True]


def test_the_export_defuses_spreadsheet_formulas(tmp_path: Path) -> None:
    # A resident's words typed at the capture desk are opened in a spreadsheet:
    # text that would run as a formula gets a ' in front (issue 16, recheck).
    database = tmp_path / "ws.db"
    store = open_store(database)
    hostile = ["=cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0", '=HYPERLINK("http://x","y")']
    with store.session() as session:
        ws = create_workspace(session, "Anytown", "anytown", seed=False)
        for i, words in enumerate(hostile):
            create(
                session,
                ws.id,
                "demand",
                {
                    "verbatim": words,
                    "what_matters": words,
                    "service": "+1" + words,
                    "demand_class": "failure",
                    "demand_type": "-" + words,
                    "what_failed": "not_done",
                },
                object_id=f"{i:032x}",
            )
        session.commit()
    store.dispose()
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["demand", "capture", "export", "--db", str(database), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    for name in ("contacts.csv", "labels.csv"):
        cells = [c for row in pl.read_csv(out / name, infer_schema=False).rows() for c in row]
        assert not [c for c in cells if c and c[0] in "=+-@\t\r"], name
    text = pl.read_csv(out / "contacts.csv", infer_schema=False)["text"].to_list()
    assert sorted(text) == sorted("'" + w for w in hostile)
