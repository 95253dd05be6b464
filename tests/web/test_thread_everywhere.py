"""One thread: the dashboard, the purpose page, each statement's page and the report agree.

A workspace is built through the API with the case that once split them: an
experiment that uses a statement's measure without naming the statement (the
dashboard listed it, the purpose page showed "no experiment", the report
counted 0); evidence stored by "Analyse" and a decision naming the purpose it
serves count everywhere alike. For every purpose statement, each place's experiments, evidence
and redesign decisions are read from its HTML and compared.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from systemic.report import render_html
from systemic.report.document import ReportDocument
from systemic.report.workspace_sections import snapshot_sections
from systemic.store import load_snapshot


def make(client: TestClient, plural: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"/api/{plural}", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def build(client: TestClient) -> dict[str, dict[str, Any]]:
    once = make(
        client,
        "purpose_statements",
        {"text": "When I ask for help I only have to tell my story once", "voice": "I"},
    )
    child = make(
        client,
        "purpose_statements",
        {"text": "Staff know what I told the last person", "voice": "I", "parent_id": once["id"]},
    )
    alone = make(client, "purpose_statements", {"text": "I can get there by bus", "voice": "I"})
    measure = make(
        client, "measures", {"name": "Repeat contacts", "purpose_statement_ids": [once["id"]]}
    )
    via_measure = make(
        client,
        "experiments",
        {
            "title": "One conversation, one record",
            "measure_ids": [measure["id"]],
            "result": "Repeat contacts fell beyond the other localities.",
        },
    )
    uploaded = make(client, "measures", {"name": "Notes read", "series": [
        {"period": f"2026-0{month}-0{day}", "value": value}
        for month, day, value in [(1, 5, 3), (1, 6, 4), (1, 7, 3), (2, 2, 8), (2, 3, 9)]
    ]})  # fmt: skip
    named = make(
        client,
        "experiments",
        {
            "title": "Shared notes",
            "purpose_statement_ids": [child["id"]],
            "measure_ids": [uploaded["id"]],
            "start_date": "2026-02-01",
        },
    )
    # Its evidence is an analysis stored by "Analyse", not a result typed in.
    assert client.post(f"/experiments/{named['id']}/analyse").status_code == 200
    direct = make(
        client,
        "redesign_decisions",
        {"title": "Notes follow the person", "purpose_statement_ids": [child["id"]]},
    )
    decision = make(
        client,
        "redesign_decisions",
        {"title": "One record for every team", "experiment_ids": [via_measure["id"]]},
    )
    return {
        "once": once,
        "child": child,
        "alone": alone,
        "via_measure": via_measure,
        "named": named,
        "decision": decision,
        "direct": direct,
    }


def ids(html: str, kind: str) -> set[str]:
    return set(re.findall(rf"/{kind}/([0-9a-f]{{32}})", html))


def dashboard_cells(html: str, statement_id: str) -> dict[str, str]:
    row = re.search(
        rf'<tr>\s*<th scope="row"[^>]*><a href="/purpose_statements/{statement_id}".*?</tr>',
        html,
        re.S,
    )
    assert row, statement_id
    return dict(re.findall(r'<td data-label="([^"]+)">(.*?)</td>', row.group(0), re.S))


def mission_item(html: str, statement_id: str) -> str:
    start = html.index(f'<li id="ps-{statement_id}">')
    following = html.find('<li id="ps-', start + 1)
    return html[start : following if following > 0 else len(html)]


def thread_block(html: str) -> dict[str, str]:
    block = re.search(r'<dl class="fields thread">(.*?)</dl>', html, re.S)
    assert block
    return dict(re.findall(r"<dt>([^<]+)</dt><dd>(.*?)</dd>", block.group(1), re.S))


def report_rows(app: FastAPI) -> dict[str, dict[str, str]]:
    with app.state.store.session() as session:
        snap = load_snapshot(session, app.state.workspace)
    sections = snapshot_sections(snap)
    html = render_html(ReportDocument(title="t", sections=sections))
    mission = next(s for s in sections if s.id == "mission")
    table = mission.tables[0]
    assert "experiments" in html
    return {row["statement"].lstrip("— "): row for row in table.frame.iter_rows(named=True)}


def test_every_place_tells_the_same_thread_for_every_purpose(
    client: TestClient, app: FastAPI
) -> None:
    made = build(client)
    titles = {
        made[k]["id"]: made[k]["title"] for k in ("via_measure", "named", "decision", "direct")
    }
    expected = {
        made["once"]["id"]: ({made["via_measure"]["id"]}, {made["via_measure"]["id"]},
                             {made["decision"]["id"]}),
        made["child"]["id"]: ({made["named"]["id"]}, {made["named"]["id"]},
                              {made["direct"]["id"]}),
        made["alone"]["id"]: (set(), set(), set()),
    }  # fmt: skip
    dashboard = client.get("/").text
    mission = client.get("/mission").text
    report = report_rows(app)
    texts = {made[k]["id"]: made[k]["text"] for k in ("once", "child", "alone")}
    for statement_id, (experiments, evidence, decisions) in expected.items():
        cells = dashboard_cells(dashboard, statement_id)
        assert ids(cells["Experiments"], "experiments") == experiments
        assert ids(cells["Evidence"], "experiments") == evidence
        assert ids(cells["Redesign decisions"], "redesign_decisions") == decisions

        item = mission_item(mission, statement_id)
        assert ids(item, "experiments") == experiments
        badge = f"{len(experiments)} experiment" if experiments else "no experiment"
        assert badge in item

        page = thread_block(client.get(f"/purpose_statements/{statement_id}").text)
        assert ids(page["Experiments"], "experiments") == experiments
        assert ids(page["Evidence"], "experiments") == evidence
        assert ids(page["Redesign decisions"], "redesign_decisions") == decisions

        row = report[texts[statement_id]]
        assert row["experiments"] == (", ".join(titles[i] for i in experiments) or "none")
        assert row["evidence"] == (", ".join(titles[i] for i in evidence) or "none")
        assert row["redesign decisions"] == (", ".join(titles[i] for i in decisions) or "none")
