"""An experiment's page holds its PDSA cycles and evidence; a decision shows what it rests on.

Through the pages as an editor uses them (forms posted, redirects followed), on
SQLite and, when configured, PostgreSQL.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from systemic.report.workspace_sections import snapshot_sections
from systemic.store import load_snapshot, orm
from systemic.store.learn_results import add_learn_result
from systemic.store.repository import pick_workspace
from tests.framework import big_and_small
from tests.web.test_pages import Page

START = date(2026, 3, 2)
WEEKS = [START + timedelta(weeks=i - 8) for i in range(16)]
FRAGMENT = {"HX-Request": "true"}


def make(client: TestClient, plural: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"/api/{plural}", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def workspace(client: TestClient) -> dict[str, dict[str, Any]]:
    north = make(client, "localities", {"name": "North"})
    purpose = make(client, "purpose_statements", {"text": "Tell my story once", "voice": "I"})
    values = [9.0, 11.0] * 4 + [4.0, 5.0] * 4  # a step down at the start
    series = [{"period": d.isoformat(), "value": v} for d, v in zip(WEEKS, values, strict=True)]
    measure = make(client, "measures", {
        "name": "Repeat contacts", "purpose_statement_ids": [purpose["id"]], "series": series,
    })  # fmt: skip
    experiment = make(client, "experiments", {
        "title": "One conversation", "start_date": START.isoformat(),
        "locality_id": north["id"], "measure_ids": [measure["id"]],
    })  # fmt: skip
    return {"north": north, "purpose": purpose, "measure": measure, "experiment": experiment}


def evidence(client: TestClient, experiment_id: str) -> str:
    response = client.get(f"/experiments/{experiment_id}/evidence", headers=FRAGMENT)
    assert response.status_code == 200
    return response.text


def test_pdsa_cycles_are_added_and_edited_on_the_experiments_page(client: TestClient) -> None:
    made = workspace(client)
    eid = made["experiment"]["id"]
    page = client.get(f"/experiments/{eid}").text
    assert f'hx-get="/experiments/{eid}/evidence"' in page
    assert "No PDSA cycle yet" in evidence(client, eid)

    response = client.post(f"/experiments/{eid}/cycles", data={
        "plan": "One worker takes the whole call", "prediction": "Fewer repeat contacts",
        "started_on": "2026-03-02", "what_happened": "Calls took longer",
    }, follow_redirects=False)  # fmt: skip
    assert response.status_code == 303
    assert response.headers["location"] == f"/experiments/{eid}?saved=1#pdsa"
    client.post(f"/experiments/{eid}/cycles", data={"plan": "Earlier", "started_on": "2026-02-01"})
    shown = evidence(client, eid)
    assert shown.index("Earlier") < shown.index("One worker takes the whole call")
    assert "<h3>Cycle 2: 2026-03-02</h3>" in shown and "Do: what happened" in shown

    client.post(f"/experiments/{eid}/cycles/1", data={
        "plan": "One worker takes the whole call", "started_on": "2026-03-02",
        "ended_on": "2026-03-30", "what_next": "Adapt: two workers in pairs",
    })  # fmt: skip
    shown = evidence(client, eid)
    assert "2026-03-02 to 2026-03-30" in shown and "Adapt: two workers in pairs" in shown

    bad = client.post(f"/experiments/{eid}/cycles", data={
        "plan": "Backwards", "started_on": "2026-05-02", "ended_on": "2026-05-01",
    })  # fmt: skip
    assert bad.status_code == 422
    assert "Must not be before the day the cycle started" in bad.text
    assert ">Backwards</textarea>" in bad.text  # what was typed is kept
    full = Page(client.get(f"/experiments/{eid}/evidence").text)
    assert len(full.ids) == len(set(full.ids))
    unlabelled = [c for c in full.controls if c.get("id") not in full.label_for]
    assert unlabelled == []


def test_analyse_stores_a_version_per_run_and_the_page_shows_them(client: TestClient) -> None:
    made = workspace(client)
    eid = made["experiment"]["id"]
    assert "Not analysed yet." in evidence(client, eid)
    response = client.post(f"/experiments/{eid}/analyse", follow_redirects=False)
    assert response.status_code == 303
    shown = evidence(client, eid)
    assert "Version 1 (latest)" in shown
    assert "special-cause" in shown and "Repeat contacts" in shown
    client.post(f"/experiments/{eid}/analyse")
    shown = evidence(client, eid)
    assert shown.index("Version 2 (latest)") < shown.index("Earlier versions")
    assert shown.index("Earlier versions") < shown.index("Version 1<")
    stored = client.get(f"/api/experiments/{eid}").json()["analyses"]
    assert [a["version"] for a in stored] == [1, 2]
    assert stored[0]["measures"][0]["measure_id"] == made["measure"]["id"]

    undated = make(client, "experiments", {"title": "Undated"})
    refused = client.post(f"/experiments/{undated['id']}/analyse")
    assert refused.status_code == 422
    assert "has no start date: set it, then analyse" in refused.text


def test_a_decision_shows_its_conditions_purpose_experiments_and_their_measures(
    client: TestClient, app: FastAPI
) -> None:
    made = workspace(client)
    eid = made["experiment"]["id"]
    condition = make(
        client, "system_conditions", {"name": "Eight-minute call target", "judgement": "harmful"}
    )
    audit = client.get("/audit").text
    assert "Eight-minute call target&#39; is judged harmful and no redesign decision" in audit
    decision = make(client, "redesign_decisions", {
        "title": "Drop the call-time target", "experiment_ids": [eid],
        "system_condition_ids": [condition["id"]],
        "purpose_statement_ids": [made["purpose"]["id"]],
    })  # fmt: skip
    grounds = client.get(f"/redesign_decisions/{decision['id']}/grounds", headers=FRAGMENT).text
    links = dict(re.findall(r"<dt>([^<]+)</dt><dd>(.*?)</dd>", grounds, re.S))
    assert condition["id"] in links["System conditions it changes"]
    assert made["purpose"]["id"] in links["Purpose it serves"]
    assert "not analysed" in links["Experiments"]
    assert made["measure"]["id"] in links["Measures its experiments read"]
    audit = client.get("/audit").text
    assert "is judged harmful and no redesign decision" not in audit
    assert "Its experiments (&#39;One conversation&#39;) hold no stored evidence" in audit

    client.post(f"/experiments/{eid}/analyse")
    grounds = client.get(f"/redesign_decisions/{decision['id']}/grounds", headers=FRAGMENT).text
    assert "evidence version 1" in grounds and "Changed</span>" in grounds
    assert "hold no stored evidence" not in client.get("/audit").text
    page = client.get(f"/redesign_decisions/{decision['id']}").text
    assert f'hx-get="/redesign_decisions/{decision["id"]}/grounds"' in page

    # The cycle page and the report say the same of the stored evidence.
    analysed_on = client.get(f"/api/experiments/{eid}").json()["analyses"][0]["analysed_at"][:10]
    summary = (
        f"version 1 of {analysed_on}: Repeat contacts: changed (no direction of improvement set)"
    )
    assert summary in client.get("/cycle").text
    with app.state.store.session() as session:
        cycle = next(
            s
            for s in snapshot_sections(load_snapshot(session, app.state.workspace))
            if s.id == "cycle"
        )
    experiments, decisions = (t.frame for t in cycle.tables)
    assert experiments["evidence"].to_list() == [summary]
    assert decisions["conditions changed"].to_list() == ["Eight-minute call target"]


def test_stored_evidence_cannot_be_written_through_the_api(client: TestClient) -> None:
    """Only Analyse writes an experiment's evidence: a verdict typed into the API is refused."""
    made = workspace(client)
    eid = made["experiment"]["id"]
    client.post(f"/experiments/{eid}/analyse")
    stored = client.get(f"/api/experiments/{eid}").json()["analyses"]
    assert len(stored) == 1
    forged = [dict(stored[0], version=2, analysed_by="someone else")]
    patched = client.patch(f"/api/experiments/{eid}", json={"analyses": forged})
    assert patched.status_code == 422, patched.text
    assert "written only by the system" in patched.text and "analyses" in patched.text
    created = client.post("/api/experiments", json={"title": "Forged", "analyses": forged})
    assert created.status_code == 422, created.text
    assert client.get(f"/api/experiments/{eid}").json()["analyses"] == stored
    # Analyse itself still adds a version.
    client.post(f"/experiments/{eid}/analyse")
    assert len(client.get(f"/api/experiments/{eid}").json()["analyses"]) == 2


