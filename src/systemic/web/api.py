"""The JSON REST API: every kind of object, links, history, audit, loops, export/import.

For each kind (``/api/{plural}``): list (``GET``, filter by reference fields such
as ``?locality_id=``), create (``POST``), read, update (``PATCH``, partial),
delete, its history, and for each relation ``PUT``/``DELETE
/api/{plural}/{id}/{relation}/{target_id}`` to link and unlink. Errors: 404 when
an object is not in the workspace, 422 with a message per field when input is
invalid (including ids that name nothing), 409 on a workspace conflict.
"""

# No `from __future__ import annotations`: FastAPI reads the annotations of the
# handlers made in loops below, which name models built at run time.

import uuid
from datetime import date, datetime
from typing import Any, Optional

from fastapi import APIRouter, Body, Depends, HTTPException, Request, Response
from pydantic import BaseModel, ConfigDict, Field, create_model
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from systemic.framework.kinds import KINDS, Kind
from systemic.framework.model import is_computed
from systemic.framework.views import local_by_default_index, system_map
from systemic.store import repository
from systemic.store.accounts import Membership, record_event
from systemic.store.audit import audit_workspace, set_rule, workspace_rules
from systemic.store.errors import InvalidObjectError, NotFoundError
from systemic.store.orm import TABLES, Workspace
from systemic.store.personal import words_withheld
from systemic.store.snapshot import load_snapshot
from systemic.store.transfer import export_workspace, import_workspace
from systemic.web.deps import current_actor, current_workspace, get_session
from systemic.web.limits import check_field_sizes, request_limits
from systemic.web.security.identity import optional_user, require_role

# Reading needs a role in the workspace; changes, export and import say what more they need.
router = APIRouter(prefix="/api", dependencies=[Depends(require_role("viewer"))])
EDITOR = [Depends(require_role("editor"))]
ADMIN = [Depends(require_role("admin"))]


def _shown(request: Request, kind: str, record: Any) -> Any:
    """A record as this reader may see it: a viewer is not shown a person's own words
    (fields marked ``PEOPLES_WORDS``); editors, admins and an open app are."""
    user = optional_user(request)
    return record if user is None or user.can("editor") else words_withheld(kind, record)


def _personal_text(request: Request) -> bool:
    """Whether history may show people's own words: editors and admins only, not viewers."""
    user = optional_user(request)
    return user is not None and user.can("editor")


class WorkspaceOut(BaseModel):
    """The workspace the API works in."""

    id: str
    slug: str
    name: str
    created_at: datetime


class HistoryOut(BaseModel):
    """One change: who, when, what (``changes`` depends on the action)."""

    at: datetime
    actor: str
    action: str
    kind: str
    object_id: str
    changes: dict[str, Any]


class FindingOut(BaseModel):
    """One audit finding with a link (``path``) to the object's page."""

    rule_id: str
    severity: str
    title: str
    why: str
    kind: str
    object_id: str
    object_title: str
    message: str
    path: str


class AuditOut(BaseModel):
    """The coherence audit: findings and how many of each severity."""

    findings: list[FindingOut]
    counts: dict[str, int]


class AuditRuleOut(BaseModel):
    """One audit rule as configured for this workspace."""

    id: str
    severity: str
    title: str
    why: str
    enabled: bool
    params: dict[str, Any]


