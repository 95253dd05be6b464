"""``systemic user|token|retention|backup|restore|person``: access, personal data, backups.

Thin over :mod:`systemic.store.accounts`, :mod:`~systemic.store.retention`,
:mod:`~systemic.store.backup` and :mod:`~systemic.store.subject_access`. Every
change made here goes into the audit trail under ``cli:<login name>``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from systemic.commands._console import console, err_console, fail
from systemic.commands._store_options import (
    DB_OPTION,
    WORKSPACE_OPTION,
    act_as_cli_user,
    cli_actor,
)
from systemic.store import NotFoundError, Store, open_store
from systemic.store.accounts import (
    ROLES,
    AccountError,
    count_admins,
    create_token,
    create_user,
    list_users,
    record_event,
    remove_user,
    revoke_token,
    set_password,
    set_role,
    set_site_admin,
)
from systemic.store.repository import default_workspace, get_workspace

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.orm import Session


user_app = typer.Typer(
    help="Add, remove and list users; give roles per workspace.", no_args_is_help=True
)
token_app = typer.Typer(
    help="API tokens for scripts (shown once, stored hashed).", no_args_is_help=True
)
retention_app = typer.Typer(
    help="Purge stories and conversations past their retention date.", no_args_is_help=True
)
person_app = typer.Typer(
    help="Subject access and erasure for one pseudonymised person.", no_args_is_help=True
)


def _actor() -> str:
    return cli_actor()


def _open(db: str | None) -> Store:
    store = open_store(db)  # the store audits every write
    act_as_cli_user()
    return store


def _workspace_id(session, workspace: str | None) -> str:  # type: ignore[no-untyped-def]
    # On a new database this makes the workspace `systemic serve` would make,
    # so that the first admin can be added before the first start.
    return (get_workspace(session, workspace) if workspace else default_workspace(session)).id


@contextmanager
def _writing(db: str | None, *errors: type[Exception]) -> Iterator[Session]:
    """A session on the database, committed on success; ``errors`` end the command."""
    store = _open(db)
    try:
        with store.session() as session:
            yield session
            session.commit()
    except errors as exc:
        fail(str(exc))
    finally:
        store.dispose()


def _read_password(password_file: Path | None) -> str:
    if password_file is not None:
        try:
            return password_file.read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            fail(f"{password_file}: cannot read the password ({exc.strerror})")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@user_app.command("add")
def user_add(
    username: str,
    role: str = typer.Option("viewer", help=f"Role in the workspace: {', '.join(ROLES)}."),
    display_name: str = typer.Option("", "--name", help="Name shown in the app."),
    password_file: Path = typer.Option(
        None, "--password-file", help="Read the password from this file (else it is asked for)."
    ),
    site_admin: bool = typer.Option(
        False, "--site-admin", help="May also create workspaces from the web app."
    ),
    db: str = DB_OPTION,
    workspace: str = WORKSPACE_OPTION,
) -> None:
    """Add a user with a role in a workspace. The first user must be made admin explicitly."""
    if role not in ROLES:
        fail(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    with _writing(db, AccountError, NotFoundError) as session:
        if count_admins(session) == 0 and role != "admin":
            fail("there is no admin yet: create the first user with --role admin")
        password = _read_password(password_file)
        create_user(session, username, password, display_name=display_name, site_admin=site_admin)
        set_role(session, username, _workspace_id(session, workspace), role)
    console.print(f"added {username} as {role}" + (" (site admin)" if site_admin else ""))


@user_app.command("password")
def user_password(
    username: str,
    password_file: Path = typer.Option(
        None, "--password-file", help="Read the new password from this file (else it is asked)."
    ),
    db: str = DB_OPTION,
) -> None:
    """Set a user's password; every session they are signed in with ends at once."""
    with _writing(db, AccountError) as session:
        ended = set_password(session, username, _read_password(password_file))
    console.print(f"{username}: password changed; {ended} signed-in session(s) ended")


