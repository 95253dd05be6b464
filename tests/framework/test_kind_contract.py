# ruff: noqa: F811  (the app and client fixtures are imported, then named as arguments)
"""The kind contract: every kind in ``KINDS`` is checked the same way, on SQLite and
PostgreSQL, as scikit-learn's ``check_estimator`` checks every estimator.

For each kind: create (through its form and through the API), read, update,
link and unlink each relation, delete; the history and the audit trail record
each change; an export imported back gives the same workspace; the form shows
every field's title and help, and an empty required field comes back with a
message naming the field; the OpenAPI schema carries the fields' titles and
descriptions; a viewer cannot write and an editor can; ``<script>`` typed into
every text field comes back escaped on the object's page.

Example values are built from the kind's pydantic fields (:func:`example_values`),
so a new kind, or a new field on a kind, is checked with no edit here: a new
kind that does not keep the contract fails the suite.
"""

from __future__ import annotations

import html
import re
import types
import typing
from datetime import date, datetime, timedelta
from typing import Any

import annotated_types
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import AwareDatetime, BaseModel
from pydantic.fields import FieldInfo
from sqlalchemy import select

from systemic.framework.kinds import KINDS, Kind, choices_of
from systemic.store.accounts import AuditEvent
from systemic.store.repository import get_workspace
from systemic.store.repository import history as read_history
from systemic.store.transfer import export_workspace, import_workspace
from systemic.web.pages.forms import form_controls
from tests.web.conftest import (  # noqa: F401  (fixtures: an app and a signed-in client)
    _cheap_argon2,
    _pg_migrated,
    _shared_app,
    _sqlite_template,
    add_user,
    app,
    client,
    migrated_url,
    open_session,
)

ALL_KINDS = pytest.mark.parametrize("kind", list(KINDS.values()), ids=list(KINDS))
#: One date for every date field: in the future, so a retention date is accepted, and
#: the same everywhere, so start/end and told/kept-until pairs are in order.
A_DATE = (date.today() + timedelta(days=400)).isoformat()


# --- example values, from the kind's fields ---------------------------------------


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return (args[0] if len(args) == 1 else annotation), True
    return annotation, False


def set_elsewhere(info: FieldInfo) -> bool:
    """Fields set elsewhere (a factor's place and loop names by the map, an
    experiment's cycles and evidence on its own page): not typed into the form."""
    extra = info.json_schema_extra
    return isinstance(extra, dict) and extra.get("set_on") is not None


def text_fields(kind: Kind) -> list[str]:
    """Fields holding free text: plain ``str`` (not a reference, not a choice)."""
    return [
        name
        for name, info in kind.fields.model_fields.items()
        if _unwrap(info.annotation)[0] is str
        and name not in kind.references
        and not set_elsewhere(info)
    ]


def _number(info: FieldInfo, whole: bool) -> int | float:
    low, high = -1e9, 1e9
    for rule in info.metadata:
        if isinstance(rule, annotated_types.Ge | annotated_types.Gt):
            low = float(getattr(rule, "ge", getattr(rule, "gt", low)))
        if isinstance(rule, annotated_types.Le | annotated_types.Lt):
            high = float(getattr(rule, "le", getattr(rule, "lt", high)))
    value = max(low, min(high, 3.0 if whole else 2.5))
    return int(value) if whole else value


def example_value(name: str, info: FieldInfo, text: str) -> Any:
    """A valid JSON value for one field (not a reference or relation)."""
    annotation, _ = _unwrap(info.annotation)
    if info.examples:  # the field's own example, where other fields depend on its value
        return info.examples[0]
    choices = choices_of(info)
    if choices is not None:
        default = info.get_default()
        return default if default in choices else choices[0]
    if annotation is bool:
        return True
    if annotation is int:
        return _number(info, whole=True)
    if annotation is float:
        return _number(info, whole=False)
    if annotation is date:
        return A_DATE
    if annotation in (datetime, AwareDatetime):
        return f"{A_DATE}T10:30:00+00:00"
    if annotation is str:
        return text
    if typing.get_origin(annotation) is list:
        (item,) = typing.get_args(annotation)
        if item is str:
            return [f"{text} one", f"{text} two"]
        if isinstance(item, type) and issubclass(item, BaseModel):
            return [{n: example_value(n, i, f"{text} {n}") for n, i in item.model_fields.items()}]
    raise NotImplementedError(
        f"the kind contract cannot make an example of {name}: {info.annotation!r}; "
        "teach example_value() this type"
    )