def test_a_learnt_count_reads_as_a_percentage_on_the_page_in_the_api_and_the_report(
    client: TestClient, app: FastAPI, tmp_path: Path
) -> None:
    """Contacts a week in a big and a small locality: -11% relative, as the CLI says."""
    folder = big_and_small.write_learn_folder(tmp_path / "learn")
    with app.state.store.session() as session:
        ws = pick_workspace(session, app.state.workspace)
        add_learn_result(session, ws.id, "town", folder, actor="ada")
        session.commit()
    north = make(client, "localities", {"name": "North"})
    measure = make(client, "measures", {
        "name": "Contacts, North", "data_source": "learn", "learn_result": "town",
        "series_name": "contacts", "locality": "North",
    })  # fmt: skip
    experiment = make(client, "experiments", {
        "title": "One conversation", "start_date": big_and_small.START.isoformat(),
        "locality_id": north["id"], "measure_ids": [measure["id"]],
    })  # fmt: skip
    eid = experiment["id"]
    assert client.post(f"/experiments/{eid}/analyse", follow_redirects=False).status_code == 303
    (found,) = client.get(f"/api/experiments/{eid}").json()["analyses"][0]["measures"]
    assert found["scale"] == "relative"
    assert found["did"] == pytest.approx(big_and_small.RELATIVE)
    low, high = (f"{round(100 * found[k]):+d}%" for k in ("did_lower", "did_upper"))
    said = f"-11% [{low}, {high}] relative to the other localities (South)"
    rows = dict(re.findall(r"<dt>([^<]+)</dt><dd>(.*?)</dd>", evidence(client, eid), re.S))
    assert rows["Difference in differences (95% interval)"] == said
    assert rows["Change since the start"] == "-20% in North, -10% in the other localities"
    assert f"interval {low} to {high}" in evidence(client, eid)  # the verdict beside it
    summary = client.get("/cycle").text
    assert f"Contacts, North: changed (no direction of improvement set), {said}" in summary
    with app.state.store.session() as session:
        cycle = next(
            s
            for s in snapshot_sections(load_snapshot(session, app.state.workspace))
            if s.id == "cycle"
        )
    assert said in cycle.tables[0].frame["evidence"][0]