@user_app.command("site-admin")
def user_site_admin(
    username: str,
    off: bool = typer.Option(False, "--off", help="Stop the user being a site admin."),
    db: str = DB_OPTION,
) -> None:
    """Make a user a site admin (may create workspaces from the web app), or stop it."""
    with _writing(db, AccountError) as session:
        set_site_admin(session, username, not off)
    console.print(f"{username}: {'not ' if off else ''}a site admin")


@user_app.command("remove")
def user_remove(username: str, db: str = DB_OPTION) -> None:
    """Remove a user (their tokens stop working; the audit trail keeps their name)."""
    with _writing(db, AccountError) as session:
        remove_user(session, username)
    console.print(f"removed {username}")


@user_app.command("role")
def user_role(
    username: str,
    role: str = typer.Argument(..., help=f"{', '.join(ROLES)}, or 'none' to remove access."),
    db: str = DB_OPTION,
    workspace: str = WORKSPACE_OPTION,
) -> None:
    """Change a user's role in a workspace (or remove their access with 'none')."""
    with _writing(db, AccountError, NotFoundError) as session:
        set_role(
            session, username, _workspace_id(session, workspace), None if role == "none" else role
        )
    console.print(f"{username}: {role}")


@user_app.command("list")
def user_list(db: str = DB_OPTION) -> None:
    """List users and their roles per workspace."""
    store = _open(db)
    try:
        with store.session() as session:
            rows = list_users(session)
    finally:
        store.dispose()
    table = Table(title=f"{len(rows)} user(s)")
    for column in ("username", "name", "roles", "site admin", "disabled"):
        table.add_column(column)
    for user, roles in rows:
        table.add_row(
            user.username,
            user.display_name,
            ", ".join(f"{slug}: {role}" for slug, role in sorted(roles.items())) or "-",
            "yes" if user.site_admin else "",
            "yes" if user.disabled else "",
        )
    console.print(table)


@token_app.command("create")
def token_create(
    username: str,
    name: str = typer.Option("", "--name", help="What the token is for."),
    db: str = DB_OPTION,
) -> None:
    """Create an API token for a user; it is printed once and cannot be shown again."""
    with _writing(db, AccountError) as session:
        secret, row = create_token(session, username, name)
    err_console.print(f"token {row.id} for {username}; keep it secret, it is shown only now:")
    typer.echo(secret)


@token_app.command("revoke")
def token_revoke(token_id: str, db: str = DB_OPTION) -> None:
    """Revoke a token by its id."""
    with _writing(db, AccountError) as session:
        revoke_token(session, token_id)
    console.print(f"revoked {token_id}")


@retention_app.command("run")
def retention_run(
    dry_run: bool = typer.Option(
        False, "--dry-run", help="List what would be purged; change nothing."
    ),
    today: str = typer.Option(None, help="Treat this ISO date as today (default: today, UTC)."),
    db: str = DB_OPTION,
) -> None:
    """Purge stories and conversations whose retention date has passed."""
    from systemic.store.retention import run_retention

    try:
        day = date.fromisoformat(today) if today else None
    except ValueError:
        fail(f"--today {today!r} is not a date like 2026-11-26")
    store = _open(db)
    try:
        report = run_retention(store.engine, today=day, dry_run=dry_run, actor=_actor())
    finally:
        store.dispose()
    verb = "would purge" if dry_run else "purged"
    counts = report.counts()
    console.print(
        f"{verb} {counts['story']} story(ies) and {counts['conversation']} conversation(s) "
        f"retained until before {report.today.isoformat()}"
    )
    for item in report.purged:
        console.print(f"  {item.kind} {item.object_id} (retain until {item.retain_until})")


def backup_command(
    out: Path = typer.Option(..., "--out", help="New or empty folder for the backup."),
    dataset: list[Path] = typer.Option(
        [], "--dataset", help="A dataset folder to include (repeatable)."
    ),
    db: str = DB_OPTION,
) -> None:
    """Back up the workspace database (every table) and dataset folders, with checksums."""
    from systemic.store.backup import BackupError, backup

    store = _open(db)
    try:
        manifest = backup(store.engine, out, datasets=list(dataset))
        with store.session() as session:
            record_event(session, actor=_actor(), action="backup", after={"out": str(out)})
            session.commit()
    except BackupError as exc:
        fail(str(exc))
    finally:
        store.dispose()
    rows = sum(t["rows"] for t in manifest["tables"].values())
    console.print(
        f"backed up {rows} row(s) in {len(manifest['tables'])} table(s) and "
        f"{len(manifest['datasets'])} dataset(s) to {out} (without the pseudonymisation key)"
    )


