"""Options shared by the commands that open the workspace database."""

from __future__ import annotations

import typer

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
