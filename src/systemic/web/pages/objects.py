"""Pages for one object of any kind: view, create, edit, delete.

Routes are made per kind from the framework's registry, at the page paths the
framework names (``/{plural}/{id}``, e.g. ``/measures/4f2c...``), so audit
findings link straight to them. Forms post back to the server and work without
JavaScript; with htmx (``hx-boost``) the same forms update the page in place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from starlette.datastructures import FormData

from systemic.framework.kinds import KINDS, Kind, choices_of, object_path, title_of
from systemic.framework.snapshot import ON_DEMAND_KINDS
from systemic.framework.thread import purpose_thread
from systemic.learn.series import SERIES
from systemic.store import repository
from systemic.store.errors import InvalidObjectError, NotFoundError
from systemic.store.learn_results import LearnResultInfo, newest_learn_results
from systemic.store.personal import words_withheld
from systemic.web.deps import submitted_form
from systemic.web.limits import check_field_sizes, request_limits
from systemic.web.pages.context import PageContext, page_context
from systemic.web.pages.forms import (
    Option,
    errors_by_field,
    form_controls,
    form_values,
    keep_stored_choices,
    options_sources,
    parse_form,
)
from systemic.web.pages.measure_chart import MIN_POINTS, has_chart
from systemic.web.pages.site import can_edit, render
from systemic.web.security.identity import require_role
from systemic.web.security.redirects import safe_next

VIEWER = [Depends(require_role("viewer"))]
EDITOR = [Depends(require_role("editor"))]


def plural_label(kind: Kind) -> str:
    """'Purpose statements', 'Localities', ... for section headings."""
    return kind.plural.replace("_", " ").capitalize()


def choices_for(snap: Any) -> dict[str, list[Option]]:
    """Existing objects of every kind as options for references and relations."""
    out: dict[str, list[Option]] = {}
    # Only kinds something can point to are offered (not, say, thousands of demands).
    targets = {t for k in KINDS.values() for t in (*k.references.values(), *k.relations.values())}
    for name in targets:
        records = snap.of(name)
        if name == "factor":
            maps = {m.id: m.name for m in snap.of("system_map")}
            out[name] = [
                Option(r.id, f"{r.name} ({maps.get(r.system_map_id, 'map')})") for r in records
            ]
        else:
            out[name] = [Option(r.id, title_of(name, r)) for r in records]
    return out


def learn_result_option(info: LearnResultInfo) -> Option:
    """A learn result as a choice: its name, newest version, weeks and the series it holds."""
    series = ", ".join(SERIES[s].title.lower() for s in info.series) or "no series"
    weeks = f"{info.weeks} week{'' if info.weeks == 1 else 's'}"
    return Option(info.name, f"{info.name} (version {info.version}, {weeks}: {series})")


#: Choices a form takes from what the workspace holds, by the fields' ``options_from``.
WORKSPACE_OPTIONS = {
    "learn_result": lambda ctx: [
        learn_result_option(info) for info in newest_learn_results(ctx.session, ctx.workspace_id)
    ],
}


def _format_value(kind: Kind, name: str, value: Any, snap: Any) -> Any:
    """How a stored value reads on an object's page (links for references)."""
    if name in kind.references:
        if not value:
            return "—"
        target = kind.references[name]
        record = snap.by_id(target).get(value)
        if record is None:
            return "—"
        return Markup('<a href="{}">{}</a>').format(
            object_path(target, value), title_of(target, record)
        )
    if name in kind.relation_fields:
        target = kind.relation_fields[name]
        records = [snap.by_id(target).get(i) for i in value]
        links = [
            Markup('<a href="{}">{}</a>').format(object_path(target, r.id), title_of(target, r))
            for r in records
            if r is not None
        ]
        return Markup(", ").join(links) if links else "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list):
        if value and hasattr(value[0], "model_dump"):
            return "\n".join(
                ", ".join(str(v) for v in item.model_dump().values() if v not in ("", None))
                for item in value
            )
        return "\n".join(str(v) for v in value)
    if isinstance(value, date):
        return value.isoformat()
    info = kind.fields.model_fields.get(name)
    if info is not None and choices_of(info) is not None:
        return kind.choice_label(name, value)
    return str(value)