def test_evidence_stored_without_a_scale_still_shows_as_a_difference(
    client: TestClient, app: FastAPI
) -> None:
    """An analysis stored before the scale was recorded: read, and shown, as a difference."""
    made = workspace(client)
    eid = made["experiment"]["id"]
    old = {
        "version": 1, "analysed_at": "2026-05-01T09:00:00+00:00", "analysed_by": "ana",
        "start_date": START.isoformat(), "locality": "North",
        "measures": [{
            "measure_id": made["measure"]["id"], "measure_name": "Repeat contacts",
            "source": "upload", "locality": "North", "compared_with": ["South"],
            "improvement": "decrease", "chart": "xmr", "n_before": 8, "n_after": 8,
            "change_in_locality": -5.5, "change_in_others": 0.5, "did": -6.0,
            "did_lower": -6.8, "did_upper": -5.2, "conclusion": "improvement",
            "verdict": "Repeat contacts fell in North.", "notes": [],
        }],
    }  # fmt: skip
    with app.state.store.session() as session:
        row = session.get(orm.Experiment, eid)
        assert row is not None
        row.analyses = [old]
        session.commit()
    rows = dict(re.findall(r"<dt>([^<]+)</dt><dd>(.*?)</dd>", evidence(client, eid), re.S))
    assert rows["Difference in differences (95% interval)"] == (
        "-6 [-6.8, -5.2] against the other localities (South), in the measure&#39;s units"
    )
    assert rows["Change since the start"] == "-5.5 in North, +0.5 in the other localities"
    assert (
        client.get(f"/api/experiments/{eid}").json()["analyses"][0]["measures"][0]["scale"]
        == "difference"
    )
