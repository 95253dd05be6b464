"""Shared console output for commands: Rich console and progress bars."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

console = Console()
err_console = Console(stderr=True)


def progress() -> Progress:
    """A progress bar for long work (hidden when output is not a terminal)."""
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=False,
    )


def fail(message: str, code: int = 2) -> None:
    """Print an error that tells the user what to do, and exit."""
    import typer
    from rich.markup import escape

    # The message is text, not markup: "[sources.housing]" must print as written. It is
    # not wrapped by us (soft_wrap): a long path stays whole, to be copied from the terminal.
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)