@dataclass
class Related:
    """A section on an object's page: objects of another kind that point to it."""

    title: str
    items: list[tuple[str, Any]]
    empty: str
    add: dict[str, str] | None = None
    #: For a many-to-many link: which kind and relation, and objects not yet linked.
    link: dict[str, Any] | None = None
    #: The kind of the objects listed.
    kind: str = ""


def related_sections(kind: Kind, record: Any, snap: Any) -> list[Related]:
    """Every kind with a reference or relation to this object, as a section."""
    sections: list[Related] = []
    for other in KINDS.values():
        if other.name in ON_DEMAND_KINDS:
            continue  # thousands per locality: a demand study counts them, a page cannot list them
        pointing = [f for f, t in other.references.items() if t == kind.name]
        pointing += [f for f, t in other.relation_fields.items() if t == kind.name]
        for field_name in pointing:
            if other.name == "causal_link" and field_name in ("cause_id", "effect_id"):
                continue  # shown on the map
            items = [
                (other.name, r)
                for r in snap.of(other.name)
                if (
                    record.id in getattr(r, field_name)
                    if field_name.endswith("_ids")
                    else getattr(r, field_name) == record.id
                )
            ]
            title = plural_label(other)
            if other.name == kind.name:
                title = "More detailed statements" if field_name == "parent_id" else title
            elif len(pointing) > 1:
                title = f"{title} ({other.field_title(field_name).lower()})"
            if kind.name == "purpose_statement" and other.name in (
                "experiment",
                "redesign_decision",
            ):
                # The thread above also counts those reached through its measures: say which.
                title = f"{plural_label(other)} that name it"
            label = other.add_linked.get(field_name)
            add = None
            if label:
                add = {"kind": other.name, "label": label, "query": f"{field_name}={record.id}"}
            link = None
            if field_name.endswith("_ids"):
                relation = next(r for r in other.relations if other.relation_field(r) == field_name)
                linked = {item.id for _, item in items}
                link = {
                    "source_kind": other.name,
                    "relation": relation,
                    "label": other.label.lower(),
                    "options": [
                        Option(r.id, title_of(other.name, r))
                        for r in snap.of(other.name)
                        if r.id not in linked
                    ],
                }
            empty = f"No {title.lower()} yet."
            sections.append(Related(title, items, empty, add, link, other.name))
    # The thread reads purpose → measures → experiments → redesign: show it in that order.
    order = ["measure", "experiment", "redesign_decision", "team"]
    return sorted(
        sections,
        key=lambda section: order.index(section.kind) if section.kind in order else len(order),
    )


def _history_lines(kind: Kind, entries: list[Any]) -> list[dict[str, str]]:
    verbs = {"create": "created it", "delete": "deleted it", "link": "linked", "unlink": "unlinked"}
    lines = []
    for entry in reversed(entries):
        if entry.action == "update":
            changes = entry.changes.get("changes", {})
            changed = ", ".join(kind.field_title(f).lower() for f in changes)
            what = f"changed {changed}"
        else:
            what = verbs.get(entry.action, entry.action)
        lines.append(
            {"when": entry.at.strftime("%Y-%m-%d %H:%M UTC"), "who": entry.actor, "what": what}
        )
    return lines


