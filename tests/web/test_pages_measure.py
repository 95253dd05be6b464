"""The measure page: a live measure defined on the form, drawn from a learn result."""

from __future__ import annotations

import html
import re
from pathlib import Path

import polars as pl
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from systemic.learn import learn_events, write_outputs
from systemic.learn.series import SERIES
from systemic.store import load_snapshot
from systemic.store.learn_results import add_learn_result, newest_learn_results
from systemic.store.repository import pick_workspace
from tests.measures.test_learnt import town_events
from tests.web.test_pages import created_id, post_form


@pytest.fixture(scope="module")
def extracts(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    first, second = tmp_path_factory.mktemp("first"), tmp_path_factory.mktemp("second")
    write_outputs(learn_events(town_events(weeks=30)), first, charts=False)
    write_outputs(learn_events(town_events(weeks=40)), second, charts=False)
    return first, second


def bring_in(app: FastAPI, learn_dir: Path) -> int:
    with app.state.store.session() as session:
        ws = pick_workspace(session, app.state.workspace)
        version = add_learn_result(session, ws.id, "town", learn_dir, actor="test").version
        session.commit()
    return version


def test_a_measure_defined_on_the_form_draws_learns_series_and_refreshes_with_a_new_extract(
    app: FastAPI, client: TestClient, extracts: tuple[Path, Path]
) -> None:
    first, second = extracts
    assert bring_in(app, first) == 1
    measure = created_id(
        post_form(
            client,
            "measures",
            {
                "name": "Failure demand in South",
                "data_source": "learn",
                "learn_result": "town",
                "series_name": "failure_contacts",
                "locality": "South",
                "chart": "c",
                "improvement": "decrease",
                "rebases": "2025-04-07, new triage line",
                "annotations": "2025-03-03, phone system down <script>alert(1)</script>",
            },
        ),
        "measures",
    )
    created_id(
        post_form(
            client,
            "experiments",
            {"title": "One team in South", "start_date": "2025-05-05", "measure_ids": measure},
        ),
        "experiments",
    )
    page = client.get(f"/measures/{measure}").text
    assert f'hx-get="/measures/{measure}/chart"' in page

    fragment = client.get(f"/measures/{measure}/chart", headers={"HX-Request": "true"}).text
    assert "<svg" in fragment
    assert "learn result <strong>town</strong>, version 1" in fragment
    assert "lower is better" in fragment
    assert "Variation: common cause" in fragment or "Variation: special cause" in fragment
    assert "2025-05-05: Experiment: One team in South" in fragment
    assert "2025-03-03: phone system down" in fragment
    assert "<script>alert(1)" not in fragment  # a note is text, on the page and in the SVG
    assert "limits recalculated: new triage line" in fragment
    assert "2025-09-29" not in fragment  # the first extract ends before then

    assert bring_in(app, second) == 2
    newer = client.get(f"/measures/{measure}/chart", headers={"HX-Request": "true"}).text
    assert "version 2 (the newest)" in newer and "2025-09-29" in newer
    assert "Earlier extracts" in newer and f"/measures/{measure}/chart?version=1" in newer
    older = client.get(f"/measures/{measure}/chart?version=1", headers={"HX-Request": "true"}).text
    assert "version 1" in older and "2025-09-29" not in older


def test_a_measure_naming_no_learn_result_in_the_workspace_says_how_to_bring_one_in(
    client: TestClient,
) -> None:
    measure = created_id(
        post_form(
            client,
            "measures",
            {"name": "Share", "data_source": "learn", "learn_result": "absent",
             "series_name": "failure_demand_share"},
        ),
        "measures",
    )  # fmt: skip
    fragment = client.get(f"/measures/{measure}/chart", headers={"HX-Request": "true"}).text
    assert "No chart yet" in fragment
    assert "systemic workspace add-learn DIR --name absent" in fragment


def _learn_result_select(page: str) -> str:
    select = re.search(
        r'<select id="learn_result" name="learn_result"[^>]*>(.*?)</select>', page, re.S
    )
    assert select, "the learn result is a pick-list"
    return select.group(1)


def test_the_learn_result_is_picked_from_those_in_the_workspace(
    app: FastAPI, client: TestClient, extracts: tuple[Path, Path]
) -> None:
    first, second = extracts
    empty = _learn_result_select(client.get("/measures/new").text)
    # Before any is brought in, the only choice is none.
    assert re.findall(r'<option value="([^"]*)"', empty) == [""]

    bring_in(app, first)
    bring_in(app, second)
    options = _learn_result_select(client.get("/measures/new").text)
    values = re.findall(r'<option value="([^"]*)"', options)
    assert values == ["", "town"]  # one choice per name, whatever its versions
    # The newest version, its weeks and the series it publishes, as learn wrote them.
    with app.state.store.session() as session:
        newest = newest_learn_results(session, pick_workspace(session, app.state.workspace).id)
    assert [(i.name, i.version) for i in newest] == [("town", 2)]
    weekly = pl.read_csv(second / "tables" / "series_weekly.csv", infer_schema=False)
    weeks = weekly["period"].n_unique()
    published = [
        name for name, definition in SERIES.items() if weekly[definition.value].drop_nulls().len()
    ]
    assert "failure_demand_share" in published
    label = html.unescape(re.search(r'<option value="town"[^>]*>(.*?)</option>', options).group(1))
    assert label == (
        f"town (version 2, {weeks} weeks: "
        + ", ".join(SERIES[name].title.lower() for name in published)
        + ")"
    )

    # Picked, it is saved; none is still accepted and clears it.
    measure = created_id(
        post_form(
            client,
            "measures",
            {"name": "Share", "data_source": "learn", "learn_result": "town",
             "series_name": "failure_demand_share"},
        ),
        "measures",
    )  # fmt: skip
    edit = _learn_result_select(client.get(f"/measures/{measure}/edit").text)
    assert re.search(r'<option value="town" selected>', edit)
    response = client.post(
        f"/measures/{measure}/edit",
        data={"name": "Share", "learn_result": ""},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    with app.state.store.session() as session:
        snap = load_snapshot(session, pick_workspace(session, app.state.workspace).id)
        assert snap.by_id("measure")[measure].learn_result == ""


def test_a_stored_learn_result_not_in_the_workspace_stays_on_the_form(client: TestClient) -> None:
    """A measure naming a result not brought in yet (say, set through the API) keeps it when
    its form is saved: the pick-list offers it, marked, and selected."""
    measure = created_id(
        post_form(
            client,
            "measures",
            {"name": "Share", "data_source": "learn", "learn_result": "next-year"},
        ),
        "measures",
    )
    edit = _learn_result_select(client.get(f"/measures/{measure}/edit").text)
    assert '<option value="next-year" selected>next-year (not in this workspace)</option>' in edit