class Examples:
    """Makes example objects of any kind through the API, with the objects they need."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.shared: dict[str, str] = {}

    def target(self, kind_name: str, *, fresh: bool = False) -> str:
        """An existing object of a kind (shared between objects unless ``fresh``)."""
        if not fresh and kind_name in self.shared:
            return self.shared[kind_name]
        kind = KINDS[kind_name]
        response = self.client.post(f"/api/{kind.plural}", json=self.values(kind))
        assert response.status_code == 201, response.text
        object_id = response.json()["id"]
        self.shared.setdefault(kind_name, object_id)
        return object_id

    def values(self, kind: Kind, text: str = "") -> dict[str, Any]:
        """Example values for every field a user sets; ``text`` replaces the free text."""
        values: dict[str, Any] = {}
        used: set[str] = set()
        for name, info in kind.fields.model_fields.items():
            if set_elsewhere(info):
                continue
            if name in kind.references:
                target = kind.references[name]
                if target == kind.name:
                    continue  # a statement's parent: left empty (no endless chain)
                values[name] = self.target(target, fresh=target in used)
                used.add(target)
            elif name in kind.relation_fields:
                values[name] = [self.target(kind.relation_fields[name])]
            else:
                label = text or f"Example {kind.field_title(name).lower()}"
                values[name] = example_value(name, info, label)
        return values


def as_form(kind: Kind, values: dict[str, Any]) -> dict[str, Any]:
    """The example as a browser would post it from the kind's form."""
    form: dict[str, Any] = {}
    for name, value in values.items():
        if isinstance(value, bool):
            if value:
                form[name] = "on"
        elif name in kind.relation_fields:
            form[name] = value
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            separator = " | " if list(value[0]) == ["label", "href"] else ", "
            form[name] = "\n".join(separator.join(str(v) for v in row.values()) for row in value)
        elif isinstance(value, list):
            form[name] = "\n".join(value)
        else:
            form[name] = "" if value is None else str(value)
    return form


def assert_stored(kind: Kind, stored: dict[str, Any], values: dict[str, Any]) -> None:
    """The stored object holds ``values`` (as the kind's model reads them)."""
    expected = kind.fields.model_validate(values).model_dump(mode="json")
    for name, value in values.items():
        got = stored[name]
        if name in kind.relation_fields:
            assert sorted(got) == sorted(value), name
        else:
            assert got == expected[name], f"{kind.name}.{name}: stored {got!r}, sent {value!r}"


def _workspace_id(app: FastAPI) -> str:
    with app.state.store.session() as session:
        return get_workspace(session, app.state.workspace).id


# --- the contract -----------------------------------------------------------------