def _form_page(
    request: Request,
    ctx: PageContext,
    kind: Kind,
    *,
    values: dict[str, Any],
    errors: dict[str, str],
    record: Any | None,
    snap: Any,
    status_code: int = 200,
    next_url: str = "",
) -> HTMLResponse:
    choices = choices_for(snap)
    if record is not None and kind.name in choices:
        # An object cannot point to itself (a statement is not its own parent).
        choices[kind.name] = [o for o in choices[kind.name] if o.value != record.id]
    for source in options_sources(kind):
        choices[source] = WORKSPACE_OPTIONS[source](ctx)
    controls = form_controls(kind, choices)
    keep_stored_choices(controls, values)
    home, home_label = kind.home
    if record is None:
        title = f"Add {kind.label.lower()}"
        action = f"/{kind.plural}/new"
        back_href, back_label = next_url or home, home_label
        submit = f"Save {kind.label.lower()}"
    else:
        title = f"Edit {kind.label.lower()}"
        action = f"/{kind.plural}/{record.id}/edit"
        back_href, back_label = object_path(kind.name, record.id), title_of(kind.name, record)
        submit = "Save changes"
    # A link's map is fixed by the page it was added from; asking again only invites mistakes.
    hidden = {"system_map_id"} if values.get("system_map_id") else set()
    return render(
        request,
        "form.html",
        title=title,
        active=home,
        workspace_name=ctx.name,
        status_code=status_code,
        intro=kind.intro,
        controls=controls,
        control_names={c.name for c in controls},
        labels={c.name: c.label for c in controls},
        values=values,
        errors=errors,
        action=action,
        next=next_url,
        hidden=hidden,
        back_href=back_href,
        back_label=back_label,
        submit_label=submit,
    )


def _initial_values(kind: Kind, request: Request, snap: Any) -> dict[str, Any]:
    """Values for a new object's form, pre-filled from the query (``?locality_id=...``)."""
    # A conversation or story is usually recorded the day it happens.
    today_field = {"conversation": "held_on", "story": "told_on"}.get(kind.name)
    values: dict[str, Any] = {today_field: date.today().isoformat()} if today_field else {}
    fields = kind.fields.model_fields
    for name in fields:
        given = request.query_params.getlist(name)
        if not given:
            continue
        values[name] = given if name.endswith("_ids") else given[0]
    if kind.name == "experiment" and values.get("measure_ids"):
        # An experiment on a measure serves the purpose that measure was derived from.
        measures = snap.by_id("measure")
        purposes = set(values.get("purpose_statement_ids", []))
        for measure_id in values["measure_ids"]:
            if measure_id in measures:
                purposes.update(measures[measure_id].purpose_statement_ids)
        values["purpose_statement_ids"] = sorted(purposes)
    return values


#: Kinds holding people's own words: they carry consent and a retention date.
PERSONAL_KINDS = {"story": "told_on", "conversation": "held_on", "demand": "received_at"}


def retention_problems(
    kind_name: str, values: dict[str, Any], *, stored: Any = None, today: date | None = None
) -> dict[str, str]:
    """Problems with a story's or conversation's retention date, per field.

    The date must be a date, not before the day the words were told (or the
    conversation held), and not already past (the next retention run would
    delete the item at once); a date already stored may be kept as it is.

    >>> past = retention_problems("story", {"retain_until": "2026-01-01"}, today=date(2026, 6, 1))
    >>> past["retain_until"].startswith("This date has passed")
    True
    >>> retention_problems("story", {"retain_until": "2027-01-01", "told_on": "2026-05-01"},
    ...                    today=date(2026, 6, 1))
    {}
    """
    when_field = PERSONAL_KINDS.get(kind_name)
    raw = values.get("retain_until")
    if when_field is None or raw in (None, ""):
        return {}
    try:
        keep = date.fromisoformat(str(raw))
    except ValueError:
        return {"retain_until": "Enter a date, for example 2026-03-31."}
    if stored is not None and getattr(stored, "retain_until", None) == keep:
        return {}
    told = values.get(when_field)
    try:
        told_on = date.fromisoformat(str(told)) if told else None
    except ValueError:
        told_on = None  # reported on its own field
    label = KINDS[kind_name].label.lower()
    if told_on is not None and keep < told_on:
        return {
            "retain_until": f"The date to keep it until is before the {label} itself "
            f"({told_on.isoformat()}); choose a later date."
        }
    if keep < (today or date.today()):
        return {
            "retain_until": f"This date has passed, so the {label} would be deleted at the "
            "next retention run; choose a later date or leave it empty."
        }
    return {}


