"""The ``systemic`` command line: a thin layer over the library.

Each capability's commands live in ``systemic.commands.<capability>`` and call
the same Python functions an analyst would call from a notebook.
"""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="systemic",
    help=(
        "Reform public services with systems thinking: import records, learn from "
        "journeys across silos, measure with SPC, simulate designs, and run the workspace."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)

# (module, how it attaches): each module exposes `register(app)`, which adds its
# commands or sub-apps. Modules that have not landed yet are skipped.
COMMAND_MODULES = (
    "systemic.commands.data",
    "systemic.commands.learn",
    "systemic.commands.measures",
    "systemic.commands.simulate",
    "systemic.commands.calibrate",
    "systemic.commands.workspace",
    "systemic.commands.report",
    "systemic.commands.trust",
    "systemic.commands.demo",
)


def _register_all() -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(app)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", help="Show the version and exit."),
) -> None:
    if version:
        from systemic import __version__

        typer.echo(__version__)
        raise typer.Exit()


_register_all()


def main() -> None:
    """Entry point of the ``systemic`` console script."""
    app()