@ALL_KINDS
def test_create_read_update_link_delete_with_history_and_audit(
    kind: Kind,
    client: TestClient,
    app: FastAPI,
) -> None:
    examples = Examples(client)
    values = examples.values(kind)
    # Create through the kind's own form, as a user would.
    response = client.post(
        f"/{kind.plural}/new", data=as_form(kind, values), follow_redirects=False
    )
    assert response.status_code == 303, response.text[:3000]
    object_id = re.search(r"/([0-9a-f]{32})\?saved=1", response.headers["location"]).group(1)
    read = client.get(f"/api/{kind.plural}/{object_id}")
    assert read.status_code == 200
    assert_stored(kind, read.json(), values)
    # And through the API (objects it points to made afresh: a kind may refuse a twin).
    more = Examples(client).values(kind)
    created = client.post(f"/api/{kind.plural}", json=more)
    assert created.status_code == 201, created.text
    assert_stored(kind, created.json(), more)

    # Update: every free-text field (else a tick box) changes, and nothing else.
    changes = {name: f"Changed {name}" for name in text_fields(kind)}
    if not changes:
        flags = [n for n, i in kind.fields.model_fields.items() if i.annotation is bool]
        changes = {flags[0]: False}
    updated = client.patch(f"/api/{kind.plural}/{object_id}", json=changes)
    assert updated.status_code == 200, updated.text
    assert_stored(kind, updated.json(), values | changes)

    # Link and unlink each relation.
    for relation, target in kind.relations.items():
        other = examples.target(target, fresh=True)
        path = f"/api/{kind.plural}/{object_id}/{relation}/{other}"
        assert client.put(path).status_code == 200
        field = kind.relation_field(relation)
        assert other in client.get(f"/api/{kind.plural}/{object_id}").json()[field]
        assert client.delete(path).status_code == 200
        assert other not in client.get(f"/api/{kind.plural}/{object_id}").json()[field]

    # Its page leads back to its level page; the pages of what it points to offer to
    # add another one linked to them, in the kind's words.
    page = client.get(f"/{kind.plural}/{object_id}")
    assert page.status_code == 200
    assert f'href="{kind.home[0]}"' in page.text
    for field, label in kind.add_linked.items():
        target_kind = kind.references.get(field) or kind.relation_fields[field]
        if target_kind == kind.name:  # e.g. a more detailed statement: offered on this one
            target_id = object_id
        else:
            target_id = values[field][0] if field.endswith("_ids") else values[field]
        target_page = client.get(f"/{KINDS[target_kind].plural}/{target_id}")
        assert html.escape(label, quote=False) in target_page.text, (field, label)

    # The history names every change, by the user who made it; so does the audit trail.
    with app.state.store.session() as session:
        entries = read_history(session, _workspace_id(app), kind=kind.name, object_id=object_id)
    expected = ["create", "update"] + ["link", "unlink"] * len(kind.relations)
    assert sorted(e.action for e in entries) == sorted(expected)
    assert {e.actor for e in entries} == {"ada"}

    # Delete.
    assert client.delete(f"/api/{kind.plural}/{object_id}").status_code == 204
    assert client.get(f"/api/{kind.plural}/{object_id}").status_code == 404
    assert client.get(f"/{kind.plural}/{object_id}").status_code == 404
    with app.state.store.session() as session:
        entries = read_history(session, _workspace_id(app), kind=kind.name, object_id=object_id)
        events = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.object_kind == kind.name, AuditEvent.object_id == object_id)
            .order_by(AuditEvent.id)
        ).all()
    # (A personal kind's history is removed with it, but for the deletion itself.)
    assert entries[-1].action == "delete"
    trail = [e.action for e in events]
    assert trail[0] == "create" and trail[-1] == "delete" and "update" in trail
    assert {e.actor for e in events} == {"ada"}


@ALL_KINDS
def test_export_then_import_gives_the_same_workspace(
    kind: Kind,
    client: TestClient,
    app: FastAPI,
) -> None:
    examples = Examples(client)
    created = client.post(f"/api/{kind.plural}", json=examples.values(kind))
    assert created.status_code == 201, created.text
    exported = client.get("/api/export")
    assert exported.status_code == 200
    document = exported.json()
    assert [r["id"] for r in document["objects"][kind.name]].count(created.json()["id"]) == 1
    with app.state.store.session() as session:
        import_workspace(session, document, replace=True)
        session.commit()
    with app.state.store.session() as session:
        again = export_workspace(session, document["workspace"]["id"])
    assert again["objects"] == document["objects"]
    assert again["history"] == document["history"]


@ALL_KINDS
def test_the_form_shows_titles_and_help_and_names_a_missing_field(
    kind: Kind,
    client: TestClient,
) -> None:
    examples = Examples(client)
    values = examples.values(kind)
    page = client.get(f"/{kind.plural}/new")
    assert page.status_code == 200
    text = html.unescape(page.text)
    controls = form_controls(kind)
    shown = {n for n, i in kind.fields.model_fields.items() if not set_elsewhere(i)}
    assert {c.name for c in controls} == shown
    for control in controls:
        if control.type == "choices":  # a set of tick boxes: its legend names it
            assert f"<legend>{html.escape(control.label)}</legend>" in page.text
        else:
            assert f'<label for="{control.name}"' in page.text, control.name
        assert control.label == kind.field_title(control.name)
        assert control.label in text
        assert control.help in text
    if kind.intro:
        assert kind.intro in text
    before = len(client.get(f"/api/{kind.plural}").json())
    required = [
        name
        for name, info in kind.fields.model_fields.items()
        if info.is_required() and name not in kind.relation_fields
    ]
    for name in required:
        response = client.post(
            f"/{kind.plural}/new", data=as_form(kind, values | {name: ""}), follow_redirects=False
        )
        assert response.status_code == 422, (name, response.status_code)
        summary = html.unescape(response.text.split('id="error-summary"')[1].split("</div>")[0])
        assert f'href="#{name}"' in summary and kind.field_title(name) in summary, summary
        assert f'id="error-{name}"' in response.text
    assert len(client.get(f"/api/{kind.plural}").json()) == before  # nothing stored