def _problems(kind: Kind, error: InvalidObjectError) -> dict[str, str]:
    """Messages per field, in the form's words; a whole-object message goes to the first
    field it names."""
    messages = errors_by_field(error.errors)
    general = messages.pop("__all__", None)
    if general:
        lowered = general[:1].lower() + general[1:]
        names = sorted(
            (name for name in kind.fields.model_fields if name in lowered), key=lowered.index
        )
        messages.setdefault(names[0] if names else "__all__", general)
    out = {}
    for field_name, message in messages.items():
        text = message[:1].lower() + message[1:]
        # Longest names first, so "start_date" is not half-replaced by "date".
        for name in sorted(kind.fields.model_fields, key=len, reverse=True):
            if "_" in name:
                text = text.replace(name, kind.field_title(name).lower())
        out[field_name] = text[:1].upper() + text[1:]
    return out


def build_router() -> APIRouter:
    """The routes for every kind's object pages."""
    router = APIRouter()
    for kind in KINDS.values():
        _add_kind_routes(router, kind)
    options: dict[str, Any] = {"include_in_schema": False, "dependencies": EDITOR}
    router.add_api_route("/links/new", change_link, methods=["POST"], **options)
    router.add_api_route("/links/delete", change_link, methods=["POST"], **options)
    router.add_api_route(
        "/decision_rights/{object_id}/toggle",
        toggle_decision_right,
        methods=["POST"],
        response_class=HTMLResponse,
        **options,
    )
    return router


