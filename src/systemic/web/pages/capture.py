"""The capture page: record a demand as it arrives, on a phone, in a few taps.

``GET /capture`` shows a short form (what the person said; value or failure,
and what failed only for failure; the type of demand; resolved at first
contact; the rest folded away), a confirmation of the last capture with the
count captured today, and this person's recent captures. ``POST /capture``
stores one demand (:func:`systemic.store.demand_capture.capture_demand`: its
own insert, safe to send twice) and answers with a fresh form. The form works
without JavaScript (post, redirect, fresh form); with htmx only the capture
section is swapped. Editors capture; a viewer sees the counts, never the words.
Identifiers are masked by the store, whichever way a demand comes in.

``GET /capture/names`` lists the names the team masks (editors only).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from systemic.framework.model import CLOCK_TIME, DemandFields
from systemic.store import repository
from systemic.store.demand_capture import (
    capture_demand,
    captured_by,
    captured_today,
    new_capture_key,
    used_words,
)
from systemic.store.errors import InvalidObjectError, NotFoundError
from systemic.web.deps import submitted_form
from systemic.web.limits import check_field_sizes, request_limits
from systemic.web.pages.context import PageContext, page_context
from systemic.web.pages.forms import errors_by_field
from systemic.web.pages.site import can_edit, render
from systemic.web.security.identity import require_role

router = APIRouter(include_in_schema=False)
VIEWER = [Depends(require_role("viewer"))]
EDITOR = [Depends(require_role("editor"))]

#: How long captured words are kept by default: a demand study reads a few months of
#: demand; the words go a year after they were captured unless someone sets another date.
KEEP_FOR = timedelta(days=365)
#: Fields carried over to the next capture (the same desk, the same service).
STICKY = ("channel", "service", "locality_id")
#: How many of one's own captures are listed.
RECENT = 5


def _field(name: str) -> dict[str, Any]:
    """A field's label, help and choice words, as the model says them."""
    info = DemandFields.model_fields[name]
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    return {
        "name": name,
        "label": info.title or name,
        "help": info.description or "",
        "choice_labels": extra.get("choice_labels", {}),
    }


def _choices(name: str, values: tuple[str, ...]) -> list[tuple[str, str]]:
    words = _field(name)["choice_labels"]
    return [(v, words.get(v, v.replace("_", " "))) for v in values]


FIELDS = {name: _field(name) for name in DemandFields.model_fields}
CHANNELS = _choices("channel", ("phone", "face_to_face", "email", "web", "letter", "other"))
CLASSES = _choices("demand_class", ("value", "failure"))
WHAT_FAILED = _choices(
    "what_failed",
    ("not_done", "not_done_right", "chasing_progress", "not_understood", "sent_elsewhere"),
)


def _now() -> datetime:
    return datetime.now(UTC)


def _values_from_form(form: FormData) -> dict[str, Any]:
    """What the form says, as the demand's fields (empty optional answers left out)."""
    text = {name: str(form.get(name, "") or "").strip() for name in DemandFields.model_fields}
    values: dict[str, Any] = {
        "verbatim": text["verbatim"],
        "what_matters": text["what_matters"],
        "service": text["service"],
        "demand_type": text["demand_type"],
        "channel": text["channel"] or "phone",
        "locality_id": text["locality_id"] or None,
        "demand_class": text["demand_class"] or None,
        "what_failed": (text["what_failed"] or None) if text["demand_class"] == "failure" else None,
        "resolved_first_contact": {"yes": True, "no": False}.get(text["resolved_first_contact"]),
        "received_at": text["received_at"] or _now().replace(microsecond=0),
    }
    keep = (date.today() + KEEP_FOR).isoformat()
    values["retain_until"] = text["retain_until"] or keep
    return values


