"""``systemic serve``, ``systemic audit`` and ``systemic workspace ...``.

Thin over :mod:`systemic.store`: open (create and migrate) the database, call
the library, render with Rich.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer
from rich.table import Table

from systemic.commands._console import console, fail
from systemic.commands._store_options import DB_OPTION, WORKSPACE_OPTION, act_as_cli_user
from systemic.framework.audit import AuditRulesError, Finding
from systemic.store import (
    DEFAULT_DB_FILE,
    ImportFormatError,
    NotFoundError,
    Store,
    StoreError,
    WorkspaceConflictError,
    audit_workspace,
    export_workspace,
    import_workspace,
    open_store,
)
from systemic.store.db import (
    DEFAULT_MAX_OVERFLOW,
    DEFAULT_POOL_SIZE,
    MAX_OVERFLOW_ENV,
    POOL_SIZE_ENV,
)
from systemic.store.repository import create_workspace, default_workspace, list_workspaces
from systemic.web.limits import RequestLimits

workspace_app = typer.Typer(
    help="Create, list, export and import workspaces.", no_args_is_help=True
)


def _open(
    db: str | None,
    *,
    as_cli_user: bool = True,
    pool_size: int | None = None,
    max_overflow: int | None = None,
) -> Store:
    if as_cli_user:  # the store audits every write, as this user's
        act_as_cli_user()
    try:
        return open_store(db, pool_size=pool_size, max_overflow=max_overflow)
    except StoreError as exc:
        fail(str(exc))
        raise  # fail() exits; this keeps type checkers informed


def _pick_workspace(session, workspace: str | None) -> str:  # type: ignore[no-untyped-def]
    if workspace:
        return workspace
    ws = default_workspace(session)
    session.commit()  # made now if the database had none
    return ws.slug


def findings_table(findings: list[Finding]) -> Table:
    """The audit's findings as a Rich table (presentation only)."""
    table = Table(title=f"Coherence audit: {len(findings)} finding(s)")
    for column in ("severity", "rule", "object", "finding", "link"):
        table.add_column(column)
    colour = {"error": "red", "warning": "yellow", "info": "blue"}
    for f in findings:
        table.add_row(
            f"[{colour[f.severity]}]{f.severity}[/]",
            f.rule_id,
            f"{f.kind.replace('_', ' ')}: {f.object_title}",
            f.message,
            f.path,
        )
    return table