def _add_kind_routes(router: APIRouter, kind: Kind) -> None:
    base = f"/{kind.plural}"

    def list_page(request: Request) -> Response:
        return RedirectResponse(kind.home[0], status_code=303)

    def new_form(request: Request, ctx: PageContext = Depends(page_context)) -> Response:
        snap = ctx.snapshot()
        values = _initial_values(kind, request, snap)
        next_url = safe_next(request.query_params.get("next"), default="")
        return _form_page(
            request, ctx, kind, values=values, errors={}, record=None, snap=snap, next_url=next_url
        )

    def create(
        request: Request,
        ctx: PageContext = Depends(page_context),
        form: FormData = Depends(submitted_form),
    ) -> Response:
        parsed = parse_form(kind, form)
        next_url = safe_next(form.get("_next"), default="")
        errors = dict(parsed.errors) or retention_problems(kind.name, parsed.values)
        if not errors:
            try:
                check_field_sizes(parsed.values, request_limits(request.app.state))
                record = repository.create(
                    ctx.session, ctx.workspace_id, kind.name, parsed.values, actor=ctx.actor
                )
            except InvalidObjectError as error:
                errors = _problems(kind, error)
            else:
                ctx.session.commit()
                target = next_url or object_path(kind.name, record.id)
                separator = "&" if "?" in target else "?"
                return RedirectResponse(f"{target}{separator}saved=1", status_code=303)
        snap = ctx.snapshot()
        return _form_page(
            request,
            ctx,
            kind,
            values=form_values(parsed.values) | _raw_values(form),
            errors=errors,
            record=None,
            snap=snap,
            status_code=422,
            next_url=next_url,
        )

    def show(
        request: Request, object_id: str, ctx: PageContext = Depends(page_context)
    ) -> Response:
        snap = ctx.snapshot()
        record = snap.by_id(kind.name).get(object_id)
        if record is None:
            return _not_found(request, ctx, kind, object_id)
        if not can_edit(request):  # a viewer is not shown a person's own words
            record = words_withheld(kind.name, record)
        home, home_label = kind.home
        controls = form_controls(kind)
        shown_as: dict[str, Any] = {}
        if kind.name == "measure" and len(record.series) >= MIN_POINTS:
            # A long list of numbers reads better as the chart below (values are there too).
            shown_as["series"] = f"{len(record.series)} values, charted below"
        if kind.name in PERSONAL_KINDS and record.retain_until is None:
            # Consent and retention are always stated for people's own words.
            shown_as["retain_until"] = "no date set: kept until someone deletes it"
        values = [
            (
                c.label,
                shown_as.get(c.name) or _format_value(kind, c.name, getattr(record, c.name), snap),
            )
            for c in controls
        ]
        # Empty fields are named in one line rather than listed: less to read on a phone.
        shown = [(label, value) for label, value in values if value != "—"]
        empty_labels = [label for label, value in values if value == "—"]
        chart_points = len(record.series) if kind.name == "measure" else 0
        findings = [f for f in ctx.findings(snap) if f.object_id == object_id]
        extra_actions = []
        if kind.name == "system_map":
            extra_actions.append({"href": f"/map?map={object_id}", "label": "Open the map"})
        thread = (
            next(row for row in purpose_thread(snap) if row.statement.id == object_id)
            if kind.name == "purpose_statement"
            else None
        )
        return render(
            request,
            "object.html",
            title=f"{kind.label}: {title_of(kind.name, record)}",
            active=home,
            workspace_name=ctx.name,
            kind=kind,
            record=record,
            heading=_heading(kind, record),
            shown=shown,
            empty_labels=empty_labels,
            chart_points=chart_points if chart_points >= MIN_POINTS else 0,
            measure_chart=kind.name == "measure" and has_chart(record),
            related=related_sections(kind, record, snap),
            findings=findings,
            history=_history_lines(kind, ctx.history(kind.name, object_id)),
            back_href=home,
            back_label=home_label,
            extra_actions=extra_actions,
            thread=thread,
        )

    def edit_form(
        request: Request, object_id: str, ctx: PageContext = Depends(page_context)
    ) -> Response:
        snap = ctx.snapshot()
        record = snap.by_id(kind.name).get(object_id)
        if record is None:
            return _not_found(request, ctx, kind, object_id)
        return _form_page(
            request, ctx, kind, values=form_values(record), errors={}, record=record, snap=snap
        )

    def edit(
        request: Request,
        object_id: str,
        ctx: PageContext = Depends(page_context),
        form: FormData = Depends(submitted_form),
    ) -> Response:
        parsed = parse_form(kind, form)
        errors = dict(parsed.errors)
        if not errors and kind.name in PERSONAL_KINDS:
            stored = ctx.snapshot().by_id(kind.name).get(object_id)
            errors = retention_problems(kind.name, parsed.values, stored=stored)
        if not errors:
            try:
                check_field_sizes(parsed.values, request_limits(request.app.state))
                repository.update(
                    ctx.session,
                    ctx.workspace_id,
                    kind.name,
                    object_id,
                    parsed.values,
                    actor=ctx.actor,
                )
            except NotFoundError:
                return _not_found(request, ctx, kind, object_id)
            except InvalidObjectError as error:
                ctx.session.rollback()
                errors = _problems(kind, error)
            else:
                ctx.session.commit()
                return RedirectResponse(
                    f"{object_path(kind.name, object_id)}?saved=1", status_code=303
                )
        snap = ctx.snapshot()
        record = snap.by_id(kind.name).get(object_id)
        if record is None:
            return _not_found(request, ctx, kind, object_id)
        return _form_page(
            request,
            ctx,
            kind,
            values=form_values(parsed.values) | _raw_values(form),
            errors=errors,
            record=record,
            snap=snap,
            status_code=422,
        )

    def remove(
        request: Request, object_id: str, ctx: PageContext = Depends(page_context)
    ) -> Response:
        try:
            repository.delete_object(
                ctx.session, ctx.workspace_id, kind.name, object_id, actor=ctx.actor
            )
        except NotFoundError:
            return _not_found(request, ctx, kind, object_id)
        ctx.session.commit()
        return RedirectResponse(f"{kind.home[0]}?saved=deleted", status_code=303)

    reads: dict[str, Any] = {
        "response_class": HTMLResponse,
        "include_in_schema": False,
        "dependencies": VIEWER,
    }
    # The add and edit forms only serve to change things: editors only, like the changes.
    changes = {**reads, "dependencies": EDITOR}
    item = f"{base}/{{object_id}}"
    router.add_api_route(base, list_page, methods=["GET"], **reads)
    router.add_api_route(f"{base}/new", new_form, methods=["GET"], **changes)
    router.add_api_route(f"{base}/new", create, methods=["POST"], **changes)
    router.add_api_route(item, show, methods=["GET"], **reads)
    router.add_api_route(f"{item}/edit", edit_form, methods=["GET"], **changes)
    router.add_api_route(f"{item}/edit", edit, methods=["POST"], **changes)
    router.add_api_route(f"{item}/delete", remove, methods=["POST"], **changes)