def _page(
    request: Request,
    ctx: PageContext,
    *,
    values: dict[str, Any],
    errors: dict[str, str],
    capture_key: str,
    last: Any | None = None,
    duplicate: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    editor = can_edit(request)
    snap_localities = repository.list_objects(ctx.session, ctx.workspace_id, "locality")
    now = _now()
    return render(
        request,
        "capture.html",
        title="Capture demand",
        active="/capture",
        workspace_name=ctx.name,
        status_code=status_code,
        editor=editor,
        fields=FIELDS,
        channels=CHANNELS,
        classes=CLASSES,
        what_failed=WHAT_FAILED,
        localities=[(loc.id, loc.name) for loc in snap_localities],
        demand_types=used_words(ctx.session, ctx.workspace_id, "demand_type") if editor else [],
        services=used_words(ctx.session, ctx.workspace_id, "service") if editor else [],
        values=values,
        errors=errors,
        capture_key=capture_key,
        last=last,
        duplicate=duplicate,
        mine_today=captured_today(ctx.session, ctx.workspace_id, now, ctx.actor),
        team_today=captured_today(ctx.session, ctx.workspace_id, now),
        recent=captured_by(ctx.session, ctx.workspace_id, ctx.actor, RECENT) if editor else [],
        local_time=lambda at: at.astimezone(CLOCK_TIME).strftime("%H:%M"),
        class_words=dict(CLASSES),
        failed_words=dict(WHAT_FAILED),
    )


@router.get("/capture", response_class=HTMLResponse, dependencies=VIEWER)
def capture_page(request: Request, ctx: PageContext = Depends(page_context)) -> Response:
    """The capture form, the last capture's confirmation and today's counts."""
    last, values = None, {}
    last_id = request.query_params.get("captured", "")
    if last_id and can_edit(request):
        try:
            last = repository.get(ctx.session, ctx.workspace_id, "demand", last_id)
        except NotFoundError:
            last = None
        if last is not None:
            values = {name: getattr(last, name) for name in STICKY}
    duplicate = request.query_params.get("again") == "1"
    return _page(
        request,
        ctx,
        values=values,
        errors={},
        capture_key=new_capture_key(),
        last=last,
        duplicate=duplicate,
    )


@router.post("/capture", response_class=HTMLResponse, dependencies=EDITOR)
def capture(
    request: Request,
    ctx: PageContext = Depends(page_context),
    form: FormData = Depends(submitted_form),
) -> Response:
    """Store one demand, then a fresh form (or the same form with its problems)."""
    values = _values_from_form(form)
    key = str(form.get("capture_key", "") or "")
    errors: dict[str, str] = {}
    try:
        check_field_sizes(values, request_limits(request.app.state))
        done = capture_demand(ctx.session, ctx.workspace_id, values, key, actor=ctx.actor)
    except InvalidObjectError as error:
        ctx.session.rollback()
        errors = {
            name: message.replace("what_failed", "what failed")
            for name, message in errors_by_field(error.errors).items()
        }
    else:
        again = "" if done.stored else "&again=1"
        return RedirectResponse(f"/capture?captured={done.demand.id}{again}", status_code=303)
    shown = {k: ("" if v is None else v) for k, v in values.items()}
    shown["received_at"] = str(form.get("received_at", "") or "")
    shown["resolved_first_contact"] = str(form.get("resolved_first_contact", "") or "")
    shown["what_failed"] = str(form.get("what_failed", "") or "")
    return _page(
        request,
        ctx,
        values=shown,
        errors=errors,
        capture_key=key or new_capture_key(),
        status_code=422,
    )


@router.get("/capture/names", response_class=HTMLResponse, dependencies=EDITOR)
def names_page(request: Request, ctx: PageContext = Depends(page_context)) -> Response:
    """The names the team masks in what people said (editors only: names are personal)."""
    names = repository.list_objects(ctx.session, ctx.workspace_id, "masked_name")
    return render(
        request,
        "capture_names.html",
        title="Names to mask",
        active="/capture",
        workspace_name=ctx.name,
        names=sorted(names, key=lambda n: n.name.lower()),
    )