class AuditRuleChange(BaseModel):
    """A change to one rule's setting in this workspace."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool | None = None
    severity: str | None = None
    params: dict[str, Any] | None = None


class LoopOut(BaseModel):
    """A feedback loop on a system map, with the name it keeps while it exists."""

    name: str
    factor_ids: list[str]
    factor_names: list[str]
    polarities: list[str]
    kind: str
    delayed: bool


class LocalIndexOut(BaseModel):
    """The local-by-default index of a locality."""

    locality_id: str
    decisions: int
    local: int
    escalated: int
    index: float | None


def _update_model(spec: Kind) -> type[BaseModel]:
    """A partial update: every field optional, titled and described as on the kind."""
    fields: dict[str, Any] = {
        name: (
            Optional[info.annotation],  # noqa: UP045 - built at run time
            Field(None, title=spec.field_title(name), description=info.description),
        )
        for name, info in spec.fields.model_fields.items()
    }
    name = spec.fields.__name__.removesuffix("Fields") + "Update"
    return create_model(name, __config__=ConfigDict(extra="forbid"), **fields)


def _refuse_computed(spec: Kind, given: Any) -> None:
    """A 422 naming any field only the system writes (an experiment's stored evidence)."""
    computed = [n for n in given if is_computed(spec.fields.model_fields.get(n))]
    if computed:
        raise InvalidObjectError(
            [
                {
                    "loc": ("body", name),
                    "msg": f"{spec.field_title(name)} is written only by the system "
                    "(an experiment's evidence by Analyse on its page); leave it out",
                    "type": "value_error",
                }
                for name in computed
            ]
        )


def _add_kind_routes(spec: Kind) -> None:
    kind = spec.name
    base = f"/{spec.plural}"
    read_model = spec.record
    create_fields = spec.fields
    update_model = _update_model(spec)
    tag = spec.label

    def list_items(
        request: Request,
        session: Session = Depends(get_session),
        ws: Workspace = Depends(current_workspace),
    ) -> list[Any]:
        filters = dict(request.query_params)
        bad = [f for f in filters if f not in spec.references]
        if bad:
            raise InvalidObjectError(
                [
                    {
                        "loc": ("query", f),
                        "msg": f"cannot filter by {f!r}; use one of {sorted(spec.references)}",
                        "type": "value_error",
                    }
                    for f in bad
                ]
            )
        records = repository.list_objects(session, ws.id, kind, filters or None)
        return [_shown(request, kind, r) for r in records]

    def create_item(
        request: Request,
        fields: create_fields,  # type: ignore[valid-type]
        session: Session = Depends(get_session),
        ws: Workspace = Depends(current_workspace),
        actor: str = Depends(current_actor),
    ) -> Any:
        _refuse_computed(spec, fields.model_fields_set)  # type: ignore[attr-defined]
        check_field_sizes(fields.model_dump(), request_limits(request.app.state))  # type: ignore[attr-defined]
        record = repository.create(session, ws.id, kind, fields, actor=actor)
        session.commit()
        return record

    def read_item(
        request: Request,
        object_id: str,
        session: Session = Depends(get_session),
        ws: Workspace = Depends(current_workspace),
    ) -> Any:
        return _shown(request, kind, repository.get(session, ws.id, kind, object_id))

    def update_item(
        request: Request,
        object_id: str,
        changes: update_model,  # type: ignore[valid-type]
        session: Session = Depends(get_session),
        ws: Workspace = Depends(current_workspace),
        actor: str = Depends(current_actor),
    ) -> Any:
        values = changes.model_dump(exclude_unset=True)  # type: ignore[attr-defined]
        _refuse_computed(spec, values)
        check_field_sizes(values, request_limits(request.app.state))
        record = repository.update(session, ws.id, kind, object_id, values, actor=actor)
        session.commit()
        return record

    def delete_item(
        object_id: str,
        session: Session = Depends(get_session),
        ws: Workspace = Depends(current_workspace),
        actor: str = Depends(current_actor),
    ) -> Response:
        repository.delete_object(session, ws.id, kind, object_id, actor=actor)
        session.commit()
        return Response(status_code=204)

    def item_history(
        object_id: str,
        request: Request,
        session: Session = Depends(get_session),
        ws: Workspace = Depends(current_workspace),
    ) -> list[dict[str, Any]]:
        entries = repository.history(
            session, ws.id, kind=kind, object_id=object_id, personal_text=_personal_text(request)
        )
        if not entries:
            raise NotFoundError(kind, object_id)
        return [e.__dict__ for e in entries]

    label = spec.label.lower()
    router.add_api_route(
        base,
        list_items,
        methods=["GET"],
        response_model=list[read_model],  # type: ignore[valid-type]
        tags=[tag],
        summary=f"List {spec.plural.replace('_', ' ')}",
        operation_id=f"list_{spec.plural}",
    )
    router.add_api_route(
        base,
        create_item,
        methods=["POST"],
        response_model=read_model,
        status_code=201,
        tags=[tag],
        summary=f"Create a {label}",
        operation_id=f"create_{kind}",
        dependencies=EDITOR,
    )
    item = base + "/{object_id}"
    router.add_api_route(
        item,
        read_item,
        methods=["GET"],
        response_model=read_model,
        tags=[tag],
        summary=f"Read a {label}",
        operation_id=f"read_{kind}",
    )
    router.add_api_route(
        item,
        update_item,
        methods=["PATCH"],
        response_model=read_model,
        tags=[tag],
        summary=f"Update a {label} (only the fields given)",
        operation_id=f"update_{kind}",
        dependencies=EDITOR,
    )
    router.add_api_route(
        item,
        delete_item,
        methods=["DELETE"],
        status_code=204,
        tags=[tag],
        summary=f"Delete a {label}",
        operation_id=f"delete_{kind}",
        response_class=Response,
        dependencies=EDITOR,
    )
    router.add_api_route(
        item + "/history",
        item_history,
        methods=["GET"],
        response_model=list[HistoryOut],
        tags=[tag],
        summary=f"History of a {label}",
        operation_id=f"history_{kind}",
    )
    for relation in spec.relations:
        _add_link_routes(spec, relation, read_model)


def _add_link_routes(spec: Kind, relation: str, read_model: type[BaseModel]) -> None:
    kind = spec.name
    path = f"/{spec.plural}/{{object_id}}/{relation}/{{target_id}}"

    def link_item(
        object_id: str,
        target_id: str,
        session: Session = Depends(get_session),
        ws: Workspace = Depends(current_workspace),
        actor: str = Depends(current_actor),
    ) -> Any:
        record = repository.link(session, ws.id, kind, object_id, relation, target_id, actor=actor)
        session.commit()
        return record

    def unlink_item(
        object_id: str,
        target_id: str,
        session: Session = Depends(get_session),
        ws: Workspace = Depends(current_workspace),
        actor: str = Depends(current_actor),
    ) -> Any:
        record = repository.unlink(
            session, ws.id, kind, object_id, relation, target_id, actor=actor
        )
        session.commit()
        return record

    target = KINDS[spec.relations[relation]].label.lower()
    router.add_api_route(
        path,
        link_item,
        methods=["PUT"],
        response_model=read_model,
        tags=[spec.label],
        summary=f"Link a {spec.label.lower()} to a {target}",
        operation_id=f"link_{kind}_{relation}",
        dependencies=EDITOR,
    )
    router.add_api_route(
        path,
        unlink_item,
        methods=["DELETE"],
        response_model=read_model,
        tags=[spec.label],
        summary=f"Unlink a {spec.label.lower()} from a {target}",
        operation_id=f"unlink_{kind}_{relation}",
        dependencies=EDITOR,
    )


@router.get("/workspace", response_model=WorkspaceOut, tags=["Workspace"])
def read_workspace(ws: Workspace = Depends(current_workspace)) -> Any:
    """The workspace this API works in."""
    return WorkspaceOut(id=ws.id, slug=ws.slug, name=ws.name, created_at=ws.created_at)


@router.get("/history", response_model=list[HistoryOut], tags=["Workspace"])
def workspace_history(
    request: Request,
    kind: str | None = None,
    limit: int | None = None,
    session: Session = Depends(get_session),
    ws: Workspace = Depends(current_workspace),
) -> Any:
    """Every change in the workspace, oldest first (``limit`` keeps the newest)."""
    if kind is not None and kind not in KINDS:
        raise InvalidObjectError(
            [{"loc": ("query", "kind"), "msg": f"unknown kind {kind!r}", "type": "value_error"}]
        )
    entries = repository.history(
        session, ws.id, kind=kind, limit=limit, personal_text=_personal_text(request)
    )
    return [e.__dict__ for e in entries]


@router.get("/audit", response_model=AuditOut, tags=["Audit"])
def audit(
    on: date | None = None,
    session: Session = Depends(get_session),
    ws: Workspace = Depends(current_workspace),
) -> Any:
    """The coherence audit: findings with severity, why it matters and a link to the object."""
    findings = audit_workspace(session, ws.id, today=on)
    counts = {"error": 0, "warning": 0, "info": 0}
    for finding in findings:
        counts[finding.severity] += 1
    return {"findings": [f.as_dict() for f in findings], "counts": counts}


@router.get("/audit/rules", response_model=list[AuditRuleOut], tags=["Audit"], dependencies=ADMIN)
def audit_rules(
    session: Session = Depends(get_session), ws: Workspace = Depends(current_workspace)
) -> Any:
    """The audit's rules as configured for this workspace."""
    return [r.model_dump() for r in workspace_rules(session, ws.id)]


@router.patch(
    "/audit/rules/{rule_id}", response_model=AuditRuleOut, tags=["Audit"], dependencies=ADMIN
)
def change_audit_rule(
    request: Request,
    rule_id: str,
    change: AuditRuleChange,
    session: Session = Depends(get_session),
    ws: Workspace = Depends(current_workspace),
) -> Any:
    """Switch a rule on or off, or change its severity or parameters, for this workspace."""
    check_field_sizes(change.model_dump(), request_limits(request.app.state))
    rules = {r.id for r in workspace_rules(session, ws.id)}
    if rule_id not in rules:
        raise NotFoundError("audit rule", rule_id)
    rule = set_rule(session, ws.id, rule_id, **change.model_dump(exclude_unset=True))
    session.commit()
    return rule.model_dump()


@router.get("/system_maps/{object_id}/loops", response_model=list[LoopOut], tags=["System map"])
def map_loops(
    object_id: str,
    session: Session = Depends(get_session),
    ws: Workspace = Depends(current_workspace),
) -> Any:
    """The feedback loops of a system map, each reinforcing or balancing."""
    repository.get(session, ws.id, "system_map", object_id)
    view = system_map(load_snapshot(session, ws.id), object_id)
    return [
        {
            "name": named.name,
            "factor_ids": list(named.loop.factors),
            "factor_names": view.loop_names(named.loop),
            "polarities": list(named.loop.polarities),
            "kind": named.kind,
            "delayed": named.delayed,
        }
        for named in view.named_loops
    ]


@router.get("/localities/{object_id}/local_index", response_model=LocalIndexOut, tags=["Locality"])
def locality_index(
    object_id: str,
    session: Session = Depends(get_session),
    ws: Workspace = Depends(current_workspace),
) -> Any:
    """The share of decision kinds made locally in a locality."""
    repository.get(session, ws.id, "locality", object_id)
    index = local_by_default_index(load_snapshot(session, ws.id), object_id)
    return {
        "locality_id": object_id,
        "decisions": index.decisions,
        "local": index.local,
        "escalated": index.escalated,
        "index": index.index,
    }


@router.get("/export", tags=["Workspace"], dependencies=ADMIN)
def export(
    request: Request,
    session: Session = Depends(get_session),
    ws: Workspace = Depends(current_workspace),
) -> dict[str, Any]:
    """The whole workspace as one JSON document (objects, links, audit settings, history)."""
    return export_workspace(session, ws.id, personal_text=_personal_text(request))


@router.post(
    "/import",
    response_model=WorkspaceOut,
    status_code=201,
    tags=["Workspace"],
    dependencies=ADMIN,
)
def import_document(
    request: Request,
    document: dict[str, Any] = Body(...),
    replace: bool = False,
    session: Session = Depends(get_session),
) -> Any:
    """Recreate a workspace from an export document (409 if it exists, unless ``replace``).

    On a secured app a workspace admin may replace only the workspace they work in:
    the document must name it (its id and slug), its members keep their roles, and
    objects the workspace does not hold get new ids. Only a site admin may create a
    workspace (and becomes its admin). Either way the answer never depends on what
    other workspaces hold, so it tells nobody whether an id exists elsewhere.
    """
    user = getattr(request.state, "user", None)
    members: list[tuple[str, str]] = []
    if user is not None and isinstance(document.get("workspace"), dict):
        mine = session.get(Workspace, user.workspace_id)
        names = [document["workspace"].get(k) for k in ("id", "slug")]
        names = [n for n in names if isinstance(n, str) and n]
        is_mine = mine is not None and bool(names) and all(n in (mine.id, mine.slug) for n in names)
        if is_mine:
            members = _members(session, user.workspace_id)
            if not user.site_admin:
                document = _new_ids_for_foreign_objects(session, document, user.workspace_id)
        elif not user.site_admin:
            raise HTTPException(
                status_code=403,
                detail="only a site admin may create a workspace; to replace this workspace, "
                "import a document whose workspace id and slug are this workspace's",
            )
        elif replace:
            raise HTTPException(
                status_code=403,
                detail="replace only the workspace you work in; switch to it first",
            )
    ws = import_workspace(session, document, replace=replace)
    if user is not None:
        for user_id, role in members or [(user.user_id, "admin")]:
            held = select(Membership.role).where(
                Membership.user_id == user_id, Membership.workspace_id == ws.id
            )
            if session.scalar(held) is None:
                # A plain insert: the audit listener would write the membership's
                # composite id into a 64-character column, which PostgreSQL refuses.
                session.execute(
                    insert(Membership).values(user_id=user_id, workspace_id=ws.id, role=role)
                )
                record_event(
                    session,
                    actor=user.username,
                    action="grant_role",
                    workspace_id=ws.id,
                    object_kind="workspace_membership",
                    object_id=user_id,
                    after={"user_id": user_id, "role": role, "by": "import"},
                )
    session.commit()
    return WorkspaceOut(id=ws.id, slug=ws.slug, name=ws.name, created_at=ws.created_at)


def _members(session: Session, workspace_id: str) -> list[tuple[str, str]]:
    rows = session.execute(
        select(Membership.user_id, Membership.role).where(Membership.workspace_id == workspace_id)
    ).all()
    return [(row.user_id, row.role) for row in rows]


def _new_ids_for_foreign_objects(
    session: Session, document: dict[str, Any], workspace_id: str
) -> dict[str, Any]:
    """The document with a fresh id for every object the workspace does not hold now.

    Without this, importing an object whose id another workspace uses would fail
    (the ids are unique in the database) while any other id would be kept: the
    difference would tell a workspace admin which ids exist elsewhere. Ids are
    replaced wherever they appear (references, links, history), so the document
    stays whole.
    """
    objects = document.get("objects")
    if not isinstance(objects, dict):
        return document
    given = {
        record["id"]
        for records in objects.values()
        if isinstance(records, list)
        for record in records
        if isinstance(record, dict) and isinstance(record.get("id"), str)
    }
    held: set[str] = set()
    for table in TABLES.values():
        held.update(
            session.scalars(
                select(table.id).where(table.workspace_id == workspace_id, table.id.in_(given))
            )
        )
    fresh = {old: uuid.uuid4().hex for old in sorted(given - held)}

    def renamed(value: Any) -> Any:
        if isinstance(value, str):
            return fresh.get(value, value)
        if isinstance(value, list):
            return [renamed(v) for v in value]
        if isinstance(value, dict):
            return {k: renamed(v) for k, v in value.items()}
        return value

    return {k: (v if k == "workspace" else renamed(v)) for k, v in document.items()}


for _spec in KINDS.values():
    _add_kind_routes(_spec)