def serve(
    db: str = DB_OPTION,
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workspace: str = WORKSPACE_OPTION,
    behind_proxy: bool = typer.Option(
        False,
        "--behind-proxy",
        help="Trust X-Forwarded-Proto/-For from a reverse proxy terminating HTTPS "
        "(only when one sets them; see docs/security.md).",
    ),
    proxy_hops: int = typer.Option(
        1,
        "--proxy-hops",
        min=1,
        help="With --behind-proxy: how many proxies in front of the app add to "
        "X-Forwarded-For (the client's address is taken that many entries from the right).",
    ),
    max_body_bytes: int = typer.Option(
        RequestLimits.max_body_bytes, min=1, help="Largest request body accepted (bytes)."
    ),
    max_import_bytes: int = typer.Option(
        RequestLimits.max_import_bytes,
        min=1,
        help="Largest workspace document accepted by POST /api/import (bytes).",
    ),
    max_field_chars: int = typer.Option(
        RequestLimits.max_field_chars, min=1, help="Longest text accepted in one field."
    ),
    db_pool_size: int | None = typer.Option(
        None,
        "--db-pool-size",
        min=1,
        envvar=POOL_SIZE_ENV,
        show_default=False,
        help=f"Database connections kept open for requests (PostgreSQL: {DEFAULT_POOL_SIZE} "
        "if not given; a SQLite file: SQLAlchemy's 5).",
    ),
    db_max_overflow: int | None = typer.Option(
        None,
        "--db-max-overflow",
        min=0,
        envvar=MAX_OVERFLOW_ENV,
        show_default=False,
        help="Further connections opened at a busy moment and closed after (PostgreSQL: "
        f"{DEFAULT_MAX_OVERFLOW} if not given, so that with the pool the server's 40 worker "
        "threads never wait; a SQLite file: SQLAlchemy's 10).",
    ),
) -> None:
    """Serve the workspace web app, signed-in users only (creates and migrates the database).

    Refuses to start until an admin exists: there is no default account or password.
    """
    import shlex

    import uvicorn

    from systemic.store.accounts import count_admins
    from systemic.web.app import create_app
    from systemic.web.security import SecurityConfigError, SecuritySettings
    from systemic.web.security.settings import SECRET_ENV, SECRET_FILE_ENV
    from systemic.web.server import server_config

    # requests name their own users
    store = _open(db, as_cli_user=False, pool_size=db_pool_size, max_overflow=db_max_overflow)
    with store.session() as session:
        admins = count_admins(session)
    if admins == 0:
        store.dispose()
        command = "systemic user add <your-username> --role admin"
        if db:
            command += f" --db {shlex.quote(db)}"
        if workspace:
            command += f" --workspace {shlex.quote(workspace)}"
        fail(
            "no admin yet: the workspace has no default account or password. "
            f"Create the first admin (you will be asked for a password), then serve again:\n"
            f"  {command}"
        )
    try:
        settings = SecuritySettings(trust_proxy_headers=behind_proxy, proxy_hops=proxy_hops)
        limits = RequestLimits(
            max_body_bytes=max_body_bytes,
            max_import_bytes=max_import_bytes,
            max_field_chars=max_field_chars,
        )
        app = create_app(store=store, workspace=workspace, security=settings, limits=limits)
    except (StoreError, SecurityConfigError) as exc:
        fail(str(exc))
    if not (os.environ.get(SECRET_ENV) or os.environ.get(SECRET_FILE_ENV)):
        console.print(
            f"[yellow]{SECRET_ENV} is not set: sessions end when the server restarts "
            "(see docs/security.md).[/yellow]"
        )
    console.print(
        f"systemic workspace on http://{host}:{port}/ (database: {db or DEFAULT_DB_FILE})"
    )
    uvicorn.Server(server_config(app, host=host, port=port)).run()


def audit(
    db: str = DB_OPTION,
    workspace: str = WORKSPACE_OPTION,
    rules: Path = typer.Option(None, "--rules", help="TOML file overriding the audit rules."),
    as_json: bool = typer.Option(False, "--json", help="Print findings as JSON."),
    fail_on: str = typer.Option(
        "never", help="Exit 1 when a finding is at least this severe: error, warning or never."
    ),
) -> None:
    """Check the links the framework depends on; list findings with severity and a link."""
    if fail_on not in ("error", "warning", "never"):
        fail("--fail-on must be error, warning or never")
    store = _open(db)
    try:
        with store.session() as session:
            slug = _pick_workspace(session, workspace)
            findings = audit_workspace(session, slug, rules_file=rules)
    except (NotFoundError, AuditRulesError) as exc:
        fail(str(exc))
    finally:
        store.dispose()
    if as_json:
        typer.echo(json.dumps([f.as_dict() for f in findings], indent=2))
    else:
        console.print(findings_table(findings))
    failing = {"error": {"error"}, "warning": {"error", "warning"}, "never": set()}[fail_on]
    if any(f.severity in failing for f in findings):
        raise typer.Exit(1)


@workspace_app.command("export")
def export_command(
    file: Path = typer.Argument(..., help="JSON file to write."),
    db: str = DB_OPTION,
    workspace: str = WORKSPACE_OPTION,
) -> None:
    """Write a workspace (objects, links, audit settings, history) to one JSON file."""
    store = _open(db)
    try:
        with store.session() as session:
            document = export_workspace(session, _pick_workspace(session, workspace))
    except NotFoundError as exc:
        fail(str(exc))
    finally:
        store.dispose()
    file.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")
    counts = sum(len(v) for v in document["objects"].values())
    console.print(
        f"exported workspace {document['workspace']['slug']!r}: {counts} objects -> {file}"
    )