def _raw_values(form: Any) -> dict[str, Any]:
    """What the user typed, to put back in the form after an error (nothing is lost)."""
    out: dict[str, Any] = {}
    for name in set(form.keys()):
        if name.startswith("_"):
            continue
        values = form.getlist(name)
        out[name] = [str(v) for v in values] if name.endswith("_ids") else str(values[-1])
    return out


def _heading(kind: Kind, record: Any) -> str:
    if kind.name in ("purpose_statement", "conversation"):
        return f"“{title_of(kind.name, record)}”"
    if kind.name == "relationship":
        return f"{record.party_a} and {record.party_b}"
    return title_of(kind.name, record)


def _not_found(request: Request, ctx: PageContext, kind: Kind, object_id: str) -> HTMLResponse:
    home, home_label = kind.home
    return render(
        request,
        "not_found.html",
        title="Not found",
        workspace_name=ctx.name,
        status_code=404,
        message=f"There is no {kind.label.lower()} with id {object_id} in this workspace.",
        back_href=home,
        back_label=home_label,
    )


def change_link(
    request: Request,
    ctx: PageContext = Depends(page_context),
    form: FormData = Depends(submitted_form),
) -> Response:
    """Link (``/links/new``) or unlink (``/links/delete``) two existing objects, from the
    page of the object linked to; then go back to that page."""
    source_kind = str(form.get("source_kind", ""))
    relation = str(form.get("relation", ""))
    source_id = str(form.get("source_id", ""))
    target_id = str(form.get("target_id", ""))
    kind = KINDS.get(source_kind)
    if kind is None or relation not in kind.relations:
        return HTMLResponse("<p>Unknown kind of link.</p>", status_code=422)
    target_kind = kind.relations[relation]
    back = object_path(target_kind, target_id)
    if not source_id:
        return RedirectResponse(back, status_code=303)  # nothing chosen: nothing to do
    change = repository.link if request.url.path.endswith("/new") else repository.unlink
    try:
        change(
            ctx.session,
            ctx.workspace_id,
            source_kind,
            source_id,
            relation,
            target_id,
            actor=ctx.actor,
        )
    except NotFoundError:
        return _not_found(request, ctx, KINDS[target_kind], target_id)
    ctx.session.commit()
    return RedirectResponse(f"{back}?saved=1", status_code=303)


def toggle_decision_right(
    request: Request, object_id: str, ctx: PageContext = Depends(page_context)
) -> Response:
    """Flip a decision right between local and escalated (a row swap with htmx)."""
    try:
        record = repository.get(ctx.session, ctx.workspace_id, "decision_right", object_id)
    except NotFoundError:
        kind = KINDS["decision_right"]
        return _not_found(request, ctx, kind, object_id)
    made = "escalated" if record.made == "local" else "local"
    record = repository.update(
        ctx.session, ctx.workspace_id, "decision_right", object_id, {"made": made}, actor=ctx.actor
    )
    ctx.session.commit()
    if request.headers.get("HX-Request") and not request.headers.get("HX-Boosted"):
        return render(request, "_decision_row.html", title="", r=record)
    return RedirectResponse(f"/organisation#right-{object_id}", status_code=303)


__all__ = ["build_router"]