@ALL_KINDS
def test_the_api_schema_carries_titles_and_descriptions(kind: Kind, _shared_app: FastAPI) -> None:
    schemas = _shared_app.openapi()["components"]["schemas"]
    fields = kind.fields.__name__
    create = schemas.get(fields) or schemas[f"{fields}-Input"]
    update = schemas[kind.fields.__name__.removesuffix("Fields") + "Update"]
    for name, info in kind.fields.model_fields.items():
        if info.title:
            assert create["properties"][name]["title"] == info.title
        if info.description:
            assert create["properties"][name]["description"] == info.description
            assert update["properties"][name]["description"] == info.description
        assert update["properties"][name]["title"] == kind.field_title(name)


@ALL_KINDS
def test_a_viewer_cannot_write_and_an_editor_can(
    kind: Kind,
    client: TestClient,
    app: FastAPI,
) -> None:
    examples = Examples(client)
    values = examples.values(kind)
    object_id = client.post(f"/api/{kind.plural}", json=values).json()["id"]
    store = app.state.store
    viewer = open_session(TestClient(app), add_user(store, "vera", "viewer"))
    editor = open_session(TestClient(app), add_user(store, "eddie", "editor"))
    item = f"/api/{kind.plural}/{object_id}"
    before = len(client.get(f"/api/{kind.plural}").json())
    assert viewer.get(item).status_code == 200
    assert viewer.get(f"/{kind.plural}/{object_id}").status_code == 200
    assert viewer.post(f"/api/{kind.plural}", json=values).status_code == 403
    assert viewer.patch(item, json={}).status_code == 403
    assert viewer.delete(item).status_code == 403
    assert viewer.get(f"/{kind.plural}/new").status_code == 403
    refused = viewer.post(f"/{kind.plural}/new", data=as_form(kind, values), follow_redirects=False)
    assert refused.status_code == 403
    assert len(client.get(f"/api/{kind.plural}").json()) == before  # nothing stored
    made = editor.post(f"/api/{kind.plural}", json=Examples(editor).values(kind))
    assert made.status_code == 201, made.text
    assert editor.patch(f"/api/{kind.plural}/{made.json()['id']}", json={}).status_code == 200
    assert editor.delete(f"/api/{kind.plural}/{made.json()['id']}").status_code == 204


@ALL_KINDS
def test_script_in_every_text_field_comes_back_escaped(
    kind: Kind,
    client: TestClient,
) -> None:
    examples = Examples(client)
    values = examples.values(kind, text="<script>alert(1)</script>")
    created = client.post(f"/api/{kind.plural}", json=values)
    assert created.status_code == 201, created.text
    object_id = created.json()["id"]
    for path in (f"/{kind.plural}/{object_id}", f"/{kind.plural}/{object_id}/edit"):
        page = client.get(path)
        assert page.status_code == 200
        assert "<script>alert(1)" not in page.text, path
        assert "&lt;script&gt;alert(1)" in page.text, path
    assert set(text_fields(kind)) <= set(values)


def test_example_values_cover_every_field_of_every_kind() -> None:
    """Each kind's example (with references left out) is valid for its model: the
    contract exercises every field a user sets."""

    class NoServer:
        def post(self, *args: Any, **kwargs: Any) -> Any:  # a fake id for each reference
            class Made:
                status_code = 201

                def json(self) -> dict[str, str]:
                    return {"id": "0" * 32}

            return Made()

    for kind in KINDS.values():
        values = Examples(NoServer()).values(kind)  # type: ignore[arg-type]
        kind.fields.model_validate(values)
        settable = {n for n, i in kind.fields.model_fields.items() if not set_elsewhere(i)}
        self_references = {n for n, t in kind.references.items() if t == kind.name}
        assert set(values) == settable - self_references, kind.name


@ALL_KINDS
def test_what_the_kind_says_of_itself_names_real_fields_and_pages(kind: Kind) -> None:
    links = set(kind.references) | set(kind.relation_fields)
    assert set(kind.add_linked) <= links, "add_linked names a field that points nowhere"
    path, name = kind.home
    assert path.startswith("/") and name
    for field, info in kind.fields.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        labels = extra.get("choice_labels", {})
        assert set(labels) <= set(choices_of(info) or []), f"{field}: words for no choice"


def test_choices_of_reads_optional_and_plain_choices() -> None:
    info = KINDS["factor"].fields.model_fields["kind"]
    assert choices_of(info) == ["system_condition", "demand", "capacity", "outcome"]
    assert choices_of(KINDS["locality"].fields.model_fields["name"]) is None