@workspace_app.command("import")
def import_command(
    file: Path = typer.Argument(..., help="JSON file written by `systemic workspace export`."),
    db: str = DB_OPTION,
    replace: bool = typer.Option(False, help="Replace a workspace with the same id or slug."),
) -> None:
    """Recreate a workspace from an export file, ids and history included."""
    try:
        document = json.loads(file.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        fail(f"{file}: cannot read a JSON document ({exc})")
    store = _open(db)
    try:
        with store.session() as session:
            ws = import_workspace(session, document, replace=replace)
            session.commit()
    except (WorkspaceConflictError, ImportFormatError) as exc:
        fail(f"{file}: {exc}")
    finally:
        store.dispose()
    console.print(f"imported workspace {ws.slug!r} from {file}")


@workspace_app.command("list")
def list_command(db: str = DB_OPTION) -> None:
    """List the workspaces in the database."""
    store = _open(db)
    with store.session() as session:
        table = Table(title="Workspaces")
        for column in ("slug", "name", "id", "created"):
            table.add_column(column)
        for ws in list_workspaces(session):
            table.add_row(ws.slug, ws.name, ws.id, ws.created_at.isoformat(timespec="seconds"))
    store.dispose()
    console.print(table)


@workspace_app.command("create")
def create_command(
    name: str = typer.Argument(..., help="The workspace's name, e.g. 'Anytown council'."),
    slug: str = typer.Option(None, help="Short name used in URLs (default: from the name)."),
    db: str = DB_OPTION,
) -> None:
    """Create a workspace, seeded with the failure-demand spiral map."""
    store = _open(db)
    try:
        with store.session() as session:
            ws = create_workspace(session, name, slug)
            session.commit()
    except WorkspaceConflictError as exc:
        fail(str(exc))
    finally:
        store.dispose()
    console.print(f"created workspace {ws.slug!r}")


@workspace_app.command("add-learn")
def add_learn_command(
    learn_dir: Path = typer.Argument(..., help="Folder `systemic learn --out` wrote."),
    name: str = typer.Option(
        ..., "--name", "-n", help="Name measures draw on, e.g. 'town'; again for a new extract."
    ),
    db: str = DB_OPTION,
    workspace: str = WORKSPACE_OPTION,
) -> None:
    """Bring a learn result's published series into a workspace (a new version each time).

    Only the published tables are read (small counts stay suppressed: gaps on
    charts); the row-level folder stays with the team. Measures whose source is
    this learn result redraw from the newest version; earlier ones stay readable.
    """
    from systemic.store.learn_results import LearnResultError, add_learn_result
    from systemic.store.repository import pick_workspace

    store = _open(db)
    try:
        with store.session() as session:
            ws = pick_workspace(session, workspace)
            info = add_learn_result(session, ws.id, name, learn_dir)
            session.commit()
    except (LearnResultError, NotFoundError) as exc:
        fail(str(exc))
    finally:
        store.dispose()
    places = ", ".join(info.localities) or "no localities"
    console.print(
        f"brought learn result {info.name!r} into workspace {ws.slug!r} as version "
        f"{info.version}: {info.weeks} weeks, {places}"
    )


@workspace_app.command("learn-results")
def learn_results_command(db: str = DB_OPTION, workspace: str = WORKSPACE_OPTION) -> None:
    """List the learn results brought into a workspace, every version."""
    from systemic.store.learn_results import learn_result_versions
    from systemic.store.repository import pick_workspace

    store = _open(db)
    try:
        with store.session() as session:
            ws = pick_workspace(session, workspace)
            versions = learn_result_versions(session, ws.id)
    except NotFoundError as exc:
        fail(str(exc))
    finally:
        store.dispose()
    table = Table(title=f"Learn results in {ws.slug!r}")
    for column in ("name", "version", "brought in", "by", "weeks", "localities", "from"):
        table.add_column(column)
    for v in versions:
        table.add_row(
            v.name,
            str(v.version),
            v.imported_at.isoformat(timespec="seconds"),
            v.imported_by,
            str(v.weeks),
            ", ".join(v.localities),
            v.source,
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    """Attach ``serve``, ``audit`` and the ``workspace`` group to the CLI."""
    app.command("serve")(serve)
    app.command("audit")(audit)
    app.add_typer(workspace_app, name="workspace")