def restore_command(
    folder: Path = typer.Argument(..., help="A backup folder made by `systemic backup`."),
    datasets_to: Path = typer.Option(
        None, "--datasets-to", help="Folder to restore the backed-up datasets into."
    ),
    db: str = DB_OPTION,
) -> None:
    """Restore a backup into a new, empty database (refuses one that holds anything)."""
    from systemic.store.backup import BackupError, read_manifest, restore
    from systemic.store.db import make_engine
    from systemic.store.migrate import current_revision, upgrade

    try:
        manifest = read_manifest(folder)
        engine = make_engine(db)
        if current_revision(engine) is None:
            upgrade(engine, manifest["revision"])
        restore(folder, engine, datasets_to=datasets_to)
        engine.dispose()
    except BackupError as exc:
        fail(str(exc))
    rows = sum(t["rows"] for t in manifest["tables"].values())
    console.print(f"restored {rows} row(s) from {folder} (revision {manifest['revision']})")


def _pseudonym(person: str, clear_id: bool) -> str:
    if not clear_id:
        return person
    from systemic.store.subject_access import pseudonym_for

    return pseudonym_for(person)


@person_app.command("export")
def person_export(
    person: str = typer.Argument(..., help="The person's pseudonym (or clear id with --clear-id)."),
    dataset: list[Path] = typer.Option(..., "--dataset", help="Dataset folder (repeatable)."),
    out: Path = typer.Option(
        ..., "--out", help="Folder for events.csv, people.csv and rejects.csv."
    ),
    clear_id: bool = typer.Option(
        False, "--clear-id", help="PERSON is a clear id: pseudonymise it with the key first."
    ),
) -> None:
    """Export everything the datasets hold about one person (a subject-access request)."""
    from systemic.data import SystemicDataError
    from systemic.store.subject_access import export_person

    try:
        record = export_person(_pseudonym(person, clear_id), list(dataset))
    except SystemicDataError as exc:
        fail(str(exc))
    paths = record.write(out)
    console.print(
        f"{record.events.height} event(s), {record.people.height} people row(s), "
        f"{record.rejects.height} rejected row(s): {paths[0].parent}"
    )


@person_app.command("erase")
def person_erase(
    person: str = typer.Argument(..., help="The person's pseudonym (or clear id with --clear-id)."),
    dataset: list[Path] = typer.Option(..., "--dataset", help="Dataset folder (repeatable)."),
    clear_id: bool = typer.Option(
        False, "--clear-id", help="PERSON is a clear id: pseudonymise it with the key first."
    ),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
) -> None:
    """Erase one person's rows from dataset folders (an erasure request); noted in each manifest."""
    from systemic.data import SystemicDataError
    from systemic.store.subject_access import erase_person

    pseudonym = _pseudonym(person, clear_id)
    if not yes:
        typer.confirm(f"Erase this person's rows from {len(dataset)} dataset(s)?", abort=True)
    try:
        for folder in dataset:
            report = erase_person(pseudonym, folder)
            console.print(
                f"{folder}: removed {report.events_removed} event(s), "
                f"{report.people_removed} people row(s), "
                f"{report.rejects_removed} rejected row(s)"
            )
    except SystemicDataError as exc:
        fail(str(exc))


def register(app: typer.Typer) -> None:
    """Attach ``user``, ``token``, ``retention``, ``person``, ``backup`` and ``restore``."""
    app.add_typer(user_app, name="user")
    app.add_typer(token_app, name="token")
    app.add_typer(retention_app, name="retention")
    app.add_typer(person_app, name="person")
    app.command("backup")(backup_command)
    app.command("restore")(restore_command)
