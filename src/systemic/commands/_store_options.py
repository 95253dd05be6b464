"""Options shared by the commands that open the workspace database."""

from __future__ import annotations

import getpass

import typer

from systemic.store.audit_trail import current_actor_name
from systemic.store.db import DEFAULT_DB_FILE

DB_OPTION = typer.Option(
    None,
    "--db",
    envvar="SYSTEMIC_DB",
    help=f"Database URL (postgresql://...) or SQLite file (default: ./{DEFAULT_DB_FILE}).",
)
WORKSPACE_OPTION = typer.Option(
    None, "--workspace", "-w", help="Workspace slug or id (default: the only or 'default' one)."
)


def cli_actor() -> str:
    """Who the command acts as, in history and the audit trail: ``cli:<login name>``."""
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:
        return "cli"


def act_as_cli_user() -> None:
    """Record what this command changes as the login user's (for the rest of the command)."""
    current_actor_name.set(cli_actor())
